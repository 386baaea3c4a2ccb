"""``python -m helpers doctor``: is this machine ready for the course, and if not, what to do."""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

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


def requirements(path: Path | None = None) -> dict[str, str]:
    """Package name -> supported versions: the one list in pyproject.toml.

    Its ``dependencies`` plus the ``tensorflow`` and ``litert`` extras. Read from
    ``pyproject.toml`` in a checkout, else from the installed package's metadata (built from
    the same file). Requirements for other platforms (``platform_system != "Windows"`` on
    Windows) are left out.
    """
    from packaging.requirements import Requirement

    path = path or course_root() / "pyproject.toml"
    lines = _pyproject_requirements(path) if path.exists() else None
    if lines is None:
        try:
            lines = metadata.requires("image-classification-course") or []
        except metadata.PackageNotFoundError:
            lines = []
    found = {}
    for line in lines:
        req = Requirement(line)
        if req.marker and not any(req.marker.evaluate({"extra": extra}) for extra in ("", *EXTRAS)):
            continue
        found[re.sub(r"[-_.]+", "-", req.name).lower()] = str(req.specifier)
    return found


def _pyproject_requirements(path: Path) -> list[str] | None:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: use the installed metadata instead
        return None
    project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    return [*project.get("dependencies", []), *(line for extra in EXTRAS for line in extras.get(extra, []))]


def course_root() -> Path:
    return Path(__file__).resolve().parent.parent


def _satisfies(version: str, spec: str) -> bool:
    from packaging.specifiers import SpecifierSet

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


def check_tensorflow() -> list[Finding]:
    try:
        version = metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        version = None
        for alt in ("tensorflow-cpu", "tensorflow-macos", "tf-nightly"):
            try:
                version = metadata.version(alt)
                break
            except metadata.PackageNotFoundError:
                continue
    if version is None:
        spec = requirements().get("tensorflow", "")
        fix = f"Run `python3 run.py lab` in the course folder, or `pip install 'tensorflow{spec}'` (see README)."
        return [Finding(FAIL, "TensorFlow", "not installed", fix)]
    major_minor = tuple(int(x) for x in re.findall(r"\d+", version)[:2])
    wanted = requirements()
    tf_spec, keras_spec = wanted.get("tensorflow", ""), wanted.get("keras", "")
    high = course.SUPPORTED_TF[1]
    found = []
    if not _satisfies(version, tf_spec):
        found.append(
            Finding(
                FAIL,
                "TensorFlow",
                f"{version} is outside the supported {tf_spec} (older releases come with Keras 2)",
                f"Upgrade: `pip install -U 'tensorflow{tf_spec}'` (on Colab: Runtime > Change runtime type picks a newer image).",
            )
        )
    elif major_minor > high:
        found.append(
            Finding(
                WARN,
                "TensorFlow",
                f"{version} is newer than the tested {high[0]}.{high[1]}",
                "It will probably work; report anything odd.",
            )
        )
    else:
        found.append(Finding(OK, "TensorFlow", version))
    try:
        keras_version = metadata.version("keras")
    except metadata.PackageNotFoundError:
        keras_version = None
    if keras_version is None or not keras_version.startswith("3.") or not _satisfies(keras_version, keras_spec):
        found.append(
            Finding(
                FAIL,
                "Keras",
                f"found {keras_version or 'nothing'}, need Keras 3 ({keras_spec})",
                f"Run `pip install -U 'keras{keras_spec}'`.",
            )
        )
    else:
        found.append(Finding(OK, "Keras", keras_version))
    return found


def check_packages() -> list[Finding]:
    found = []
    skip = {"tensorflow", "keras"}
    for name, spec in requirements().items():
        if name in skip:
            continue
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
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


def run(network_timeout: float = 3.0) -> list[Finding]:
    """All checks, in the order they are printed."""
    findings = [check_python(), *check_keras_traps(), *check_tensorflow(), *check_packages()]
    findings += [check_gpu(), check_disk(), check_network(network_timeout), *check_mode()]
    return findings


def main() -> int:
    """Print the report; exit 0 when the course can run."""
    findings = run()
    for finding in findings:
        print(finding)
    failures = [f for f in findings if f.level == FAIL]
    warnings_ = [f for f in findings if f.level == WARN]
    if failures:
        print(f"\n{len(failures)} problem(s) stop the course from running: fix the [FAIL] lines above.")
        return 1
    print(f"\nReady: the course can run ({len(warnings_)} warning(s)).")
    return 0
