"""Weight files: which ImageNet files the course uses, and getting the one Keras asks for into its cache.

``WEIGHT_FILES`` / ``WEIGHT_HASHES`` name the files exactly as Keras names, downloads and
verifies them (``python -m helpers prefetch`` reads them to fill a mirror).
:func:`fetch` answers a ``keras.applications`` call through public API only: the call runs
once with downloads refused (:func:`no_downloads`), which either finds the file in the Keras
cache or tells which file Keras wants; that file is then copied from the mirror
(``COURSE_DATA_DIR/weights``, may be read-only) into the Keras cache with
``keras.utils.get_file``, or downloaded there with a short timeout (never with
``COURSE_OFFLINE=1``); the second call finds it. ``helpers.models.pretrained`` uses it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from helpers import course
from helpers.offline.mirror import is_unavailable, reason, socket_timeout

_KERAS_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"

WEIGHT_FILES: dict[str, str] = {
    # MobileNet(alpha=0.25, include_top=False): the smoke-mode and benchmark backbone.
    "mobilenet_2_5_224_tf_no_top.h5": _KERAS_APPS + "mobilenet/mobilenet_2_5_224_tf_no_top.h5",
    # MobileNetV2(include_top=False): the light alternative chapter 05 invites you to try.
    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5": (
        _KERAS_APPS + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    ),
    # EfficientNetB0(include_top=False): the complete pipeline of chapter 05.
    "efficientnetb0_notop.h5": "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
}
"""Weight file name (as Keras caches it) -> the URL ``keras.applications`` downloads it from.

Only the files the course loads (the backbone table and exercise 1 build VGG16, InceptionV3
and friends with ``weights=None``); ``pretrained`` handles any other model the same way."""

WEIGHT_HASHES: dict[str, str] = {
    "efficientnetb0_notop.h5": "50bc09e76180e00e4465e1a485ddc09d",
}
"""Weight file name -> the hash Keras verifies it with (``file_hash=``; 32 hex digits = MD5,
64 = SHA-256, as in ``keras.utils.get_file(hash_algorithm="auto")``). Keras publishes no hash
for the MobileNet and MobileNetV2 files."""

COURSE_BUILDS: dict[str, tuple[str, dict[str, Any]]] = {
    "mobilenet_2_5_224_tf_no_top.h5": ("MobileNet", {"alpha": 0.25, "include_top": False}),
    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5": ("MobileNetV2", {"include_top": False}),
    "efficientnetb0_notop.h5": ("EfficientNetB0", {"include_top": False}),
}
"""For each file in ``WEIGHT_FILES``: the ``keras.applications`` call that loads it."""


def keras_weights_dir() -> Path:
    """Where Keras keeps downloaded weights: ``$KERAS_HOME/models`` (default ``~/.keras/models``)."""
    return course.keras_home() / "models"


def mirror_path(file_name: str) -> Path | None:
    """``COURSE_DATA_DIR/weights/<file_name>``, or None without a mirror."""
    mirror = course.data_dir()
    return None if mirror is None else mirror / "weights" / file_name


def hash_matches(path: Path | str, expected: str | None) -> bool:
    """True when ``expected`` is None or equals the file's MD5 (32 digits) / SHA-256 (64)."""
    if not expected:
        return True
    digest = hashlib.md5(usedforsecurity=False) if len(expected) == 32 else hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == expected.lower()


class NoWeights(Exception):
    """No copy of the weight file Keras asked for could be found or fetched; ``reason`` says why."""

    def __init__(self, file_name: str, why: str):
        super().__init__(why)
        self.file_name, self.reason = file_name, why


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


def fetch(build: Callable[[], Any], found: dict[str, Any]) -> Any:
    """``build()`` (a ``keras.applications`` call with ``weights="imagenet"``), its weights from cache, mirror or download.

    ``found`` receives ``file``, ``url`` and ``hash`` of the file Keras wanted (when it was not
    cached), ``source`` and ``problems``. Raises :class:`NoWeights` when no copy can be had; any
    other error of ``build`` (a broken file, a wrong argument, a bug) comes through as itself.
    """
    import keras

    asked: list[str] = []
    try:
        with no_downloads(asked):
            model = build()
    except Exception as exc:
        if not asked:
            if isinstance(exc, OSError):  # Keras found a file it cannot open: say where it came from
                found["source"] = "Keras cache: a file keras.applications could not open"
            raise
    else:
        found["source"] = "Keras cache: found by keras.applications without a download"
        return model
    url = asked[0]
    file_name = Path(urllib.parse.urlsplit(url).path).name
    file_hash = WEIGHT_HASHES.get(file_name)
    found.update(file=file_name, url=url, hash=file_hash)
    mirrored = mirror_path(file_name)
    if mirrored is not None and mirrored.is_file():
        if hash_matches(mirrored, file_hash):
            with no_downloads(asked):  # keras.utils.get_file copies it into the cache keras.applications reads
                staged = keras.utils.get_file(
                    file_name, mirrored.resolve().as_uri(), cache_subdir="models", file_hash=file_hash
                )
                found.update(source=f"mirror: {mirrored}", path=mirrored, staged=staged)
                return build()
        found.setdefault("problems", []).append(f"{mirrored} does not match the published hash")
    if course.offline():
        raise NoWeights(file_name, "COURSE_OFFLINE=1 is set and neither the Keras cache nor a mirror holds it")
    try:
        with socket_timeout():
            staged = keras.utils.get_file(file_name, url, cache_subdir="models", file_hash=file_hash)
    except Exception as exc:
        if not is_unavailable(exc):  # a bug, not a missing file: let it show
            raise
        raise NoWeights(file_name, f"the download from {url} failed ({reason(exc)})") from exc
    found.update(source=f"download: {staged}", path=Path(staged), staged=staged)
    return build()
