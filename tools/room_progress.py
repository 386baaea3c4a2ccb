"""A room's progress, for instructors (not in the learner's package).

    python -m helpers progress DIR      # from a copy of the course repository
    python tools/room_progress.py DIR   # the same

Collect each learner's ``progress.jsonl`` (``helpers.progress``: one line per exercise check)
into ``DIR``, renamed after the learner (``ana.jsonl``); this prints learners (rows) by chapters:
how many questions each has done, of how many.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `helpers` and `tools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from helpers import progress  # noqa: E402


def room_table(folder: Path | str, asked: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Learners (rows, one ``*.jsonl`` file each) by chapters: how many questions are done, of how many."""
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"{folder} is not a folder. Give the folder where you collected the learners' files.")
    files = sorted(Path(folder).glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(
            f"No progress files (*.jsonl) in {folder}. Collect each learner's {progress.FILE} there, "
            "renamed after the learner (e.g. ana.jsonl)."
        )
    asked = asked or progress.questions()
    rows = {}
    for path in files:
        done = progress.states(progress.read(path))
        rows[path.stem] = {
            ch: f"{sum(done.get(f'{ch}.{q}') == progress.DONE for q in names)}/{len(names)}"
            for ch, names in asked.items()
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers progress", description="A room's progress table.")
    parser.add_argument("folder", help="a folder of learners' progress files (*.jsonl)")
    args = parser.parse_args(argv)
    try:
        table = room_table(args.folder)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with pd.option_context("display.max_columns", None, "display.width", 200):
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
