"""Course runtime: where we run, which mode we are in, seeding, quiet logs, results.

Every notebook starts with ``course.setup(chapter=...)``. The modes are read from
environment variables each time they are asked for, so a test can change them.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import platform as _platform
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

SUPPORTED_TF = ((2, 16), (2, 21))
"""Oldest and newest TensorFlow (major, minor) the course code is tested against."""

_state: dict[str, Any] = {"chapter": None, "started": time.time(), "banners": set()}


# --------------------------------------------------------------------------- modes
def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def smoke() -> bool:
    """True in smoke mode (``COURSE_SMOKE=1``): tiny data, one epoch, small images."""
    return _flag("COURSE_SMOKE")


def offline() -> bool:
    """True when the course must never touch the network (``COURSE_OFFLINE=1``)."""
    return _flag("COURSE_OFFLINE")


def strict_checks() -> bool:
    """True when a failed exercise check raises (``COURSE_STRICT_CHECKS=1``)."""
    return _flag("COURSE_STRICT_CHECKS")


def data_dir() -> Path | None:
    """The offline mirror named by ``COURSE_DATA_DIR``, or None."""
    value = os.environ.get("COURSE_DATA_DIR", "").strip()
    return Path(value).expanduser() if value else None


def keras_home() -> Path:
    """Keras's own folder: ``$KERAS_HOME`` or ``~/.keras`` (downloads go to ``datasets/`` and ``models/`` in it)."""
    return Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser()


def results_file() -> Path | None:
    """The JSON-lines file named by ``COURSE_RESULTS``, or None."""
    value = os.environ.get("COURSE_RESULTS", "").strip()
    return Path(value).expanduser() if value else None


def mode() -> str:
    """A short description of the active modes, e.g. ``'smoke+offline'`` or ``'full'``."""
    parts = [name for name, on in (("smoke", smoke()), ("offline", offline())) if on]
    return "+".join(parts) if parts else "full"


def platform() -> str:
    """Where the notebook runs: ``'colab'``, ``'kaggle'`` or ``'local'``."""
    if "google.colab" in sys.modules or os.environ.get("COLAB_RELEASE_TAG"):
        return "colab"
    if os.environ.get("KAGGLE_KERNEL_RUN_TYPE") or os.environ.get("KAGGLE_URL_BASE"):
        return "kaggle"
    return "local"


# ------------------------------------------------------------------ shrink helpers
def epochs(n: int, smoke_value: int = 1) -> int:
    """``n`` epochs normally, ``smoke_value`` (default 1) in smoke mode."""
    _positive_int("epochs", n)
    return min(n, smoke_value) if smoke() else n


def take(n: int, smoke_value: int = 256) -> int:
    """How many examples to use: ``n`` normally, at most ``smoke_value`` in smoke mode."""
    _positive_int("take", n)
    return min(n, smoke_value) if smoke() else n


def pick(full: Any, smoke_value: Any) -> Any:
    """``full`` normally and ``smoke_value`` in smoke mode (image sizes, model widths...)."""
    return smoke_value if smoke() else full


def _positive_int(what: str, n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what}() needs a whole number of at least 1, got {n!r}.")


def write_atomic(target: Path, write: Callable[[Path], object]) -> Path:
    """``write(temp)`` in a work folder beside ``target``, then rename: never half a file or folder.

    ``write`` creates ``temp`` (a file or a folder, named like ``target``). An existing folder
    ``target`` is not replaced (``OSError``): remove it first, or keep it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        write(work / target.name)
        os.replace(work / target.name, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


# ------------------------------------------------------------------------- quiet
def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ and Python log chatter (call before importing TF)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    # oneDNN stays on (TensorFlow's default): it trains CNNs about 4x faster on a CPU.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(tensorflow|keras|tf_keras|absl|google)")
    warnings.filterwarnings("ignore", message=r".*np\.find_common_type.*")
    # Keras 3.15 says on every fit() with a tf.data pipeline that it will not shuffle it;
    # the course's pipelines shuffle themselves, so the notice only adds noise.
    warnings.filterwarnings("ignore", message=r".*`shuffle=True` was passed.*")
    for name in ("tensorflow", "absl", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with contextlib.suppress(ImportError):
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)


@contextlib.contextmanager
def native_stderr_silenced():
    """Send the process's native stderr (fd 2) to /dev/null for a moment.

    TensorFlow's C++ start-up messages (absl pre-init warnings, CUDA probing on machines
    without a GPU) bypass every Python-level setting; this is the only way to keep them
    out of a learner's notebook. Python exceptions are unaffected.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow():
    """Import TensorFlow quietly and initialise its devices; returns the module."""
    quiet_tensorflow()
    if "tensorflow" in sys.modules and _state.get("devices_ready"):
        return sys.modules["tensorflow"]
    with native_stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
        tf.constant(0.0) + 1.0  # the first op initialises the runtime (and its log lines)
    tf.get_logger().setLevel("ERROR")
    _state["devices_ready"] = True
    return tf


