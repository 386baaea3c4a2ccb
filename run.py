#!/usr/bin/env python3
"""Install the course into ./.venv and open it, or test it. Standard library only.

    python3 run.py lab     # install everything, then open the course in JupyterLab
    python3 run.py test    # install everything, then run the whole test suite

Extra arguments go to JupyterLab or pytest, e.g. ``python3 run.py test -k conv``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".course-installed"
SUPPORTED_PYTHON = ((3, 10), (3, 13))


def say(message: str) -> None:
    print(f"[run.py] {message}", flush=True)


def run(*command: str | Path, **kwargs) -> int:
    return subprocess.call([str(c) for c in command], cwd=ROOT, **kwargs)


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def install() -> None:
    """Create .venv and install requirements.txt + the helpers package (skipped when current)."""
    low, high = SUPPORTED_PYTHON
    if not low <= sys.version_info[:2] <= high:
        sys.exit(
            f"Python {sys.version_info.major}.{sys.version_info.minor} is not supported by TensorFlow 2.21: "
            f"use Python {low[0]}.{low[1]}-{high[0]}.{high[1]} (3.11 is tested), e.g. `python3.11 run.py ...`."
        )
    if STAMP.exists() and STAMP.read_text() == fingerprint():
        return
    started = time.time()
    if not PYTHON.exists():
        say("creating the virtual environment .venv")
        if run(sys.executable, "-m", "venv", VENV) != 0:
            sys.exit("Could not create .venv. On Debian/Ubuntu: `sudo apt-get install python3-venv`.")
    say("installing TensorFlow, JupyterLab and the course helpers (a few minutes the first time)")
    steps = [
        (PYTHON, "-m", "pip", "install", "-q", "--upgrade", "pip"),
        (PYTHON, "-m", "pip", "install", "-q", "-r", "requirements.txt", "-e", "."),
    ]
    for step in steps:
        if run(*step) != 0:
            sys.exit("Installation failed (see pip's message above). Check your connection and free disk space.")
    STAMP.write_text(fingerprint())
    say(f"installed in {time.time() - started:.0f} s")


def ensure_chromium() -> None:
    """The browser test needs Debian's chromium; install it where we are allowed to."""
    if shutil.which("chromium") or os.environ.get("COURSE_SKIP_BROWSER"):
        return
    if os.name != "posix" or not shutil.which("apt-get") or os.geteuid() != 0:
        say("chromium not found: the browser test will be skipped (install it with `apt-get install -y chromium`)")
        return
    say("installing chromium for the browser test (about a minute)")
    quiet = {"stdout": subprocess.DEVNULL}
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if run("apt-get", "update", "-qq", env=env, **quiet) != 0 or run(
        "apt-get", "install", "-y", "-qq", "chromium", env=env, **quiet
    ) != 0:
        say("could not install chromium: the browser test will be skipped")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("lab", "test"):
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]
    install()
    if command == "lab":
        return run(BIN / "jupyter", "lab", "notebooks/00_start_here.ipynb", *extra)
    ensure_chromium()
    started = time.time()
    code = run(PYTHON, "-m", "pytest", *extra)
    say(f"test suite finished in {time.time() - started:.0f} s with exit code {code}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
