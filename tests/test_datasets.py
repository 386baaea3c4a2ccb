"""Tests of helpers.datasets: resolution order, mirror contract, stand-ins, folder datasets."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import course, datasets


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Every test gets an empty Keras cache, offline + smoke mode and fresh banners."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(course, "_state", {**course._state, "banners": set()})


def test_flowers_standin_has_real_layout_and_banner(capsys):
    root = datasets.flowers_dir()
    assert "stand-in for tf_flowers" in capsys.readouterr().out
    assert sorted(p.name for p in root.iterdir()) == datasets.FLOWER_CLASSES
    per_class, side = datasets.FLOWERS_STANDIN_SIZES["smoke"]
    for name in datasets.FLOWER_CLASSES:
        files = sorted((root / name).glob("*.jpg"))
        assert len(files) == per_class
    from PIL import Image

    with Image.open(files[0]) as im:
        assert im.size == (side, side) and im.mode == "RGB"
    assert datasets.flowers_dir() == root  # written once, reused


def test_flowers_standin_is_deterministic(tmp_path):
    a = datasets.flowers_standin_dir(3, 32)
    first = (a / "daisy" / "daisy_0000.jpg").read_bytes()
    import shutil

    shutil.rmtree(a)
    b = datasets.flowers_standin_dir(3, 32)
    assert (b / "daisy" / "daisy_0000.jpg").read_bytes() == first


def test_flowers_mirror_is_used(monkeypatch, tmp_path, capsys):
    mirror = tmp_path / "mirror"
    for name in datasets.FLOWER_CLASSES:
        (mirror / "datasets" / "flowers" / name).mkdir(parents=True)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    assert datasets.flowers_dir() == mirror / "datasets" / "flowers"
    assert "stand-in" not in capsys.readouterr().out


def test_flowers_keras_cache_layout_is_found(tmp_path):
    nested = tmp_path / "keras_home" / "datasets" / "flower_photos" / "flower_photos"
    for name in datasets.FLOWER_CLASSES:
        (nested / name).mkdir(parents=True)
    assert datasets.flowers_dir() == nested


def test_standin_shapes_and_dtypes():
    (x, y), (xt, yt) = datasets.standin("cifar10", 50, 20)
    assert x.shape == (50, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (50, 1) and y.dtype == np.uint8
    assert xt.shape == (20, 32, 32, 3)