def plot_style() -> None:
    """One plot style for the whole course: white figures (readable in dark themes too),
    a colour-blind-safe palette and legible font sizes."""
    import seaborn as sns

    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette="colorblind",
        rc={
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "figure.dpi": 90,
            "axes.titlesize": "medium",
            "image.cmap": "viridis",
        },
    )


# ------------------------------------------------------------------------- setup
def setup(chapter: str | None = None, seed: int = 42, verbose: bool = True) -> None:
    """Prepare a notebook: quiet logs, seed everything, set the plot style, print one line."""
    _state["chapter"] = chapter
    _state["started"] = time.time()
    import_tensorflow()  # quietly (it calls quiet_tensorflow first)
    import keras

    keras.utils.set_random_seed(seed)
    plot_style()
    if verbose:
        print(summary_line())


def summary_line() -> str:
    """One line: versions, device, platform and mode."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU" if gpus else f"CPU ({os.cpu_count()} cores)"
    extra = f", mirror {data_dir()}" if data_dir() else ""
    return (
        f"Python {_platform.python_version()} | TensorFlow {tf.__version__} | Keras {keras.__version__}"
        f" | {device} | {platform()} | mode: {mode()}{extra}"
    )


def record_result(*name_and_value: Any, chapter: str | None = None, **values: Any) -> None:
    """Append one ``{chapter, name, value, mode, seconds}`` line per result to ``COURSE_RESULTS`` (if set).

    Call it with name=value pairs, ``record_result(test_accuracy=0.8, epochs=10)``, or with one
    name and its value, ``record_result("test_accuracy", 0.8)``. It returns nothing, so that a
    chapter cell ending with it shows no output.
    """
    if name_and_value:
        if len(name_and_value) != 2:
            raise TypeError(
                f"record_result takes name=value pairs, or one name and its value; got {len(name_and_value)} "
                "positional arguments."
            )
        values = {name_and_value[0]: name_and_value[1], **values}
    if not values:
        raise TypeError("record_result needs at least one result, e.g. record_result(test_accuracy=0.8).")
    rows = []
    for name, value in values.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"record_result needs a non-empty name, got {name!r}.")
        if hasattr(value, "item"):  # NumPy / TensorFlow scalars
            value = value.item()
        try:
            json.dumps(value)
        except TypeError as exc:
            raise TypeError(
                f"record_result({name}=...) needs a number, string, list or dict; got {type(value).__name__}."
            ) from exc
        rows.append({
            "chapter": chapter or _state["chapter"],
            "name": name,
            "value": value,
            "mode": mode(),
            "seconds": round(time.time() - _state["started"], 2),
        })  # fmt: skip
    target = results_file()
    if target is not None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "a", encoding="utf-8") as fh:
                fh.write("".join(json.dumps(row) + "\n" for row in rows))
        except OSError as exc:  # a full disk or a wrong path must not cost the learner a finished training
            print(
                f"Could not record {', '.join(values)} in {target} ({exc.strerror or exc}); your results in the "
                "notebook are unaffected. Point COURSE_RESULTS at a writable file, or unset it."
            )


# ------------------------------------------------------------------------ banners
def show(text: str, html_text: str) -> None:
    """Display rich HTML in a Jupyter kernel, print plain text elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python without IPython
        shell = None
    else:
        shell = get_ipython()
    if shell is not None and "IPKernelApp" in getattr(shell, "config", {}):
        display({"text/plain": text, "text/html": html_text}, raw=True)
    else:
        print(text)


def standins_used(prefix: str = "") -> list[str]:
    """The keys of the stand-in banners shown so far (e.g. ``['dataset:cifar10']``), optionally filtered."""
    return sorted(key for key in _state["banners"] if key.startswith(prefix))


def banner(key: str, title: str, why: str, how: str) -> None:
    """Show one clear notice (once per session and key) that a stand-in is in use."""
    if key in _state["banners"]:
        return
    _state["banners"].add(key)
    text = f"NOTE - {title}\n  Why: {why}\n  Real thing: {how}"
    box = (
        '<div style="border-left:6px solid #e69f00;background:#fff4e0;color:#222;'
        'padding:8px 12px;margin:6px 0">'
        f"<b>&#9888; {html.escape(title)}</b><br><b>Why:</b> {html.escape(why)}<br>"
        f"<b>Real thing:</b> {html.escape(how)}</div>"
    )
    show(text, box)
