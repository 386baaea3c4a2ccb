"""The first code cell of every notebook, written from one template.

``python tools/notebooks.py --write`` puts :func:`source` into the first code cell of each
``solutions/NN_*.ipynb`` (and so of its learner copy); ``--check`` fails when one differs.
A new chapter only needs an empty first code cell (or any cell calling ``course.setup(``):
``--write`` fills it in.

The cell installs, where ``helpers`` is missing (Colab, Kaggle), the ``helpers`` of the
release tag these notebooks were written for (:data:`RELEASE`, ``v`` + ``helpers.__version__``),
installing nothing else, so a notebook saved from an earlier release keeps installing its own
release after ``main`` moves on: the
package's dependencies carry lower bounds that a notebook service's preinstalled stack
already meets (``python3 run.py compat colab`` proves it). Then it checks that ``import
helpers`` found this course's package at the version the notebook was written for, and
says what to run when it did not (a learner's ``helpers.py``, another package called
``helpers``, an older install).
"""

from __future__ import annotations

import re

import nbformat

from helpers import __course__, __version__

RELEASE = f"v{__version__}"
"""The release tag the first cells install and the Colab badges open. The repository address and
the version come from one place, ``helpers/__init__.py`` (``tools/fork.py`` rewrites it for a fork)."""

_BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^/\s)]+/[^/\s)]+/blob/[^/\s)]+/notebooks/")

TEMPLATE = """\
# Setup: on Colab or Kaggle, install this course's `helpers` package (only that; TensorFlow is
# already there), in the version these notebooks were written for.
import importlib.util
import subprocess
import sys

COURSE_REPO = "{repo}"
COURSE_RELEASE, HELPERS_VERSION = "{release}", "{version}"
if importlib.util.find_spec("helpers") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{{COURSE_REPO}}@{{COURSE_RELEASE}}"], check=True)

import helpers

if getattr(helpers, "__course__", None) != COURSE_REPO or helpers.__version__ != HELPERS_VERSION:
    found = f"version {{getattr(helpers, '__version__', '?')}} at {{getattr(helpers, '__file__', None) or list(helpers.__path__)}}"
    raise ImportError(
        f"This notebook needs the course's helpers {{HELPERS_VERSION}}, but `import helpers` found {{found}}.\\n"
        "If that is a helpers.py or helpers/ folder of yours, rename it. Otherwise run\\n"
        "  pip uninstall -y image-classification-course\\n"
        "(locally: python3 run.py lab), restart the kernel and run this cell again."
    )
from helpers import course

course.setup(chapter="{chapter}")"""


def source(chapter: str) -> str:
    """The first code cell of the notebook ``chapter`` (its file name without ``.ipynb``)."""
    return TEMPLATE.format(repo=__course__, release=RELEASE, version=__version__, chapter=chapter)


def colab_prefix(course: str = __course__, release: str = RELEASE) -> str:
    """Where the Colab badges point: ``.../github/OWNER/REPO/blob/RELEASE/notebooks/``."""
    owner_repo = course.removeprefix("https://github.com/").strip("/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{release}/notebooks/"


def fix_badges(text: str) -> str:
    """``text`` with every Colab badge link pointing at this repository and release."""
    return _BADGE.sub(colab_prefix(), text)


def fix_citation(text: str) -> str:
    """``CITATION.cff`` with this version and repository address."""
    text = re.sub(r"(?m)^version: .*$", f'version: "{__version__}"', text)
    return re.sub(r"(?m)^repository-code: .*$", f'repository-code: "{__course__}"', text)


def apply(nb: nbformat.NotebookNode, chapter: str) -> bool:
    """Make the notebook's first code cell the setup cell (when it is empty or calls
    ``course.setup``) and its Colab badges point at this repository and release; True when
    anything changed."""
    badges_changed = False
    for markdown in (c for c in nb.cells if c.cell_type == "markdown"):
        fixed = fix_badges(markdown.source)
        badges_changed |= fixed != markdown.source
        markdown.source = fixed
    cell = next((c for c in nb.cells if c.cell_type == "code"), None)
    if cell is None:
        raise ValueError(f"{chapter}: a notebook needs a first code cell for the setup (add an empty one).")
    wanted = source(chapter)
    if cell.source == wanted or (cell.source.strip() and "course.setup(" not in cell.source):
        # already right, or not a setup cell (tests/test_setup_cell.py insists on one per chapter)
        return badges_changed
    cell.source = wanted
    return True
