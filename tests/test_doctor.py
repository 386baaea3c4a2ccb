"""python -m helpers doctor: findings, fixes and the exit code."""

from __future__ import annotations

import shutil
from collections import namedtuple

from helpers import doctor
from helpers.__main__ import main as cli


def levels(findings):
    return {f.topic: f.level for f in findings}


def test_course_can_run_here(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert cli(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "[OK  ] TensorFlow" in out and "Ready: the course can run" in out


def test_legacy_keras_and_foreign_backend_are_failures(monkeypatch, capsys):
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    findings = doctor.check_keras_traps()
    assert [f.level for f in findings] == ["FAIL", "FAIL"]
    assert "Unset it" in findings[0].fix and "KERAS_BACKEND" in findings[1].fix
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert doctor.main() == 1
    assert "stop the course from running" in capsys.readouterr().out


def test_requirements_are_the_dependencies_and_the_two_extras(monkeypatch):
    declared = [  # what importlib.metadata.requires gives for pyproject.toml's lists
        "numpy>=1.26",
        "Pillow>=10",
        'tensorflow>=2.16; extra == "tensorflow"',
        'pytest<1; extra == "other"',
        'ai-edge-litert>=2.0; platform_system == "Nowhere" and extra == "litert"',
    ]
    monkeypatch.setattr(doctor.metadata, "requires", lambda name: declared)
    assert doctor.requirements() == {"numpy": ">=1.26", "pillow": ">=10", "tensorflow": ">=2.16"}


def test_the_real_bounds_cover_tensorflow_and_keras():
    wanted = doctor.requirements()
    assert wanted["tensorflow"].startswith(">=2.16") and wanted["keras"].startswith(">=3")
    assert "ipywidgets" in wanted and "pytest" not in wanted  # test tools are not the course's requirements


def test_tensorflow_below_the_bound_fails(monkeypatch):
    real = doctor.metadata.version
    monkeypatch.setattr(doctor.metadata, "version", lambda name: "2.15.1" if name == "tensorflow" else real(name))
    assert doctor.check_tensorflow().level == "FAIL"


def test_package_outside_range_is_a_warning_with_a_fix(monkeypatch):
    monkeypatch.setattr(doctor, "requirements", lambda: {"pytest": "<1"})
    (finding,) = doctor.check_packages()
    assert finding.level == "WARN" and "pip install 'pytest<1'" in finding.fix


def test_low_disk_fails(monkeypatch, tmp_path):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 10**12, 10**8))
    finding = doctor.check_disk(tmp_path)
    assert finding.level == "FAIL" and "0.1 GB free" in finding.message


def test_unreachable_network_is_a_warning_that_mentions_the_mirror(monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(doctor, "NETWORK_PROBE", ("127.0.0.1", 9))  # nothing listens on the discard port
    finding = doctor.check_network(timeout=1)
    assert finding.level == "WARN" and "prefetch" in finding.fix


def test_missing_mirror_folder_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    assert levels(doctor.check_mode())["Mirror"] == "WARN"
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "cifar10.npz").write_bytes(b"")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    mirror = [f for f in doctor.check_mode() if f.topic == "Mirror"][0]
    assert mirror.level == "OK" and "cifar10.npz" in mirror.message
