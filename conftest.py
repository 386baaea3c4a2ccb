"""Suite-wide settings: smoke + offline mode for every notebook kernel, strict checks for
solutions/ only, a fresh kernel for every notebook (nbval's own), the slowest files first, a
longer nbval output wait, pinned outputs, chapter 03's re-run check, and the wall time."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import pytest

from tools.testing import UNSET_IN_TESTS, compare_passes, rerun_sources, suite_environment

ROOT = Path(__file__).resolve().parent
_START = time.time()

# Saved models go to a temporary folder, one per notebook (notebooks run in parallel and a
# notebook must not pick up a model another one saved).
_MODELS_ROOT = Path(tempfile.mkdtemp(prefix="course-models-"))

# Kernels started by nbval inherit this environment: smoke + offline, the suite's own Keras
# cache (away from the user's ~/.keras), no mirror. tools/testing.py defines it, for every
# place that starts kernels (this file, `tools/notebooks.py --pin`, tests/test_chapter03.py).
for _name in UNSET_IN_TESTS:
    os.environ.pop(_name, None)
BASELINE = suite_environment(ROOT, strict=False, models_dir=_MODELS_ROOT / "unit-tests")
os.environ.update(BASELINE)

# nbval waits only 5 s for a cell's output messages after the cell finishes; on a busy
# 2-core machine running two kernels, that is too short.
NBVAL_OUTPUT_TIMEOUT = 120

# The slowest test scopes (files), measured with --durations, are handed to the workers
# first so that no long notebook starts last and leaves one core idle at the end.
SLOWEST_FIRST = [
    "solutions/05_transfer_learning.ipynb",
    "solutions/03_building_cnns.ipynb",
    "notebooks/05_transfer_learning.ipynb",
    "notebooks/03_building_cnns.ipynb",
    "tests/test_browser.py",
    "tests/test_site.py",
    "tests/test_nbgrader.py",
    "solutions/04_data_augmentation.ipynb",
    "notebooks/04_data_augmentation.ipynb",
    "solutions/09_your_own_classifier.ipynb",
    "notebooks/09_your_own_classifier.ipynb",
    "solutions/07_inference.ipynb",
    "notebooks/07_inference.ipynb",
    "solutions/08_look_inside.ipynb",
    "notebooks/08_look_inside.ipynb",
    "tests/test_chapter03.py",
    "tests/test_models.py",
    "solutions/02_convolution_from_scratch.ipynb",
    "notebooks/02_convolution_from_scratch.ipynb",
    "solutions/01_datasets.ipynb",
    "notebooks/01_datasets.ipynb",
    "tests/test_figures.py",
    "solutions/06_evaluation.ipynb",
    "notebooks/06_evaluation.ipynb",
]


def _scope_rank(item) -> int:
    """Where a file's tests go in the queue: the files in SLOWEST_FIRST in that order, then any other
    notebook (a new chapter takes longer than most unit-test files), then the rest."""
    path = Path(str(item.fspath))
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else ""
    if name in SLOWEST_FIRST:
        return SLOWEST_FIRST.index(name)
    return len(SLOWEST_FIRST) + (path.suffix != ".ipynb")


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker more than the CPUs. A worker often waits (for a notebook kernel
    to start, a browser, a subprocess), and the extra one keeps the cores busy: on 2 cores
    the suite with 3 workers kept 1.9 cores busy on average (processor time over wall time)."""
    return (os.cpu_count() or 1) + 1


# ------------------------------------------------------------------ the notebooks' kernels
def notebook_environment(path: Path) -> dict[str, str]:
    """What a notebook's kernel gets: solutions must pass their own checks, learner copies only need to run."""
    return suite_environment(
        ROOT,
        strict=path.parent.name == "solutions",
        models_dir=_MODELS_ROOT / f"{path.parent.name}-{path.stem}",
        results=results_path(path),
    )


_BEFORE_NOTEBOOK: dict[str, str] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    path = Path(str(item.fspath))
    if path.suffix == ".ipynb":
        _BEFORE_NOTEBOOK.clear()
        _BEFORE_NOTEBOOK.update(os.environ)
        os.environ.update(notebook_environment(path))


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item):
    """The environment as it was before each notebook cell, so strict checks (or the kernels' Keras
    cache) cannot leak into the unit tests that the same worker runs next."""
    if Path(str(item.fspath)).suffix == ".ipynb" and _BEFORE_NOTEBOOK:
        os.environ.clear()
        os.environ.update(_BEFORE_NOTEBOOK)


