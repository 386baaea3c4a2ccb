#!/usr/bin/env python3
"""Install the course into ./.venv and open it, or test it. Standard library only.

    python3 run.py lab     # install what the notebooks need, then open the course in JupyterLab
    python3 run.py test    # install that plus the test tools, then run the whole test suite

Extra arguments go to JupyterLab or pytest, e.g. ``python3 run.py test -k conv``.

    python3 run.py compat oldest|newest|colab|kaggle [--venv DIR] [pytest arguments]

builds a separate venv (default ~/.cache/course-compat/PROFILE, outside this folder) with
the oldest supported versions, the newest releases, or a recorded Colab or Kaggle stack
(constraints/), and runs the notebooks there. It installs TensorFlow each time, so it is
not part of the test suite; the README's "Verified with" table comes from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"


def venv_bin(venv: Path, windows: bool = os.name == "nt") -> Path:
    """The folder of a venv's programs: ``Scripts`` on Windows, ``bin`` elsewhere."""
    return venv / ("Scripts" if windows else "bin")


def venv_program(venv: Path, name: str, windows: bool = os.name == "nt") -> Path:
    """A program of a venv (``python``, ``jupyter``), with Windows' ``.exe``."""
    return venv_bin(venv, windows) / (f"{name}.exe" if windows else name)


PYTHON = venv_program(VENV, "python")
# Intel Macs: TensorFlow stopped publishing macOS x86_64 wheels after 2.16.2 (for Python 3.9-3.12),
# and ai-edge-litert after 1.0.1 (chapter 07 then uses tf.lite.Interpreter instead).
INTEL_MAC_TENSORFLOW = "2.16.2"
STAMP = VENV / ".course-installed"
SUPPORTED_PYTHON = ((3, 10), (3, 13))
PROFILES = ("oldest", "newest", "colab", "kaggle")
SERVICES = ("colab", "kaggle")  # notebook services: their preinstalled stack must stay untouched
# The packages whose versions the "Verified with" table reports.
REPORTED = (
    "tensorflow", "keras", "tensorboard", "numpy", "pandas", "matplotlib", "seaborn",
    "scikit-learn", "pillow", "ipywidgets", "ai-edge-litert",
)  # fmt: skip


def say(message: str) -> None:
    print(f"[run.py] {message}", flush=True)


def run(*command: str | Path, **kwargs) -> int:
    kwargs.setdefault("cwd", ROOT)
    return subprocess.call([str(c) for c in command], **kwargs)


def fingerprint(*names: str) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def check_python() -> None:
    low, high = SUPPORTED_PYTHON
    if not low <= sys.version_info[:2] <= high:
        sys.exit(
            f"Python {sys.version_info.major}.{sys.version_info.minor} is not supported by TensorFlow 2.21: "
            f"use Python {low[0]}.{low[1]}-{high[0]}.{high[1]} (3.11 is tested), e.g. `python3.11 run.py ...`."
        )


def make_venv(venv: Path) -> Path:
    python = venv_program(venv, "python")
    if not python.exists():
        say(f"creating the virtual environment {venv}")
        if run(sys.executable, "-m", "venv", venv) != 0:
            sys.exit(f"Could not create {venv}. On Debian/Ubuntu: `sudo apt-get install python3-venv`.")
        if run(python, "-m", "pip", "install", "-q", "--upgrade", "pip") != 0:
            sys.exit("Could not upgrade pip (see its message above). Check your connection.")
    return python


def install(with_tests: bool) -> None:
    """Create .venv and install requirements.txt (+ requirements-test.txt); skipped when current."""
    check_python()
    wanted = {"runtime": fingerprint("requirements.txt", "pyproject.toml")}
    if with_tests:
        wanted["test"] = fingerprint("requirements-test.txt")
    try:
        done = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        done = {}
    if all(done.get(key) == value for key, value in wanted.items()):
        return
    started = time.time()
    make_venv(VENV)
    what = "TensorFlow, JupyterLab and the course helpers" + (" plus the test tools" if with_tests else "")
    say(f"installing {what} (a few minutes the first time)")
    command = [PYTHON, "-m", "pip", "install", "-q", *requirements_for(platform.system(), platform.machine())]
    if with_tests:
        command += ["-r", "requirements-test.txt"]
    if run(*command) != 0:
        sys.exit("Installation failed (see pip's message above). Check your connection and free disk space.")
    STAMP.write_text(json.dumps({**done, **wanted} if done.get("runtime") == wanted["runtime"] else wanted))
    say(f"installed in {time.time() - started:.0f} s")


