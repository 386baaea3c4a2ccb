"""Datasets: the real Keras datasets when they can be had, honest stand-ins when not.

``load(name)`` resolves in this order: the Keras cache (``~/.keras/datasets``) -> the
offline mirror (``COURSE_DATA_DIR/datasets/<name>.npz``) -> a download through the real
Keras call (short timeout, never with ``COURSE_OFFLINE=1``) -> a procedurally drawn
stand-in with the real shapes, dtypes, class count and class names, announced by a banner.
``load("digits")`` is scikit-learn's small real digits set, bundled, so always real.

Folder datasets (``<class>/<image>``): ``flowers_dir()`` gives tf_flowers (or a stand-in
folder), ``folder_datasets`` wraps ``keras.utils.image_dataset_from_directory`` and
``load_image_folder`` is the hand-written PIL loader chapter 01 teaches.
``prefetch`` fills an offline mirror (``python -m helpers prefetch --to DIR``).
"""

from __future__ import annotations

import atexit
import os
import pickle
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageOps

from helpers import course
from helpers.images import is_hidden, list_images

# fmt: off
CLASS_NAMES: dict[str, list[str]] = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    "cifar100": [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
        "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
        "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
        "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
        "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
        "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
        "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
        "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
        "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
    ],
}
# fmt: on

SHAPES = {  # name -> (image shape without batch, train size, test size)
    "mnist": ((28, 28), 60000, 10000),
    "fashion_mnist": ((28, 28), 60000, 10000),
    "cifar10": ((32, 32, 3), 50000, 10000),
    "cifar100": ((32, 32, 3), 50000, 10000),
}

# Where keras.datasets.<name>.load_data() keeps its download (relative to ~/.keras/datasets).
# (Keras 3.8+ extracts the CIFAR archives into "<name>-target" folders; older versions did not.)
_KERAS_CACHE = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": ("fashion-mnist",),
    "cifar10": ("cifar-10-batches-py-target", "cifar-10-batches-py"),
    "cifar100": ("cifar-100-python-target", "cifar-100-python"),
}
DOWNLOAD_TIMEOUT = 10.0
SMOKE_SIZES = (2000, 500)


def names() -> list[str]:
    """The array datasets ``load`` knows."""
    return list(SHAPES)


def _check_name(name: str, digits_too: bool = False) -> None:
    known = [*SHAPES, "digits"] if digits_too else list(SHAPES)
    if name not in known:
        raise ValueError(f"Unknown dataset {name!r}. Choose one of: {', '.join(known)}.")


def class_names(name: str) -> list[str]:
    """The class names of dataset ``name`` (also ``'digits'``), in label order."""
    _check_name(name, digits_too=True)
    return [str(i) for i in range(10)] if name == "digits" else list(CLASS_NAMES[name])


