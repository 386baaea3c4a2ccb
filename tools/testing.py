"""The test harness: what the suite gives notebook kernels, which cells of a learner copy it
runs, and how a kernel shared by learner copies is brought back to a fresh start.

Used by ``conftest.py``, the tests and ``tools/notebooks.py --pin``; not part of the ``helpers``
package that learners install. Imports only the standard library at the top, because a shared
test kernel imports this module too (:func:`attach_code`).
"""

from __future__ import annotations

import ast
import contextlib
import os
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
ENVIRON_AT_IMPORT = dict(os.environ)
"""The environment when this module was first imported; in a shared kernel, when the kernel started."""


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


def attach_code(root: Path = ROOT) -> str:
    """What a kernel shared by learner copies runs once, when it starts: it makes this module
    importable there and imports it, so that :data:`ENVIRON_AT_IMPORT` is the kernel's start
    environment; then it forgets the names it bound. ``root`` goes last on ``sys.path``, so
    ``helpers`` still comes from where the kernel would find it anyway."""
    return (
        f"import sys\nsys.path.append({str(root)!r})\nimport tools.testing\n"
        "get_ipython().run_line_magic('reset', '-f')\n"
    )


def reset_code(started_with: list[str], environment: dict[str, str], cwd: str | Path) -> str:
    """What a shared kernel runs before the next learner copy (after :func:`attach_code`)."""
    return (
        "from tools.testing import reset_kernel\n"
        f"reset_kernel({started_with!r}, {environment!r}, {str(cwd)!r})\n"
        "get_ipython().run_line_magic('reset', '-f')\n"
    )


def reset_kernel(started_with: list[str], environment: dict[str, str], cwd: str | Path) -> None:
    """Bring a kernel that has run a notebook back to how a fresh one would start the next.

    Run inside the kernel, followed by IPython's ``%reset -f`` (which clears the names).
    The environment goes back to :data:`ENVIRON_AT_IMPORT`, with the variables the kernel was
    started with (``started_with``) replaced by ``environment``; the working folder becomes
    ``cwd``; figures are closed; Keras forgets its layer names and dtype policy (when Keras is
    loaded), and ``helpers.course`` its chapter and the banners it showed. Imported modules
    stay loaded: that is what makes a reused kernel quick.
    """
    if not Path(cwd).is_dir():
        raise ValueError(f"reset_kernel: the working folder {str(cwd)!r} does not exist; nothing was reset.")
    wrong = sorted(
        name for name, value in environment.items() if not (isinstance(name, str) and isinstance(value, str))
    )
    if wrong:
        raise ValueError(
            f"reset_kernel: environment variables need text names and values; {wrong} are not. Nothing was reset."
        )
    kept = {name: value for name, value in ENVIRON_AT_IMPORT.items() if name not in started_with}
    os.environ.clear()  # also drops what the last notebook set itself
    os.environ.update(kept)  # what the kernel added to the variables it was started with
    os.environ.update(environment)
    os.chdir(cwd)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    if "keras" in sys.modules:
        keras = sys.modules["keras"]
        keras.backend.clear_session()  # layer names count from the start again
        keras.config.set_dtype_policy("float32")
    if "helpers.course" in sys.modules:
        sys.modules["helpers.course"].reset_state()


# ------------------------------------------------------------ which learner cells the suite runs
_NOT_A_CHANGE = {"print", "display"}  # calls that read their arguments and change nothing
_READ_ONLY_METHODS = frozenset(
    # methods of models, arrays, tensors, datasets and paths that leave their object as it was
    "predict predict_on_batch evaluate summary count_params get_layer get_weights get_config export save "
    "numpy astype reshape ravel copy mean sum max min std argmax argsort round take batch map prefetch cache "
    "items keys values stat exists is_file is_dir iterdir glob rglob relative_to read_bytes read_text "
    "serve get_tensor get_input_details get_output_details startswith endswith lower upper format".split()
)


def _bound_names(targets) -> set[str]:
    """Plain names an assignment's targets bind (``a = ...``, ``a, (b, *c) = ...``)."""
    names = set()
    for target in targets:
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            names |= _bound_names(target.elts)
        elif isinstance(target, ast.Starred):
            names |= _bound_names([target.value])
    return names


def _statement_scope(statement: ast.stmt) -> tuple[set[str], set[str]]:
    """(names a top-level statement reads from the notebook's namespace, names it binds there).

    Python's own ``symtable`` tells a function's parameters and locals, and a comprehension's
    variables, apart from the notebook's names: only names that resolve to the notebook's
    namespace count.
    """
    import symtable

    table = symtable.symtable(ast.unparse(statement), "<cell>", "exec")
    reads = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    binds = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    nested = list(table.get_children())
    while nested:
        scope = nested.pop()
        nested += scope.get_children()
        for symbol in scope.get_symbols():
            if symbol.is_global() and symbol.is_referenced():
                reads.add(symbol.get_name())
            if symbol.is_declared_global() and symbol.is_assigned():
                binds.add(symbol.get_name())
    return reads, binds


