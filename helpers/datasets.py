"""Datasets: what the notebooks call to get data (``load``, ``class_names``, flowers, folder datasets).

``load(name)`` returns ``keras.datasets.<name>.load_data()``'s arrays: the real data when the
Keras cache, the offline mirror or a download has it (``helpers.offline``), otherwise a
drawn stand-in with the real shapes, dtypes and class names, announced by a banner
(``helpers.standins``). ``load("digits")`` is scikit-learn's small real digits set, bundled,
so always real.

Folder datasets (``<class>/<image>``): ``flowers_dir()`` gives tf_flowers (or a stand-in
folder) and ``folder_datasets`` wraps ``keras.utils.image_dataset_from_directory`` (the
hand-written PIL loader, ``load_image_folder``, lives in chapter 01's cells only).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from helpers import course, standins
from helpers.images import IMAGE_EXTENSIONS, is_hidden, list_images

# fmt: off
CLASS_NAMES: dict[str, list[str]] = {  # the course's one table of class names, in label order
    "digits": [str(i) for i in range(10)],
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
    "flowers": standins.FLOWER_CLASSES,  # tf_flowers, in the alphabetical order folder loaders infer
}
# fmt: on

SHAPES = {  # name -> (image shape without batch, train size, test size)
    "mnist": ((28, 28), 60000, 10000),
    "fashion_mnist": ((28, 28), 60000, 10000),
    "cifar10": ((32, 32, 3), 50000, 10000),
    "cifar100": ((32, 32, 3), 50000, 10000),
}

SMOKE_SIZES = (1250, 500)
"""(training, test) images of a stand-in in smoke mode."""

FLOWER_CLASSES = standins.FLOWER_CLASSES
"""The five tf_flowers classes, in the alphabetical order folder loaders infer."""


def _check_name(name: str, known) -> None:
    if name not in known:
        raise ValueError(f"Unknown dataset {name!r}. Choose one of: {', '.join(known)}.")


def class_names(name: str) -> list[str]:
    """The class names of dataset ``name`` (also ``'digits'`` and ``'flowers'``), in label order."""
    _check_name(name, CLASS_NAMES)
    return list(CLASS_NAMES[name])


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


def load(name: str):
    """``(x_train, y_train), (x_test, y_test)`` exactly as ``keras.datasets.<name>.load_data()``.

    ``name`` is one of mnist, fashion_mnist, cifar10, cifar100, or ``'digits'`` for
    scikit-learn's small real digits dataset (see :func:`load_digits`), always available.
    Without the real data (no cache, mirror or network) it returns a stand-in, with a banner.
    """
    _check_name(name, [*SHAPES, "digits"])
    if name == "digits":
        return load_digits()
    from helpers import offline

    try:
        return offline.keras_dataset(name)
    except offline.Unavailable as exc:
        standins.announce_dataset(name, len(CLASS_NAMES[name]), str(exc))
    n_train, n_test = SMOKE_SIZES if course.smoke() else SHAPES[name][1:]
    return standin(name, n_train, n_test)


def standin(name: str, n_train: int, n_test: int, seed: int = 0):
    """A deterministic, learnable stand-in for dataset ``name`` with the real shapes and dtypes."""
    _check_name(name, SHAPES)
    shape, _, _ = SHAPES[name]
    label_dtype = np.int64 if name == "cifar100" else np.uint8  # what the Keras loaders return
    return standins.draw_arrays(
        shape, len(CLASS_NAMES[name]), n_train, n_test, label_dtype, label_column=name.startswith("cifar"), seed=seed
    )


# ------------------------------------------------------------------ flowers (a folder dataset)
def flowers_dir() -> Path:
    """A class-folder dataset of flowers (``<class>/*.jpg``): real tf_flowers, else a stand-in.

    Resolution order: the Keras cache (``~/.keras/datasets/flower_photos``) -> the mirror
    (``COURSE_DATA_DIR/datasets/flowers``) -> download with ``keras.utils.get_file`` -> a
    deterministic stand-in folder of JPEGs written once into the cache, with a banner.
    """
    from helpers import offline

    try:
        return offline.flowers(FLOWER_CLASSES)
    except offline.Unavailable as exc:
        standins.announce_flowers(str(exc))
    per_class, side = standins.FLOWERS_SIZES["smoke" if course.smoke() else "full"]
    return standins.flowers_folder(per_class, side)


# ------------------------------------------------------------------ class-folder datasets
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
    verbose: bool = True,
) -> FolderDatasets:
    """``keras.utils.image_dataset_from_directory`` with a seeded train/validation split, read as
    single images, then ``cache()`` (in memory), ``shuffle(1000)`` of the training
    *images* (a new order every epoch), ``batch(batch_size)`` and ``prefetch(AUTOTUNE)``:
    chapter 01's pipeline, so the images that train together change from epoch to epoch.

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
        image_size=tuple(image_size),
        batch_size=None,  # single images: shuffle them, then batch
        validation_split=validation_split,
        subset="both",
        seed=seed,
        verbose=verbose,
    )
    train = train.cache().shuffle(1000, seed=seed).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    val = val.cache().batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return FolderDatasets(train, val, class_names)


def _visible_view(directory: Path, class_names: list[str], verbose: bool) -> str:
    """``directory``, or a temporary folder of links to its visible images when Keras would read more."""
    wanted = {name: list_images(directory / name, recursive=True) for name in class_names}
    keras_would_read = sum(
        1
        for name in class_names
        for root, _, files in os.walk(directory / name)
        for f in files
        if f.lower().endswith(IMAGE_EXTENSIONS)
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
