"""Graded assignments for nbgrader, made from the chapters.

    python tools/nbgrader_export.py --to COURSE_DIR [CHAPTER ...]            # source notebooks
    python tools/nbgrader_export.py --to COURSE_DIR --round-trip [CHAPTER ...]  # and check them

writes an nbgrader course folder: ``COURSE_DIR/source/<chapter>/<chapter>.ipynb`` for each chapter
(default: all), plus ``nbgrader_config.py``. In each notebook every exercise and review question
becomes two cells: the learner's answer (an nbgrader *solution* cell: ``nbgrader
generate_assignment`` replaces the region between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
with a stub) and its check (a locked, *autograded* test cell: 2 points for an exercise, 1 for a
review question). A cell after the setup cell makes every check raise on a wrong or missing answer
(``COURSE_STRICT_CHECKS=1``), which is how nbgrader sees a failed test, and withholds the stored
reference answers (``COURSE_WITHHOLD_SOLUTIONS=1``: ``.solution()`` then says so). Install the
course's ``helpers`` for the learners as usual; hints still work.

Then, in ``COURSE_DIR``: ``nbgrader generate_assignment <chapter>`` makes the learner version in
``release/``; collect the learners' notebooks into ``submitted/<learner>/<chapter>/`` and run
``nbgrader autograde <chapter>`` (with ``COURSE_SMOKE=1`` for a quick dry run). ``--round-trip``
does exactly that for a solved copy (it must score full marks) and an untouched copy (zero).
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

if __package__ in (None, ""):  # run as a script: make `tools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
CHECK = re.compile(r"^(?P<call>(?:review\.)?(?P<chapter>ch\d\d)\.(?P<question>[qr]\d+)\.check\()", re.MULTILINE)
POINTS = {"q": 2, "r": 1}
GRADED_SETUP = """\
# Graded version: a wrong or missing answer makes its check cell fail (that is how the
# grader counts it), and reference solutions are withheld. Hints still work.
import os

os.environ["COURSE_STRICT_CHECKS"] = "1"
os.environ["COURSE_WITHHOLD_SOLUTIONS"] = "1\""""
CONFIG = """\
c = get_config()  # noqa: F821 (nbgrader's config files get it from traitlets)
c.CourseDirectory.course_id = "image-classification-tensorflow"
c.CourseDirectory.root = {root!r}
# The chapters train models: give each cell time (smoke mode needs far less).
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
"""


def _meta(kind: str, grade_id: str, points: int = 0) -> dict:
    solution, grade, locked = {
        "answer": (True, False, False),
        "test": (False, True, True),
        "fixed": (False, False, True),
    }[kind]
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = points
    return meta


def graded(nb: nbformat.NotebookNode, chapter: str) -> nbformat.NotebookNode:
    """The nbgrader source version of a solutions notebook (answers kept, marked as solution cells)."""
    nb = copy.deepcopy(nb)
    cells = []
    setup_done = False
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.update(outputs=[], execution_count=None)
        source = cell.source
        if cell.cell_type == "markdown" and "### BEGIN SOLUTION" in source:
            cell.source = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION\n?", "", source, flags=re.DOTALL)
        if cell.cell_type != "code" or "### END SOLUTION" not in source:
            cells.append(cell)
            if cell.cell_type == "code" and not setup_done and "course.setup(" in source:
                cells.append(nbformat.v4.new_code_cell(GRADED_SETUP, id=f"{chapter[:2]}-graded-setup"))
                cells[-1].metadata["nbgrader"] = _meta("fixed", f"{chapter[:2]}-graded-setup")
                setup_done = True
            continue
        end = source.index("### END SOLUTION") + len("### END SOLUTION")
        match = CHECK.search(source, end)
        if match is None:  # an answer without a check in the same cell: it stays a solution cell
            cell.metadata["nbgrader"] = _meta("answer", f"{cell.id}-answer")
            cells.append(cell)
            continue
        key = f"{match['chapter']}-{match['question']}" + ("-review" if match["call"].startswith("review.") else "")
        cell.source = source[: match.start()].rstrip() + "\n"
        cell.metadata["nbgrader"] = _meta("answer", f"{key}-answer")
        test = nbformat.v4.new_code_cell(source[match.start() :], id=f"{cell.id}-test"[:64])
        test.metadata["nbgrader"] = _meta("test", f"{key}-check", POINTS[match["question"][0]])
        cells += [cell, test]
    if not setup_done:
        raise ValueError(f"{chapter}: no setup cell (course.setup) found to put the graded settings after.")
    nb.cells = cells
    return nb