def cell_names(source: str) -> tuple[set[str], set[str], set[str], set[str], set[str]] | None:
    """(names a cell binds, names it may change, names it reads, names it imports, names it
    certainly rebinds), or None when it is not Python.

    "Reads" are the names whose value the cell takes from earlier cells: a name the cell
    itself binds first (``answer = ...`` then ``check(answer)``, a ``for`` or ``with``
    target, a function's parameter) is not one. "Certainly rebinds" are names bound by a
    top-level assignment, import, ``def`` or ``class``, whatever earlier cells did with them.
    "May change" is conservative: a method called on a name (``model.fit(...)``; the methods
    in ``_READ_ONLY_METHODS`` excepted), an item or attribute assigned on it (``d[k] = v``),
    or a name passed to a function called as a statement of its own
    (``start_fine_tuning(model, ...)``).
    """
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return None
    binds, changes, reads, imports, kills = set(), set(), set(), set(), set()

    def base_name(node):
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    seen = set()  # every notebook-level name the cell mentions
    for statement in tree.body:
        try:
            statement_reads, statement_binds = _statement_scope(statement)
        except SyntaxError:  # parsed but refused by the compiler, e.g. `nonlocal x` outside a function
            return None
        # `x += 1` reads x, but symtable counts it only as an assignment
        statement_reads |= {
            node.target.id
            for node in ast.walk(statement)
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name)
        }
        seen |= statement_reads | statement_binds
        if isinstance(statement, (ast.For, ast.AsyncFor)):
            statement_reads -= _bound_names([statement.target])
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            statement_reads -= _bound_names([item.optional_vars for item in statement.items if item.optional_vars])
        reads |= statement_reads - kills
        binds |= statement_binds
        if isinstance(statement, ast.Assign):
            kills |= _bound_names(statement.targets)
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            kills |= _bound_names([statement.target])
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            names = {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
            imports |= names
            kills |= names
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kills.add(statement.name)
        call = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(call, ast.Call) and not (isinstance(call.func, ast.Name) and call.func.id in _NOT_A_CHANGE):
            changes |= {a.id for a in [*call.args, *(k.value for k in call.keywords)] if isinstance(a, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr not in _READ_ONLY_METHODS:
                changes.add(base_name(node.func.value))
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
            changes.add(base_name(node.value))
    return binds | imports, changes & seen, reads, imports, kills


def learner_cells_to_run(learner, solution) -> set[str] | None:
    """Ids of the learner copy's code cells the suite must run; None means all of them.

    A learner copy differs from its solution only where answers were cut out. The suite runs
    ``solutions/`` whole; in the learner copy it runs the setup cell, every cell that differs
    from its twin in ``solutions/``, every later cell that reads a name such a cell (or a cell
    run for this reason) binds or changes, and, for all of these, the earlier cells that bind
    or change a name they read, going back as far as the nearest cell that certainly rebinds it
    (an assignment, import or ``def`` at the top level of the cell). The other cells are the solution's code, run on the same state
    in ``solutions/``. Names are followed statically (see :func:`cell_names`); a cell that is not plain
    Python, or a cell without an id, makes the whole copy run.
    """
    for what, nb in (("learner", learner), ("solution", solution)):
        if not hasattr(nb, "cells"):
            raise TypeError(f"learner_cells_to_run needs two notebooks (nbformat.read(...)); the {what} is {nb!r:.80}.")
    twins = {c.get("id"): without_test_markers(c.source) for c in solution.cells if c.cell_type == "code"}
    cells = [c for c in learner.cells if c.cell_type == "code"]
    parsed = [cell_names(c.source) for c in cells]
    if any(p is None for p in parsed) or any(not c.get("id") for c in cells):
        return None  # not plain Python, or cells without ids (nbformat < 4.5) that cannot be paired
    # Calling np.mean() or keras.utils.set_random_seed() does not change np or keras.
    modules = set().union(*(imports for _, _, _, imports, _ in parsed))
    writes = [binds | (changes - modules) for binds, changes, _, _, _ in parsed]
    reads = [r for _, _, r, _, _ in parsed]
    kills = [k for *_, k in parsed]
    run = {0} if cells else set()
    touched: set[str] = set()  # names whose value may differ from the solution run's
    for i, c in enumerate(cells):
        if twins.get(c.get("id")) != c.source or reads[i] & touched:
            run.add(i)
            touched |= writes[i]
    todo = sorted(run)
    while todo:  # and what those cells read: every earlier cell that writes it, back to one that rebinds it
        i = todo.pop()
        for name in reads[i]:
            for j in range(i - 1, -1, -1):
                if name in writes[j] and j not in run:
                    run.add(j)
                    todo.append(j)
                if name in kills[j]:
                    break
    return {cells[i].get("id") for i in run}


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
