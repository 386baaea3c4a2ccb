"""Command line: ``python -m helpers {doctor, prefetch, notebooks}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _notebooks(args: argparse.Namespace) -> int:
    from helpers import notebooks

    root = Path(args.root).resolve()
    try:
        if args.pin is not None:
            for path in notebooks.pin(root, args.pin or None):
                print(f"wrote {path.relative_to(root)}")
            return 0
        if args.write:
            changed = notebooks.write(root)
            for path in changed:
                print(f"wrote {path.relative_to(root)}")
            print(f"{len(changed)} file(s) updated." if changed else "Everything already in sync.")
            return 0
        problems = notebooks.check(root)
    except notebooks.AuthoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"out of sync: {problem}")
    if problems:
        print("Run `python -m helpers notebooks --write` to regenerate.", file=sys.stderr)
        return 1
    print("notebooks/ is in sync with solutions/, and no notebook has outputs.")
    return 0


def _prefetch(args: argparse.Namespace) -> int:
    from helpers.offline import prefetch

    return prefetch.prefetch_main(Path(args.to), args.names)


def _doctor(args: argparse.Namespace) -> int:
    from helpers import doctor

    return doctor.main()


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
    nbs = sub.add_parser("notebooks", help="generate notebooks/ from solutions/ or check they are in sync")
    group = nbs.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="exit 1 if anything is out of sync or has outputs")
    group.add_argument("--write", action="store_true", help="regenerate notebooks/ and the stored answers")
    group.add_argument(
        "--pin",
        nargs="*",
        metavar="CHAPTER",
        help="run solutions in smoke mode and store the outputs of '# NBVAL_CHECK_OUTPUT' cells (default: all)",
    )
    nbs.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help=argparse.SUPPRESS)
    nbs.set_defaults(func=_notebooks)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
