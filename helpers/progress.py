"""Your progress: the outcome of every exercise check, kept in a small file on this machine.

Each ``check()`` appends one line (which question, right or not, when) to ``progress.jsonl``
beside your models folder: ``~/.course/`` (the parent folder of ``COURSE_MODELS_DIR`` when you
set it; ``/kaggle/working/.course`` on Kaggle). Nothing leaves the machine, and
``COURSE_PROGRESS=0`` switches recording off. ``python -m helpers progress`` prints your table
(an instructor's ``python -m helpers progress DIR``, a room's table, is ``tools/room_progress.py``).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from helpers import model_store

if TYPE_CHECKING:
    import pandas as pd

FILE = "progress.jsonl"
DONE, TRIED, NOT_YET = "done", "tried", "not yet"


def progress_file() -> Path | None:
    """Where check outcomes go, or None when ``COURSE_PROGRESS=0``."""
    if os.environ.get("COURSE_PROGRESS", "").strip() == "0":
        return None
    return model_store.models_dir().parent / FILE


def record(question: str, status: str) -> None:
    """Append one check outcome; never raises (a read-only home or a full disk loses the line only)."""
    path = progress_file()
    if path is None or status == "not attempted":
        return
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    line = json.dumps({"question": question, "right": status == "correct", "time": when}) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as file:  # one short append: parallel writers do not mix lines
            file.write(line)
    except OSError:
        pass


def read(path: Path | str) -> list[dict]:
    """The outcomes in one file; lines that are not an outcome (a hand edit, a cut-off write) are skipped."""
    outcomes = []
    for text in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(text)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("question"), str) and isinstance(entry.get("right"), bool):
            outcomes.append(entry)
    return outcomes


def questions() -> dict[str, list[str]]:
    """Every chapter's questions in order, ``{"ch01": ["q1", ..., "r1", ...]}``: exercises, then review."""
    from helpers import exercises
    from helpers.exercises import question, review

    found: dict[str, list[str]] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(exercises.__path__) if m.name[:2] == "ch"):
        values = vars(importlib.import_module(f"helpers.exercises.{module}")).values()
        keys = sorted({q.key for q in values if isinstance(q, question.Question) and q.key.startswith(module)})
        found[module] = [key.split(".")[-1] for key in keys]
    for chapter, held in review.CHAPTERS.items():
        found.setdefault(chapter, []).extend(q.key.split(".")[-1] for q in held.questions)
    return found


def states(outcomes: list[dict]) -> dict[str, str]:
    """``"ch01.q1"`` -> done (right at least once) or tried, for every question in ``outcomes``."""
    found: dict[str, str] = {}
    for entry in outcomes:
        key = entry["question"].removeprefix("review.")
        found[key] = DONE if entry["right"] or found.get(key) == DONE else TRIED
    return found


def learner_table(outcomes: list[dict], asked: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Chapters (rows) by questions (columns): done, tried or not yet."""
    import pandas as pd

    asked = asked or questions()
    done = states(outcomes)
    rows = {ch: {q: done.get(f"{ch}.{q}", NOT_YET) for q in names} for ch, names in asked.items()}
    columns = sorted({q for names in asked.values() for q in names}, key=lambda q: (q[0] != "q", int(q[1:])))
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).fillna("")


def main() -> int:
    """``python -m helpers progress``: print the learner's table."""
    import pandas as pd

    with pd.option_context("display.max_columns", None, "display.width", 200):
        path = progress_file()
        if path is None:
            print("Recording is switched off (COURSE_PROGRESS=0).")
            return 0
        outcomes = read(path) if path.exists() else []
        print(f"Your progress ({path}; {len(outcomes)} checks recorded):\n")
        print(learner_table(outcomes))
    return 0
