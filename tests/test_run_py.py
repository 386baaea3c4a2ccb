"""run.py on the systems the setup page names: Windows venv paths, and an Intel Mac's TensorFlow."""

from __future__ import annotations

import importlib.util
from pathlib import Path, PureWindowsPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("course_run", ROOT / "run.py")
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)


def test_venv_programs_on_windows_and_elsewhere():
    venv = PureWindowsPath(r"C:\Users\ana\course\.venv")
    assert run.venv_program(venv, "python", windows=True) == PureWindowsPath(
        r"C:\Users\ana\course\.venv\Scripts\python.exe"
    )
    assert run.venv_program(venv, "jupyter", windows=True).name == "jupyter.exe"
    assert run.venv_program(Path("/home/ana/.venv"), "python", windows=False) == Path("/home/ana/.venv/bin/python")


@pytest.mark.parametrize("system, machine", [("Linux", "x86_64"), ("Darwin", "arm64"), ("Windows", "AMD64")])
def test_requirements_txt_as_it_is_where_tensorflow_publishes_wheels(system, machine):
    assert run.requirements_for(system, machine, (3, 13)) == ["-r", "requirements.txt"]


def test_an_intel_mac_gets_the_newest_tensorflow_with_a_wheel_and_no_litert():
    args = run.requirements_for("Darwin", "x86_64", (3, 11))
    assert f"tensorflow=={run.INTEL_MAC_TENSORFLOW}" in args
    assert not any(a.startswith("tensorflow==2.2") for a in args)
    assert args[args.index("-e") + 1] == ".[tensorflow]"
    assert "tensorboard>=2.16,<2.17" in args  # TensorFlow 2.16 pins TensorBoard 2.16
    kept = {a.split(">")[0].split("=")[0] for a in args}
    assert {"keras", "ipywidgets", "jupyterlab"} <= kept  # the rest of requirements.txt stays


def test_an_intel_mac_with_python_3_13_is_told_what_to_install():
    with pytest.raises(SystemExit, match="needs Python 3.10-3.12: install Python 3.12"):
        run.requirements_for("Darwin", "x86_64", (3, 13))


def test_binder_installs_what_requirements_txt_does_without_the_editable_install():
    """repo2docker installs binder/environment.yml before the repository is copied in, so it
    cannot hold `-e .`; postBuild installs the helpers after. Everything else matches."""
    import yaml

    def names(lines):
        return {line.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip() for line in lines}

    wanted = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    wanted = [line for line in wanted if line and not line.startswith("-e")]
    pip = next(
        d["pip"]
        for d in yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())["dependencies"]
        if isinstance(d, dict)
    )
    assert not [line for line in pip if line.startswith("-e")]
    assert set(wanted) <= set(pip), f"binder/environment.yml lacks {set(wanted) - set(pip)}"
    assert names(pip) - names(wanted) == {"ai-edge-litert"}  # the litert extra of `-e .[tensorflow,litert]`
