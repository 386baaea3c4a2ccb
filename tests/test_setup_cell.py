"""The first cell of every notebook: one template, installs the matching helpers, refuses a wrong one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from tools import setup_cell

ROOT = Path(__file__).resolve().parent.parent


def run_cell(cell: str, cwd: Path, pythonpath: str) -> subprocess.CompletedProcess:
    head = cell.split("from helpers import course")[0]  # everything up to the course import (no TensorFlow)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = pythonpath
    return subprocess.run([sys.executable, "-c", head], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_the_course_helpers_pass(tmp_path):
    result = run_cell(setup_cell.source("00_start_here"), tmp_path, str(ROOT))
    assert result.returncode == 0, result.stderr


def test_a_learners_helpers_py_is_named_with_a_fix(tmp_path):
    (tmp_path / "helpers.py").write_text("def my_function():\n    return 1\n")
    result = run_cell(setup_cell.source("00_start_here"), tmp_path, str(ROOT))
    assert result.returncode != 0
    assert "needs the course's helpers" in result.stderr and str(tmp_path / "helpers.py") in result.stderr
    assert "rename it" in result.stderr


def test_a_mismatched_version_says_what_to_run(tmp_path):
    cell = setup_cell.source("00_start_here").replace(f'"{helpers.__version__}"', '"99.0"')
    result = run_cell(cell, tmp_path, str(ROOT))
    assert result.returncode != 0
    assert f"needs the course's helpers 99.0, but `import helpers` found version {helpers.__version__}" in result.stderr
    assert "pip uninstall -y image-classification-course" in result.stderr


def test_a_notebook_without_a_code_cell_is_refused():
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 10 · New")])
    with pytest.raises(ValueError, match="first code cell"):
        setup_cell.apply(nb, "10_new")
    nb.cells.append(nbformat.v4.new_code_cell(""))
    assert setup_cell.apply(nb, "10_new") and nb.cells[1].source == setup_cell.source("10_new")
    assert not setup_cell.apply(nb, "10_new")
    nb.cells[1].source = 'from helpers import course\n\ncourse.setup(chapter="10_new")'  # an old setup cell
    assert setup_cell.apply(nb, "10_new") and nb.cells[1].source == setup_cell.source("10_new")
    nb.cells[1].source = "x = 1"  # not a setup cell: left alone (the notebook test above fails instead)
    assert not setup_cell.apply(nb, "10_new")
