"""Datasets: what the notebooks call to get data (``load``, ``class_names``, the flower photos).

``load(name)`` returns ``keras.datasets.<name>.load_data()``'s arrays: the real data when the
Keras cache, the offline mirror or a download has it (``helpers.offline``), otherwise a
drawn stand-in with the real shapes, dtypes and class names, announced by a banner
(``helpers.standins``). ``load("digits")`` is scikit-learn's small real digits set, bundled,
so always real.

``flowers_dir()`` gives tf_flowers (or a stand-in folder) as a ``<class>/<image>`` folder; chapter
01's cells load such folders with ``keras.utils.image_dataset_from_directory`` and with a
hand-written PIL loader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers import course, standins

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
