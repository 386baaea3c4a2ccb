"""Authoring: generate the learner notebooks in ``notebooks/`` from ``solutions/``.

An answer region is everything between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
(in a code or a markdown cell). In the learner copy the region becomes a short prompt:
``name = ...  # Your code here: <what>`` for an assignment (``<what>`` is the comment at the end of
the answer's first or last line, so write one that says what to fill in), the ``def`` line and docstring of a
function, or ``# Your code here``; the cell is tagged ``raises-exception``. Outputs and
execution counts are removed. The region's code is also stored as the reference answer
of the exercise checked in that cell (or the next code cell), in
``helpers/exercises/answers/chNN.json``, so that ``chNN.qK.solution()`` shows it.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import hashlib
import json
import os
import re
import textwrap
from pathlib import Path

import nbformat

from helpers import setup_cell

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CODE_PROMPT = "# Your code here"
MARKDOWN_PROMPT = "*Your answer here.*"
_CHECK_CALL = re.compile(r"\b(ch\d\d)\.(q\d+)\.check\(")
_REVIEW_CALL = re.compile(r"\breview\.ch\d\d\.r\d+\.check\(")  # review questions explain their own answers
PIN_MARK = "# NBVAL_CHECK_OUTPUT"
PINNED_DIR = Path("tests") / "pinned_outputs"
ROOT = Path(__file__).resolve().parent.parent
ANSWERS_DIR = Path(__file__).resolve().parent / "exercises" / "answers"


class AuthoringError(ValueError):
    """A solutions notebook breaks an authoring rule (unbalanced markers, unchecked answer)."""


def chapter_key(path: Path | str) -> str:
    """``solutions/02_convolution_from_scratch.ipynb`` -> ``'ch02'``."""
    stem = Path(path).stem
    if not re.match(r"^\d\d_", stem):
        raise AuthoringError(f"{path}: chapter notebooks are named NN_title.ipynb, e.g. 02_convolution_from_scratch.")
    return f"ch{stem[:2]}"


def split_regions(source: str, where: str = "cell") -> list[tuple[str, str]]:
    """Split cell source into ``[(kind, text)]`` pieces, kind 'keep' or 'answer'."""
    pieces: list[tuple[str, str]] = []
    kind, buffer = "keep", []
    for line in source.splitlines(keepends=True):
        marker = line.strip()
        if marker.startswith(BEGIN):
            if kind == "answer":
                raise AuthoringError(f"{where}: '{BEGIN}' twice without '{END}' in between.")
            pieces.append((kind, "".join(buffer)))
            kind, buffer = "answer", [line]
        elif marker.startswith(END):
            if kind != "answer":
                raise AuthoringError(f"{where}: '{END}' without a '{BEGIN}' before it.")
            buffer.append(line)
            pieces.append((kind, "".join(buffer)))
            kind, buffer = "keep", []
        else:
            buffer.append(line)
    if kind == "answer":
        raise AuthoringError(f"{where}: '{BEGIN}' is never closed by '{END}'.")
    pieces.append((kind, "".join(buffer)))
    return [(k, t) for k, t in pieces if t or k == "answer"]


def _region_body(region: str) -> tuple[str, str]:
    """The indentation of the BEGIN line and the code strictly between the markers."""
    lines = region.splitlines(keepends=True)
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    return indent, "".join(lines[1:-1])


def _prompt_comment(*lines: str) -> str:
    """``# Your code here: <what>`` from the trailing comment of an answer's first (or last) line."""
    import io
    import tokenize

    for line in lines:
        comments = []
        try:
            for token in tokenize.generate_tokens(io.StringIO(line + "\n").readline):
                if token.type == tokenize.COMMENT:
                    comments.append(token.string.lstrip("#").strip())
        except (tokenize.TokenError, SyntaxError):  # a line that opens a bracket it does not close
            pass
        if comments and comments[-1]:
            return f"{CODE_PROMPT}: {comments[-1]}"
    return CODE_PROMPT


