"""Datasets: the real Keras datasets when they can be had, honest stand-ins when not.

``load(name)`` resolves in this order: the Keras cache (``~/.keras/datasets``) -> the
offline mirror (``COURSE_DATA_DIR/datasets/<name>.npz``) -> a download through the real
Keras call (short timeout, never with ``COURSE_OFFLINE=1``) -> a procedurally drawn
stand-in with the real shapes, dtypes, class count and class names, announced by a banner.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np

from helpers import course

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

SHAPES = {  # name -> (image shape without batch, train size, test size)
    "mnist": ((28, 28), 60000, 10000),
    "fashion_mnist": ((28, 28), 60000, 10000),
    "cifar10": ((32, 32, 3), 50000, 10000),
    "cifar100": ((32, 32, 3), 50000, 10000),
}

# Where keras.datasets.<name>.load_data() keeps its download (relative to ~/.keras/datasets).
_KERAS_CACHE = {
    "mnist": "mnist.npz",
    "fashion_mnist": "fashion-mnist",
    "cifar10": "cifar-10-batches-py",
    "cifar100": "cifar-100-python",
}
DOWNLOAD_TIMEOUT = 10.0
SMOKE_SIZES = (2000, 500)


def names() -> list[str]:
    """The array datasets ``load`` knows."""
    return list(SHAPES)


def _check_name(name: str) -> None:
    if name not in SHAPES:
        raise ValueError(f"Unknown dataset {name!r}. Choose one of: {', '.join(SHAPES)}.")


def class_names(name: str) -> list[str]:
    """The class names of dataset ``name``, in label order."""
    _check_name(name)
    return list(CLASS_NAMES[name])


def keras_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _keras_loader(name: str):
    import keras

    return getattr(keras.datasets, name).load_data


def load(name: str):
    """``(x_train, y_train), (x_test, y_test)`` exactly as ``keras.datasets.<name>.load_data()``."""
    _check_name(name)
    if (keras_cache_dir() / _KERAS_CACHE[name]).exists():
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
def _patterns(kind: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one pattern per label in ``kind`` (0-9) as float masks of shape (n, size, size)."""
    n = len(kind)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
    cx = rng.uniform(0.35, 0.65, n)[:, None, None]
    cy = rng.uniform(0.35, 0.65, n)[:, None, None]
    r = rng.uniform(0.18, 0.3, n)[:, None, None]
    freq = rng.uniform(3.5, 5.0, n)[:, None, None]
    dx, dy = xx[None] - cx, yy[None] - cy
    dist = np.sqrt(dx**2 + dy**2)
    masks = np.stack(
        [
            dist < r,  # disc
            (np.abs(dx) < r) & (np.abs(dy) < r),  # square
            np.abs(dist - r) < 0.06,  # ring
            np.sin(2 * np.pi * freq * yy[None]) > 0.3,  # horizontal stripes
            np.sin(2 * np.pi * freq * xx[None]) > 0.3,  # vertical stripes
            (np.abs(dx) < 0.07) | (np.abs(dy) < 0.07),  # cross
            np.abs(dx - dy) < 0.09,  # diagonal
            (dy > -r) & (np.abs(dx) < (dy + r) / 2),  # triangle
            (np.sin(2 * np.pi * freq * xx[None]) * np.sin(2 * np.pi * freq * yy[None])) > 0.25,  # checker
            (np.abs(dx) + np.abs(dy)) < r,  # diamond
        ],
        axis=1,
    ).astype(np.float32)
    return masks[np.arange(n), kind]


def standin(name: str, n_train: int, n_test: int, seed: int = 0):
    """A deterministic, learnable stand-in for dataset ``name`` with the real shapes and dtypes."""
    _check_name(name)
    shape, _, _ = SHAPES[name]
    n_classes = len(CLASS_NAMES[name])
    rng = np.random.default_rng(seed)
    size = shape[0]
    colour = len(shape) == 3

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, n_classes, n)
        mask = _patterns(labels % 10, size, rng)
        noise = rng.normal(0, 0.12, (n, size, size)).astype(np.float32)
        if colour:
            hue = (labels // 10) / max(1, (n_classes - 1) // 10 + 1)
            fg = np.stack([0.5 + 0.5 * np.cos(2 * np.pi * (hue + k / 3)) for k in range(3)], axis=-1)
            fg = np.clip(fg + rng.normal(0, 0.08, (n, 3)), 0, 1)[:, None, None, :]
            bg = rng.uniform(0, 0.45, (n, 1, 1, 3))
            img = bg + (fg - bg) * mask[..., None] + noise[..., None]
        else:
            img = 0.1 + 0.8 * mask + noise
        x = (np.clip(img, 0, 1) * 255).astype(np.uint8)
        y = labels.astype(np.uint8)
        return x, (y[:, None] if name.startswith("cifar") else y)

    return draw(n_train), draw(n_test)


def prefetch_main(to: Path, wanted: list[str]) -> int:
    """CLI entry for ``prefetch``: fill the mirror at ``to`` (see README)."""
    import tempfile

    wanted = wanted or names()
    for name in wanted:
        _check_name(name)
    target = to / "datasets"
    target.mkdir(parents=True, exist_ok=True)
    for name in wanted:
        (x_train, y_train), (x_test, y_test) = _keras_loader(name)()
        with tempfile.NamedTemporaryFile(dir=target, suffix=".npz.part", delete=False) as tmp:
            np.savez(tmp, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        Path(tmp.name).replace(target / f"{name}.npz")
        print(f"{name}: {len(x_train)} train / {len(x_test)} test images -> {target / (name + '.npz')}")
    return 0
