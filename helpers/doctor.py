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


def requirements(path: Path | None = None) -> dict[str, str]:
    """Package name -> version specifier, from requirements.txt (or this package's metadata)."""
    path = path or course_root() / "requirements.txt"
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        try:
            lines = metadata.requires("image-classification-course") or []
        except metadata.PackageNotFoundError:
            lines = []
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        match = re.match(r"^([A-Za-z0-9_.\-]+)\s*(\[.*?\])?\s*(.*)$", line)
        if match and line:
            found[match.group(1).lower()] = match.group(3).strip()
    return found


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
        return [Finding(FAIL, "TensorFlow", "not installed", "Run `pip install -r requirements.txt` (or see README).")]
    major_minor = tuple(int(x) for x in re.findall(r"\d+", version)[:2])
    low, high = course.SUPPORTED_TF
    found = []
    if major_minor < low:
        found.append(
            Finding(
                FAIL,
                "TensorFlow",
                f"{version} is older than {low[0]}.{low[1]} and comes with Keras 2",
                "Upgrade: `pip install -U 'tensorflow>=2.16'` (on Colab: Runtime > Change runtime type picks a newer image).",
            )
        )
    elif major_minor > high:
        found.append(
            Finding(WARN, "TensorFlow", f"{version} is newer than the tested {high[0]}.{high[1]}", "It will probably work; report anything odd.")
        )
    else:
        found.append(Finding(OK, "TensorFlow", version))
    try:
        keras_version = metadata.version("keras")
    except metadata.PackageNotFoundError:
        keras_version = None
    if keras_version is None or not keras_version.startswith("3."):
        found.append(
            Finding(FAIL, "Keras", f"found {keras_version or 'nothing'}, need Keras 3", "Run `pip install -U 'keras>=3.10'`.")
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
            found.append(Finding(WARN, name, "not installed", f"`pip install '{name}{spec}'`"))
            continue
        if _satisfies(version, spec):
            found.append(Finding(OK, name, version))
        else:
            found.append(Finding(WARN, name, f"{version} is outside the tested range {spec}", f"`pip install '{name}{spec}'`"))
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
        "For the full-size runs, Colab (Runtime > Change runtime type > GPU) is about 10x faster.",
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
        held = sorted(p.name for sub in ("datasets", "weights") for p in (mirror / sub).glob("*") if (mirror / sub).is_dir())
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