def load_digits(test_size: float = 0.25, seed: int = 42):
    """scikit-learn's handwritten digits (1,797 real 8x8 images, bundled, no download) split like Keras.

    Returns ``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 8, 8) scaled from the
    original 0-16 to 0-255, uint8 labels, a stratified split seeded by ``seed``.
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    images = np.round(bunch.images * (255 / 16)).astype(np.uint8)
    labels = bunch.target.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=test_size, random_state=seed, stratify=labels
    )
    return (x_train, y_train), (x_test, y_test)


def keras_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _keras_loader(name: str):
    import keras

    return getattr(keras.datasets, name).load_data


def load(name: str):
    """``(x_train, y_train), (x_test, y_test)`` exactly as ``keras.datasets.<name>.load_data()``.

    ``name`` is one of mnist, fashion_mnist, cifar10, cifar100, or ``'digits'`` for
    scikit-learn's small real digits dataset (see :func:`load_digits`), always available.
    """
    _check_name(name, digits_too=True)
    if name == "digits":
        return load_digits()
    if any((keras_cache_dir() / entry).exists() for entry in _KERAS_CACHE[name]):
        try:
            return _keras_loader(name)()
        except Exception:  # a broken cache: fall through to the mirror
            pass
    mirror = course.data_dir()
    if mirror is not None and (mirror / "datasets" / f"{name}.npz").is_file():
        return load_npz(mirror / "datasets" / f"{name}.npz")
    if not course.offline():
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
        try:
            return _keras_loader(name)()
        except Exception as exc:
            reason = f"the download failed ({type(exc).__name__})"
        finally:
            socket.setdefaulttimeout(previous)
    else:
        reason = "COURSE_OFFLINE=1 is set and no mirror holds it"
    course.banner(
        f"dataset:{name}",
        f"Using a stand-in for {name}: drawn shapes, not real photos",
        f"{reason}. The stand-in has the real shapes, dtypes and {len(CLASS_NAMES[name])} class names, "
        "so every cell runs, but accuracies will differ from the numbers in the text.",
        "connect to the internet, or ask for a mirror made with `python -m helpers prefetch --to DIR` "
        "and set COURSE_DATA_DIR=DIR.",
    )
    n_train, n_test = SMOKE_SIZES if course.smoke() else SHAPES[name][1:]
    return standin(name, n_train, n_test)


def load_npz(path: Path):
    """Read a mirror file (uint8 arrays x_train, y_train, x_test, y_test), no pickles."""
    with np.load(path, allow_pickle=False) as data:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(data.files)
        if missing:
            raise ValueError(f"{path} lacks {sorted(missing)}; re-create it with `python -m helpers prefetch`.")
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


# ---------------------------------------------------------------- stand-ins
def _pattern(kind: int, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` float32 masks (n, size, size) of pattern ``kind`` (0-9), each randomly placed and scaled."""
    yy, xx = (np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1))[:, None]
    cx, cy = (rng.uniform(0.35, 0.65, (2, n, 1, 1))).astype(np.float32)
    r = rng.uniform(0.18, 0.3, (n, 1, 1)).astype(np.float32)
    freq = rng.uniform(3.5, 5.0, (n, 1, 1)).astype(np.float32)
    dx, dy = xx - cx, yy - cy
    if kind == 0:  # disc
        mask = dx**2 + dy**2 < r**2
    elif kind == 1:  # square
        mask = (np.abs(dx) < r) & (np.abs(dy) < r)
    elif kind == 2:  # ring
        mask = np.abs(np.sqrt(dx**2 + dy**2) - r) < 0.06
    elif kind == 3:  # horizontal stripes
        mask = np.broadcast_to(np.sin(2 * np.pi * freq * yy) > 0.3, (n, size, size))
    elif kind == 4:  # vertical stripes
        mask = np.broadcast_to(np.sin(2 * np.pi * freq * xx) > 0.3, (n, size, size))
    elif kind == 5:  # cross
        mask = (np.abs(dx) < 0.07) | (np.abs(dy) < 0.07)
    elif kind == 6:  # diagonal
        mask = np.abs(dx - dy) < 0.09
    elif kind == 7:  # triangle
        mask = (dy > -r) & (np.abs(dx) < (dy + r) / 2)
    elif kind == 8:  # checker
        mask = np.sin(2 * np.pi * freq * xx) * np.sin(2 * np.pi * freq * yy) > 0.25
    else:  # diamond
        mask = np.abs(dx) + np.abs(dy) < r
    return mask.astype(np.float32)