# ------------------------------------------------------------------ chapter 03's re-run
# Chapter 03 says that running its cells again from the first seeded training gives the same
# numbers. After nbval has run the chapter, one more item runs those cells again in the same
# kernel, then the chapter's recording cell, and compares what both passes recorded (the
# kernel records into a results file for this). Each entry: (text of the first re-run cell,
# of the last one, of the recording cell); see tools.testing.rerun_sources.
RERUN = {
    "solutions/03_building_cnns.ipynb": (
        "first_cnn = keras.Sequential(",
        "test_flip = flip_averaged_accuracy(",
        "course.record_result(",
    )
}


def results_path(path: Path) -> Path | None:
    """Where a notebook's kernel records its results (only the notebooks in RERUN record)."""
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else ""
    return _MODELS_ROOT / f"{path.parent.name}-{path.stem}.results.jsonl" if name in RERUN else None


class ReRunTrainingCells(pytest.Item):
    """Run a notebook's training cells again in the kernel nbval ran it in; both passes must record the same metrics."""

    def __init__(self, *, first: str, last: str, record: str, **kwargs):
        super().__init__(**kwargs)
        self.first, self.last, self.record = first, last, record

    def runtest(self):
        notebook = self.parent
        if notebook.kernel is None or not notebook.kernel.is_alive() or notebook.timed_out:
            pytest.fail("the notebook's kernel stopped before the re-run (see the failing cell above)")
        first_pass = results_path(Path(str(notebook.fspath)))
        second_pass = first_pass.with_suffix(".again.jsonl")
        sources = [c.source for c in notebook.nb.cells if c.cell_type == "code"]
        for source in rerun_sources(sources, self.first, self.last, self.record, second_pass):
            reply = notebook.kernel.kc.execute_interactive(
                source, store_history=False, timeout=900, output_hook=lambda msg: None
            )
            content = reply["content"]
            assert content["status"] == "ok", (
                f"re-running\n{source[:300]}\nfailed: {content.get('ename')}: {content.get('evalue')}"
            )
        missing = [p.name for p in (first_pass, second_pass) if not p.is_file()]
        if missing:
            pytest.fail(f"nothing recorded in {missing}: did the chapter's cells run in this session?")
        first, second = ([json.loads(line) for line in p.read_text().splitlines()] for p in (first_pass, second_pass))
        compare_passes(first, second)

    def reportinfo(self):
        return self.fspath, None, self.name


def _add_reruns(items) -> None:
    for path, (first, last, record) in RERUN.items():
        cells = [i for i, item in enumerate(items) if hasattr(item, "cell") and Path(str(item.fspath)) == ROOT / path]
        if cells:
            parent = items[cells[-1]].parent
            items.insert(
                cells[-1] + 1,
                ReRunTrainingCells.from_parent(
                    parent, name="re-run of the training cells", first=first, last=last, record=record
                ),
            )


# ------------------------------------------------------------------ collection
def pytest_collection_modifyitems(config, items):
    import nbformat

    from tools.notebooks import is_pinned, pinned_outputs

    items.sort(key=_scope_rank)  # stable: the cells of a notebook keep their order
    _add_reruns(items)
    pins: dict[Path, dict] = {}
    for item in items:
        if not hasattr(item, "output_timeout"):  # not an nbval cell
            continue
        item.output_timeout = NBVAL_OUTPUT_TIMEOUT
        # Committed notebooks have no outputs, so nbval would compare pinned cells with
        # nothing; hand it the expected outputs kept in tests/pinned_outputs/.
        cell = item.cell
        if is_pinned(cell.source) and cell.execution_count is None:
            path = Path(str(item.fspath))
            expected = pins.setdefault(path, pinned_outputs(path)).get(cell.get("id"))
            if expected is not None:
                cell.outputs = [nbformat.from_dict(out) for out in expected]
                cell.execution_count = 1


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"Suite wall time: {time.time() - _START:.0f} s")
