"""The suite's own wiring: one definition of the kernels' environment, nothing leaking between tests,
every notebook run whole, and chapter 03's re-run."""

from __future__ import annotations

import os
from pathlib import Path

from tools import testing

ROOT = Path(__file__).resolve().parent.parent


class FakeCell:
    def __init__(self, path: Path):
        self.fspath = path


def root_conftest(request):
    return request.config.pluginmanager.get_plugin(str(ROOT / "conftest.py"))


def test_each_notebook_cell_gets_its_kernels_environment_and_leaves_nothing_behind(request, monkeypatch):
    conftest = root_conftest(request)
    assert conftest is not None
    monkeypatch.setenv("KERAS_HOME", "/the/unit/tests/own/cache")  # as tests/conftest.py sets it
    before = dict(os.environ)
    for folder, strict in (("solutions", "1"), ("notebooks", "0")):
        cell = FakeCell(ROOT / folder / "03_building_cnns.ipynb")
        conftest.pytest_runtest_setup(cell)
        assert os.environ["COURSE_STRICT_CHECKS"] == strict, folder
        assert os.environ["COURSE_MODELS_DIR"].endswith(f"{folder}-03_building_cnns")
        assert os.environ["KERAS_HOME"] == str(ROOT / ".pytest_keras_home")
        assert ("COURSE_RESULTS" in os.environ) == (folder == "solutions")  # only chapter 03's solution records
        conftest.pytest_runtest_teardown(cell)
        assert dict(os.environ) == before, folder


def test_unit_tests_see_the_suite_environment():
    assert os.environ["COURSE_STRICT_CHECKS"] == "0"
    expected = testing.suite_environment(ROOT, strict=False)
    for name, value in expected.items():
        if name != "KERAS_HOME":  # the unit tests have a Keras cache of their own (tests/conftest.py)
            assert os.environ[name] == value, name
    assert os.environ["KERAS_HOME"] not in (expected["KERAS_HOME"], str(Path.home() / ".keras"))
    assert "COURSE_DATA_DIR" not in os.environ


