"""The supported version range: one definition (pyproject.toml), the compat profiles that verify it,
the recorded Colab stack it must admit, and what `run.py lab` / `run.py test` install."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from helpers import doctor

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
TEST_TOOLS = {"pytest", "pytest-xdist", "hypothesis", "nbval", "ruff", "nbqa", "playwright"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(name: str) -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("course_run", ROOT / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    return run.pinned(ROOT / "constraints" / name)


def bounds() -> dict[str, SpecifierSet]:
    lines = [*PYPROJECT["dependencies"], *PYPROJECT["optional-dependencies"]["tensorflow"]]
    return {canonical(Requirement(line).name): Requirement(line).specifier for line in lines}


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(canonical(Requirement(line).name))
    return names


def test_the_colab_snapshot_is_admitted_by_the_helpers_bounds():
    """Installing helpers on that stack must find nothing to upgrade (run.py compat colab proves it for real)."""
    snapshot, wanted = pins("colab-snapshot.txt"), bounds()
    checked = {name: version for name, version in snapshot.items() if name in wanted}
    assert {"tensorflow", "keras", "numpy", "pandas", "matplotlib", "ipywidgets"} <= set(checked)
    refused = {
        name: f"{version} not in {wanted[name]}" for name, version in checked.items() if version not in wanted[name]
    }
    assert not refused, f"pyproject.toml's bounds would make pip change Colab's packages: {refused}"


def test_the_colab_snapshot_differs_from_the_default_stack():
    """It is worth testing: an older TensorFlow and ipywidgets 7, which requirements.txt would not install."""
    snapshot = pins("colab-snapshot.txt")
    assert Version(snapshot["ipywidgets"]).major == 7
    default = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            default[canonical(Requirement(line).name)] = Requirement(line).specifier
    for name in ("tensorflow", "ipywidgets"):
        assert snapshot[name] not in default[name], f"{name} {snapshot[name]} is what requirements.txt installs anyway"


def test_the_oldest_profile_pins_exactly_the_claimed_lower_bounds():
    """`compat oldest` tests the lower bounds themselves, so a passing run verifies the claim."""
    oldest, wanted = pins("oldest.txt"), bounds()
    for name, spec in wanted.items():
        lower = [s.version for s in spec if s.operator == ">="]
        assert lower, f"{name} has no lower bound in pyproject.toml"
        assert name in oldest, f"constraints/oldest.txt does not pin {name} (its lower bound {lower[0]} is untested)"
        assert (
            oldest[name] in spec
            and Version(oldest[name]).release[: len(Version(lower[0]).release)] == Version(lower[0]).release
        ), f"{name}: oldest.txt pins {oldest[name]}, but the claimed lower bound is {lower[0]}"


def test_doctor_and_run_py_read_the_same_bounds():
    from_doctor = doctor.requirements()
    for name, spec in bounds().items():
        assert from_doctor[name] == str(spec), f"doctor says {name}{from_doctor[name]}, pyproject.toml {spec}"
    assert "ai-edge-litert" in from_doctor or sys.platform == "win32"


def test_litert_is_optional_and_tensorflow_is_not_a_plain_dependency():
    plain = {canonical(Requirement(line).name) for line in PYPROJECT["dependencies"]}
    assert not plain & {"tensorflow", "keras", "ai-edge-litert"}, "Colab would get a second TensorFlow or LiteRT"
    assert any("ai-edge-litert" in line for line in PYPROJECT["optional-dependencies"]["litert"])
    assert not [line for line in PYPROJECT["dependencies"] if "==" in line or "<" in line], (
        "helpers must not cap versions"
    )


def test_lab_installs_runtime_only_and_test_adds_the_tools():
    runtime, tools = requirement_names(ROOT / "requirements.txt"), requirement_names(ROOT / "requirements-test.txt")
    assert not runtime & TEST_TOOLS, f"requirements.txt installs test tools for learners: {runtime & TEST_TOOLS}"
    assert TEST_TOOLS <= tools


@pytest.mark.parametrize("where", ["tests", "run.py"])
def test_compat_venvs_stay_outside_the_course_folder(where, tmp_path):
    spec = importlib.util.spec_from_file_location("course_run", ROOT / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    assert ROOT not in run.compat_venv_default("oldest").parents
    with pytest.raises(SystemExit, match="inside the course folder"):
        run.compat(["oldest", "--venv", str(ROOT / where / "venv")])


def test_readme_verified_table_matches_the_oldest_profile():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("<!-- verified -->")[1].split("<!-- /verified -->")[0]
    oldest_row = next(line for line in section.splitlines() if line.startswith("| oldest"))
    for name in ("tensorflow", "keras", "numpy", "pandas", "matplotlib", "ipywidgets"):
        assert pins("oldest.txt")[name] in oldest_row, (
            f"the README's oldest row does not show {name} {pins('oldest.txt')[name]}"
        )