def standin(name: str, n_train: int, n_test: int, seed: int = 0):
    """A deterministic, learnable stand-in for dataset ``name`` with the real shapes and dtypes.

    Class ``k`` is drawn as pattern ``k % 10`` (disc, square, ring, stripes, cross...) at a
    random place and size over noise; for CIFAR-100 the colour tells the ten groups apart.
    """
    _check_name(name)
    shape, _, _ = SHAPES[name]
    n_classes = len(CLASS_NAMES[name])
    rng = np.random.default_rng(seed)
    size = shape[0]
    colour = len(shape) == 3
    label_dtype = np.int64 if name == "cifar100" else np.uint8  # what the Keras loaders return

    channels = 3 if colour else 1
    noise_bank = rng.standard_normal((512, size, size, channels), dtype=np.float32) * 0.12

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, n_classes, n)
        x = np.empty((n, size, size, channels), np.uint8)
        for start in range(0, n, 2048):  # in chunks: small temporaries are much faster
            part = labels[start : start + 2048]
            mask = np.empty((len(part), size, size, 1), np.float32)
            for kind in range(10):
                chosen = np.flatnonzero(part % 10 == kind)
                mask[chosen, ..., 0] = _pattern(kind, len(chosen), size, rng)
            if colour:
                hue = (part // 10) / max(1, (n_classes - 1) // 10 + 1)
                fg = np.stack([0.5 + 0.5 * np.cos(2 * np.pi * (hue + k / 3)) for k in range(3)], axis=-1)
                fg = np.clip(fg + rng.normal(0, 0.08, (len(part), 3)), 0, 1).astype(np.float32)[:, None, None, :]
                bg = rng.uniform(0, 0.45, (len(part), 1, 1, 3)).astype(np.float32)
                img = bg + (fg - bg) * mask
            else:
                img = 0.1 + 0.8 * mask
            img += noise_bank[rng.integers(0, len(noise_bank), len(part))]
            np.clip(img, 0, 1, out=img)
            img *= 255
            x[start : start + len(part)] = img
        y = labels.astype(label_dtype)
        if not colour:
            x = x[..., 0]
        return x, (y[:, None] if name.startswith("cifar") else y)

    return draw(n_train), draw(n_test)


# ------------------------------------------------------------------ flowers (a folder dataset)
FLOWER_CLASSES = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
"""The five tf_flowers classes, in the alphabetical order folder loaders infer."""

FLOWERS_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
"""The TensorFlow tutorial's archive: 3,670 photos in ``flower_photos/<class>/*.jpg`` (CC-BY 2.0)."""

FLOWERS_STANDIN_SIZES = {"full": (80, 160), "smoke": (24, 96)}
"""Stand-in flowers: (images per class, side in pixels) in full and smoke mode."""


def _class_root(path: Path, classes: list[str]) -> Path | None:
    """The folder at or below ``path`` (two levels at most) that holds every class folder."""
    for candidate in [path, *sorted(path.glob("*")), *sorted(path.glob("*/*"))]:
        if candidate.is_dir() and all((candidate / c).is_dir() for c in classes):
            return candidate
    return None


def flowers_dir() -> Path:
    """A class-folder dataset of flowers (``<class>/*.jpg``): real tf_flowers, else a stand-in.

    Resolution order: the Keras cache (``~/.keras/datasets/flower_photos``) -> the mirror
    (``COURSE_DATA_DIR/datasets/flowers``) -> download with ``keras.utils.get_file`` -> a
    deterministic stand-in folder of JPEGs written once into the cache, with a banner.
    """
    cached = keras_cache_dir() / "flower_photos"
    if cached.is_dir() and (root := _class_root(cached, FLOWER_CLASSES)) is not None:
        return root
    mirror = course.data_dir()
    if mirror is not None and (mirror / "datasets" / "flowers").is_dir():
        root = _class_root(mirror / "datasets" / "flowers", FLOWER_CLASSES)
        if root is not None:
            return root
    if not course.offline():
        import keras

        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
        try:
            path = Path(keras.utils.get_file("flower_photos", origin=FLOWERS_URL, extract=True))
            root = _class_root(path if path.is_dir() else path.parent, FLOWER_CLASSES)
            if root is None:
                raise FileNotFoundError(f"no class folders {FLOWER_CLASSES} under {path}")
            return root
        except Exception as exc:
            reason = f"the download of tf_flowers failed ({type(exc).__name__})"
        finally:
            socket.setdefaulttimeout(previous)
    else:
        reason = "COURSE_OFFLINE=1 is set and no mirror holds datasets/flowers"
    course.banner(
        "dataset:flowers",
        "Using a stand-in for tf_flowers: drawn flowers, not real photos",
        f"{reason}. The stand-in is a folder of JPEGs with the real layout and the 5 real class names "
        f"({', '.join(FLOWER_CLASSES)}), so every cell runs, but accuracies will differ from the text.",
        "connect to the internet, or ask for a mirror made with `python -m helpers prefetch --to DIR flowers` "
        "and set COURSE_DATA_DIR=DIR.",
    )
    per_class, side = FLOWERS_STANDIN_SIZES["smoke" if course.smoke() else "full"]
    return flowers_standin_dir(per_class, side)


def standin_cache_dir() -> Path:
    """Where generated stand-in folders are kept (inside the Keras cache)."""
    return keras_cache_dir() / "course-standins"


def flowers_standin_dir(per_class: int, side: int, seed: int = 0) -> Path:
    """Write (once) and return a stand-in flowers folder: ``per_class`` JPEGs of ``side`` px per class."""
    target = standin_cache_dir() / f"flowers-{per_class}x{side}-seed{seed}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    work = Path(tempfile.mkdtemp(prefix=".flowers-", dir=target.parent))
    try:
        rng = np.random.default_rng(seed)
        for label, name in enumerate(FLOWER_CLASSES):
            (work / name).mkdir()
            for i in range(per_class):
                pixels = _draw_flower(label, side, rng)
                Image.fromarray(pixels).save(work / name / f"{name}_{i:04d}.jpg", quality=90)
        try:
            work.rename(target)
        except OSError:  # another process finished first: keep theirs
            if not target.is_dir():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


# petal colour, centre colour, petal count, centre radius (fraction of the flower radius)
_FLOWER_LOOKS = {
    "daisy": ((0.96, 0.96, 0.92), (0.95, 0.78, 0.10), 14, 0.28),
    "dandelion": ((1.00, 0.84, 0.08), (0.95, 0.70, 0.05), 34, 0.30),
    "roses": ((0.80, 0.08, 0.18), (0.55, 0.02, 0.10), 0, 0.00),
    "sunflowers": ((1.00, 0.72, 0.05), (0.30, 0.18, 0.05), 20, 0.48),
    "tulips": ((0.92, 0.32, 0.55), (0.92, 0.32, 0.55), 0, 0.00),
}


def _draw_flower(label: int, side: int, rng: np.random.Generator) -> np.ndarray:
    """One stand-in flower photo (uint8, side x side x 3): class-specific shape and colours."""
    name = FLOWER_CLASSES[label]
    petal, centre, n_petals, centre_r = _FLOWER_LOOKS[name]
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / (side - 1)
    cx, cy = rng.uniform(0.35, 0.65, 2)
    radius = rng.uniform(0.22, 0.36)
    dx, dy = xx - cx, yy - cy
    dist = np.sqrt(dx**2 + dy**2) / radius
    theta = np.arctan2(dy, dx) + rng.uniform(0, 2 * np.pi)
    sky = rng.uniform(0, 1) < 0.3
    bg_colour = np.array([0.45, 0.65, 0.90] if sky else [0.20, 0.45, 0.15]) + rng.normal(0, 0.06, 3)
    img = np.broadcast_to(bg_colour, (side, side, 3)).copy()
    img *= (0.85 + 0.3 * yy)[..., None]  # a little light gradient
    jitter = rng.normal(0, 0.05, 3)
    if name == "roses":  # a spiral of darker and lighter petals
        flower = dist < 1.0
        shade = 0.75 + 0.25 * np.sin(9 * dist + 2 * theta)
        colour = np.clip(np.array(petal) + jitter, 0, 1) * shade[..., None]
    elif name == "tulips":  # a cup: a rounded bowl with a notched top, on a stem
        palette = [(0.92, 0.32, 0.55), (1.00, 0.50, 0.10), (0.70, 0.20, 0.70)]
        base = np.array(palette[rng.integers(len(palette))])
        cup_y = dy / radius
        flower = (np.abs(dx / radius) < 0.75 * np.sqrt(np.clip(1 - cup_y**2, 0, 1))) & (
            cup_y > -0.9 + 0.3 * np.abs(np.sin(6 * dx / radius))
        )
        stem = (np.abs(dx) < 0.02) & (dy > 0) & (cup_y < 3)
        img[stem] = (0.15, 0.55, 0.10)
        colour = np.clip(base + jitter, 0, 1) * (0.85 + 0.15 * np.cos(4 * dx / radius))[..., None]
    else:  # petals around a disc
        edge = 1.0 if n_petals == 0 else 0.72 + 0.28 * np.cos(n_petals * theta)
        flower = dist < edge
        colour = np.broadcast_to(np.clip(np.array(petal) + jitter, 0, 1), (side, side, 3)).copy()
        disc = dist < centre_r
        colour[disc] = np.clip(np.array(centre) + jitter, 0, 1)
    img[flower] = colour[flower]
    img += rng.normal(0, 0.04, img.shape)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


# ------------------------------------------------------------------ class-folder datasets
KERAS_IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
"""The extensions ``keras.utils.image_dataset_from_directory`` reads."""


def class_folders(directory: Path | str) -> list[str]:
    """The class names of a ``<class>/<image>`` folder: its visible sub-folders that hold images.

    Raises a ``ValueError`` naming the folder when there are no class folders, or when a
    class folder holds no image (an empty class cannot be learned and shifts every label).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(
            f"{directory} is not a folder. Expected a dataset folder laid out as <class_name>/<image files>."
        )
    names = [entry.name for entry in sorted(directory.iterdir()) if entry.is_dir() and not is_hidden(entry)]
    if not names:
        raise ValueError(
            f"{directory} has no class folders. Expected one sub-folder per class (e.g. {directory}/cats/*.jpg, "
            f"{directory}/dogs/*.jpg); loose images at the top level carry no label."
        )
    empty = [name for name in names if not list_images(directory / name, recursive=True)]
    if empty:
        raise ValueError(
            f"Class folder(s) {', '.join(empty)} in {directory} hold no image files. Put images into them or "
            "remove them: an empty class cannot be learned."
        )
    return names


IMAGE_SUFFIXES = {".bmp", ".gif", ".jpeg", ".jpg", ".png", ".webp"}
"""The file types the hand-written loader of chapter 01 reads."""


def load_image_folder(folder, image_size=(128, 128)):
    """Load every image of a ``<class>/<image>`` folder into memory with PIL and NumPy.

    Returns ``(images, labels, class_names)``: uint8 images of shape (n, height, width, 3),
    int labels, and the class names in label order (the sorted folder names). Hidden entries
    and non-image files are skipped; unreadable images are listed by name at the end.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder. Give a folder laid out as <class_name>/<image files>.")
    class_names = sorted(entry.name for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    if not class_names:
        raise ValueError(f"{folder} has no class folders. Expected one sub-folder per class, e.g. {folder}/cats/*.jpg.")
    height, width = image_size
    images, labels, unreadable = [], [], []
    for label, class_name in enumerate(class_names):
        image_files = [
            path
            for path in sorted((folder / class_name).rglob("*"))
            if path.is_file()
            and path.suffix.lower() in IMAGE_SUFFIXES  # not notes.txt or labels.csv
            and not any(part.startswith(".") for part in path.relative_to(folder).parts)  # not .ipynb_checkpoints/...
        ]
        if not image_files:
            raise ValueError(f"The class folder {folder / class_name} holds no image files: add images or remove it.")
        for path in image_files:
            try:
                with Image.open(path) as image:  # reads only the header so far
                    if image.width * image.height > 50_000_000:
                        raise ValueError(f"{image.width}x{image.height} pixels is too large to decode safely")
                    image = ImageOps.exif_transpose(image)  # phone photos: apply the "rotate me" flag
                    if image.mode.startswith("I;16"):  # 16-bit scans: 0..65535 -> 0..255
                        image = Image.fromarray((np.asarray(image) // 257).astype(np.uint8))
                    image = image.convert("RGB")  # grayscale, palette, RGBA, CMYK -> RGB; decodes the pixels
                    pixels = np.asarray(image.resize((width, height), Image.Resampling.BILINEAR))
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
                unreadable.append(f"{path.relative_to(folder)}: {error}")  # note it and go on
                continue
            images.append(pixels)
            labels.append(label)
    if unreadable:
        print(f"Skipped {len(unreadable)} unreadable file(s):")
        for message in unreadable:
            print("  -", message)
    if not images:
        raise ValueError(f"No readable image in {folder}: every image file was skipped (see the list above).")
    return np.stack(images), np.array(labels), class_names


class FolderDatasets(NamedTuple):
    """What ``folder_datasets`` returns: batched ``tf.data`` datasets and the class names."""

    train: Any
    val: Any
    class_names: list[str]


def folder_datasets(
    directory: Path | str,
    image_size: tuple[int, int] = (180, 180),
    batch_size: int = 32,
    validation_split: float = 0.2,
    seed: int = 42,
    cache: bool | str = True,
    label_mode: str = "int",
    verbose: bool = True,
) -> FolderDatasets:
    """``keras.utils.image_dataset_from_directory`` with a seeded train/validation split,
    then ``cache()`` (memory, or a file name), ``shuffle()`` of the training batches and
    ``prefetch(AUTOTUNE)``.

    Hidden entries (``.ipynb_checkpoints``, ``._photo.jpg``) are skipped: Keras itself only
    skips hidden class folders, so when a class folder holds hidden files this reads a
    clean view of links to the visible images instead.
    """
    import keras
    import tensorflow as tf

    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1 (e.g. 0.2), got {validation_split!r}.")
    directory = Path(directory)
    class_names = class_folders(directory)
    source = _visible_view(directory, class_names, verbose)
    train, val = keras.utils.image_dataset_from_directory(
        source,
        class_names=class_names,
        label_mode=label_mode,
        image_size=tuple(image_size),
        batch_size=batch_size,
        validation_split=validation_split,
        subset="both",
        seed=seed,
        verbose=verbose,
    )
    autotune = tf.data.AUTOTUNE
    if cache:
        train = train.cache(cache if isinstance(cache, str) else "")
        val = val.cache(f"{cache}.val" if isinstance(cache, str) else "")
    train = train.shuffle(64, seed=seed).prefetch(autotune)
    val = val.prefetch(autotune)
    return FolderDatasets(train, val, class_names)


def _visible_view(directory: Path, class_names: list[str], verbose: bool) -> str:
    """``directory``, or a temporary folder of links to its visible images when Keras would read more."""
    wanted = {
        name: [p for p in list_images(directory / name, recursive=True) if p.suffix.lower() in KERAS_IMAGE_FORMATS]
        for name in class_names
    }
    keras_would_read = sum(
        1
        for name in class_names
        for root, _, files in os.walk(directory / name)
        for f in files
        if f.lower().endswith(KERAS_IMAGE_FORMATS)
    )
    if keras_would_read == sum(len(files) for files in wanted.values()):
        return str(directory)
    view = Path(tempfile.mkdtemp(prefix="course-view-"))
    atexit.register(shutil.rmtree, view, True)  # links only: removed when Python exits
    for name, files in wanted.items():
        (view / name).mkdir()
        for i, path in enumerate(files):
            link = view / name / f"{i:06d}_{path.name}"
            try:
                link.symlink_to(path.resolve())
            except OSError:  # no symlinks (some Windows setups): copy instead
                shutil.copyfile(path, link)
    if verbose:
        skipped = keras_would_read - sum(len(files) for files in wanted.values())
        print(f"Skipping {skipped} hidden file(s) in {directory} (e.g. .ipynb_checkpoints).")
    return str(view)


# ------------------------------------------------------------------ prefetch (offline mirror)
class Source(NamedTuple):
    """One file to download: where from, its published SHA-256 (or None), a local name."""

    url: str
    sha256: str | None
    filename: str


_KERAS_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SOURCES: dict[str, list[Source]] = {
    "mnist": [
        Source(
            f"{_KERAS_BASE}mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", "mnist.npz"
        )
    ],
    "fashion_mnist": [
        Source(f"{_KERAS_BASE}{f}", None, f)
        for f in (
            "train-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
        )
    ],
    "cifar10": [
        Source(
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
            "cifar-10-python.tar.gz",
        )
    ],
    "cifar100": [
        Source(
            "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
            "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
            "cifar-100-python.tar.gz",
        )
    ],
    "flowers": [Source(FLOWERS_URL, None, "flower_photos.tgz")],
}
"""Where ``prefetch`` gets each dataset: the same files (and SHA-256 sums) the Keras loaders use."""

PREFETCH_TIMEOUT = 30.0


def weight_files() -> dict[str, tuple[str, str | None]]:
    """Keras weight file name -> (URL, hash Keras checks or None), from ``helpers.models``."""
    try:
        from helpers import models
    except ImportError:
        return {}
    hashes = getattr(models, "WEIGHT_HASHES", {})
    return {name: (url, hashes.get(name)) for name, url in getattr(models, "WEIGHT_FILES", {}).items()}


def prefetch(to: Path | str, wanted: list[str] | None = None, progress: bool = True) -> dict[str, str]:
    """Fill the mirror at ``to`` with datasets and weight files; returns name -> 'ok' or the error."""
    from helpers.downloads import DownloadError, ensure_writable

    to = Path(to).expanduser()
    weights = weight_files()
    choices = [*SOURCES, *weights]
    wanted = list(wanted or choices)
    unknown = [name for name in wanted if name not in choices]
    if unknown:
        raise ValueError(f"Unknown name(s) {', '.join(unknown)}. Choose from: {', '.join(choices)}.")
    ensure_writable(to)
    outcome: dict[str, str] = {}
    for name in wanted:
        try:
            if name in SOURCES:
                path = _prefetch_dataset(name, to / "datasets", progress)
            else:
                path = _prefetch_weights(name, weights[name], to / "weights", progress)
            outcome[name] = "ok"
            print(f"[OK]   {name} -> {path}")
        except (DownloadError, ValueError, OSError) as exc:
            outcome[name] = str(exc)
            print(f"[FAIL] {name}: {exc}")
    return outcome


def _prefetch_weights(name: str, source: tuple[str, str | None], folder: Path, progress: bool) -> Path:
    from helpers.downloads import download

    url, file_hash = source
    return download(url, folder / name, file_hash, timeout=PREFETCH_TIMEOUT, description=name, progress=progress)


def _prefetch_dataset(name: str, folder: Path, progress: bool) -> Path:
    from helpers.downloads import disk_error, download, ensure_writable

    ensure_writable(folder)
    final = folder / name if name == "flowers" else folder / f"{name}.npz"
    if name == "flowers" and final.is_dir() and _class_root(final, FLOWER_CLASSES) == final:
        return final
    if name != "flowers" and final.is_file():
        try:
            load_npz(final)
            return final
        except (ValueError, OSError):
            pass  # damaged: fetch again
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder))
    try:
        files = [
            download(src.url, work / src.filename, src.sha256, PREFETCH_TIMEOUT, f"{name}: {src.filename}", progress)
            for src in SOURCES[name]
        ]
        if name == "flowers":
            _unpack_flowers(files[0], work, final)
        else:
            _save_npz_atomic(final, *_parse_arrays(name, files))
    except OSError as exc:
        raise disk_error(exc, final) or exc from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _parse_arrays(name: str, files: list[Path]):
    """Turn the downloaded source files into ``(x_train, y_train), (x_test, y_test)`` like Keras."""
    import gzip
    import tarfile

    if name == "mnist":
        return load_npz(files[0])
    if name == "fashion_mnist":
        arrays = []
        for path in files:
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
            arrays.append(np.frombuffer(raw, np.uint8, offset=8 if "labels" in path.name else 16))
        y_train, x_train, y_test, x_test = arrays
        return (x_train.reshape(len(y_train), 28, 28), y_train), (x_test.reshape(len(y_test), 28, 28), y_test)
    members, label_key = (
        ([f"data_batch_{i}" for i in range(1, 6)], "labels") if name == "cifar10" else (["train"], "fine_labels")
    )
    with tarfile.open(files[0], "r:gz") as tar:
        by_base = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}

        def batch(member: str):
            if member not in by_base:
                raise ValueError(f"{files[0].name} has no {member!r}: not a {name} archive.")
            try:
                record = _NumpyOnlyUnpickler(tar.extractfile(by_base[member]), encoding="bytes").load()
            except pickle.UnpicklingError as exc:
                raise ValueError(f"{files[0].name}/{member} is not a genuine {name} batch: {exc}.") from None
            record = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in record.items()}
            data = np.asarray(record["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            return data, np.asarray(record[label_key])

        train = [batch(m) for m in members]
        x_test, y_test = batch("test_batch" if name == "cifar10" else "test")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    label_dtype = np.uint8 if name == "cifar10" else np.int64  # what the Keras loaders return
    return (x_train, y_train.astype(label_dtype).reshape(-1, 1)), (x_test, y_test.astype(label_dtype).reshape(-1, 1))


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickle the CIFAR batches, which hold only dicts, lists and NumPy arrays."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how Python 3 pickles bytes with protocol 2
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset archive")


def _save_npz_atomic(path: Path, train, test) -> None:
    """Write the mirror file (temp file + rename) so a crash never leaves half a file."""
    (x_train, y_train), (x_test, y_test) = train, test
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".npz.part")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _unpack_flowers(archive: Path, work: Path, final: Path) -> None:
    """Extract the flowers archive safely and move its class folders into ``final`` atomically."""
    import tarfile

    unpacked = work / "unpacked"
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(unpacked, filter="data")
        else:  # Python < 3.11.4: refuse absolute paths and .. ourselves
            for member in tar.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise ValueError(f"{archive.name}: unsafe path {member.name!r} in the archive.")
            tar.extractall(unpacked)
    root = _class_root(unpacked, FLOWER_CLASSES)
    if root is None:
        raise ValueError(f"{archive.name} does not hold the class folders {', '.join(FLOWER_CLASSES)}.")
    if final.exists():
        shutil.rmtree(final)
    root.rename(final)


def prefetch_main(to: Path, wanted: list[str]) -> int:
    """CLI entry for ``python -m helpers prefetch --to DIR [NAMES]``; exit code 0 when all worked."""
    from helpers.downloads import DownloadError

    if course.offline():
        print("prefetch downloads, but COURSE_OFFLINE=1 is set: unset it and re-run.", file=sys.stderr)
        return 2
    try:
        outcome = prefetch(to, wanted)
    except (ValueError, DownloadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [name for name, status in outcome.items() if status != "ok"]
    if failed:
        print(f"{len(failed)} of {len(outcome)} failed ({', '.join(failed)}); re-run the same command to retry.")
        return 1
    print(f"Mirror ready: set COURSE_DATA_DIR={Path(to).expanduser().resolve()} to use it offline.")
    return 0
