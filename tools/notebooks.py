"""Authoring: generate the learner notebooks in ``notebooks/`` from ``solutions/``.

    python tools/notebooks.py --check | --write | --pin [CHAPTER ...]

An answer region is everything between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
(in a code or a markdown cell). In the learner copy the region becomes a short prompt:
``name = ...  # Your code here: <what>`` for an assignment (``<what>`` is the comment at the end of
the answer's first or last line, so write one that says what to fill in), the ``def`` line and docstring of a
function, or ``# Your code here``; the cell is tagged ``raises-exception``. Outputs and
execution counts are removed. The region's code is also stored as the reference answer
of the exercise checked in that cell (or the next code cell), in
``helpers/exercises/answers/chNN.json``, so that ``chNN.qK.solution()`` shows it.
Not part of the ``helpers`` package that learners install.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import re
import sys
import textwrap
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `tools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbformat  # noqa: E402

from tools import setup_cell  # noqa: E402
from tools.alt_text import missing_alt  # noqa: E402
from tools.testing import kernel_environment, without_test_markers  # noqa: E402

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CODE_PROMPT = "# Your code here"
MARKDOWN_PROMPT = "*Your answer here.*"
_CHECK_CALL = re.compile(r"\b(ch\d\d)\.(q\d+)\.check\(")
_REVIEW_CALL = re.compile(r"\breview\.ch\d\d\.r\d+\.check\(")  # review questions explain their own answers
PIN_MARK = "# NBVAL_CHECK_OUTPUT"
PINNED_DIR = Path("tests") / "pinned_outputs"
ROOT = Path(__file__).resolve().parent.parent


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


STUCK_LINE = "Stuck? Uncomment a line below and run the cell."
_HINT_CALL = re.compile(r"#\s*ch\d\d\.q\d+\.hint\(\)")
_PLACEHOLDER = re.compile(r"^\s*[A-Za-z_][\w ,=]* = \.\.\.\s+#")


def learner_rules(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """What every learner copy does the same way: it opens with the Colab badge of its own file and
    the setup cell, each commented-out hint is introduced by the same "Stuck?" line, and each
    ``name = ...`` placeholder says what to fill in. ``name`` is the copy's path, ``notebooks/NN_x.ipynb``."""
    stem = Path(name).stem
    problems = []
    badge = f"/blob/{setup_cell.RELEASE}/notebooks/{stem}.ipynb"
    if not nb.cells or badge not in nb.cells[0].source:
        problems.append(f"{name}: the first cell should carry the Colab badge pointing at ...{badge}")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and code[0].source != setup_cell.source(stem):
        problems.append(
            f"{name}: the first code cell is not the setup cell; make it empty (or a `course.setup(` call) in "
            "solutions/ and run `python tools/notebooks.py --write`"
        )
    for index, cell in enumerate(nb.cells):
        where = f"{name} cell {index + 1} ({cell.get('id')})"
        if cell.cell_type != "code":
            continue
        if _HINT_CALL.search(cell.source):
            before = nb.cells[index - 1] if index else None
            if before is None or before.cell_type != "markdown" or before.source.strip() != STUCK_LINE:
                problems.append(f"{where}: a hint cell should follow a markdown cell reading {STUCK_LINE!r}")
        for line in cell.source.splitlines():
            if _PLACEHOLDER.match(line) and line.rstrip().endswith(CODE_PROMPT):
                problems.append(
                    f"{where}: {line.strip()!r} does not say what to fill in; end the answer's line in "
                    "solutions/ with a comment that does (it becomes the prompt)"
                )
    return problems


def lint_all(root: Path = ROOT) -> list[str]:
    """Build talk, and the learner rules (:func:`learner_rules`), in the learner copy of every chapter."""
    problems = []
    for source in sorted((root / "solutions").glob("*.ipynb")):
        name = f"notebooks/{source.name}"
        nb = nbformat.read(source, as_version=4)
        try:
            setup_cell.apply(nb, source.stem)  # as --write makes it
        except ValueError as exc:  # no code cell at all
            problems.append(f"{name}: {exc}")
        learner = learner_notebook(nb, source.name)
        problems += lint(learner, name) + learner_rules(learner, name)
        problems += missing_alt(nb, f"solutions/{source.name}")  # every figure cell has alt text (tools/alt_text.py)
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


