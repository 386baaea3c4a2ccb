"""Command line: ``python -m helpers {doctor, prefetch, progress}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _prefetch(args: argparse.Namespace) -> int:
    from helpers.offline import prefetch

    return prefetch.prefetch_main(Path(args.to), args.names)


def _doctor(args: argparse.Namespace) -> int:
    from helpers import doctor

    return doctor.main()


def _progress(args: argparse.Namespace) -> int:
    from helpers import progress

    return progress.main(args.folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers", description="Image Classification with TensorFlow: course tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check this machine and say what to fix").set_defaults(func=_doctor)
    pre = sub.add_parser("prefetch", help="download datasets and weights into an offline mirror")
    pre.add_argument("--to", required=True, help="mirror folder (use it later as COURSE_DATA_DIR)")
    pre.add_argument("names", nargs="*", help="what to fetch (default: everything the course uses)")
    pre.set_defaults(func=_prefetch)
    prog = sub.add_parser("progress", help="your exercises: done, tried, not yet (or a room's, from a folder)")
    prog.add_argument("folder", nargs="?", help="a folder of learners' progress files (*.jsonl), for a room's table")
    prog.set_defaults(func=_progress)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
