"""The offline machinery: the real data and weights a notebook asks for, or why they cannot be had.

Datasets, ``keras.datasets.<name>``: the Keras cache (the Keras loader with downloads refused) -> the mirror
(``COURSE_DATA_DIR/datasets/<name>.npz``) -> a download through the real Keras call (short
timeout, never with ``COURSE_OFFLINE=1``). tf_flowers the same way, as a class folder. When
nothing works, :class:`Unavailable` carries the reason for the stand-in banner; a bug
(``NameError``, ``KeyError``...) is never mistaken for "not available" and surfaces as itself.

Weights: :func:`fetch` answers a ``keras.applications`` call through public API only: the call
runs once with downloads refused (:func:`no_downloads`), which either finds the file in the
Keras cache or tells which file Keras wants; that file is then copied from the mirror
(``COURSE_DATA_DIR/weights``, may be read-only) into the Keras cache with
``keras.utils.get_file``, or downloaded there with a short timeout (never with
``COURSE_OFFLINE=1``); the second call finds it.

A mirror is filled by ``python -m helpers prefetch`` (``tools/prefetch.py``). Notebooks do not
import this module: ``helpers.datasets`` and ``helpers.models`` call it for the real thing.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import socket
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


@contextlib.contextmanager
def no_downloads(asked: list[str]) -> Iterator[None]:
    """While active, a download Keras starts is refused (quietly) and its URL appended to ``asked``.

    Keras downloads with ``urllib.request.urlretrieve``, which opens every URL through
    ``urllib.request.urlopen``; local ``file:`` URLs (copies from the mirror) still work.
    """
    real_urlopen = urllib.request.urlopen

    def refuse(url, *args, **kwargs):
        text = url if isinstance(url, str) else url.full_url
        if text.startswith("file:"):
            return real_urlopen(url, *args, **kwargs)
        asked.append(text)
        raise urllib.error.URLError("refused: looking in the Keras cache and the mirror first")

    urllib.request.urlopen = refuse
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras's "Downloading data from ..." would mislead
            yield
    finally:
        urllib.request.urlopen = real_urlopen


FLOWERS_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
"""The TensorFlow tutorial's archive: 3,670 photos in ``flower_photos/<class>/*.jpg`` (CC-BY 2.0)."""


class Unavailable(Exception):
    """The real data or weight file cannot be had here; the message is the reason, for the banner.

    ``file_name`` is the weight file Keras asked for (``"?"`` when unknown or for data).
    """

    def __init__(self, why: str, file_name: str = "?"):
        super().__init__(why)
        self.file_name = file_name


def _keras_loader(name: str):
    course.import_tensorflow()  # quietly, as a notebook's setup cell does
    import keras

    return getattr(keras.datasets, name).load_data


def keras_dataset(name: str):
    """``keras.datasets.<name>.load_data()`` from the Keras cache, the mirror or a download.

    Raises :class:`Unavailable` with the reason when none of them works.
    """
    problems, asked = [], []
    try:
        with no_downloads(asked):  # the Keras cache only, whatever names this Keras release gives its files
            return _keras_loader(name)()
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        if not asked:  # Keras did not try to download: it found its copy and could not read it
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
    cached = course.keras_home() / "datasets" / "flower_photos"
    if cached.is_dir() and (root := class_root(cached, classes)) is not None:
        return root
    mirror = course.data_dir()
    if mirror is not None and (root := class_root(mirror / "datasets" / "flowers", classes)) is not None:
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


# ------------------------------------------------------------------ weight files
WEIGHT_HASHES: dict[str, str] = {
    "efficientnetb0_notop.h5": "50bc09e76180e00e4465e1a485ddc09d",
}
"""Weight file name -> the hash Keras verifies it with (``file_hash=``; 32 hex digits = MD5,
64 = SHA-256, as in ``keras.utils.get_file(hash_algorithm="auto")``). Keras publishes no hash
for the MobileNet and MobileNetV2 files."""


def fetch(build: Callable[[], Any]) -> tuple[Any, str]:
    """``build()`` (a ``keras.applications`` call with ``weights="imagenet"``), its weights from cache, mirror or download.

    Returns the model and where its weights came from. Raises :class:`Unavailable` when no
    usable copy can be had (a copy that cannot be read is removed from the Keras cache); any
    other error of ``build`` (a wrong argument, a bug) comes through as itself.
    """
    import keras

    asked: list[str] = []
    try:
        with no_downloads(asked):
            return build(), "Keras cache: found by keras.applications without a download"
    except Exception as exc:
        if not asked:
            if isinstance(exc, OSError):  # Keras found a file it cannot open
                cache = course.keras_home() / "models"  # where Keras keeps downloaded weights
                raise Unavailable(
                    f"the file the Keras cache ({cache}) could not be read ({type(exc).__name__}: {exc})"
                ) from exc
            raise
    url = asked[0]
    file_name = Path(urllib.parse.urlsplit(url).path).name
    file_hash = WEIGHT_HASHES.get(file_name)
    mirrored = None if course.data_dir() is None else (course.data_dir() / "weights" / file_name).resolve()
    problems = []
    if mirrored is not None and mirrored.is_file():
        try:  # keras.utils.get_file copies it into the cache keras.applications reads, and checks the published hash
            with no_downloads(asked):
                staged = keras.utils.get_file(file_name, mirrored.as_uri(), cache_subdir="models", file_hash=file_hash)
        except ValueError:
            problems.append(f"{mirrored} does not match the published hash")
        else:
            return _build_staged(build, file_name, staged, mirrored), f"mirror: {mirrored}"
    if course.offline():
        why = "COURSE_OFFLINE=1 is set and neither the Keras cache nor a mirror holds it"
        raise Unavailable("; ".join([why, *problems]), file_name)
    try:
        with socket_timeout():
            staged = keras.utils.get_file(file_name, url, cache_subdir="models", file_hash=file_hash)
    except Exception as exc:
        if not is_unavailable(exc):  # a bug, not a missing file: let it show
            raise
        raise Unavailable("; ".join([f"the download from {url} failed ({reason(exc)})", *problems]), file_name) from exc
    return _build_staged(build, file_name, staged, Path(staged)), f"download: {staged}"


def _build_staged(build: Callable[[], Any], file_name: str, staged: str, where: Path) -> Any:
    """``build()`` once the file is in the Keras cache; a copy it cannot read does not stay there."""
    try:
        return build()
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        Path(staged).unlink(missing_ok=True)  # broken, or another architecture's: Keras must not find it again
        raise Unavailable(f"the file {where} could not be read ({type(exc).__name__}: {exc})", file_name) from exc
