"""helpers.model_store: saving with metadata, finding a usable model, refusing the rest in one line."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

import helpers
from helpers import course, model_store

CLASSES = ["a", "b", "c"]


@pytest.fixture
def store(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_SMOKE", "1")
    return tmp_path / "models"


def tiny_model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4, 4, 3))
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    return keras.Model(inputs, keras.layers.Dense(len(CLASSES))(x))


def test_models_dir_default_and_override(monkeypatch, tmp_path):
    for name in ("COURSE_MODELS_DIR", "KAGGLE_KERNEL_RUN_TYPE", "KAGGLE_URL_BASE", "COLAB_RELEASE_TAG"):
        monkeypatch.delenv(name, raising=False)
    assert model_store.models_dir() == Path.home() / ".course" / "models"
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")  # on Kaggle: kept with a saved version
    assert model_store.models_dir() == Path("/kaggle/working/.course/models")
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path))
    assert model_store.models_dir() == tmp_path


def test_save_then_find_returns_the_same_model(store, capsys):
    model = tiny_model()
    path = model_store.save(
        model, "toy", class_names=CLASSES, image_size=(4, 4), history={"loss": [2.0, 1.5]}, real_data=False
    )
    assert path == store / "toy.keras" and path.is_file()
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["class_names"] == CLASSES and meta["image_size"] == [4, 4]
    assert meta["smoke"] is True and meta["real_data"] is False and meta["history"] == {"loss": [2.0, 1.5]}
    assert meta["keras"] == keras.__version__ and meta["course_version"] == helpers.__version__
    assert not [p for p in store.iterdir() if p.name.startswith(".")], "no temporary files left behind"

    found = model_store.find("toy", class_names=CLASSES, real_data=False)
    assert found is not None and found.path == path
    x = np.random.default_rng(0).random((2, 4, 4, 3), dtype=np.float32)
    np.testing.assert_allclose(found.model.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert "Using the saved model" in capsys.readouterr().out


def test_missing_model_is_one_line(store, capsys):
    assert model_store.find("nothing_here") is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "No saved model 'nothing_here'" in out


def test_other_classes_are_refused(store, capsys):
    model_store.save(tiny_model(), "toy", class_names=CLASSES, image_size=(4, 4), real_data=False)
    assert model_store.find("toy", class_names=["x", "y", "z"]) is None
    assert "trained on other classes" in capsys.readouterr().out


def test_full_mode_refuses_smoke_and_standin_models(store, monkeypatch, capsys):
    model_store.save(tiny_model(), "toy", class_names=CLASSES, image_size=(4, 4), real_data=True)
    monkeypatch.setenv("COURSE_SMOKE", "0")
    assert model_store.find("toy", class_names=CLASSES, real_data=True) is None
    assert "smoke mode" in capsys.readouterr().out

    meta = model_store.read_metadata(store / "toy.keras")
    assert model_store.unusable_reason(dict(meta, smoke=False), CLASSES, real_data=True) is None
    assert "stand-in" in model_store.unusable_reason(dict(meta, smoke=False, real_data=False), CLASSES, real_data=True)
    # a stand-in run may use a stand-in model; a real run may not
    assert model_store.unusable_reason(dict(meta, smoke=False, real_data=False), CLASSES, real_data=False) is None
    assert "metadata" in model_store.unusable_reason(None)


@pytest.mark.parametrize(
    ("saved_by", "expected"),
    [
        (None, "saved by an older version of the course, and this is version 0.4.2: rerun chapter 05"),
        ("0.3.9", "saved by version 0.3.9 of the course, and this is version 0.4.2: rerun chapter 05"),
        ("0.4.10", "saved by version 0.4.10 of the course, newer than this one (0.4.2): rerun chapter 05"),
    ],
)
def test_a_model_saved_by_another_course_version_is_refused_in_one_line(store, monkeypatch, capsys, saved_by, expected):
    monkeypatch.setattr(helpers, "__version__", "0.3.9" if saved_by == "0.3.9" else "0.4.10")
    model_store.save(tiny_model(), "ch05_flowers", class_names=CLASSES, image_size=(4, 4), real_data=False)
    if saved_by is None:  # saved before the course recorded its version
        meta_path = store / "ch05_flowers.json"
        meta = json.loads(meta_path.read_text())
        del meta["course_version"]
        meta_path.write_text(json.dumps(meta))
    monkeypatch.setattr(helpers, "__version__", "0.4.2")
    assert model_store.find("ch05_flowers", class_names=CLASSES) is None
    out = capsys.readouterr().out
    assert expected in out and out.count("\n") == 1 and "Traceback" not in out
    if saved_by:  # the version that saved it again: used
        monkeypatch.setattr(helpers, "__version__", saved_by)
        assert model_store.find("ch05_flowers", class_names=CLASSES) is not None


def test_the_remedy_names_the_chapter_only_when_the_name_says_it(store):
    model_store.save(tiny_model(), "toy", class_names=CLASSES, image_size=(4, 4), real_data=False)
    meta = dict(model_store.read_metadata(store / "toy.keras"), course_version="0.0.1")
    assert model_store.unusable_reason(meta).endswith("save it again with this version")
    assert model_store.unusable_reason(dict(meta, name="ch03_cifar10")).endswith("rerun chapter 03 to save it again")


def test_broken_files_are_refused_without_traceback(store, capsys):
    store.mkdir(parents=True)
    (store / "toy.keras").write_bytes(b"not a zip file")
    assert model_store.find("toy") is None
    assert "metadata file (.json) is missing" in capsys.readouterr().out
    meta = {"class_names": CLASSES, "smoke": True, "real_data": False, "course_version": helpers.__version__}
    (store / "toy.json").write_text(json.dumps(meta))
    assert model_store.find("toy", class_names=CLASSES) is None
    out = capsys.readouterr().out
    assert "could not be loaded" in out and "Traceback" not in out


def test_mirror_models_are_found_after_the_learners_folder(store, monkeypatch, tmp_path, capsys):
    mirror = tmp_path / "mirror"
    monkeypatch.setenv("COURSE_MODELS_DIR", str(mirror / "models"))
    model_store.save(tiny_model(), "toy", class_names=CLASSES, image_size=(4, 4), real_data=False)
    monkeypatch.setenv("COURSE_MODELS_DIR", str(store))
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    found = model_store.find("toy", class_names=CLASSES)
    assert found is not None and found.path == mirror / "models" / "toy.keras"


def test_unwritable_folder_gets_a_clear_error(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("COURSE_MODELS_DIR", str(blocker / "models"))
    with pytest.raises(OSError, match="still in memory"):
        model_store.save(tiny_model(), "toy", class_names=CLASSES, image_size=(4, 4), real_data=False)


@pytest.mark.parametrize("bad", ["", "../escape", "a b", None])
def test_names_are_checked(bad):
    with pytest.raises(ValueError, match="letters, digits"):
        model_store.find(bad)


def test_standins_used_lists_banner_keys(monkeypatch):
    monkeypatch.setitem(course._state, "banners", {"dataset:cifar10", "weights:x"})
    assert course.standins_used("dataset:") == ["dataset:cifar10"]
