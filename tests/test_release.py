"""Releases and forks: a saved notebook installs its own release; one command re-points a fork."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from tools import fork, setup_cell

ROOT = Path(__file__).resolve().parent.parent
OLD = helpers.__course__
NEW = "https://github.com/a-teacher/image-classification-spring"


def course_copy(tmp_path: Path) -> Path:
    """What the authoring tool reads and writes, copied."""
    copy = tmp_path / "course"
    for name in ("helpers", "tools", "solutions", "notebooks", "tests/pinned_outputs"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("README.md", "CITATION.cff"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def authoring_check(copy: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    return subprocess.run(
        [sys.executable, str(copy / "tools" / "notebooks.py"), "--check", "--root", str(copy)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip


def test_fork_repoints_every_first_cell_and_badge(tmp_path):
    copy = course_copy(tmp_path)
    fork.fork(NEW + ".git/", copy)
    notebooks = sorted(copy.glob("solutions/*.ipynb")) + sorted(copy.glob("notebooks/*.ipynb"))
    assert len(notebooks) >= 20
    badge = (
        f"colab.research.google.com/github/a-teacher/image-classification-spring/blob/{setup_cell.RELEASE}/notebooks/"
    )
    for path in notebooks:
        cells = json.loads(path.read_text())["cells"]
        first_code = next("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert f'COURSE_REPO = "{NEW}"' in first_code, path
        assert badge + path.name in "".join(cells[0]["source"]), path
        assert OLD not in path.read_text(), f"{path} still names {OLD}"
    readme = (copy / "README.md").read_text()
    assert OLD.removeprefix("https://github.com/") not in readme
    assert readme.count(badge) >= 10
    assert f'repository-code: "{NEW}"' in (copy / "CITATION.cff").read_text()
    # and the copy is consistent: the authoring check of the copy passes, the original's fails there
    assert authoring_check(copy).returncode == 0, authoring_check(copy).stdout
    (copy / "helpers" / "__init__.py").write_text((ROOT / "helpers" / "__init__.py").read_text())
    stale = authoring_check(copy)
    assert stale.returncode == 1 and "README.md has Colab badges that point at another" in stale.stdout


def test_fork_refuses_an_address_colab_cannot_open(tmp_path):
    copy = course_copy(tmp_path)
    before = (copy / "helpers" / "__init__.py").read_text()
    for bad in ("https://gitlab.com/me/course", "github.com/me", "https://github.com/me/course/tree/main"):
        with pytest.raises(SystemExit, match="not a GitHub repository address"):
            fork.fork(bad, copy)
    assert (copy / "helpers" / "__init__.py").read_text() == before


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_a_saved_notebook_installs_its_own_release_after_main_moves_on(tmp_path):
    """A local repository released as v0.0.9, then main moves to 0.1.0: the first cell of a
    notebook saved at v0.0.9 installs (pip, git+file://...@v0.0.9) the helpers of v0.0.9."""
    # Offline, pip builds with what is installed: pyproject's license needs setuptools 77+ and packaging 24.2+.
    setuptools = pytest.importorskip("setuptools")
    if importlib.util.find_spec("packaging.licenses") is None or int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip("this environment's setuptools or packaging is too old to build the course package offline")
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "helpers", repo / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, repo / name)
    init = repo / "helpers" / "__init__.py"
    source = init.read_text()
    url = f"file://{repo}"
    git(repo, "init", "-q")
    for version in ("0.0.9", "0.1.0"):
        init.write_text(
            source.replace(f'__version__ = "{helpers.__version__}"', f'__version__ = "{version}"').replace(OLD, url)
        )
        git(repo, "add", ".")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", version)
        if version == "0.0.9":
            git(repo, "tag", "v0.0.9")

    cell = setup_cell.TEMPLATE.format(repo=url, release="v0.0.9", version="0.0.9", chapter="00_start_here")
    install_line = next(line for line in cell.splitlines() if "pip" in line)
    assert 'f"git+{COURSE_REPO}@{COURSE_RELEASE}"' in install_line  # what the cell installs ...
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target)]
    subprocess.run([*pip, f"git+{url}@v0.0.9"], check=True, capture_output=True, timeout=300)  # ... done here
    head = cell.split("from helpers import course")[0]
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", head], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    installed = (target / "helpers" / "__init__.py").read_text()
    assert '__version__ = "0.0.9"' in installed
    # the notebook of main (0.1.0) refuses those helpers and says what to run
    newer = setup_cell.TEMPLATE.format(repo=url, release="v0.1.0", version="0.1.0", chapter="00_start_here")
    run = subprocess.run(
        [sys.executable, "-c", newer.split("from helpers import course")[0]],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert (
        run.returncode != 0
        and "needs the course's helpers 0.1.0, but `import helpers` found version 0.0.9" in run.stderr
    )
