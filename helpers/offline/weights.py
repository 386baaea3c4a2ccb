"""Weight files: which ImageNet files the course uses, and finding the one Keras asks for.

``WEIGHT_FILES`` / ``WEIGHT_HASHES`` name the files exactly as Keras names, downloads and
verifies them (``python -m helpers prefetch`` reads them to fill a mirror).
:func:`resolving_weights` answers Keras's request for a weight file from the Keras cache
(``$KERAS_HOME/models``), then the mirror (``COURSE_DATA_DIR/weights``), then a download
with a short timeout (never with ``COURSE_OFFLINE=1``); ``helpers.models.pretrained`` uses it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from helpers import course
from helpers.offline.downloads import hash_of, is_unavailable, reason, socket_timeout

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
    # ResNet50(include_top=False): exercise 2 of chapter 05.
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5": (
        _KERAS_APPS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
}
"""Weight file name (as Keras caches it) -> the URL ``keras.applications`` downloads it from.

Only the files the course loads (the backbone table and exercise 1 build VGG16, InceptionV3
and friends with ``weights=None``); ``pretrained`` handles any other model the same way."""

WEIGHT_HASHES: dict[str, str] = {
    "efficientnetb0_notop.h5": "50bc09e76180e00e4465e1a485ddc09d",
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5": "4d473c1dd8becc155b73f8504c6f6626",
}
"""Weight file name -> the hash Keras verifies it with (``file_hash=``; 32 hex digits = MD5,
64 = SHA-256, as in ``keras.utils.get_file(hash_algorithm="auto")``). Keras publishes no hash
for the MobileNet and MobileNetV2 files."""

COURSE_BUILDS: dict[str, tuple[str, dict[str, Any]]] = {
    "mobilenet_2_5_224_tf_no_top.h5": ("MobileNet", {"alpha": 0.25, "include_top": False}),
    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5": ("MobileNetV2", {"include_top": False}),
    "efficientnetb0_notop.h5": ("EfficientNetB0", {"include_top": False}),
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5": ("ResNet50", {"include_top": False}),
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
    return not expected or hash_of(path, like=expected) == expected.lower()


class NoWeights(Exception):
    """No copy of the weight file Keras asked for could be found or fetched; ``reason`` says why."""

    def __init__(self, file_name: str, why: str):
        super().__init__(why)
        self.file_name, self.reason = file_name, why


@contextlib.contextmanager
def resolving_weights(found: dict[str, Any], look: bool = True):
    """While active, Keras's request for a weight file is answered from cache/mirror/download.

    ``keras.applications`` fetches weights with ``keras.src.utils.file_utils.get_file(fname,
    origin, cache_subdir="models", file_hash=...)``; answering that call here means the file
    name, URL and hash are always exactly the ones Keras uses for the given arguments.
    ``found`` receives ``file``, ``url``, ``hash`` and, once found, ``source`` and ``path``;
    ``look=False`` only records what was asked for (and raises :class:`NoWeights`).
    """
    from keras.src.utils import file_utils

    keras_get_file = file_utils.get_file

    def get_file(fname=None, origin=None, *args, **kwargs):
        file_hash = kwargs.get("file_hash") or kwargs.get("md5_hash")
        found.update(file=fname, url=origin, hash=file_hash)
        if not look:
            raise NoWeights(fname, "only the file name was asked for")
        candidates = [("Keras cache", keras_weights_dir() / fname), ("mirror", mirror_path(fname))]
        for label, path in candidates:
            if path is not None and path.is_file():
                if hash_matches(path, file_hash):
                    found.update(source=f"{label}: {path}", path=path)
                    return str(path)
                found.setdefault("problems", []).append(f"{path} does not match the published hash")
        if course.offline():
            raise NoWeights(fname, "COURSE_OFFLINE=1 is set and neither the Keras cache nor a mirror holds it")
        try:
            with socket_timeout():
                path = keras_get_file(fname, origin, *args, **kwargs)
        except Exception as exc:
            if not is_unavailable(exc):  # a bug, not a missing file: let it show
                raise
            raise NoWeights(fname, f"the download from {origin} failed ({reason(exc)})") from exc
        found.update(source=f"download: {path}", path=Path(path))
        return path

    file_utils.get_file = get_file
    try:
        yield
    finally:
        file_utils.get_file = keras_get_file
