"""Pretrained backbones: ``keras.applications`` models with their ImageNet weights resolved.

``pretrained(name, **kwargs)`` builds ``keras.applications.<name>(**kwargs)`` and finds the
weight file Keras asks for in this order: the Keras cache (``~/.keras/models/<file>``, or
``$KERAS_HOME/models``) -> the offline mirror (``COURSE_DATA_DIR/weights/<file>``) -> a
download (short timeout, never with ``COURSE_OFFLINE=1``) -> random initialisation, announced
by a banner because every transfer-learning number is then meaningless.

``WEIGHT_FILES`` / ``WEIGHT_HASHES`` name the weight files the course uses, exactly as Keras
names, downloads and verifies them; ``python -m helpers prefetch`` reads them to fill a mirror.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import course

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

DOWNLOAD_TIMEOUT = 15.0
"""Seconds without data before a weight download is given up."""

_SOURCES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# ------------------------------------------------------------------------- names
def application(name: str) -> Callable[..., Any]:
    """The ``keras.applications`` constructor called ``name`` (case-insensitive)."""
    import keras

    if isinstance(name, str):
        if callable(getattr(keras.applications, name, None)) and name[:1].isupper():
            return getattr(keras.applications, name)
        by_lower = {n.lower(): n for n in dir(keras.applications) if n[:1].isupper()}
        if name.lower() in by_lower:
            return getattr(keras.applications, by_lower[name.lower()])
    known = ", ".join(sorted(n for n in dir(keras.applications) if n[:1].isupper()))
    raise ValueError(f"No keras.applications model called {name!r}. Choose one of: {known}.")


def preprocess_for(name: str) -> Callable[..., Any]:
    """The ``preprocess_input`` that belongs to ``keras.applications.<name>``."""
    import types

    import keras

    constructor = application(name)
    for module_name in dir(keras.applications):
        module = getattr(keras.applications, module_name)
        if (
            isinstance(module, types.ModuleType)
            and getattr(module, constructor.__name__, None) is constructor
            and hasattr(module, "preprocess_input")
        ):
            return module.preprocess_input
    raise LookupError(f"Found no preprocess_input next to keras.applications.{constructor.__name__}.")


# ------------------------------------------------------------------- where files are
def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded weights: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "models"


def mirror_path(file_name: str) -> Path | None:
    """``COURSE_DATA_DIR/weights/<file_name>``, or None without a mirror."""
    mirror = course.data_dir()
    return None if mirror is None else mirror / "weights" / file_name


def file_digest(path: Path | str, algorithm: str = "md5") -> str:
    """The hex digest of a file (``algorithm`` 'md5' or 'sha256')."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_matches(path: Path | str, expected: str | None) -> bool:
    """True when ``expected`` is None or equals the file's MD5 (32 digits) / SHA-256 (64)."""
    if not expected:
        return True
    algorithm = "sha256" if len(expected) == 64 else "md5"
    return file_digest(path, algorithm) == expected.lower()


def weights_source(model: Any) -> str:
    """Where ``pretrained`` took this model's weights from (e.g. ``'mirror: /data/weights/x.h5'``)."""
    return _SOURCES.get(model, "unknown: not built by helpers.models.pretrained")


class _NoWeights(Exception):
    """Internal: no copy of the weight file Keras asked for could be found or fetched."""

    def __init__(self, file_name: str, reason: str):
        super().__init__(reason)
        self.file_name, self.reason = file_name, reason


@contextlib.contextmanager
def _resolving_weights(found: dict[str, Any], look: bool = True):
    """While active, Keras' request for a weight file is answered from cache/mirror/download.

    ``keras.applications`` fetches weights with ``keras.src.utils.file_utils.get_file(fname,
    origin, cache_subdir="models", file_hash=...)``; answering that call here means the file
    name, URL and hash are always exactly the ones Keras uses for the given arguments.
    """
    from keras.src.utils import file_utils

    keras_get_file = file_utils.get_file

    def get_file(fname=None, origin=None, *args, **kwargs):
        file_hash = kwargs.get("file_hash") or kwargs.get("md5_hash")
        found.update(file=fname, url=origin, hash=file_hash)
        if not look:
            raise _NoWeights(fname, "only the file name was asked for")
        candidates = [("Keras cache", keras_cache_dir() / fname), ("mirror", mirror_path(fname))]
        for label, path in candidates:
            if path is not None and path.is_file():
                if hash_matches(path, file_hash):
                    found.update(source=f"{label}: {path}", path=path)
                    return str(path)
                found.setdefault("problems", []).append(f"{path} does not match the published hash")
        if course.offline():
            raise _NoWeights(fname, "COURSE_OFFLINE=1 is set and neither the Keras cache nor a mirror holds it")
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
        try:
            path = keras_get_file(fname, origin, *args, **kwargs)
        except Exception as exc:  # no network, proxy, HTTP error, hash mismatch
            raise _NoWeights(fname, f"the download from {origin} failed ({type(exc).__name__})") from exc
        finally:
            socket.setdefaulttimeout(previous)
        found.update(source=f"download: {path}", path=Path(path))
        return path

    file_utils.get_file = get_file
    try:
        yield
    finally:
        file_utils.get_file = keras_get_file


