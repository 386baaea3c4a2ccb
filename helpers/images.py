"""Reading image files the way learners actually have them.

``read_image`` turns any file Pillow reads (JPEG, PNG, GIF, BMP, also WebP and TIFF;
grayscale, RGBA, palette, CMYK, 16-bit; rotated by EXIF) into an RGB ``uint8`` array, and
refuses corrupt, truncated, empty, non-image and absurdly large files with a ``ValueError``
that names the file and says what is wrong. ``list_images`` lists the files
``keras.utils.image_dataset_from_directory`` reads, with the same rule for hidden names.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
"""The extensions ``keras.utils.image_dataset_from_directory`` reads; the course lists the same files."""
MAX_PIXELS = 50_000_000
"""Refuse images above this many pixels (about 7000x7000): decoding one would take
gigabytes of memory, and a classifier shrinks it to 224x224 anyway."""


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


def _to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        scale = 257.0 if values.max(initial=0) > 255 or image.mode.startswith("I;16") else 1.0
        grey = np.clip(values / scale, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        top = values.max(initial=0)
        grey = np.clip(values / (top if top > 1 else 1.0) * 255, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def read_image(path: Path | str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read ``path`` as an RGB ``uint8`` array of shape (height, width, 3).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` (naming the file
    and the reason) for an empty, corrupt, truncated, non-image or too-large one.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file. Check the name and the folder (working folder: {Path.cwd()}).")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not an image file.")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty (0 bytes); it was probably not downloaded or copied completely.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ValueError(
                        f"{path}: {width}x{height} pixels ({width * height / 1e6:.0f} megapixels) is over the "
                        f"{max_pixels / 1e6:.0f}-megapixel safety limit. Shrink the image first, or pass a larger max_pixels."
                    )
                image.seek(0)  # first frame of an animated GIF/WebP
                image.load()
                image = ImageOps.exif_transpose(image)
                return _to_rgb(image)
    except UnidentifiedImageError:
        raise ValueError(
            f"{path}: not an image file Pillow can read (is it text or another format with an image extension?)."
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(f"{path}: the image is too large to decode safely (possible decompression bomb).") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"{path}: the image data is corrupt or truncated ({exc}).") from None
