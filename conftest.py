"""Suite-wide settings: smoke + offline mode for every notebook kernel, strict checks for
solutions/, a longer nbval output wait, and the total wall time at the end."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
_START = time.time()

# Kernels started by nbval inherit this environment.
os.environ["COURSE_SMOKE"] = "1"
os.environ["COURSE_OFFLINE"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "agg")
os.environ.pop("COURSE_DATA_DIR", None)
os.environ.pop("COURSE_RESULTS", None)
# Keep downloads and caches of the suite away from the user's ~/.keras.
os.environ["KERAS_HOME"] = str(ROOT / ".pytest_keras_home")

# Saved models go to a temporary folder, one per notebook (notebooks run in parallel and a
# notebook must not pick up a model another one saved).
_MODELS_ROOT = Path(tempfile.mkdtemp(prefix="course-models-"))
os.environ["COURSE_MODELS_DIR"] = str(_MODELS_ROOT / "unit-tests")

# nbval waits only 5 s for a cell's output messages after the cell finishes; on a busy
# 2-core machine running two kernels, that is too short.
NBVAL_OUTPUT_TIMEOUT = 120


def pytest_collection_modifyitems(config, items):
    from helpers.notebooks import is_pinned, pinned_outputs

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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Solutions must pass their own checks; learner copies only need to run."""
    path = Path(str(item.fspath))
    if path.suffix == ".ipynb":
        os.environ["COURSE_STRICT_CHECKS"] = "1" if path.parent.name == "solutions" else "0"
        os.environ["COURSE_MODELS_DIR"] = str(_MODELS_ROOT / f"{path.parent.name}-{path.stem}")


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"Suite wall time: {time.time() - _START:.0f} s")