def code_prompt(region: str) -> str:
    """The learner's prompt for one code answer region (see the module docstring)."""
    indent, body = _region_body(region)
    code = textwrap.dedent(body)
    out: list[str] = []
    try:
        tree = ast.parse(code)
    except SyntaxError:
        tree = None
    lines = code.splitlines()
    for node in tree.body if tree else []:
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            names = " = ".join(t.id for t in node.targets)
            out.append(f"{names} = ...  {_prompt_comment(lines[node.lineno - 1], lines[node.end_lineno - 1])}")
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.append(f"{node.target.id} = ...  {_prompt_comment(lines[node.lineno - 1], lines[node.end_lineno - 1])}")
        elif isinstance(node, ast.FunctionDef):
            first = node.body[0]
            has_doc = (
                isinstance(first, ast.Expr)
                and isinstance(getattr(first, "value", None), ast.Constant)
                and isinstance(first.value.value, str)
            )
            start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
            stop = first.end_lineno if has_doc else first.lineno - 1
            out.extend(lines[start:stop])
            body_indent = " " * first.col_offset
            out.append(f"{body_indent}{CODE_PROMPT}")
            out.append(f"{body_indent}...")
    if not out:
        out = [CODE_PROMPT]
    return "".join(f"{indent}{line}\n" if line else "\n" for line in out)


def learner_source(source: str, markdown: bool, where: str = "cell") -> str:
    """Cell source with every answer region replaced by its prompt."""
    parts = []
    for kind, text in split_regions(source, where):
        if kind == "keep":
            parts.append(text)
        elif markdown:
            parts.append(MARKDOWN_PROMPT + "\n")
        else:
            parts.append(code_prompt(text))
    return "".join(parts).rstrip("\n")


def has_answer(source: str) -> bool:
    return any(line.strip().startswith(BEGIN) for line in source.splitlines())


def learner_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The learner copy of a solutions notebook (answers cut, outputs stripped)."""
    out = copy.deepcopy(nb)
    for index, cell in enumerate(out.cells):
        where = f"{name} cell {index + 1}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.source = without_test_markers(cell.source)
            if has_answer(cell.source):
                cell.source = learner_source(cell.source, markdown=False, where=where)
                tags = cell.metadata.setdefault("tags", [])
                if "raises-exception" not in tags:
                    tags.append("raises-exception")
        elif cell.cell_type == "markdown" and has_answer(cell.source):
            cell.source = learner_source(cell.source, markdown=True, where=where)
    out.metadata.pop("widgets", None)
    _normalise(out)
    return out


def without_test_markers(source: str) -> str:
    """A code cell's source without nbval's ``# NBVAL_...`` comment lines (they stay in solutions/ only)."""
    lines = source.split("\n")
    kept = [line for line in lines if not line.strip().startswith("# NBVAL_")]
    return "\n".join(kept) if len(kept) != len(lines) else source


# Learner-facing text speaks to the learner: how the course was built, measured or tested
# belongs in benchmarks/ and git. ``lint`` lists the phrases that give such talk away.
BUILD_TALK = re.compile(
    r"measured runs?|course runs?|recorded runs?|full runs?|benchmarks/|run_chapters|\bbench_|another make"
    r"|two different CPUs|2-core machine|could not be measured|the course's tests|NBVAL|Xeon|EPYC|\bAVX|\bAMX\b"
    r"|this version of the chapter|in a slow hour|on a shared|\b20\d\d-[01]\d-[0-3]\d\b",
    re.IGNORECASE,
)


def lint(nb: nbformat.NotebookNode, name: str = "notebook") -> list[str]:
    """Build talk in a learner copy: in its markdown cells and in the comments of its code cells."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            text = cell.source
        elif cell.cell_type == "code":
            text = "\n".join(line.split("#", 1)[1] for line in cell.source.splitlines() if "#" in line)
        else:
            continue
        for match in BUILD_TALK.finditer(text):
            start = max(0, match.start() - 30)
            context = " ".join(text[start : match.end() + 30].split())
            problems.append(
                f'{name} cell {index + 1} ({cell.get("id")}): build talk {match.group(0)!r} in "...{context}..."'
            )
    return problems


def lint_all(root: Path = ROOT) -> list[str]:
    """Build talk in the learner copy of every chapter in ``solutions/``."""
    problems = []
    for source in sorted((root / "solutions").glob("*.ipynb")):
        problems += lint(learner_notebook(nbformat.read(source, as_version=4), source.name), f"notebooks/{source.name}")
    return problems


def stripped(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of a notebook without outputs, execution counts or widget state."""
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    out.metadata.pop("widgets", None)
    _normalise(out)
    return out


