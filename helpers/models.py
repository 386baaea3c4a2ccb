"""Pretrained backbones: ``keras.applications`` models with their ImageNet weights resolved.

``pretrained(name, **kwargs)`` builds ``keras.applications.<name>(**kwargs)``; the weight file
Keras asks for is found by ``helpers.offline`` (Keras cache -> mirror -> download), and
without any copy the model is randomly initialised, announced by a banner because every
transfer-learning number is then meaningless.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable
from typing import Any

from helpers import course
from helpers.offline import Unavailable, fetch, is_unavailable

_SOURCES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# ------------------------------------------------------------------------- names
def application(name: str) -> Callable[..., Any]:
    """The ``keras.applications`` constructor called ``name`` (case-insensitive)."""
    import keras

    by_lower = {n.lower(): n for n in dir(keras.applications) if n[:1].isupper()}
    if isinstance(name, str) and name.lower() in by_lower:
        return getattr(keras.applications, by_lower[name.lower()])
    known = ", ".join(sorted(by_lower.values()))
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


def weights_source(model: Any) -> str:
    """Where ``pretrained`` took this model's weights from (e.g. ``'mirror: /data/weights/x.h5'``)."""
    return _SOURCES.get(model, "unknown: not built by helpers.models.pretrained")


def _quiet_build(constructor: Callable[..., Any], **kwargs) -> Any:
    with warnings.catch_warnings():
        # MobileNet(V2) at an input size without its own weights loads the 224 px file and says
        # so; for include_top=False the convolution weights do not depend on the input size.
        warnings.filterwarnings("ignore", message=r".*`input_shape` is undefined or non-square.*")
        return constructor(**kwargs)


def weights_at_hand(name: str, **kwargs) -> bool:
    """True when the ImageNet weights of ``keras.applications.<name>(**kwargs)`` can be had.

    Looks where :func:`pretrained` looks: the Keras cache, the mirror, then a download (which
    leaves the file in the Keras cache). Never builds a random model and shows no banner:
    a notebook uses it to choose a backbone whose weights it can load.
    """
    constructor = application(name)
    try:
        fetch(lambda: _quiet_build(constructor, **{**kwargs, "weights": "imagenet"}))
    except Exception as exc:
        if not isinstance(exc, Unavailable) and not is_unavailable(exc):
            raise
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
    try:
        model, source = fetch(lambda: _quiet_build(constructor, weights="imagenet", **kwargs))
    except Unavailable as exc:
        reason, file_name = str(exc), exc.file_name
    else:
        _SOURCES[model] = source
        return model
    model = _quiet_build(constructor, weights=None, **kwargs)
    _SOURCES[model] = f"random initialisation: {reason}"
    course.banner(
        f"weights:{file_name}",
        f"{constructor.__name__} has RANDOM weights, not ImageNet weights: transfer-learning accuracies below are "
        "meaningless",
        f"{reason}. The architecture, shapes and every cell still run, but a random backbone has learned nothing, "
        "so feature extraction and fine-tuning will not beat training from scratch here.",
        f"connect to the internet and re-run (Keras downloads {file_name} into {course.keras_home() / 'models'}), "
        "or copy that file into DIR/weights/ of a mirror made with `python -m helpers prefetch --to DIR` "
        "and set COURSE_DATA_DIR=DIR.",
    )
    return model
