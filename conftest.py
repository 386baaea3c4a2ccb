"""Suite-wide settings: smoke + offline mode for every notebook kernel, strict checks for
solutions/, learner copies sliced and run in one shared kernel per worker, chapter 03's re-run
check, a longer nbval output wait, and the total wall time at the end."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import pytest
from nbval.plugin import IPyNbFile

from tools import testing
from tools.testing import UNSET_IN_TESTS, suite_environment

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


# The learner copies in notebooks/ differ from solutions/ only where answers were cut out, and
# solutions/ runs whole. So in a learner copy the suite runs the cells that differ, the cells
# that read what those make, and the cells these need (tools.testing.learner_cells_to_run);
# the rest is the same code on the same state, run in solutions/ in the same session (a learner
# copy collected without its solution runs whole). COURSE_TEST_LEARNER_WHOLE=1 runs them whole always.
LEARNER_WHOLE = os.environ.get("COURSE_TEST_LEARNER_WHOLE") == "1"

# The slowest test scopes (files), measured with --durations, are handed to the workers
# first so that no long notebook starts last and leaves one core idle at the end.
SLOWEST_FIRST = [
    "solutions/05_transfer_learning.ipynb",
    "solutions/03_building_cnns.ipynb",
    "tests/test_browser.py",
    "solutions/04_data_augmentation.ipynb",
    "solutions/07_inference.ipynb",
    "solutions/09_your_own_classifier.ipynb",
    "solutions/10_training_at_scale.ipynb",
    "solutions/08_look_inside.ipynb",
    "tests/test_chapter03.py",
    "tests/test_models.py",
    "solutions/02_convolution_from_scratch.ipynb",
    "solutions/01_datasets.ipynb",
    "notebooks/07_inference.ipynb",
    "tests/test_figures.py",
    "solutions/06_evaluation.ipynb",
]


def _scope_rank(item) -> int:
    path = Path(str(item.fspath))
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else ""
    return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)


def _skip_learner_cells_run_in_solutions(items) -> None:
    import nbformat

    collected = {Path(str(item.fspath)) for item in items}
    plans: dict[Path, set[str] | None] = {}
    for item in items:
        path = Path(str(item.fspath))
        if LEARNER_WHOLE or path.parent.name != "notebooks" or not hasattr(item, "cell"):
            continue
        if path not in plans:
            twin = ROOT / "solutions" / path.name
            plans[path] = (  # only when this session runs the solution too (e.g. not `pytest notebooks/`)
                testing.learner_cells_to_run(nbformat.read(path, as_version=4), nbformat.read(twin, as_version=4))
                if twin in collected
                else None
            )
        run = plans[path]
        if run is None:
            continue
        if not FRESH_KERNELS:
            item.parent.__class__ = LearnerCopyInSharedKernel
        if item.cell.cell_type == "code" and item.cell.get("id") not in run:
            item.add_marker(pytest.mark.skip(reason="the same code runs on the same state in solutions/"))


# A sliced learner copy runs few cells, and most of its time went to starting a kernel and
# importing TensorFlow (7-8 s of the 8-20 s of each copy). So the sliced learner copies that
# one worker runs share one kernel: before each copy, tools.testing.reset_kernel and
# IPython's %reset bring it back to how a fresh kernel starts (names, environment, folder,
# figures, Keras's layer names, the course's banners); imported modules stay loaded.
# solutions/ and learner copies run whole always get a fresh kernel.
# COURSE_TEST_FRESH_KERNELS=1 gives each learner copy its own kernel again.
FRESH_KERNELS = os.environ.get("COURSE_TEST_FRESH_KERNELS") == "1"
_SHARED_KERNEL: dict = {}


class LearnerCopyInSharedKernel(IPyNbFile):
    def setup(self):
        kernel = _SHARED_KERNEL.get("kernel")
        if kernel is None or not kernel.is_alive():
            super().setup()  # a fresh kernel, started with this copy's environment
            _SHARED_KERNEL.update(kernel=self.kernel, started_with=sorted(os.environ))
            self._run_quietly("prepare", testing.attach_code(ROOT))
            return
        self.kernel = kernel
        self.setup_sanitize_files()
        code = testing.reset_code(_SHARED_KERNEL["started_with"], dict(os.environ), self.fspath.dirname)
        self._run_quietly("reset", code)

    def _run_quietly(self, what: str, code: str) -> None:
        reply = self.kernel.kc.execute_interactive(code, store_history=False, timeout=120, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            self.kernel.stop()
            raise RuntimeError(f"Could not {what} the shared kernel for {self.fspath}: {reply['content']}")

    def teardown(self):
        if self.kernel is not _SHARED_KERNEL.get("kernel"):
            super().teardown()  # kept for the next learner copy otherwise, stopped at the end


def pytest_sessionfinish(session):
    kernel = _SHARED_KERNEL.pop("kernel", None)
    if kernel is not None and kernel.is_alive():
        kernel.stop()


# Chapter 03 says that running its cells again from the first seeded training gives the same
# numbers. After nbval has run the chapter, this item runs those cells again in the same kernel,
# then the chapter's last cell, which records the results, and compares what both passes
# recorded (the kernel records into a results file for this). Before the re-run the kernel
# forgets every name the re-run cells bind, so the recording cell cannot report a value left
# over from the first pass. Each entry: (text of the first re-run cell, of the last one, of the
# recording cell).
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


def rerun_sources(sources: list[str], first: str, last: str, record: str, results: Path) -> list[str]:
    """What the re-run executes in the kernel: point ``COURSE_RESULTS`` at ``results`` and forget
    the names the re-run cells bind; the code cells from the one containing ``first`` to the one
    containing ``last``; then the recording cell (the last one containing ``record``)."""
    start = next(i for i, s in enumerate(sources) if first in s)
    end = next(i for i, s in enumerate(sources) if last in s)
    recording = max(i for i, s in enumerate(sources) if record in s)
    if not start <= end < recording:
        raise ValueError(f"expected the cells {first!r} ... {last!r} before the recording cell {record!r}")
    cells = sources[start : end + 1]
    bound: set[str] = set()
    for source in cells:
        names = testing.cell_names(source)
        if names is None:
            raise ValueError(f"cannot tell which names this re-run cell binds:\n{source[:300]}")
        bound |= names[0]
    setup = (
        f"import os\nos.environ['COURSE_RESULTS'] = {str(results)!r}\n"
        f"for _name in {sorted(bound)!r}:\n    globals().pop(_name, None)\ndel _name"
    )
    return [setup, *cells, sources[recording]]


def compare_passes(first: list[dict], second: list[dict]) -> None:
    """The metrics recorded by a re-run equal the ones the first pass recorded for the same cells."""
    names = [row["name"] for row in first]
    last = second[-1]["name"]
    assert last in names, f"the first pass never recorded {last!r}"
    first = first[: names.index(last) + 1][-len(second) :]  # the first pass's rows for the re-run cells
    assert [r["name"] for r in second] == [r["name"] for r in first]
    metrics = [{r["name"]: r["value"] for r in rows if not r["name"].endswith("_seconds")} for rows in (first, second)]
    assert metrics[0] == metrics[1]


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


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker more than the CPUs. A worker often waits (for a notebook kernel
    to start, a browser, a subprocess), and the extra one keeps the cores busy: on 2 cores
    the suite with 3 workers kept 1.9 cores busy on average (processor time over wall time)."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(config, items):
    from tools.notebooks import is_pinned, pinned_outputs

    items.sort(key=_scope_rank)  # stable: the cells of a notebook keep their order
    _skip_learner_cells_run_in_solutions(items)
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
                import nbformat

                cell.outputs = [nbformat.from_dict(out) for out in expected]
                cell.execution_count = 1


def notebook_environment(path: Path) -> dict[str, str]:
    """What a notebook's kernel gets: solutions must pass their own checks, learner copies only need to run."""
    return suite_environment(
        ROOT,
        strict=path.parent.name == "solutions",
        models_dir=_MODELS_ROOT / f"{path.parent.name}-{path.stem}",
        results=results_path(path),
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    path = Path(str(item.fspath))
    if path.suffix == ".ipynb":
        os.environ.update(notebook_environment(path))


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item):
    """Back to the unit-test baseline after each notebook cell, so strict checks cannot leak into unit tests."""
    if Path(str(item.fspath)).suffix == ".ipynb":
        for name in UNSET_IN_TESTS:
            os.environ.pop(name, None)
        os.environ.update(BASELINE)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"Suite wall time: {time.time() - _START:.0f} s")
