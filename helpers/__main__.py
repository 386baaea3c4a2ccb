"""Command line: ``python -m helpers {doctor, progress, prefetch}``.

``doctor`` and ``progress`` are the learner's. The instructor's commands, ``prefetch`` (filling
an offline mirror) and ``progress DIR`` (a room's table), run ``tools/prefetch.py`` and
``tools/room_progress.py`` from a copy of the course repository, so that the package a learner
installs holds only what a notebook imports.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

from helpers import __course__

TOOLS = Path(__file__).resolve().parent.parent / "tools"
"""The repository's ``tools/`` folder, beside this package in a copy of the course (not in a wheel)."""


def instructor_tool(name: str, argv: list[str]) -> int:
    """Run ``tools/<name>.py``'s ``main(argv)``, or say where to run it when this package has no ``tools/``."""
    script = TOOLS / f"{name}.py"
    if not script.is_file():
        print(
            f"This command runs tools/{name}.py from a copy of the course repository: `git clone {__course__}`, "
            "then `python3 run.py lab` in it (or `pip install -e .`), and run the command there.",
            file=sys.stderr,
        )
        return 2
    return runpy.run_path(str(script), run_name=f"tools.{name}")["main"](argv)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers", description="Image Classification with TensorFlow: course tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check this machine and say what to fix")
    prog = sub.add_parser("progress", help="your exercises: done, tried, not yet (or a room's, from a folder)")
    prog.add_argument("folder", nargs="?", help="instructors: a folder of learners' progress files (*.jsonl)")
    sub.add_parser("prefetch", add_help=False, help="instructors: fill an offline mirror (--to DIR [NAMES...])")
    args, rest = parser.parse_known_args(argv)
    if args.command == "prefetch":  # its options are those of tools/prefetch.py
        return instructor_tool("prefetch", rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "doctor":
        from helpers import doctor

        return doctor.main()
    if args.folder is not None:
        return instructor_tool("room_progress", [args.folder])
    from helpers import progress

    return progress.main()


if __name__ == "__main__":
    sys.exit(main())
