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