def _quiet_build(constructor: Callable[..., Any], **kwargs) -> Any:
    with warnings.catch_warnings():
        # MobileNet(V2) at an input size without its own weights loads the 224 px file and says
        # so; for include_top=False the convolution weights do not depend on the input size.
        warnings.filterwarnings("ignore", message=r".*`input_shape` is undefined or non-square.*")
        return constructor(**kwargs)


def weight_file(name: str, **kwargs) -> tuple[str, str, str | None]:
    """``(file name, URL, hash or None)`` of the ImageNet weights Keras loads for ``<name>(**kwargs)``.

    Builds the architecture (no weights are read or downloaded).
    """
    found: dict[str, Any] = {}
    with _resolving_weights(found, look=False):
        try:
            _quiet_build(application(name), **{**kwargs, "weights": "imagenet"})
        except _NoWeights:
            pass
    if "file" not in found:
        raise ValueError(f"keras.applications.{name}(weights='imagenet', **{kwargs}) asks for no weight file.")
    return found["file"], found["url"], found["hash"]


def weights_at_hand(name: str, **kwargs) -> bool:
    """True when the ImageNet weights of ``keras.applications.<name>(**kwargs)`` can be had.

    Looks where :func:`pretrained` looks: the Keras cache, the mirror, then a download (which
    leaves the file in the Keras cache). Never builds a random model and shows no banner:
    a notebook uses it to choose a backbone whose weights it can load.
    """
    from keras.src.utils import file_utils

    file_name, url, file_hash = weight_file(name, **kwargs)
    with _resolving_weights({}):
        try:
            file_utils.get_file(file_name, url, cache_subdir="models", file_hash=file_hash)
        except _NoWeights:
            return False
    return True


# ------------------------------------------------------------------------ building
def pretrained(name: str, **kwargs) -> Any:
    """``keras.applications.<name>(**kwargs)`` with ImageNet weights from cache, mirror or download.

    Without any copy of the weights it returns the same architecture randomly initialised
    and shows a banner: accuracy numbers are then meaningless. ``weights_source(model)``
    tells where the weights came from. Pass ``weights=None`` for a deliberately random model.
    """
    constructor = application(name)
    weights = kwargs.pop("weights", "imagenet")
    if weights != "imagenet":
        model = _quiet_build(constructor, weights=weights, **kwargs)
        _SOURCES[model] = "random initialisation (weights=None)" if weights is None else f"file: {weights}"
        return model
    found: dict[str, Any] = {}
    try:
        with _resolving_weights(found):
            model = _quiet_build(constructor, weights="imagenet", **kwargs)
    except _NoWeights as exc:
        reason = exc.reason
    except Exception as exc:
        if "path" in found:  # the file was there but is broken or belongs to another architecture
            reason = f"the file {found['path']} could not be read ({type(exc).__name__}: {exc})"
        elif "file" not in found and not isinstance(exc, (ValueError, TypeError)):
            # a Keras version that fetched the file without asking us, and failed
            reason = f"Keras could not fetch the weights ({type(exc).__name__}: {exc})"
        else:  # a mistake in the arguments: let it show
            raise
    else:
        _SOURCES[model] = found.get("source", "keras.applications' own download or cache")
        return model
    problems = "; ".join(found.get("problems", []))
    model = _quiet_build(constructor, weights=None, **kwargs)
    _SOURCES[model] = f"random initialisation: {reason}"
    _announce_random(constructor.__name__, found.get("file", "?"), reason + (f"; {problems}" if problems else ""))
    return model


def _announce_random(name: str, file_name: str, reason: str) -> None:
    course.banner(
        f"weights:{file_name}",
        f"{name} has RANDOM weights, not ImageNet weights: transfer-learning accuracies below are meaningless",
        f"{reason}. The architecture, shapes and every cell still run, but a random backbone has "
        "learned nothing, so feature extraction and fine-tuning will not beat training from scratch here.",
        f"connect to the internet and re-run (Keras downloads {file_name} into {keras_cache_dir()}), "
        "or copy that file into DIR/weights/ of a mirror made with `python -m helpers prefetch --to DIR` "
        "and set COURSE_DATA_DIR=DIR.",
    )


# --------------------------------------------------------------------- fine-tuning
def start_fine_tuning(model, base, n_layers: int, learning_rate: float):
    """Unfreeze the top ``n_layers`` of ``base`` (BatchNorm stays frozen) and recompile ``model``."""
    import keras

    if not 0 < n_layers <= len(base.layers):
        raise ValueError(f"n_layers must be between 1 and {len(base.layers)} (the layers of {base.name}); got {n_layers}.")
    base.trainable = True
    first_unfrozen = len(base.layers) - n_layers
    for layer in base.layers[:first_unfrozen]:
        layer.trainable = False
    for layer in base.layers[first_unfrozen:]:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=model.loss,
        metrics=["accuracy"],
    )
    return model