_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _normalise(nb: nbformat.NotebookNode) -> None:
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    # Cell ids are stable: a cell keeps its id when cells are inserted or moved, so pinned
    # outputs (keyed by id) survive edits. A cell without a usable id gets one derived from
    # its position and text, written back into solutions/ by ``--write``.
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not _ID_RE.fullmatch(cell_id) or cell_id in seen:
            digest = hashlib.sha1(f"{index}:{cell.source}".encode()).hexdigest()[:8]
            cell_id = f"cell-{digest}"
            while cell_id in seen:
                cell_id = f"cell-{hashlib.sha1(cell_id.encode()).hexdigest()[:8]}"
        cell["id"] = cell_id
        seen.add(cell_id)


def answers(nb: nbformat.NotebookNode, path: Path | str) -> dict[str, str]:
    """Reference answers keyed ``'chNN.qK'``: each code region belongs to the check in its
    cell or, failing that, in the next code cell."""
    chapter = chapter_key(path)
    found: dict[str, str] = {}
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for position, cell in enumerate(code_cells):
        regions = [text for kind, text in split_regions(cell.source, str(path)) if kind == "answer"]
        if not regions:
            continue
        calls = _CHECK_CALL.findall(cell.source)
        if not calls and _REVIEW_CALL.search(cell.source):
            continue
        if not calls and position + 1 < len(code_cells):
            calls = _CHECK_CALL.findall(code_cells[position + 1].source)
        if not calls:
            raise AuthoringError(
                f"{path}: an answer region has no `{chapter}.qK.check(...)` in its cell or the next code cell."
            )
        ch, q = calls[0]
        if ch != chapter:
            raise AuthoringError(f"{path}: the answer region is checked by {ch}.{q}, but this is chapter {chapter}.")
        code = "".join(textwrap.dedent(_region_body(r)[1]) for r in regions).strip("\n")
        key = f"{ch}.{q}"
        found[key] = (found[key] + "\n\n" + code) if key in found else code
    return found


def definitions(path: Path | str) -> dict[str, str]:
    """Source of every top-level function, class and simple assignment in a notebook's code
    cells, by name (a later definition wins): what the identity tests compare with the copies
    of taught code kept in ``helpers``. nbgrader marker lines are left out; cells that are not
    plain Python (magics, learner placeholders) are skipped."""
    found: dict[str, str] = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        body = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("### "))
        try:
            tree = ast.parse(body)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                found[node.name] = ast.get_source_segment(body, node)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                found[node.targets[0].id] = ast.get_source_segment(body, node)
    return found


def _dump(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb, version=4) + "\n"


def _dump_answers(data: dict[str, str]) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def plan(root: Path = ROOT) -> dict[Path, str]:
    """Every file the generator owns, mapped to the text it should hold."""
    files: dict[Path, str] = {}
    for source in sorted((root / "solutions").glob("*.ipynb")):
        nb = nbformat.read(source, as_version=4)
        setup_cell.apply(nb, source.stem)  # the first code cell comes from one template
        files[source] = _dump(stripped(nb))
        files[root / "notebooks" / source.name] = _dump(learner_notebook(nb, source.name))
        files[root / "helpers" / "exercises" / "answers" / f"{chapter_key(source)}.json"] = _dump_answers(
            answers(nb, source)
        )
    return files


def check(root: Path = ROOT) -> list[str]:
    """Problems that ``--write`` would fix, and build talk in a learner copy (empty when all is well)."""
    problems = []
    for path, text in plan(root).items():
        rel = path.relative_to(root)
        if not path.exists():
            problems.append(f"{rel} is missing")
        elif path.read_text(encoding="utf-8") != text:
            what = "has outputs or is not normalised" if path.parent.name == "solutions" else "is out of date"
            problems.append(f"{rel} {what}")
    for source in sorted((root / "solutions").glob("*.ipynb")):
        nb = stripped(nbformat.read(source, as_version=4))
        marked, stored = set(pinned_cells(nb)), set(pinned_outputs(source, root))
        if marked != stored:
            problems.append(
                f"{PINNED_DIR / (source.stem + '.json')} does not match the {PIN_MARK} cells of {source.name} "
                f"(run `python -m helpers notebooks --pin {source.stem}`)"
            )
    problems += lint_all(root)
    expected = {p.name for p in (root / "solutions").glob("*.ipynb")}
    for extra in sorted((root / "notebooks").glob("*.ipynb")):
        if extra.name not in expected:
            problems.append(f"notebooks/{extra.name} has no source in solutions/")
    return problems


