"""The test harness: what the suite gives notebook kernels, chapter 03's re-run of its
training cells, and reading a notebook's own functions for the unit tests.

Used by ``conftest.py``, the tests, the benchmarks and ``tools/notebooks.py --pin``; not part of
the ``helpers`` package that learners install. Imports only the standard library at the top.
"""

from __future__ import annotations

import ast
import contextlib
import os
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ the kernels' environment
def suite_environment(
    root: Path = ROOT,
    *,
    strict: bool = True,
    models_dir: Path | str | None = None,
    results: Path | str | None = None,
) -> dict[str, str]:
    """The variables the test suite gives notebook kernels (the one place they are defined).

    Smoke + offline mode, strict checks (for ``solutions/``) or not (learner copies), the
    suite's own Keras cache, a non-interactive plot backend and quiet TensorFlow logs;
    ``COURSE_MODELS_DIR`` / ``COURSE_RESULTS`` only when given. No kernel of the suite ever
    reads a mirror (``COURSE_DATA_DIR`` is always removed, see :func:`kernel_environment`).
    """
    values = {
        "COURSE_SMOKE": "1",
        "COURSE_OFFLINE": "1",
        "COURSE_STRICT_CHECKS": "1" if strict else "0",
        "KERAS_HOME": str(root / ".pytest_keras_home"),
        "MPLBACKEND": "agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    if models_dir is not None:
        values["COURSE_MODELS_DIR"] = str(models_dir)
    if results is not None:
        values["COURSE_RESULTS"] = str(results)
    return values


UNSET_IN_TESTS = ("COURSE_DATA_DIR", "COURSE_RESULTS")
"""Variables removed from the suite's environment unless a test sets them on purpose."""


@contextlib.contextmanager
def kernel_environment(root: Path = ROOT, **kwargs):
    """``os.environ`` as :func:`suite_environment` says while the block runs (kernels started inside inherit it)."""
    saved = dict(os.environ)
    for name in UNSET_IN_TESTS:
        os.environ.pop(name, None)
    os.environ.update(suite_environment(root, **kwargs))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ------------------------------------------------------------------ chapter 03's re-run
def bound_names(source: str) -> set[str]:
    """The notebook-level names a code cell binds: assigned, imported, defined, a ``for`` or
    ``with`` target, or declared ``global`` and assigned in a function. Lines starting with
    ``%`` or ``!`` (IPython's magics and shell commands) are left out."""
    import symtable

    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        table = symtable.symtable("\n".join(lines), "<cell>", "exec")
    except SyntaxError as exc:
        raise ValueError(f"cannot tell which names this cell binds ({exc.msg}):\n{source[:300]}") from None
    names = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    nested = list(table.get_children())
    while nested:
        scope = nested.pop()
        nested += scope.get_children()
        names |= {s.get_name() for s in scope.get_symbols() if s.is_declared_global() and s.is_assigned()}
    return names


def rerun_sources(sources: list[str], first: str, last: str, record: str, results: Path) -> list[str]:
    """What a re-run executes in a notebook's kernel: point ``COURSE_RESULTS`` at ``results``
    and forget every name the re-run cells bind (so the recording cell cannot report a value
    left over from the first pass); the code cells from the one containing ``first`` to the
    one containing ``last``; then the recording cell (the last one containing ``record``)."""
    start = next(i for i, s in enumerate(sources) if first in s)
    end = next(i for i, s in enumerate(sources) if last in s)
    recording = max(i for i, s in enumerate(sources) if record in s)
    if not start <= end < recording:
        raise ValueError(f"expected the cells {first!r} ... {last!r} before the recording cell {record!r}")
    cells = sources[start : end + 1]
    bound = set().union(*(bound_names(source) for source in cells))
    setup = (
        f"import os\nos.environ['COURSE_RESULTS'] = {str(results)!r}\n"
        f"for _name in {sorted(bound)!r}:\n    globals().pop(_name, None)\ndel _name"
    )
    return [setup, *cells, sources[recording]]


def compare_passes(first: list[dict], second: list[dict]) -> None:
    """The metrics recorded by a re-run equal the ones the first pass recorded for the same cells
    (timings, the names ending in ``_seconds``, may differ)."""
    names = [row["name"] for row in first]
    last = second[-1]["name"]
    assert last in names, f"the first pass never recorded {last!r}"
    first = first[: names.index(last) + 1][-len(second) :]  # the first pass's rows for the re-run cells
    assert [r["name"] for r in second] == [r["name"] for r in first]
    metrics = [{r["name"]: r["value"] for r in rows if not r["name"].endswith("_seconds")} for rows in (first, second)]
    assert metrics[0] == metrics[1]


# ------------------------------------------------------------------ a notebook's own code
def without_test_markers(source: str) -> str:
    """A code cell's source without nbval's ``# NBVAL_...`` comment lines (they stay in solutions/ only)."""
    lines = source.split("\n")
    kept = [line for line in lines if not line.strip().startswith("# NBVAL_")]
    return "\n".join(kept) if len(kept) != len(lines) else source


def parsed_code_cells(path: Path | str):
    """Each plain-Python code cell of a notebook as (source, ast), nbgrader marker lines left out;
    cells that are not plain Python (magics, learner placeholders) are skipped."""
    import nbformat

    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        body = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("### "))
        try:
            yield body, ast.parse(body)
        except SyntaxError:
            continue


def definitions(path: Path | str) -> dict[str, str]:
    """Source of every top-level function, class and simple assignment in a notebook's code
    cells, by name (a later definition wins)."""
    found: dict[str, str] = {}
    for body, tree in parsed_code_cells(path):
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                found[node.name] = ast.get_source_segment(body, node)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                found[node.targets[0].id] = ast.get_source_segment(body, node)
    return found


def notebook_functions(path: Path | str, *names: str) -> SimpleNamespace:
    """The functions ``names`` as a notebook defines them, run from its own cells: its top-level
    imports, then its literal constants and its top-level functions and classes (nothing else runs;
    functions whose defaults need the notebook's variables are left out). Tests and benchmarks use this for code that a chapter
    teaches and no later chapter reuses, so it lives in the notebook only."""
    imports = []
    for body, tree in parsed_code_cells(path):
        imports += [
            ast.get_source_segment(body, node)
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "module", None) != "__future__"
        ]
    namespace: dict = {"__name__": Path(path).stem}
    exec("\n".join(imports), namespace)  # noqa: S102 - our own notebook's import lines
    for name, code in definitions(path).items():
        if code.startswith(("def ", "class ")) or _is_literal_assignment(code):
            try:
                exec(code, namespace)  # noqa: S102 - our own notebook's definitions
            except NameError:
                if name in names:
                    raise
    missing = [name for name in names if name not in namespace]
    if missing:
        raise LookupError(f"{Path(path).name} defines no function named {', '.join(missing)}")
    return SimpleNamespace(**{name: namespace[name] for name in names})


def _is_literal_assignment(code: str) -> bool:
    """True for ``NAME = <a literal>`` (a number, string, tuple, list, set or dict of literals)."""
    node = ast.parse(code).body[0]
    try:
        ast.literal_eval(node.value)
    except (AttributeError, ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True
