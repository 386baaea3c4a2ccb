"""helpers.course: modes, shrinking, results, banners and setup."""

from __future__ import annotations

import json

import pytest

from helpers import course


@pytest.fixture
def full_mode(monkeypatch):
    for name in ("COURSE_SMOKE", "COURSE_OFFLINE", "COURSE_DATA_DIR", "COURSE_RESULTS", "COURSE_STRICT_CHECKS"):
        monkeypatch.delenv(name, raising=False)


def test_modes_read_from_environment(full_mode, monkeypatch, tmp_path):
    assert course.mode() == "full" and not course.smoke() and course.data_dir() is None
    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "true")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert course.mode() == "smoke+offline"
    assert course.data_dir() == tmp_path
    monkeypatch.setenv("COURSE_SMOKE", "0")
    assert course.mode() == "offline"


def test_shrinking_only_in_smoke_mode(full_mode, monkeypatch):
    assert (course.epochs(15), course.take(50_000), course.pick(224, 64)) == (15, 50_000, 224)
    monkeypatch.setenv("COURSE_SMOKE", "1")
    assert (course.epochs(15), course.take(50_000), course.pick(224, 64)) == (1, 256, 64)
    assert course.take(100) == 100  # never grows
    assert course.epochs(15, smoke_value=2) == 2


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True])
def test_shrink_helpers_reject_nonsense(bad):
    with pytest.raises(ValueError, match="whole number of at least 1"):
        course.epochs(bad)


def test_record_result_appends_json_lines(full_mode, monkeypatch, tmp_path):
    import numpy as np

    target = tmp_path / "sub" / "results.jsonl"
    monkeypatch.setenv("COURSE_RESULTS", str(target))
    course.record_result("test_accuracy", np.float32(0.75), chapter="03_building_cnns")
    course.record_result(epochs=3, val_accuracy=np.float64(0.5), chapter="03_building_cnns")
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["name"] for r in rows] == ["test_accuracy", "epochs", "val_accuracy"]
    assert rows[0]["value"] == pytest.approx(0.75) and rows[0]["mode"] == "full"
    assert rows[2]["value"] == 0.5 and {r["chapter"] for r in rows} == {"03_building_cnns"}
    assert set(rows[0]) == {"chapter", "name", "value", "mode", "seconds"}


def test_record_result_shows_nothing_and_needs_no_file(full_mode, monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert course.record_result("x", 1) is None  # a notebook cell ending with it shows no output
    assert list(tmp_path.iterdir()) == []


def test_record_result_rejects_bad_input(full_mode):
    with pytest.raises(ValueError, match="non-empty name"):
        course.record_result("", 1)
    with pytest.raises(TypeError, match="needs a number"):
        course.record_result("model", object())
    with pytest.raises(TypeError, match="needs a number"):
        course.record_result(accuracy=0.5, model=object())
    with pytest.raises(TypeError, match="at least one result"):
        course.record_result()
    with pytest.raises(TypeError, match="name=value pairs"):
        course.record_result("a", 1, 2)


def test_platform_detection(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    monkeypatch.delenv("KAGGLE_URL_BASE", raising=False)
    assert course.platform() == "local"
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    assert course.platform() == "kaggle"
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_2026")
    assert course.platform() == "colab"


def test_banner_is_shown_once_per_key(capsys):
    course.banner("test:unique-key", "Stand-in in use", "no network", "set COURSE_DATA_DIR")
    course.banner("test:unique-key", "Stand-in in use", "no network", "set COURSE_DATA_DIR")
    out = capsys.readouterr().out
    assert out.count("Stand-in in use") == 1 and "COURSE_DATA_DIR" in out


def test_setup_prints_one_line_and_seeds(capsys):
    import numpy as np

    course.setup(chapter="test", seed=7)
    first = np.random.rand(3)
    course.setup(chapter="test", seed=7)
    second = np.random.rand(3)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "TensorFlow" in lines[0] and "mode:" in lines[0]
    np.testing.assert_array_equal(first, second)


def test_record_result_on_an_unwritable_path_says_so_and_carries_on(full_mode, monkeypatch, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COURSE_RESULTS", str(blocker / "results.jsonl"))  # a file where a folder should be
    assert course.record_result("test_accuracy", 0.8) is None
    said = capsys.readouterr().out
    assert "Could not record test_accuracy" in said and "COURSE_RESULTS" in said
    assert blocker.read_text() == "not a folder"
