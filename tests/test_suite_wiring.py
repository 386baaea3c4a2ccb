"""The suite's own wiring: one definition of the kernels' environment, nothing leaking between tests."""

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
    expected = testing.suite_environment(ROOT, strict=False)
    for name, value in expected.items():
        assert os.environ[name] == value, name
    assert "COURSE_DATA_DIR" not in os.environ


def test_kernel_environment_is_restored(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", "/somewhere/mirror")
    before = dict(os.environ)
    with testing.kernel_environment(ROOT, results=tmp_path / "r.jsonl", models_dir=tmp_path):
        assert "COURSE_DATA_DIR" not in os.environ
        assert os.environ["COURSE_RESULTS"] == str(tmp_path / "r.jsonl")
        assert os.environ["COURSE_STRICT_CHECKS"] == "1" and os.environ["COURSE_SMOKE"] == "1"
    assert dict(os.environ) == before


def notebook(*sources: str, ids: list[str] | None = None):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title", id="md")]
    ids = ids or [f"c{i}" for i in range(len(sources))]
    nb.cells += [nbformat.v4.new_code_cell(source, id=cell_id) for cell_id, source in zip(ids, sources, strict=True)]
    return nb


SOLUTION = [
    "%matplotlib inline\nimport numpy as np",  # c0: setup, always runs
    "data = np.arange(5)",  # c1: read by the exercise
    "heavy = np.linalg.svd(np.ones((3, 3)))",  # c2: nothing the exercise needs
    "model = make_model()",  # c3: read by the exercise
    "model.fit(data)",  # c4: changes model
    "start_fine_tuning(model, 3)",  # c5: may change model (a name passed to a statement call)
    "np.random.seed(0)",  # c6: calls into a module: changes nothing of the notebook's
    "answer = data.sum()  # the answer\ncheck(answer, model)",  # c7: the exercise
    "report = answer * 2",  # c8: reads what the exercise made
    "summary = report + 1",  # c9: reads what c8 made
    "unrelated = heavy[0] + 1",  # c10: only reads what c2 made
]


def test_learner_cells_to_run_follows_names_both_ways():
    learner = list(SOLUTION)
    learner[7] = "answer = ...  # Your code here: the answer\ncheck(answer, model)"
    run = testing.learner_cells_to_run(notebook(*learner), notebook(*SOLUTION))
    assert run == {"c0", "c1", "c3", "c4", "c5", "c7", "c8", "c9"}
    # Identical copies: only the setup cell runs.
    assert testing.learner_cells_to_run(notebook(*SOLUTION), notebook(*SOLUTION)) == {"c0"}
    # A cell missing from the solution counts as different.
    renamed = testing.learner_cells_to_run(notebook(*SOLUTION), notebook(*SOLUTION, ids=[f"s{i}" for i in range(11)]))
    assert renamed == {f"c{i}" for i in range(11)}


def test_learner_cells_to_run_reads_only_what_comes_from_earlier_cells():
    solution = [
        "import numpy as np",  # c0
        "review = ['old', 'list']",  # c1: rebound by c6 before the exercise reads it
        "model = make_model()",  # c2
        "preds = model.predict(data)",  # c3: predict leaves model as it was
        "for i in range(3):\n    print(i)",  # c4: the exercise's i is its comprehension's own
        "def helper(model, i):\n    return model.fit(i)",  # c5: a parameter is not the notebook's model
        "from helpers import review",  # c6: certainly rebinds review
        "answer = 'b'\nreview.check(answer, model, [i for i in range(2)])",  # c7: the exercise
    ]
    learner = [*solution[:7], "answer = ...  # Your code here\nreview.check(answer, model, [i for i in range(2)])"]
    assert testing.learner_cells_to_run(notebook(*learner), notebook(*solution)) == {"c0", "c2", "c6", "c7"}
    # When c6 only changes review instead of rebinding it, what c1 made still matters.
    solution[6] = learner[6] = "review.append('more')"
    assert testing.learner_cells_to_run(notebook(*learner), notebook(*solution)) == {"c0", "c1", "c2", "c6", "c7"}
    # `review += ...` reads what the earlier cells made of review.
    solution[7] = "review += ['b']\ncheck(model)"
    learner[7] = "review += [...]  # Your code here\ncheck(model)"
    assert {"c1", "c6"} <= testing.learner_cells_to_run(notebook(*learner), notebook(*solution))
    # A method that may change its object (fit) makes the cell one the exercise needs.
    solution[3] = learner[3] = "model.fit(data)"
    assert "c3" in testing.learner_cells_to_run(notebook(*learner), notebook(*solution))


def test_learner_cells_to_run_gives_up_on_what_it_cannot_parse_or_pair():
    import pytest

    learner = list(SOLUTION)
    learner[2] = "heavy = (  # unbalanced"
    assert testing.learner_cells_to_run(notebook(*learner), notebook(*SOLUTION)) is None
    learner[2] = "nonlocal heavy  # parses, but the compiler refuses it"
    assert testing.learner_cells_to_run(notebook(*learner), notebook(*SOLUTION)) is None
    no_ids = notebook(*SOLUTION)
    del no_ids.cells[1]["id"]
    assert testing.learner_cells_to_run(no_ids, notebook(*SOLUTION)) is None
    with pytest.raises(TypeError, match="two notebooks"):
        testing.learner_cells_to_run("notebooks/03_building_cnns.ipynb", notebook(*SOLUTION))


def test_skipped_learner_cells_are_twins_and_every_changed_cell_runs():
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        learner = nbformat.read(path, as_version=4)
        twins = {
            c.get("id"): testing.without_test_markers(c.source)
            for c in nbformat.read(ROOT / "solutions" / path.name, as_version=4).cells
        }
        run = testing.learner_cells_to_run(learner, nbformat.read(ROOT / "solutions" / path.name, as_version=4))
        assert run is not None, f"{path.name}: a cell is not plain Python, so the learner copy would run whole"
        code = [c for c in learner.cells if c.cell_type == "code"]
        assert code[0].get("id") in run, f"{path.name}: the setup cell must run"
        for cell in code:
            if cell.get("id") not in run:
                assert twins.get(cell.get("id")) == cell.source, f"{path.name}: {cell.get('id')} differs but is skipped"
        changed = [c.get("id") for c in code if twins.get(c.get("id")) != c.source]
        assert changed and set(changed) <= run, path.name


def FakeNotebookFile():  # noqa: N802 - an nbval collector, not set up (no kernel)
    from nbval.plugin import IPyNbFile

    return IPyNbFile.__new__(IPyNbFile)


class FakeNotebookCell(FakeCell):
    def __init__(self, path: Path, cell, parent=None):
        super().__init__(path)
        self.cell = cell
        self.parent = parent
        self.markers = []

    def add_marker(self, marker):
        self.markers.append(marker)


def test_the_suite_skips_only_learner_cells_that_run_in_solutions(request, monkeypatch):
    import nbformat

    conftest = root_conftest(request)
    name = "03_building_cnns.ipynb"
    files = {folder: FakeNotebookFile() for folder in ("solutions", "notebooks")}
    items = [
        FakeNotebookCell(ROOT / folder / name, cell, files[folder])
        for folder in ("solutions", "notebooks")
        for cell in nbformat.read(ROOT / folder / name, as_version=4).cells
        if cell.cell_type == "code"
    ]
    monkeypatch.setattr(conftest, "LEARNER_WHOLE", False)
    conftest._skip_learner_cells_run_in_solutions(items)
    skipped = {(item.fspath.parent.name, item.cell.get("id")) for item in items if item.markers}
    assert skipped and {folder for folder, _ in skipped} == {"notebooks"}
    # the sliced learner copy runs in the worker's shared kernel, the solution in a fresh one
    assert type(files["notebooks"]) is conftest.LearnerCopyInSharedKernel
    assert type(files["solutions"]) is not conftest.LearnerCopyInSharedKernel
    assert ("notebooks", "cell-028") in skipped  # the classifier's training: no exercise reads it
    assert ("notebooks", "cell-057") not in skipped  # exercise 2
    for item in items:
        item.markers.clear()
    learner_only = [
        FakeNotebookCell(item.fspath, item.cell, FakeNotebookFile())
        for item in items
        if item.fspath.parent.name == "notebooks"
    ]
    conftest._skip_learner_cells_run_in_solutions(learner_only)  # `pytest notebooks/`: no solution runs
    assert not any(item.markers for item in learner_only)
    assert type(learner_only[0].parent) is not conftest.LearnerCopyInSharedKernel  # run whole, in a fresh kernel
    items = [FakeNotebookCell(item.fspath, item.cell, FakeNotebookFile()) for item in items]
    monkeypatch.setattr(conftest, "LEARNER_WHOLE", True)
    conftest._skip_learner_cells_run_in_solutions(items)
    assert not any(item.markers for item in items)
    assert not any(type(item.parent) is conftest.LearnerCopyInSharedKernel for item in items)


def test_reset_kernel_clears_what_a_fresh_kernel_would_not_have(tmp_path):
    """In this process: environment, folder, Keras's layer names and dtype policy, the course's banners."""
    import keras

    from helpers import course

    before, cwd = dict(os.environ), Path.cwd()
    try:
        os.environ["LEFT_BY_THE_LAST_NOTEBOOK"] = "1"
        os.environ["COURSE_MODELS_DIR"] = "/last/notebook/models"
        keras.backend.clear_session()
        first = keras.layers.Dense(2).name
        assert keras.layers.Dense(2).name != first
        keras.config.set_dtype_policy("mixed_bfloat16")
        course._state["banners"].add("dataset:cifar10")
        environment = {**before, "COURSE_MODELS_DIR": str(tmp_path / "models")}
        started_with = sorted(set(before) | set(testing.ENVIRON_AT_IMPORT))
        testing.reset_kernel(started_with, environment, tmp_path)
        assert dict(os.environ) == environment
        assert Path.cwd() == tmp_path
        assert keras.layers.Dense(2).name == first
        assert keras.config.dtype_policy().name == "float32"
        assert course.standins_used() == [] and course._state["chapter"] is None
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(before)
        keras.config.set_dtype_policy("float32")


def test_reset_kernel_refuses_bad_input_before_changing_anything(tmp_path):
    import pytest

    before, cwd = dict(os.environ), Path.cwd()
    with pytest.raises(ValueError, match="does not exist; nothing was reset"):
        testing.reset_kernel(sorted(before), {"A": "1"}, tmp_path / "missing")
    with pytest.raises(ValueError, match=r"\['COURSE_SEED'\] are not"):
        testing.reset_kernel(sorted(before), {"COURSE_SEED": 42}, tmp_path)
    assert dict(os.environ) == before and Path.cwd() == cwd


def test_shared_kernel_reset_clears_names_and_keeps_modules(request, tmp_path):
    """The code conftest sends to a shared kernel, run in a real (TensorFlow-free) kernel started
    outside the repository (as in notebooks/, where `tools` is not importable until attach_code)."""
    from jupyter_client.manager import start_new_kernel

    (tmp_path / "start").mkdir()
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path / "start"))

    def run(code):
        seen = []
        reply = kc.execute_interactive(code, timeout=60, output_hook=seen.append)
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(m["content"].get("text", "") for m in seen if m["msg_type"] == "stream")

    try:
        started_with = sorted(os.environ)
        run(testing.attach_code(ROOT))
        assert run("print('tools' in dir(), 'sys' in dir())").split() == ["False", "False"]
        run(
            "import os, json\nfrom helpers import course\nx = 1\nos.environ['LEFT_OVER'] = '1'\ncourse._state['banners'].add('k')"
        )
        run(testing.reset_code(started_with, {**os.environ, "COURSE_MODELS_DIR": str(tmp_path)}, tmp_path))
        shown = run(
            "import os, sys\nprint('x' in dir(), 'LEFT_OVER' in os.environ, os.environ['COURSE_MODELS_DIR'],"
            " os.getcwd(), 'helpers.course' in sys.modules, sys.modules['helpers.course'].standins_used())"
        )
        assert shown.split() == ["False", "False", str(tmp_path), str(tmp_path), "True", "[]"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_slowest_scopes_exist(request):
    conftest = root_conftest(request)
    missing = [path for path in conftest.SLOWEST_FIRST if not (ROOT / path).is_file()]
    assert not missing, f"conftest.SLOWEST_FIRST names files that do not exist: {missing}"


def test_compare_passes_takes_the_first_pass_rows_of_the_rerun_cells(request):
    import pytest

    conftest = root_conftest(request)

    def rows(*pairs):
        return [{"name": n, "value": v} for n, v in pairs]

    first = rows(("data", 1), ("first_cnn_test_accuracy", 0.3), ("train_seconds", 9.0), ("test_accuracy_flip", 0.4))
    first += rows(("exercise", 7))  # recorded after the re-run cells
    second = rows(("first_cnn_test_accuracy", 0.3), ("train_seconds", 8.1), ("test_accuracy_flip", 0.4))
    conftest.compare_passes(first, second)  # seconds may differ
    with pytest.raises(AssertionError):
        conftest.compare_passes(
            first, rows(("first_cnn_test_accuracy", 0.3), ("train_seconds", 8), ("test_accuracy_flip", 0.41))
        )
    with pytest.raises(AssertionError):
        conftest.compare_passes(first, rows(("test_accuracy", 0.3), ("test_accuracy_flip", 0.4)))
    with pytest.raises(AssertionError, match="never recorded"):
        conftest.compare_passes(first, rows(("something_else", 1)))


def test_the_rerun_item_follows_chapter_03s_last_cell(request):
    conftest = root_conftest(request)
    items = [i for i in request.session.items if str(i.fspath).endswith("solutions/03_building_cnns.ipynb")]
    if not items:
        import pytest

        pytest.skip("solutions/03 is not collected in this session")
    rerun = [i for i in items if isinstance(i, conftest.ReRunTrainingCells)]
    assert len(rerun) == 1 and items[-1] is rerun[0]
    assert rerun[0].parent is items[0].parent  # the same notebook, so the same kernel
    assert conftest.results_path(ROOT / "solutions" / "03_building_cnns.ipynb") is not None
    assert conftest.results_path(ROOT / "solutions" / "04_data_augmentation.ipynb") is None


def test_the_rerun_forgets_what_its_cells_bind_then_records_in_the_last_cell(request, tmp_path, monkeypatch):
    import json

    conftest = root_conftest(request)
    ((path, (first, last, record)),) = conftest.RERUN.items()
    cells = json.loads((ROOT / path).read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    setup, *rerun = conftest.rerun_sources(sources, first, last, record, tmp_path / "again.jsonl")
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