def write(root: Path = ROOT) -> list[Path]:
    """Regenerate learner notebooks and answers (and strip the sources); returns changed files."""
    changed = []
    for path, text in plan(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            changed.append(path)
    return changed


# ------------------------------------------------------------------ pinned outputs
# nbval compares a ``# NBVAL_CHECK_OUTPUT`` cell with the outputs stored in the notebook,
# but notebooks are committed without outputs. So the expected outputs of pinned cells
# live beside the tests, in tests/pinned_outputs/<chapter>.json (cell id -> outputs),
# written by ``python -m helpers notebooks --pin`` and handed to nbval by conftest.py.
def pinned_cells(nb: nbformat.NotebookNode) -> list[str]:
    """Ids of the code cells marked ``# NBVAL_CHECK_OUTPUT``."""
    return [c["id"] for c in nb.cells if c.cell_type == "code" and is_pinned(c.source)]


def is_pinned(source: str) -> bool:
    """True when a line of ``source`` is the marker alone, as nbval requires."""
    return any(line.strip().lstrip("#").strip() == PIN_MARK.lstrip("# ") for line in source.splitlines())


def _comparable(outputs: list) -> list[dict]:
    kept = []
    for out in outputs:
        out = {k: v for k, v in dict(out).items() if k not in ("metadata", "execution_count", "transient")}
        if "data" in out:
            out["data"] = {k: v for k, v in out["data"].items() if not k.startswith("image/")}
        kept.append(out)
    return kept


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


def _names(source: str) -> tuple[set[str], set[str], set[str], set[str], set[str]] | None:
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


def learner_cells_to_run(learner: nbformat.NotebookNode, solution: nbformat.NotebookNode) -> set[str] | None:
    """Ids of the learner copy's code cells the suite must run; None means all of them.

    A learner copy differs from its solution only where answers were cut out. The suite runs
    ``solutions/`` whole; in the learner copy it runs the setup cell, every cell that differs
    from its twin in ``solutions/``, every later cell that reads a name such a cell (or a cell
    run for this reason) binds or changes, and, for all of these, the earlier cells that bind
    or change a name they read, going back as far as the nearest cell that certainly rebinds it
    (an assignment, import or ``def`` at the top level of the cell). The other cells are the solution's code, run on the same state
    in ``solutions/``. Names are followed statically (see ``_names``); a cell that is not plain
    Python, or a cell without an id, makes the whole copy run.
    """
    for what, nb in (("learner", learner), ("solution", solution)):
        if not hasattr(nb, "cells"):
            raise TypeError(f"learner_cells_to_run needs two notebooks (nbformat.read(...)); the {what} is {nb!r:.80}.")
    twins = {c.get("id"): without_test_markers(c.source) for c in solution.cells if c.cell_type == "code"}
    cells = [c for c in learner.cells if c.cell_type == "code"]
    parsed = [_names(c.source) for c in cells]
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


def pin(root: Path = ROOT, names: list[str] | None = None) -> list[Path]:
    """Run solutions notebooks in smoke mode and store the outputs of their pinned cells."""
    from nbclient import NotebookClient

    written = []
    for source in sorted((root / "solutions").glob("*.ipynb")):
        if names and source.stem not in names and source.name not in names:
            continue
        nb = nbformat.read(source, as_version=4)
        _normalise(nb)
        wanted = pinned_cells(nb)
        target = root / PINNED_DIR / f"{source.stem}.json"
        if not wanted:
            if target.exists():
                target.unlink()
            continue
        with kernel_environment(root, strict=True):
            NotebookClient(
                nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(root / "solutions")}}
            ).execute()
        cells = {c["id"]: c for c in nb.cells}
        data = {cell_id: _comparable(cells[cell_id].outputs) for cell_id in wanted}
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written


def pinned_outputs(notebook: Path | str, root: Path = ROOT) -> dict[str, list[dict]]:
    """The stored outputs of a chapter's pinned cells (same ids in solutions/ and notebooks/)."""
    path = root / PINNED_DIR / f"{Path(notebook).stem}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