def _dump(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb, version=4) + "\n"


def _dump_answers(data: dict[str, str]) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ taught code, generated
# A code cell with a ``#@save`` line (as in d2l) defines a function a later chapter, a helper
# or an exercise check reuses. ``--write`` copies the functions and classes of those cells, in
# chapter order, into helpers/taught.py, with the imports they need taken from their chapter's
# own import lines; the rest of the cell (the call that shows the result) stays in the notebook.
SAVE_MARK = "#@save"
TAUGHT_MODULE = Path("helpers") / "taught.py"


def saved_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The code cells marked ``#@save`` on a line of their own."""
    return [
        c
        for c in nb.cells
        if c.cell_type == "code" and any(line.strip() == SAVE_MARK for line in c.source.splitlines())
    ]


def _imports(nb: nbformat.NotebookNode) -> dict[str, tuple[str, str | None, str]]:
    """Every name a chapter's top-level import lines bind: name -> (module, imported name or None, alias)."""
    bound: dict[str, tuple[str, str | None, str]] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(without_test_markers(cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound[alias.asname or alias.name.split(".")[0]] = (alias.name, None, alias.asname or "")
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    bound[alias.asname or alias.name] = (node.module, alias.name, alias.asname or "")
    return bound


def taught_module(root: Path = ROOT) -> str:
    """The text of helpers/taught.py: every ``#@save`` cell of solutions/, with the imports it needs."""
    import builtins

    imports: set[tuple[str, str | None, str]] = set()
    parts: list[str] = []
    index: list[str] = []
    defined: set[str] = set()
    for source in sorted((root / "solutions").glob("*.ipynb")):
        nb = nbformat.read(source, as_version=4)
        bound = _imports(nb)
        for cell in saved_cells(nb):
            body = without_test_markers(cell.source)
            kept = [n for n in ast.parse(body).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            code = "\n\n\n".join(ast.get_source_segment(body, n) for n in kept)  # the cell's own calls stay behind
            tree = ast.parse(code)
            names = [n.name for n in kept]
            local = set(names) | {
                n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
            local |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs}
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
                    continue
                name = node.id
                if name in bound:
                    imports.add(bound[name])
                elif name not in local and name not in defined and not hasattr(builtins, name):
                    raise AuthoringError(
                        f"{source.name}, cell {cell.get('id')}: the #@save cell uses {name!r}, which its chapter "
                        "neither imports nor saves in an earlier #@save cell; mark that cell #@save too."
                    )
            defined |= set(names)
            index.append(f"  {', '.join(names) or '(statements)'}: {source.name}, cell {cell.get('id')}")
            parts.append(f"# ---- {source.name}, cell {cell.get('id')}\n{code}\n")
    lines = [f"import {m}" + (f" as {a}" if a else "") for m, n, a in imports if n is None]
    froms: dict[str, list[str]] = {}
    for module, name, alias in imports:
        if name is not None:
            froms.setdefault(module, []).append(name + (f" as {alias}" if alias else ""))
    lines += [f"from {m} import {', '.join(sorted(v))}" for m, v in froms.items()]
    sections: list[list[str]] = [[], [], []]  # isort's: standard library, third party, this package
    for line in sorted(set(lines), key=_import_key):
        top = line.split()[1].split(".")[0]
        sections[0 if top in sys.stdlib_module_names else 2 if top == "helpers" else 1].append(line)
    blocks = ["\n".join(section) for section in sections if section]
    header = (
        "# @generated by `python tools/notebooks.py --write` from the #@save cells of solutions/: do not edit.\n"
        '"""Code the notebooks teach and later chapters reuse: GENERATED, do not edit by hand.\n\n'
        "Each function below is copied verbatim from a cell marked ``#@save`` in solutions/ by\n"
        "``python tools/notebooks.py --write`` (``--check`` fails when this file is stale).\n"
        "To change a function, edit its notebook cell and run --write. Where each comes from:\n\n"
        + "\n".join(index)
        + '\n"""\n'
    )
    return header + "\n" + "\n\n".join(blocks) + "\n\n\n" + "\n\n".join(parts)


def _import_key(line: str) -> tuple[int, str]:
    """isort's order within a section: every ``import x`` first, then ``from x import``, by module."""
    words = line.split()
    return (0 if words[0] == "import" else 1, words[1].lower())


def plan(root: Path = ROOT) -> dict[Path, str]:
    """Every file the generator owns, mapped to the text it should hold."""
    for path in sorted((root / "helpers" / "exercises" / "reviews").glob("*.json")):
        check_review_file(path)  # before the review sections are rendered from them
    files: dict[Path, str] = {}
    for source in sorted((root / "solutions").glob("*.ipynb")):
        nb = nbformat.read(source, as_version=4)
        setup_cell.apply(nb, source.stem)  # the first code cell comes from one template
        _render_review(nb, chapter_key(source))  # the review section comes from reviews/chNN.json
        files[source] = _dump(stripped(nb))
        files[root / "notebooks" / source.name] = _dump(learner_notebook(nb, source.name))
        files[root / "helpers" / "exercises" / "answers" / f"{chapter_key(source)}.json"] = _dump_answers(
            answers(nb, source)
        )
    files[root / TAUGHT_MODULE] = taught_module(root)
    readme = root / "README.md"
    if readme.exists():  # its Colab badges point at this repository and release, like the notebooks'
        files[readme] = setup_cell.fix_badges(readme.read_text(encoding="utf-8"))
    citation = root / "CITATION.cff"
    if citation.exists():  # cites this version and repository
        files[citation] = setup_cell.fix_citation(citation.read_text(encoding="utf-8"))
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
            if path.name == "README.md":
                what = "has Colab badges that point at another repository or release"
            if path.name == "CITATION.cff":
                what = "names another version or repository than helpers/__init__.py"
            if path == root / TAUGHT_MODULE:
                what = "is stale: it differs from the #@save cells of solutions/"
            problems.append(f"{rel} {what}")
    for source in sorted((root / "solutions").glob("*.ipynb")):
        nb = stripped(nbformat.read(source, as_version=4))
        marked, stored = set(pinned_cells(nb)), set(pinned_outputs(source, root))
        if marked != stored:
            problems.append(
                f"{PINNED_DIR / (source.stem + '.json')} does not match the {PIN_MARK} cells of {source.name} "
                f"(run `python tools/notebooks.py --pin {source.stem}`)"
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
# written by ``python tools/notebooks.py --pin`` and handed to nbval by conftest.py.
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


# ------------------------------------------------------------------ review questions
def _require_fields(entry: object, fields: tuple[str, ...], where: str) -> None:
    """Raise an AuthoringError naming ``where`` unless ``entry`` is an object with every one of ``fields``."""
    if not isinstance(entry, dict):
        raise AuthoringError(
            f"{where} should be an object with the fields {list(fields)}; it is a {type(entry).__name__}."
        )
    missing = [field for field in fields if field not in entry]
    if missing:
        raise AuthoringError(
            f"{where} has no {' and no '.join(map(repr, missing))}: it needs the fields {list(fields)}."
        )


def check_review_file(path: Path) -> None:
    """Raise an AuthoringError naming the file, question and field when a ``reviews/chNN.json`` is malformed."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AuthoringError(
            f"{path.name} is not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})."
        ) from exc
    if not isinstance(entries, list) or not entries:
        held = "an empty list" if entries == [] else f"a {type(entries).__name__}"
        raise AuthoringError(f"{path.name} should hold a list of questions; it holds {held}.")
    for n, entry in enumerate(entries, 1):
        where = f"{path.name}, question R{n}"
        _require_fields(entry, ("question", "options", "answer"), where)
        if not isinstance(entry["options"], dict):
            raise AuthoringError(f"{where}: 'options' should map letters to options, like {{\"a\": {{...}}}}.")
        for letter, option in entry["options"].items():
            _require_fields(option, ("text", "explanation"), f"{where}, option ({letter})")
        if str(entry["answer"]).lower() not in {str(letter).lower() for letter in entry["options"]}:
            raise AuthoringError(
                f"{where}: The right answer {entry['answer']!r} is not one of the options {sorted(entry['options'])}."
            )


def review_markdown(question) -> str:
    """The question as a notebook markdown cell: its number, text and lettered options."""
    number = question.key.rsplit(".r", 1)[1]
    options = "\n".join(f"- **({letter})** {text}" for letter, text in question.options.items())
    return f"**R{number}.** {question.question}\n\n{options}"


def review_cells(chapter: str) -> list[nbformat.NotebookNode]:
    """The review section at the end of a chapter's solutions notebook (cell ids ``review-chNN-*``),
    built from the questions in ``helpers/exercises/reviews/chNN.json``."""
    from helpers.exercises import review

    questions = review.CHAPTERS[chapter].questions
    intro = (
        "## Review questions\n\n"
        f"{len(questions)} short questions on this chapter. Put the letter of your answer in `answer` "
        "and run the cell: every answer, right or wrong, comes with an explanation."
    )
    cells = [nbformat.v4.new_markdown_cell(intro), nbformat.v4.new_code_cell("from helpers.exercises import review")]
    ids = [f"review-{chapter}", f"review-{chapter}-import"]
    for question in questions:
        number = question.key.rsplit(".", 1)[1]
        cells.append(nbformat.v4.new_markdown_cell(review_markdown(question)))
        cells.append(
            nbformat.v4.new_code_cell(
                f'### BEGIN SOLUTION\nanswer = "{question.answer}"  # the letter of the option you choose, in quotes\n### END SOLUTION\n{question.key}.check(answer)'
            )
        )
        ids += [f"review-{chapter}-{number}", f"review-{chapter}-{number}-check"]
    for cell, cell_id in zip(cells, ids, strict=True):
        cell["id"] = cell_id
    return cells


def _render_review(nb: nbformat.NotebookNode, chapter: str) -> None:
    """Replace the notebook's review section (its cells ``review-chNN*``, at the end) with the one
    rendered from the chapter's questions; a notebook without one is left alone."""
    first = next((i for i, c in enumerate(nb.cells) if str(c.get("id", "")).startswith(f"review-{chapter}")), None)
    if first is not None:
        nb.cells = nb.cells[:first] + review_cells(chapter)


# ------------------------------------------------------------------ command line
def main(argv: list[str] | None = None) -> int:
    """``python tools/notebooks.py --check | --write | --pin [CHAPTER ...]``; exit 0 when all is well."""
    parser = argparse.ArgumentParser(
        prog="python tools/notebooks.py", description="Generate notebooks/ from solutions/, or check they are in sync."
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="exit 1 if anything is out of sync or has outputs")
    group.add_argument("--write", action="store_true", help="regenerate notebooks/ and the stored answers")
    group.add_argument(
        "--pin",
        nargs="*",
        metavar="CHAPTER",
        help="run solutions in smoke mode and store the outputs of '# NBVAL_CHECK_OUTPUT' cells (default: all)",
    )
    parser.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    try:
        if args.pin is not None:
            for path in pin(root, args.pin or None):
                print(f"wrote {path.relative_to(root)}")
            return 0
        if args.write:
            changed = write(root)
            for path in changed:
                print(f"wrote {path.relative_to(root)}")
            print(f"{len(changed)} file(s) updated." if changed else "Everything already in sync.")
            return 0
        problems = check(root)
    except AuthoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"out of sync: {problem}")
    if problems:
        print("Run `python tools/notebooks.py --write` to regenerate.", file=sys.stderr)
        return 1
    print("notebooks/ is in sync with solutions/, and no notebook has outputs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