def requirements_for(system: str, machine: str, version: tuple[int, int] = sys.version_info[:2]) -> list[str]:
    """pip's arguments for requirements.txt on this platform: the file itself, except on an Intel
    Mac, where the newest TensorFlow with a wheel is INTEL_MAC_TENSORFLOW (and no LiteRT 2)."""
    if not (system == "Darwin" and machine in ("x86_64", "i386")):
        return ["-r", "requirements.txt"]
    if version > (3, 12):
        sys.exit(
            f"On an Intel Mac the newest TensorFlow is {INTEL_MAC_TENSORFLOW}, which needs Python 3.10-3.12: "
            "install Python 3.12 (python.org) and run `python3.12 run.py ...`, or use Colab (see docs/setup.md)."
        )
    say(f"Intel Mac: installing TensorFlow {INTEL_MAC_TENSORFLOW}, the newest with a wheel for this Mac")
    args = []
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("tensorflow=="):
            line = f"tensorflow=={INTEL_MAC_TENSORFLOW}"
        elif line.startswith("tensorboard"):
            line = "tensorboard>=2.16,<2.17"
        elif line.startswith("-e "):
            args += ["-e", ".[tensorflow]"]  # without LiteRT: chapter 07 falls back to tf.lite
            continue
        args.append(line)
    return args


def report_browser() -> None:
    """Say, before the tests start, when the browser tests will be skipped and how to get them."""
    if shutil.which("chromium") or os.environ.get("COURSE_SKIP_BROWSER"):
        return
    say(
        "chromium not found: the browser tests will be skipped. To run them, install Debian's chromium "
        "(`sudo apt-get install -y chromium`; .ci/run does this in CI) and run the tests again."
    )


# ------------------------------------------------------------------------ compat
def compat_venv_default(profile: str) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "course-compat" / profile


def pinned(path: Path) -> dict[str, str]:
    """name -> version of every ``name==version`` line of a constraints file."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def freeze(python: Path) -> dict[str, str]:
    """name -> version of everything installed in the venv of ``python``."""
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {canonical(p["name"]): p["version"] for p in json.loads(out)}


def report_versions(python: Path) -> dict[str, str]:
    installed = freeze(python)
    versions = {name: installed.get(name, "-") for name in REPORTED}
    say("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return versions


def first_cell(notebook: Path) -> str:
    """The source of a notebook's first code cell (the setup cell)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return next("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def colab_install(python: Path, checkout: Path) -> list[str]:
    """Run the notebooks' first cell with the checkout's path in place of the repository URL.

    Returns the problems found: packages pip changed or removed.
    """
    cell = first_cell(ROOT / "notebooks" / "00_start_here.ipynb")
    url = 'f"git+{COURSE_REPO}@{COURSE_RELEASE}"'
    if url not in cell:
        sys.exit(f"The first cell of notebooks/00_start_here.ipynb no longer installs {url}: update run.py.")
    cell = cell.replace(url, repr(str(checkout)))
    # Start like a fresh notebook service: no course helpers yet (a previous run installed them).
    run(python, "-m", "pip", "uninstall", "-q", "-y", "image-classification-course")
    before = freeze(python)
    say("running the notebooks' first cell (pip install of the course helpers from this checkout)")
    with tempfile.TemporaryDirectory() as elsewhere:  # not the checkout: `helpers` must come from pip
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(COURSE_SMOKE="1", COURSE_OFFLINE="1", MPLBACKEND="agg")
        if run(python, "-c", cell, cwd=elsewhere, env=env) != 0:
            return ["the first cell failed (see above)"]
    after = freeze(python)
    problems = [
        f"{name} {version} -> {after.get(name, 'removed')}"
        for name, version in before.items()
        if after.get(name) != version
    ]
    added = sorted(set(after) - set(before))
    say(f"pip added {', '.join(added) or 'nothing'}; changed {', '.join(problems) or 'nothing'}")
    return problems