def test_kernel_environment_is_restored(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", "/somewhere/mirror")
    before = dict(os.environ)
    with testing.kernel_environment(ROOT, results=tmp_path / "r.jsonl", models_dir=tmp_path):
        assert "COURSE_DATA_DIR" not in os.environ
        assert os.environ["COURSE_RESULTS"] == str(tmp_path / "r.jsonl")
        assert os.environ["COURSE_STRICT_CHECKS"] == "1" and os.environ["COURSE_SMOKE"] == "1"
    assert dict(os.environ) == before


def test_the_slowest_files_go_first_then_new_notebooks_then_the_rest(request):
    conftest = root_conftest(request)
    missing = [path for path in conftest.SLOWEST_FIRST if not (ROOT / path).is_file()]
    assert not missing, f"conftest.SLOWEST_FIRST names files that do not exist: {missing}"
    names = ["tests/test_images.py", "notebooks/10_new_chapter.ipynb", *reversed(conftest.SLOWEST_FIRST[:2])]
    queue = sorted((FakeCell(ROOT / name) for name in names), key=conftest._scope_rank)
    assert [cell.fspath for cell in queue] == [ROOT / name for name in [*conftest.SLOWEST_FIRST[:2], *names[1::-1]]]


def test_compare_passes_takes_the_first_pass_rows_of_the_rerun_cells():
    import pytest

    def rows(*pairs):
        return [{"name": n, "value": v} for n, v in pairs]

    first = rows(("data", 1), ("first_cnn_test_accuracy", 0.3), ("train_seconds", 9.0), ("test_accuracy_flip", 0.4))
    first += rows(("exercise", 7))  # recorded after the re-run cells
    second = rows(("first_cnn_test_accuracy", 0.3), ("train_seconds", 8.1), ("test_accuracy_flip", 0.4))
    testing.compare_passes(first, second)  # seconds may differ
    with pytest.raises(AssertionError):
        testing.compare_passes(
            first, rows(("first_cnn_test_accuracy", 0.3), ("train_seconds", 8), ("test_accuracy_flip", 0.41))
        )
    with pytest.raises(AssertionError):
        testing.compare_passes(first, rows(("test_accuracy", 0.3), ("test_accuracy_flip", 0.4)))
    with pytest.raises(AssertionError, match="never recorded"):
        testing.compare_passes(first, rows(("something_else", 1)))


def test_every_notebook_runs_whole_and_chapter_03_ends_with_its_rerun(request):
    """Every code cell of every collected notebook is an nbval item that is not skipped (learner
    copies too, each in its own kernel); solutions/03 ends with the re-run, in the same kernel."""
    import nbformat
    import pytest
    from nbval.plugin import IPyNbFile

    conftest = root_conftest(request)
    by_file: dict[Path, list] = {}
    for item in request.session.items:
        if Path(str(item.fspath)).suffix == ".ipynb":
            by_file.setdefault(Path(str(item.fspath)), []).append(item)
    if not by_file:
        pytest.skip("no notebook is collected in this session")
    for path, items in by_file.items():
        cells = [i for i in items if hasattr(i, "cell")]
        code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        assert len(cells) == len(code), f"{path.name}: {len(cells)} of {len(code)} code cells collected"
        assert not [i for i in cells if i.get_closest_marker("skip") or i.options["skip"]], (
            f"{path.name}: cells skipped"
        )
        assert type(items[0].parent) is IPyNbFile, f"{path}: not nbval's own notebook (one kernel per notebook)"
    chapter03 = by_file.get(ROOT / "solutions" / "03_building_cnns.ipynb")
    if chapter03:
        rerun = [i for i in chapter03 if isinstance(i, conftest.ReRunTrainingCells)]
        assert len(rerun) == 1 and chapter03[-1] is rerun[0]
        assert rerun[0].parent is chapter03[0].parent  # the same notebook, so the same kernel
    assert conftest.results_path(ROOT / "solutions" / "03_building_cnns.ipynb") is not None
    assert conftest.results_path(ROOT / "notebooks" / "03_building_cnns.ipynb") is None


def test_the_rerun_forgets_what_its_cells_bind_then_records_in_the_last_cell(request, tmp_path, monkeypatch):
    import json

    conftest = root_conftest(request)
    ((path, (first, last, record)),) = conftest.RERUN.items()
    cells = json.loads((ROOT / path).read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    setup, *rerun = testing.rerun_sources(sources, first, last, record, tmp_path / "again.jsonl")
    assert first in rerun[0] and last in rerun[-2]
    recording = [s for s in sources if record in s]
    assert rerun[-1] == recording[-1] and len(recording) == 1  # the chapter records in one cell, the one re-run
    # The training results the last cell records come from the re-run, not from the first pass:
    namespace = {"first_accuracy": 0.1, "classifier_timer": None, "test_flip": 0.2, "callback_history": None}
    monkeypatch.delenv("COURSE_RESULTS", raising=False)
    exec(setup, namespace)
    assert os.environ["COURSE_RESULTS"] == str(tmp_path / "again.jsonl")
    assert "first_accuracy" not in namespace and "classifier_timer" not in namespace and "test_flip" not in namespace
    assert "callback_history" in namespace  # bound outside the re-run cells: kept


def test_bound_names_are_the_notebook_level_names_a_cell_binds():
    import pytest

    cell = (
        "%matplotlib inline\n!ls\nimport numpy as np\nfrom os import path as p\nx = [i for i in range(3)]\n"
        "for j in x:\n    pass\nwith open('f') as handle:\n    pass\n"
        "def f(a):\n    local = a\n    global counter\n    counter = 1\n\nclass C:\n    inside = 1\n"
    )
    assert testing.bound_names(cell) == {"np", "p", "x", "j", "handle", "f", "C", "counter"}
    with pytest.raises(ValueError, match="cannot tell which names this cell binds"):
        testing.bound_names("x = (")
