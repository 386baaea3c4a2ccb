"""The offline mirror and the Keras cache: finding the real data, or saying why it cannot be had.

Resolution order for ``keras.datasets.<name>``: the Keras cache (``$KERAS_HOME/datasets``) ->
the mirror (``COURSE_DATA_DIR/datasets/<name>.npz``) -> a download through the real Keras call
(short timeout, never with ``COURSE_OFFLINE=1``). tf_flowers the same way, as a class folder.
When nothing works, :class:`Unavailable` carries the reason for the stand-in banner; a bug
(``NameError``, ``KeyError``...) is never mistaken for "not available" and surfaces as itself.
"""

from __future__ import annotations

import contextlib
import pickle
import socket
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from helpers import course

NETWORK_TIMEOUT = 15.0
"""Seconds without data before a download by Keras (dataset or weights) is given up."""

UNAVAILABLE = (OSError, EOFError, ValueError, zipfile.BadZipFile, tarfile.TarError, pickle.UnpicklingError)
"""What "this file cannot be had or read here" raises: network and file errors (``URLError`` and
timeouts are ``OSError``), truncated or damaged archives, unparseable contents."""


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "not available" (see :data:`UNAVAILABLE`), False for bugs.

    Keras's ``get_file`` reports a failed fetch as a bare ``Exception("URL fetch failure...")``,
    so that exact class counts too; its subclasses (``NameError``, ``KeyError``...) do not.
    """
    return isinstance(exc, UNAVAILABLE) or type(exc) is Exception


def reason(exc: BaseException) -> str:
    """``'OSError: network unreachable'``: the class and message of a failure, for a banner."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextlib.contextmanager
def socket_timeout(seconds: float = NETWORK_TIMEOUT) -> Iterator[None]:
    """Give up on a silent connection after ``seconds`` while the block runs (for Keras's own downloads)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


# Where keras.datasets.<name>.load_data() keeps its download (relative to $KERAS_HOME/datasets).
# (Keras 3.8+ extracts the CIFAR archives into "<name>-target" folders; older versions did not.)
KERAS_CACHE = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": ("fashion-mnist",),
    "cifar10": ("cifar-10-batches-py-target", "cifar-10-batches-py"),
    "cifar100": ("cifar-100-python-target", "cifar-100-python"),
}

FLOWERS_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
"""The TensorFlow tutorial's archive: 3,670 photos in ``flower_photos/<class>/*.jpg`` (CC-BY 2.0)."""


class Unavailable(Exception):
    """The real data cannot be had here; the message is the reason, for the banner."""


def keras_datasets_dir() -> Path:
    """Where Keras keeps downloaded datasets: ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``)."""
    return course.keras_home() / "datasets"


def _keras_loader(name: str):
    import keras

    return getattr(keras.datasets, name).load_data


def keras_dataset(name: str):
    """``keras.datasets.<name>.load_data()`` from the Keras cache, the mirror or a download.

    Raises :class:`Unavailable` with the reason when none of them works.
    """
    problems = []
    if any((keras_datasets_dir() / entry).exists() for entry in KERAS_CACHE[name]):
        try:
            return _keras_loader(name)()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            problems.append(f"the copy in the Keras cache could not be read ({reason(exc)})")
    mirror = course.data_dir()
    if mirror is not None and (mirror / "datasets" / f"{name}.npz").is_file():
        return load_npz(mirror / "datasets" / f"{name}.npz")
    if course.offline():
        problems.append("COURSE_OFFLINE=1 is set and no mirror holds it")
    else:
        try:
            with socket_timeout():
                return _keras_loader(name)()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            problems.append(f"the download failed ({reason(exc)})")
    raise Unavailable("; ".join(problems))


def load_npz(path: Path):
    """Read a mirror file (uint8 arrays x_train, y_train, x_test, y_test), no pickles."""
    with np.load(path, allow_pickle=False) as data:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(data.files)
        if missing:
            raise ValueError(f"{path} lacks {sorted(missing)}; re-create it with `python -m helpers prefetch`.")
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def class_root(path: Path, classes: list[str]) -> Path | None:
    """The folder at or below ``path`` (two levels at most) that holds every class folder."""
    for candidate in [path, *sorted(path.glob("*")), *sorted(path.glob("*/*"))]:
        if candidate.is_dir() and all((candidate / c).is_dir() for c in classes):
            return candidate
    return None


def flowers(classes: list[str]) -> Path:
    """The folder holding tf_flowers' class folders: Keras cache, mirror or download (``keras.utils.get_file``).

    Raises :class:`Unavailable` with the reason when none of them works.
    """
    cached = keras_datasets_dir() / "flower_photos"
    if cached.is_dir() and (root := class_root(cached, classes)) is not None:
        return root
    mirror = course.data_dir()
    if mirror is not None and (mirror / "datasets" / "flowers").is_dir():
        root = class_root(mirror / "datasets" / "flowers", classes)
        if root is not None:
            return root
    if course.offline():
        raise Unavailable("COURSE_OFFLINE=1 is set and no mirror holds datasets/flowers")
    import keras

    try:
        with socket_timeout():
            path = Path(keras.utils.get_file("flower_photos", origin=FLOWERS_URL, extract=True))
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        raise Unavailable(f"the download of tf_flowers failed ({reason(exc)})") from None
    root = class_root(path if path.is_dir() else path.parent, classes)
    if root is None:
        raise Unavailable(f"the downloaded archive has no class folders {classes} under {path}")
    return root