def readme_row(profile: str, result: dict) -> str:
    """The run as a row of the README's "Verified with" table."""
    v = result["versions"]
    cells = [profile, result["date"], f"{sys.version_info.major}.{sys.version_info.minor}"]
    cells += [v.get(name, "-") for name in REPORTED]
    cells.append("passed" if result["passed"] else "FAILED")
    return "| " + " | ".join(cells) + " |"


def compat(argv: list[str]) -> int:
    if not argv or argv[0] not in PROFILES:
        print(__doc__)
        return 2
    profile, extra = argv[0], argv[1:]
    venv = compat_venv_default(profile)
    if "--venv" in extra:
        at = extra.index("--venv")
        venv = Path(extra[at + 1]).expanduser().resolve()
        del extra[at : at + 2]
    if venv == ROOT or ROOT in venv.parents:
        sys.exit(
            f"--venv {venv} is inside the course folder, where pytest and ruff would collect it: choose another place."
        )
    check_python()
    started = time.time()
    python = make_venv(venv)
    constraints = ROOT / "constraints" / (f"{profile}-snapshot.txt" if profile in SERVICES else f"{profile}.txt")
    pip = [python, "-m", "pip", "install", "-q", "-c", constraints]
    if profile in SERVICES:
        # The preinstalled stack, plus what running the notebooks under pytest needs.
        stack = list(pinned(constraints))
        tools = [line for line in (ROOT / "requirements-test.txt").read_text().splitlines() if line[:1].isalpha()]
        code = run(
            *pip, *stack, *[t for t in tools if t.split(">")[0].split("=")[0] in ("pytest", "pytest-xdist", "nbval")]
        )
    else:
        upgrade = ["--upgrade", "--upgrade-strategy", "eager"] if profile == "newest" else []
        # requirements.txt pins the default TensorFlow and ipywidgets 8, so take only JupyterLab from it
        lab = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
        lab = [line for line in lab if line.startswith("jupyterlab")]
        code = run(*pip, *upgrade, "-e", ".[tensorflow,litert]", *lab, "-r", "requirements-test.txt")
    if code != 0:
        say(f"compat {profile}: installation FAILED (pip's message above)")
        return code
    installed_in = time.time() - started
    versions = report_versions(python)
    if profile in SERVICES:
        with tempfile.TemporaryDirectory() as tmp:
            checkout = Path(tmp) / "course"
            shutil.copytree(
                ROOT, checkout, ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info", "build", "__pycache__")
            )
            problems = colab_install(python, checkout)
        if problems:
            say(f"compat {profile}: FAILED, pip changed the preinstalled stack: " + "; ".join(problems))
            return 1
        targets = [] if extra else ["solutions"]  # every chapter, in smoke mode
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the kernels use the pip-installed helpers
    else:
        # The notebooks with their answers (the learner copies run the same code) and the unit tests.
        targets = [] if extra else ["solutions", "tests"]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
    env["COURSE_SKIP_BROWSER"] = "1"
    env.pop("COURSE_REQUIRE_BROWSER", None)
    say(f"compat {profile}: running the tests in {venv}")
    tested = time.time()
    code = run(python, "-m", "pytest", *targets, *extra, env=env)
    result = {
        "profile": profile, "passed": code == 0, "date": time.strftime("%Y-%m-%d"), "versions": versions,
        "install_s": round(installed_in), "tests_s": round(time.time() - tested), "pytest": " ".join(targets + extra),
    }  # fmt: skip
    (venv / "compat-result.json").write_text(json.dumps(result, indent=1))
    say("README row: " + readme_row(profile, result))
    say(
        f"compat {profile}: {'PASSED' if code == 0 else 'FAILED'} in {time.time() - started:.0f} s ({venv / 'compat-result.json'})"
    )
    return code


def main(argv: list[str]) -> int:
    if argv and argv[0] == "compat":
        return compat(argv[1:])
    if not argv or argv[0] not in ("lab", "test"):
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]
    install(with_tests=command == "test")
    if command == "lab":
        return run(venv_program(VENV, "jupyter"), "lab", "notebooks/00_start_here.ipynb", *extra)
    report_browser()
    started = time.time()
    code = run(PYTHON, "-m", "pytest", *extra)
    say(f"test suite finished in {time.time() - started:.0f} s with exit code {code}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
