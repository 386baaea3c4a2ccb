"""Stand-ins: drawn data with the real shapes, used when the real data cannot be had, and their banner.

Every stand-in is deterministic and learnable (a CNN does clearly better than chance on
it), so every cell of a notebook runs and means something in CI and offline classrooms;
:func:`announce` shows the one banner that says a stand-in is in use, why, and how to get
the real thing. ``helpers.datasets`` decides when a stand-in is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from helpers import course

FLOWER_CLASSES = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
"""The five tf_flowers classes, in the alphabetical order folder loaders infer."""

FLOWERS_SIZES = {"full": (80, 160), "smoke": (24, 96)}
"""Stand-in flowers: (images per class, side in pixels) in full and smoke mode."""


def announce_dataset(name: str, n_classes: int, reason: str) -> None:
    """The banner (once per dataset) saying a drawn stand-in replaces ``keras.datasets.<name>``, and why."""
    course.banner(
        f"dataset:{name}",
        f"Using a stand-in for {name}: drawn shapes, not real photos",
        f"{reason}. The stand-in has the real shapes, dtypes and {n_classes} class names, "
        "so every cell runs, but accuracies will differ from the numbers in the text.",
        "connect to the internet, or ask for a mirror made with `python -m helpers prefetch --to DIR` "
        "and set COURSE_DATA_DIR=DIR.",
    )


def announce_flowers(reason: str) -> None:
    """The banner saying a folder of drawn flowers replaces tf_flowers, and why."""
    course.banner(
        "dataset:flowers",
        "Using a stand-in for tf_flowers: drawn flowers, not real photos",
        f"{reason}. The stand-in is a folder of JPEGs with the real layout and the 5 real class names "
        f"({', '.join(FLOWER_CLASSES)}), so every cell runs, but accuracies will differ from the text.",
        "connect to the internet, or ask for a mirror made with `python -m helpers prefetch --to DIR flowers` "
        "and set COURSE_DATA_DIR=DIR.",
    )


# ---------------------------------------------------------------- array datasets
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


def draw_arrays(
    shape: tuple[int, ...],
    n_classes: int,
    n_train: int,
    n_test: int,
    label_dtype: type = np.uint8,
    label_column: bool = False,
    seed: int = 0,
):
    """``(x_train, y_train), (x_test, y_test)``: a deterministic, learnable stand-in of uint8 images.

    ``shape`` is one image's shape ((28, 28) grayscale or (32, 32, 3) colour); labels have
    ``label_dtype`` and, with ``label_column``, shape (n, 1) as the Keras CIFAR loaders give them.

    Class ``k`` is drawn as pattern ``k % 10`` (disc, square, ring, stripes, cross...) at a
    random place and size over noise; for CIFAR-100 the colour tells the ten groups apart.
    """
    rng = np.random.default_rng(seed)
    size = shape[0]
    colour = len(shape) == 3

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
        return x, (y[:, None] if label_column else y)

    return draw(n_train), draw(n_test)


# ------------------------------------------------------------------ flowers (a folder dataset)
def flowers_folder(per_class: int, side: int, seed: int = 0) -> Path:
    """Write (once) and return a stand-in flowers folder: ``per_class`` JPEGs of ``side`` px per class.

    It is kept in the Keras cache, ``$KERAS_HOME/datasets/course-standins/``.
    """
    target = course.keras_home() / "datasets" / "course-standins" / f"flowers-{per_class}x{side}-seed{seed}"
    if target.is_dir():
        return target

    def draw(folder: Path) -> None:
        rng = np.random.default_rng(seed)
        for label, name in enumerate(FLOWER_CLASSES):
            (folder / name).mkdir(parents=True)
            for i in range(per_class):
                pixels = _draw_flower(label, side, rng)
                Image.fromarray(pixels).save(folder / name / f"{name}_{i:04d}.jpg", quality=90)

    try:
        course.write_atomic(target, draw)
    except OSError:  # another process finished first: keep theirs
        if not target.is_dir():
            raise
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
