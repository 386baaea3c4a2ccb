"""Image files the way learners actually have them: which files count, and reading one.

``list_images`` lists the files ``keras.utils.image_dataset_from_directory`` reads, with the
same rule for hidden names. ``read_image`` is chapter 07's reader (generated into
``helpers.taught`` from its ``#@save`` cell): any file Pillow reads as an RGB ``uint8``
array, and a ``ValueError`` naming the file for corrupt, truncated, empty, non-image and
absurdly large ones.

iPhone photos (HEIC/HEIF) are recognised by name (``HEIF_EXTENSIONS``) and by content
(``looks_like_heif``: the ``ftyp`` box's brand in bytes 4-12). Pillow reads them only with the
optional ``pillow-heif`` package; ``heif_readable()`` registers its opener when it is installed
(``read_image`` calls it first), so every reader of the course then takes HEIC photos too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
"""The extensions ``keras.utils.image_dataset_from_directory`` reads; the course lists the same files."""


HEIF_EXTENSIONS = (".heic", ".heif")
"""The names of iPhone photos (HEIC, the iPhone's default) and other HEIF files."""

HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1")
"""Brands a HEIF file names in its first box (``....ftypheic``): still photos and bursts."""

HEIF_ADVICE = (
    "an iPhone HEIC photo. Export it as JPEG (on the iPhone: Settings > Camera > Formats > Most Compatible; "
    "on a Mac: Preview > File > Export > JPEG), or install the optional package pillow-heif "
    "(pip install pillow-heif, then restart the kernel): the course reads HEIC photos when it is installed"
)
"""What to do about a HEIC photo, in the course's words (completes a sentence "<file>: ...")."""


def looks_like_heif(data: bytes) -> bool:
    """True when ``data`` (a file's first bytes, at least 12) starts a HEIF/HEIC file, whatever its name."""
    return len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


_heif = {}


def heif_readable() -> bool:
    """True when Pillow can read HEIC photos: the optional ``pillow-heif`` package is installed
    (its opener is registered with Pillow the first time this is called)."""
    if "readable" not in _heif:
        try:
            import pillow_heif
        except ImportError:
            _heif["readable"] = False
        else:
            pillow_heif.register_heif_opener()
            _heif["readable"] = True
    return _heif["readable"]


def list_images(folder: Path | str) -> list[Path]:
    """Image files in ``folder`` (sorted), skipping hidden entries and other files."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"Folder {folder} does not exist. Check the path (it is relative to {Path.cwd()}).")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file, but a folder of images was expected.")
    return [
        entry
        for entry in sorted(folder.iterdir())
        # a hidden name such as .DS_Store (Keras skips such files and class folders too)
        if not entry.name.startswith(".") and entry.suffix.lower() in IMAGE_EXTENSIONS and entry.is_file()
    ]


def read_image(path: Path | str, max_pixels: int = 50_000_000, draft_size: int | None = None) -> np.ndarray:
    """Chapter 07's ``read_image``: the file as an RGB ``uint8`` array (height, width, 3), or a
    ``ValueError`` naming the file. ``draft_size``: a JPEG at least twice that size is decoded at
    1/2, 1/4 or 1/8 scale (Pillow's draft mode), never below it. A HEIC photo is read when
    ``pillow-heif`` is installed; otherwise its ``ValueError`` says what to do.
    (Imported when first used, so listing files stays light.)"""
    from helpers import taught

    heif_readable()
    try:
        return taught.read_image(path, max_pixels, draft_size)
    except ValueError as error:
        if "not an image file Pillow can read" not in str(error):
            raise
        with Path(path).open("rb") as file:  # a HEIC photo, by content or by name?
            if looks_like_heif(file.read(12)) or Path(path).suffix.lower() in HEIF_EXTENSIONS:
                raise ValueError(f"{path}: {HEIF_ADVICE}.") from None
        raise
