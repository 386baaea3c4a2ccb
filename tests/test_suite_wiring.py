"""The suite's own wiring: one definition of the kernels' environment, nothing leaking between tests."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import notebooks

ROOT = Path(__file__).resolve().parent.parent


class FakeCell:
    def __init__(self, path: Path):
        self.fspath = path


def root_conftest(request):
    return request.config.pluginmanager.get_plugin(str(ROOT / "conftest.py"))


def test_strict_checks_are_reset_after_each_notebook(request):
    conftest = root_conftest(request)
    assert conftest is not None
    before = dict(os.environ)
    cell = FakeCell(ROOT / "solutions" / "03_building_cnns.ipynb")
    try:
        conftest.pytest_runtest_setup(cell)
        assert os.environ["COURSE_STRICT_CHECKS"] == "1"
        assert os.environ["COURSE_MODELS_DIR"].endswith("solutions-03_building_cnns")
        conftest.pytest_runtest_teardown(cell)
        assert os.environ["COURSE_STRICT_CHECKS"] == "0"
        assert os.environ["COURSE_MODELS_DIR"] == before["COURSE_MODELS_DIR"]
        learner = FakeCell(ROOT / "notebooks" / "03_building_cnns.ipynb")
        conftest.pytest_runtest_setup(learner)
        assert os.environ["COURSE_STRICT_CHECKS"] == "0"
        conftest.pytest_runtest_teardown(learner)
    finally:
        os.environ.clear()
        os.environ.update(before)
    assert dict(os.environ) == before


def test_unit_tests_see_the_suite_environment():
    assert os.environ["COURSE_STRICT_CHECKS"] == "0"
    expected = notebooks.suite_environment(ROOT, strict=False)
    for name, value in expected.items():
        assert os.environ[name] == value, name
    assert "COURSE_DATA_DIR" not in os.environ


def test_kernel_environment_is_restored(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", "/somewhere/mirror")
    before = dict(os.environ)
    with notebooks.kernel_environment(ROOT, results=tmp_path / "r.jsonl", models_dir=tmp_path):
        assert "COURSE_DATA_DIR" not in os.environ
        assert os.environ["COURSE_RESULTS"] == str(tmp_path / "r.jsonl")
        assert os.environ["COURSE_STRICT_CHECKS"] == "1" and os.environ["COURSE_SMOKE"] == "1"
    assert dict(os.environ) == before


def test_cells_run_in_solutions_only_are_twins_and_nothing_later_needs_them(request):
    import ast

    import nbformat

    conftest = root_conftest(request)
    for name, ids in conftest.RUN_IN_SOLUTIONS_ONLY.items():
        learner = nbformat.read(ROOT / "notebooks" / name, as_version=4).cells
        solution = {c.get("id"): c.source for c in nbformat.read(ROOT / "solutions" / name, as_version=4).cells}
        positions = [i for i, c in enumerate(learner) if c.get("id") in ids]
        assert len(positions) == len(ids), f"{name}: cells {ids} are not all in the learner copy"
        made = set()
        for i in positions:
            assert learner[i].source == solution[learner[i].get("id")], f"{name}: cell {learner[i].get('id')} differs"
            tree = ast.parse(learner[i].source)
            made |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        later = [c.source for c in learner[max(positions) + 1 :] if c.cell_type == "code"]
        used = {
            n.id for source in later for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)
        }  # names read by the cells that still run
        assert made and not made & used, f"{name}: later cells use {made & used}"


def test_slowest_scopes_exist(request):
    conftest = root_conftest(request)
    missing = [path for path in conftest.SLOWEST_FIRST if not (ROOT / path).is_file()]
    assert not missing, f"conftest.SLOWEST_FIRST names files that do not exist: {missing}"
