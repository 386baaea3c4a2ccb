"""The course's models folder: chapters 03 and 05 save their trained models here, later
chapters load them when they are usable.

A model is stored as ``<name>.keras`` with a small ``<name>.json`` beside it (class names,
image size, smoke or full mode, real or stand-in data, the course version that saved it,
library versions, training history).
:func:`find` looks in the learner's folder (``COURSE_MODELS_DIR``, default
``~/.course/models``), then in an offline mirror (``COURSE_DATA_DIR/models/``, where an
instructor can hand a room trained models), and decides from the metadata whether the
model fits the notebook that asks for it: a model saved by another version of the course
(whose chapters may build and keep other models) is refused like one trained on other
classes. Every refusal is one line, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import helpers
from helpers import course, plots
from helpers.course import write_atomic

DEFAULT_DIR = Path("~/.course/models")
KAGGLE_DIR = Path("/kaggle/working/.course/models")  # /kaggle/working is what a saved Kaggle version keeps
ENV = "COURSE_MODELS_DIR"


def models_dir() -> Path:
    """The learner's writable models folder: ``COURSE_MODELS_DIR``, else ``~/.course/models``
    (on Kaggle ``/kaggle/working/.course/models``: the home folder is lost with the session)."""
    value = os.environ.get(ENV, "").strip()
    if value:
        return Path(value).expanduser()
    return KAGGLE_DIR if course.platform() == "kaggle" else DEFAULT_DIR.expanduser()


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _remedy(meta: dict) -> str:
    """What to run to save the model again: its chapter when its name says (``ch05_flowers``)."""
    match = re.fullmatch(r"ch(\d\d)_.*", str(meta.get("name", "")))
    return f"rerun chapter {match.group(1)} to save it again" if match else "save it again with this version"


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ValueError(f"A model name is letters, digits, '-' and '_' only (e.g. 'ch03_cifar10'); got {name!r}.")


def save(
    model: Any,
    name: str,
    *,
    class_names: Sequence[str],
    image_size: Sequence[int],
    history: Any = None,
    real_data: bool,
    notes: dict | None = None,
) -> Path:
    """Save ``model`` as ``<models_dir>/<name>.keras`` with its metadata; return the path.

    ``real_data`` is False when the model was trained on the course's stand-ins. Later
    chapters use the model only when it suits them (see :func:`find`).
    """
    import keras
    import tensorflow as tf

    _check_name(name)
    target = models_dir() / f"{name}.keras"
    meta = {
        "name": name,
        "course_version": helpers.__version__,
        "class_names": [str(c) for c in class_names],
        "image_size": [int(s) for s in image_size],
        "smoke": course.smoke(),
        "real_data": bool(real_data),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
        "history": {} if history is None else plots.history_dict(history),
        "notes": dict(notes or {}),
    }
    try:
        write_atomic(target, lambda temp: model.save(temp))
        write_atomic(
            target.with_suffix(".json"),
            lambda temp: temp.write_text(json.dumps(meta, indent=1), encoding="utf-8"),
        )
    except OSError as exc:
        raise OSError(
            f"Could not save the model to {target} ({exc.strerror or exc}). The trained model is still in "
            f"memory: free some disk space or set {ENV} to a writable folder, then run this cell again."
        ) from exc
    return target


def read_metadata(path: Path) -> dict | None:
    """The JSON beside a ``.keras`` file, or None when it is missing or unreadable."""
    try:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def unusable_reason(
    meta: dict | None, class_names: Sequence[str] | None = None, real_data: bool | None = None
) -> str | None:
    """Why a saved model does not fit the notebook asking for it, or None when it does.

    A model saved by another version of the course is refused (metadata without a version
    comes from before versions were recorded). In full mode a model trained in smoke mode or
    on stand-ins is refused, as is one whose class names differ or whose data (real or
    stand-in) differs from this run's.
    """
    if meta is None:
        return "its metadata file (.json) is missing or unreadable"
    saved_by, now = meta.get("course_version"), helpers.__version__
    if saved_by != now:
        if not isinstance(saved_by, str) or _version_key(saved_by) < _version_key(now):
            by = f"version {saved_by}" if isinstance(saved_by, str) else "an older version"
            return f"it was saved by {by} of the course, and this is version {now}: {_remedy(meta)}"
        return f"it was saved by version {saved_by} of the course, newer than this one ({now}): {_remedy(meta)}"
    if class_names is not None and list(meta.get("class_names", [])) != [str(c) for c in class_names]:
        return "it was trained on other classes"
    if not course.smoke():
        if meta.get("smoke", True):
            return "it was trained in smoke mode (a tiny run), and this notebook runs in full mode"
        if not meta.get("real_data", False) and real_data is not False:
            return "it was trained on stand-in data"
    if real_data is not None and bool(meta.get("real_data")) != bool(real_data):
        kind = "real" if meta.get("real_data") else "stand-in"
        return f"it was trained on {kind} data and this run uses the other kind"
    return None


class Found(NamedTuple):
    """A usable saved model, its metadata and where it came from."""

    model: Any
    meta: dict
    path: Path


def find(
    name: str,
    *,
    class_names: Sequence[str] | None = None,
    real_data: bool | None = None,
) -> Found | None:
    """Load the saved model ``name`` when one is there and usable; else None.

    Prints one line saying which model is used, or why none is (never a traceback).
    """
    import keras

    _check_name(name)
    reasons = []
    mirror = course.data_dir()
    for folder in [models_dir(), *([] if mirror is None else [mirror / "models"])]:
        path = folder / f"{name}.keras"
        if not path.is_file():
            continue
        meta = read_metadata(path)
        reason = unusable_reason(meta, class_names, real_data)
        if reason is None:
            try:
                with warnings.catch_warnings():  # an optimizer saved in another state: irrelevant for using the model
                    warnings.filterwarnings("ignore", message=r".*Skipping variable loading for optimizer.*")
                    model = keras.saving.load_model(path)
            except Exception as exc:  # noqa: BLE001 - any load failure means "retrain", reported in one line
                reason = f"it could not be loaded ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
            else:
                mode = "smoke" if meta.get("smoke") else "full"
                data = "real" if meta.get("real_data") else "stand-in"
                print(f"Using the saved model {path} ({mode} mode, {data} data, saved {meta.get('saved', '?')}).")
                return Found(model, meta, path)
        reasons.append(f"{path}: {reason}")
    if reasons:
        print("Not using a saved model: " + "; ".join(reasons) + ". Training a new one here.")
    else:
        print(f"No saved model '{name}' in {models_dir()}: training a new one here.")
    return None