def export(to: Path, chapters: list[str] | None = None, timeout: int = 1800) -> list[Path]:
    """Write the nbgrader course folder; returns the source notebooks written."""
    to.mkdir(parents=True, exist_ok=True)
    (to / "nbgrader_config.py").write_text(CONFIG.format(root=str(to.resolve()), timeout=timeout), encoding="utf-8")
    written = []
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        if chapters and not any(path.stem.startswith(c) for c in chapters):
            continue
        folder = to / "source" / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        nbformat.write(graded(nbformat.read(path, as_version=4), path.stem), target)
        written.append(target)
    if chapters and not written:
        raise SystemExit(f"No chapter in solutions/ starts with {', '.join(chapters)} (e.g. 00 or 03_building_cnns).")
    return written


def round_trip(to: Path, notebook: Path) -> dict[str, float]:
    """generate_assignment, then autograde a solved and an untouched copy; their scores and the maximum."""
    import warnings

    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy's notes on nbgrader's own sessions
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    # nbgrader runs `alembic` (its database tool) and the kernel from PATH: this Python's first.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    assignment = notebook.parent.name
    config = Config()
    config.CourseDirectory.root = str(to.resolve())
    config.CourseDirectory.course_id = "image-classification-tensorflow"
    config.Execute.timeout = 1800
    api = NbGraderAPI(config=config)
    with Gradebook(f"sqlite:///{to.resolve() / 'gradebook.db'}") as book:
        book.update_or_create_assignment(assignment)
        for learner in ("solved", "untouched"):
            book.update_or_create_student(learner)
    made = api.generate_assignment(assignment, force=True)
    if not made["success"]:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{made['error']}\n{made['log']}")
    copies = {"solved": notebook, "untouched": to / "release" / assignment / notebook.name}
    scores = {}
    for learner, source in copies.items():
        target = to / "submitted" / learner / assignment / notebook.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        graded_ = api.autograde(assignment, learner, force=True, create=True)
        if not graded_["success"]:
            raise RuntimeError(
                f"nbgrader autograde of the {learner} copy failed:\n{graded_['error']}\n{graded_['log']}"
            )
    with Gradebook(f"sqlite:///{to.resolve() / 'gradebook.db'}") as book:
        for learner in copies:
            submission = book.find_submission(assignment, learner)
            scores[learner], scores["max"] = submission.score, submission.max_score
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--to", required=True, help="the nbgrader course folder to write")
    parser.add_argument(
        "--round-trip", action="store_true", help="generate, then autograde a solved and an untouched copy"
    )
    parser.add_argument("chapters", nargs="*", help="chapter numbers or names (default: all)")
    args = parser.parse_args(argv)
    to = Path(args.to)
    written = export(to, args.chapters)
    print(f"Wrote {len(written)} assignment(s) to {to / 'source'}.")
    if not args.round_trip:
        return 0
    os.environ.setdefault("COURSE_SMOKE", "1")
    failed = 0
    for notebook in written:
        scores = round_trip(to, notebook)
        ok = scores["solved"] == scores["max"] and scores["untouched"] == 0
        failed += not ok
        print(f"{notebook.parent.name}: solved {scores['solved']:g}/{scores['max']:g}, untouched "
              f"{scores['untouched']:g} -> {'ok' if ok else 'FAILED'}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
