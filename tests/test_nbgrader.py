"""The nbgrader export: answers and checks split into solution and autograded cells, and one
chapter's real round trip (generate_assignment, autograde): full marks solved, zero untouched."""

from __future__ import annotations

import nbformat
import pytest

from helpers.exercises import ch00
from tools import nbgrader_export

SETUP = 'from helpers import course\n\ncourse.setup(chapter="99_demo")'


def demo() -> nbformat.NotebookNode:
    cells = [
        nbformat.v4.new_markdown_cell("# 99 · Demo"),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_markdown_cell("Why? ### BEGIN SOLUTION\nBecause.\n### END SOLUTION\n"),
        nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\nanswer = 2\n### END SOLUTION\nch99.q1.check(answer)"),
        nbformat.v4.new_code_cell('### BEGIN SOLUTION\nanswer = "c"\n### END SOLUTION\nreview.ch99.r1.check(answer)'),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\ndef f():\n    return 1\n### END SOLUTION"),
    ]
    for n, cell in enumerate(cells):
        cell.id = f"c{n}"
    return nbformat.v4.new_notebook(cells=cells)


def test_answers_and_checks_become_solution_and_graded_cells():
    nb = nbgrader_export.graded(demo(), "99_demo")
    meta = [c.metadata.get("nbgrader") for c in nb.cells]
    sources = [c.source for c in nb.cells]
    assert "COURSE_STRICT_CHECKS" in sources[2] and meta[2]["locked"] and not meta[2]["grade"]
    assert "BEGIN SOLUTION" not in sources[3]  # a markdown answer is not graded: its region goes
    assert sources[4].endswith("### END SOLUTION\n") and meta[4]["solution"] and not meta[4]["grade"]
    assert sources[5] == "ch99.q1.check(answer)" and meta[5]["grade"] and meta[5]["locked"] and meta[5]["points"] == 2
    assert sources[7] == "review.ch99.r1.check(answer)" and meta[7]["points"] == 1
    assert meta[8]["solution"] and "points" not in meta[8]  # an answer checked elsewhere: solution only
    ids = [m["grade_id"] for m in meta if m]
    assert len(ids) == len(set(ids))


def test_a_notebook_without_a_setup_cell_is_refused():
    nb = demo()
    nb.cells[1].source = "import os"
    with pytest.raises(ValueError, match="no setup cell"):
        nbgrader_export.graded(nb, "99_demo")


def test_solutions_are_withheld_in_the_graded_version(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_WITHHOLD_SOLUTIONS", "1")
    ch00.q1.solution()
    shown = capsys.readouterr().out
    assert "withheld" in shown and ch00.q1.solution_text().splitlines()[0] not in shown


def test_round_trip_of_chapter_00_with_real_nbgrader(tmp_path, monkeypatch):
    pytest.importorskip("nbgrader")
    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    (notebook,) = nbgrader_export.export(tmp_path / "course", ["00"])
    scores = nbgrader_export.round_trip(tmp_path / "course", notebook)
    assert scores["max"] > 0
    assert scores["solved"] == scores["max"], scores
    assert scores["untouched"] == 0, scores
    released = nbformat.read(tmp_path / "course" / "release" / notebook.parent.name / notebook.name, as_version=4)
    assert not any("### BEGIN SOLUTION" in c.source for c in released.cells)
