"""Project-level promises: the two dependency files agree, the code is lint-clean."""

from __future__ import annotations

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


def test_ruff_is_clean_on_code():
    result = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_ruff_formatted():
    """One formatting for all code (line length 120, pyproject.toml); `ruff format .` fixes it."""
    result = subprocess.run([str(BIN / "ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean_on_notebooks():
    nbqa = shutil.which("nbqa", path=str(BIN)) or "nbqa"
    result = subprocess.run(
        [nbqa, "ruff", "solutions", "notebooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": f"{BIN}:/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "python3 run.py test" in readme and "python3 run.py lab" in readme
    assert "python3 run.py test" in (ROOT / ".ci" / "run").read_text()
