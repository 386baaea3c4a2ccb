"""Project-level promises: the two dependency files agree, and the lint passes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def requirement_lines(text: str) -> set[str]:
    return {re.sub(r"\s+", "", line.split("#", 1)[0]) for line in text.splitlines() if line.split("#", 1)[0].strip()}


def test_requirements_and_environment_yml_agree():
    pip_section = next(
        item["pip"]
        for item in yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
        if isinstance(item, dict)
    )
    from_conda = {re.sub(r"\s+", "", line) for line in pip_section}
    from_pip = requirement_lines((ROOT / "requirements.txt").read_text())
    assert from_conda == from_pip, (
        f"only in environment.yml: {from_conda - from_pip}; only in requirements.txt: {from_pip - from_conda}"
    )


def test_lint():
    """The lint, as one step: the learner copies in sync with solutions/ and following the authoring
    rules (`python tools/notebooks.py --check`), `ruff check` and `ruff format --check` on the code,
    `nbqa ruff` on the notebooks. The three tools run side by side while the notebooks are checked."""
    from tools import notebooks

    nbqa = shutil.which("nbqa", path=str(BIN)) or "nbqa"
    commands = {
        "ruff check .": [str(BIN / "ruff"), "check", "."],
        "ruff format --check . (`ruff format .` fixes it)": [str(BIN / "ruff"), "format", "--check", "."],
        "nbqa ruff solutions notebooks": [nbqa, "ruff", "solutions", "notebooks"],
    }
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    running = {
        name: subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name, command in commands.items()
    }
    failures = [
        f"python tools/notebooks.py --check (`--write` fixes what is out of sync): {p}" for p in notebooks.check()
    ]
    for name, process in running.items():
        output, _ = process.communicate(timeout=300)
        if process.returncode != 0:
            failures.append(f"{name}:\n{output}")
    assert not failures, "\n".join(failures)
