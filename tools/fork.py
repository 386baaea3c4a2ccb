"""Point a copy of the course at its own repository: the first step for an instructor who forks.

    python tools/fork.py https://github.com/OWNER/REPO

The repository address lives in one place, ``__course__`` in ``helpers/__init__.py``. This
command rewrites it there, then regenerates the notebooks (``tools/notebooks.py --write``), so
that every first cell installs ``helpers`` from the fork (at the release tag ``v`` +
``helpers.__version__``) and every Colab badge, in the notebooks and in the README, opens the
fork's notebooks. Push a tag of that name (``git tag v0.1.0 && git push --tags``) before
learners open the notebooks on Colab or Kaggle.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = re.compile(r"https://github\.com/[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
LINE = re.compile(r'^__course__ = "[^"]*"$', re.MULTILINE)


def fork(address: str, root: Path = ROOT) -> None:
    """Rewrite the course's repository address in ``root`` and regenerate its notebooks."""
    address = address.strip().rstrip("/").removesuffix(".git")
    if not ADDRESS.fullmatch(address):
        raise SystemExit(
            f"fork: {address!r} is not a GitHub repository address. Give it as "
            "https://github.com/OWNER/REPO (Colab opens notebooks from GitHub only)."
        )
    init = root / "helpers" / "__init__.py"
    text = init.read_text(encoding="utf-8")
    if len(LINE.findall(text)) != 1:
        raise SystemExit(f'fork: {init} has no single `__course__ = "..."` line to rewrite; nothing was changed.')
    init.write_text(LINE.sub(f'__course__ = "{address}"', text), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(root)}  # the copy's helpers, with the new address
    subprocess.run(
        [sys.executable, str(root / "tools" / "notebooks.py"), "--write", "--root", str(root)], env=env, check=True
    )
    print(f"This copy now installs helpers from {address} and its badges open that repository.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("address", help="https://github.com/OWNER/REPO of your fork")
    parser.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    fork(args.address, Path(args.root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
