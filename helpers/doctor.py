"""``python -m helpers doctor``: is this machine ready for the course, and if not, what to do."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from helpers import course

OK, WARN, FAIL, INFO = "OK", "WARN", "FAIL", "INFO"
NETWORK_PROBE = ("storage.googleapis.com", 443)
MIN_FREE_GB = 2.0


@dataclass
class Finding:
    """One line of the doctor's report."""

    level: str
    topic: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        line = f"[{self.level:4}] {self.topic}: {self.message}"
        return f"{line}\n       -> {self.fix}" if self.fix else line


EXTRAS = ("tensorflow", "litert")
"""pyproject.toml's optional dependency groups the doctor checks too (TensorFlow, LiteRT)."""
OPTIONAL = {"ai-edge-litert": "optional: chapter 07 then runs .tflite models with tf.lite.Interpreter"}


def requirements() -> dict[str, str]:
    """Package name -> supported versions: the one list in pyproject.toml, as installed.

    The course package's ``dependencies`` plus its ``tensorflow`` and ``litert`` extras, read
    from its installed metadata (``python3 run.py lab`` installs it again whenever
    pyproject.toml changes; Colab's first cell installs it). Requirements for other platforms
    (``platform_system != "Windows"`` on Windows) are left out.
    """
    try:
        lines = metadata.requires("image-classification-course") or []
    except metadata.PackageNotFoundError:
        lines = []
    found = {}
    for line in lines:
        req = Requirement(line)
        if req.marker and not any(req.marker.evaluate({"extra": extra}) for extra in ("", *EXTRAS)):
            continue
        found[canonicalize_name(req.name)] = str(req.specifier)
    return found


def installed(*names: str) -> str | None:
    """The version of the first of ``names`` that is installed, or None."""
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _satisfies(version: str, spec: str) -> bool:
    return not spec or SpecifierSet(spec).contains(version, prereleases=True)


def check_python() -> Finding:
    v = sys.version_info
    if v < (3, 10):
        return Finding(FAIL, "Python", f"{v.major}.{v.minor} is too old", "Install Python 3.10-3.13 (3.11 is tested).")
    return Finding(OK, "Python", f"{v.major}.{v.minor}.{v.micro}")


def check_keras_traps() -> list[Finding]:
    found = []
    if os.environ.get("TF_USE_LEGACY_KERAS", "").strip() not in ("", "0", "false", "False"):
        found.append(
            Finding(
                FAIL,
                "Keras",
                "TF_USE_LEGACY_KERAS is set, so tf.keras would be the old Keras 2 (tf_keras)",
                "Unset it (`unset TF_USE_LEGACY_KERAS`, or `del os.environ['TF_USE_LEGACY_KERAS']` before importing TF).",
            )
        )
    backend = os.environ.get("KERAS_BACKEND", "tensorflow").strip().lower()
    if backend not in ("", "tensorflow"):
        found.append(
            Finding(
                FAIL,
                "Keras",
                f"KERAS_BACKEND={backend!r}, but this course uses TensorFlow code (tf.data, GradientTape)",
                "Unset KERAS_BACKEND or set it to 'tensorflow' (also check ~/.keras/keras.json).",
            )
        )
    return found


def check_tensorflow() -> Finding:
    version = installed("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly")
    spec, high = requirements().get("tensorflow", ""), course.SUPPORTED_TF[1]
    if version is None:
        fix = f"Run `python3 run.py lab` in the course folder, or `pip install 'tensorflow{spec}'` (see README)."
        return Finding(FAIL, "TensorFlow", "not installed", fix)
    if not _satisfies(version, spec):
        return Finding(
            FAIL,
            "TensorFlow",
            f"{version} is outside the supported {spec} (older releases come with Keras 2)",
            f"Upgrade: `pip install -U 'tensorflow{spec}'` (on Colab: Runtime > Change runtime type picks a newer image).",
        )
    if Version(version).release[:2] > high:
        return Finding(
            WARN,
            "TensorFlow",
            f"{version} is newer than the tested {high[0]}.{high[1]}",
            "It will probably work; report anything odd.",
        )
    return Finding(OK, "TensorFlow", version)


