"""The learner copies guide the learner the same way in every chapter: each exercise's
hint/solution cell is introduced by the same "Stuck?" line, and each placeholder says what
to fill in."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tools.notebooks import CODE_PROMPT

ROOT = Path(__file__).resolve().parent.parent
STUCK = "Stuck? Uncomment a line below and run the cell."
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_hint_cell_is_introduced_by_the_stuck_line(path):
    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and re.search(r"#\s*ch\d\d\.q\d+\.hint\(\)", cell.source):
            before = cells[index - 1]
            assert before.cell_type == "markdown" and before.source.strip() == STUCK, (
                f"{path.name}: the hint cell {cell.get('id')} should follow a markdown cell reading {STUCK!r}"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_placeholder_says_what_to_fill_in(path):
    for cell in nbformat.read(path, as_version=4).cells:
        for line in cell.source.splitlines():
            if re.match(r"^\s*[A-Za-z_][\w ,=]* = \.\.\.\s+#", line):
                assert line.rstrip().endswith(CODE_PROMPT) is False, (
                    f"{path.name}: {line.strip()!r} does not say what to fill in; end the answer's line in "
                    "solutions/ with a comment that does (it becomes the prompt)."
                )
