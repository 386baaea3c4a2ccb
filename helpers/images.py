"""Image files the way learners actually have them: which files count, and reading one.

``list_images`` lists the files ``keras.utils.image_dataset_from_directory`` reads, with the
same rule for hidden names. ``read_image`` is chapter 07's reader (generated into
``helpers.taught`` from its ``#@save`` cell): any file Pillow reads as an RGB ``uint8``
array, and a ``ValueError`` naming the file for corrupt, truncated, empty, non-image and
absurdly large ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
"""The extensions ``keras.utils.image_dataset_from_directory`` reads; the course lists the same files."""


def is_hidden(path: Path | str) -> bool:
    """True for names like ``.DS_Store`` or ``.ipynb_checkpoints`` (Keras skips such class folders too)."""
    return Path(path).name.startswith(".")


def is_image_file(path: Path | str) -> bool:
    """True for a visible file whose extension is an image type."""
    path = Path(path)
    return path.suffix.lower() in IMAGE_EXTENSIONS and not is_hidden(path) and path.is_file()


def list_images(folder: Path | str, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` (sorted), skipping hidden entries and other files."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"Folder {folder} does not exist. Check the path (it is relative to {Path.cwd()}).")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file, but a folder of images was expected.")
    found = []
    for entry in sorted(folder.iterdir()):
        if is_hidden(entry):
            continue
        if entry.is_dir() and recursive:
            found.extend(list_images(entry, recursive=True))
        elif is_image_file(entry):
            found.append(entry)
    return found


def read_image(path: Path | str, max_pixels: int = 50_000_000) -> np.ndarray:
    """Chapter 07's ``read_image``: the file as an RGB ``uint8`` array (height, width, 3), or a
    ``ValueError`` naming the file. (Imported when first used, so listing files stays light.)"""
    from helpers import taught

    return taught.read_image(path, max_pixels)