def check_keras() -> Finding:
    version, spec = installed("keras"), requirements().get("keras", "")
    if version is None or not version.startswith("3.") or not _satisfies(version, spec):
        return Finding(
            FAIL,
            "Keras",
            f"found {version or 'nothing'}, need Keras 3 ({spec})",
            f"Run `pip install -U 'keras{spec}'`.",
        )
    return Finding(OK, "Keras", version)


def check_packages() -> list[Finding]:
    found = []
    for name, spec in requirements().items():
        if name in ("tensorflow", "keras"):
            continue
        version = installed(name)
        if version is None:
            level, message = (INFO, OPTIONAL[name]) if name in OPTIONAL else (WARN, "not installed")
            found.append(Finding(level, name, message, f"`pip install '{name}{spec}'`"))
            continue
        if _satisfies(version, spec):
            found.append(Finding(OK, name, version))
        else:
            found.append(
                Finding(WARN, name, f"{version} is outside the supported range {spec}", f"`pip install '{name}{spec}'`")
            )
    return found


def check_gpu() -> Finding:
    try:
        tf = course.import_tensorflow()
        gpus = tf.config.list_physical_devices("GPU")
    except Exception as exc:  # a broken TF install is reported by check_tensorflow
        return Finding(WARN, "GPU", f"could not ask TensorFlow ({type(exc).__name__})")
    if gpus:
        return Finding(OK, "GPU", f"{len(gpus)} found")
    return Finding(
        INFO,
        "GPU",
        f"none; training runs on the CPU ({os.cpu_count()} cores). Every chapter is sized for that.",
        "For the full-size runs, a GPU (on Colab: Runtime > Change runtime type > GPU) is much faster.",
    )


def check_disk(path: Path | None = None) -> Finding:
    path = path or Path.home()
    free_gb = shutil.disk_usage(path).free / 1e9
    if free_gb < MIN_FREE_GB:
        return Finding(
            FAIL,
            "Disk",
            f"{free_gb:.1f} GB free at {path}; datasets and weights need about {MIN_FREE_GB:.0f} GB",
            "Free some space or point KERAS_HOME at a larger disk.",
        )
    return Finding(OK, "Disk", f"{free_gb:.0f} GB free at {path}")


def check_network(timeout: float = 3.0) -> Finding:
    if course.offline():
        return Finding(INFO, "Network", "not checked: COURSE_OFFLINE=1")
    try:
        with socket.create_connection(NETWORK_PROBE, timeout=timeout):
            pass
    except OSError as exc:
        fix = (
            "Fine with a mirror (COURSE_DATA_DIR is set)."
            if course.data_dir()
            else "Ask your instructor for a mirror (`python -m helpers prefetch --to DIR` on a connected machine, then COURSE_DATA_DIR=DIR); without it the notebooks use clearly marked stand-in data."
        )
        return Finding(WARN, "Network", f"cannot reach {NETWORK_PROBE[0]} ({exc.__class__.__name__})", fix)
    return Finding(OK, "Network", f"{NETWORK_PROBE[0]} reachable")


def check_mode() -> list[Finding]:
    found = [Finding(INFO, "Platform", course.platform()), Finding(INFO, "Mode", course.mode())]
    mirror = course.data_dir()
    if mirror is None:
        found.append(Finding(INFO, "Mirror", "none (COURSE_DATA_DIR not set)"))
    elif not mirror.is_dir():
        found.append(
            Finding(
                WARN,
                "Mirror",
                f"COURSE_DATA_DIR={mirror} does not exist",
                "Fix the path, or create it with `python -m helpers prefetch --to DIR`.",
            )
        )
    else:
        held = sorted(
            p.name for sub in ("datasets", "weights") for p in (mirror / sub).glob("*") if (mirror / sub).is_dir()
        )
        found.append(Finding(OK, "Mirror", f"{mirror}: {', '.join(held) or 'empty'}"))
    return found


def main() -> int:
    """Run every check, print the report; exit 0 when the course can run."""
    findings = [check_python(), *check_keras_traps(), check_tensorflow(), check_keras(), *check_packages()]
    findings += [check_gpu(), check_disk(), check_network(), *check_mode()]
    for finding in findings:
        print(finding)
    failures = [f for f in findings if f.level == FAIL]
    warnings_ = [f for f in findings if f.level == WARN]
    if failures:
        print(f"\n{len(failures)} problem(s) stop the course from running: fix the [FAIL] lines above.")
        return 1
    print(f"\nReady: the course can run ({len(warnings_)} warning(s)).")
    return 0
