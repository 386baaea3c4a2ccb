"""Tests of helpers.datasets (resolution order, mirror contract, stand-ins) and chapter 01's folder loader."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import course, datasets, standins
from tools.testing import ROOT, notebook_functions

# the hand-written loader lives in chapter 01 only: these tests run the chapter's own code
CHAPTER_01 = notebook_functions(ROOT / "solutions" / "01_datasets.ipynb", "load_image_folder")


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
    per_class, side = standins.FLOWERS_SIZES["smoke"]
    for name in datasets.FLOWER_CLASSES:
        files = sorted((root / name).glob("*.jpg"))
        assert len(files) == per_class
    from PIL import Image

    with Image.open(files[0]) as im:
        assert im.size == (side, side) and im.mode == "RGB"
    assert datasets.flowers_dir() == root  # written once, reused


def test_flowers_standin_is_deterministic(tmp_path):
    a = standins.flowers_folder(3, 32)
    first = (a / "daisy" / "daisy_0000.jpg").read_bytes()
    import shutil

    shutil.rmtree(a)
    b = standins.flowers_folder(3, 32)
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


def test_cifar100_standin_labels_match_keras_dtype():
    (_, y), _ = datasets.standin("cifar100", 30, 5)
    assert y.dtype == np.int64 and y.shape == (30, 1) and y.max() < 100


def test_standin_is_drawn_in_chunks_without_seams():
    """More images than one drawing chunk (2,048): every image is drawn, none left empty."""
    (x, y), _ = datasets.standin("cifar10", 4500, 10)
    assert x.shape == (4500, 32, 32, 3) and y.shape == (4500, 1)
    assert (x.reshape(len(x), -1).std(axis=1) > 5).all()


def test_importing_datasets_pulls_in_no_download_or_mirror_code():
    import subprocess
    import sys

    code = (
        "import sys, helpers.datasets; "
        "print(sorted(m for m in sys.modules if m.startswith('helpers.offline') or m in "
        "('urllib.request', 'tarfile', 'http.client', 'keras', 'tensorflow')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(("name", "better_than"), [("mnist", 0.5), ("cifar10", 0.5), ("cifar100", 0.2)])
def test_standins_are_learnable(name, better_than):
    """Even a nearest-centroid classifier on raw pixels beats chance (10%, 1%) clearly."""
    from sklearn.neighbors import NearestCentroid

    (x, y), (xt, yt) = datasets.standin(name, 1500, 500)
    model = NearestCentroid().fit(x.reshape(len(x), -1) / 255, y.ravel())
    assert model.score(xt.reshape(len(xt), -1) / 255, yt.ravel()) > better_than


def test_flowers_standin_is_learnable_by_a_small_cnn():
    """Smoke-size stand-in flowers: a two-conv CNN reaches about 90% (chance: 20%) in seconds."""
    course.quiet_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    images, labels, names = CHAPTER_01.load_image_folder(datasets.flowers_dir(), image_size=(48, 48))
    assert names == datasets.FLOWER_CLASSES
    images = images.astype("float32") / 255
    model = keras.Sequential(
        [
            keras.Input((48, 48, 3)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(5, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(images[::2], labels[::2], epochs=30, batch_size=16, verbose=0)
    _, accuracy = model.evaluate(images[1::2], labels[1::2], verbose=0)
    assert accuracy > 0.6


def test_digits_is_real_and_always_available(capsys):
    (x, y), (xt, yt) = datasets.load("digits")
    assert x.shape[1:] == (8, 8) and x.dtype == np.uint8 and x.max() == 255
    assert len(x) + len(xt) == 1797
    assert sorted(set(y.tolist())) == list(range(10))
    assert datasets.class_names("digits")[3] == "3"
    assert "stand-in" not in capsys.readouterr().out


def test_unknown_dataset_name_lists_choices():
    with pytest.raises(ValueError, match="Choose one of: mnist"):
        datasets.load("imagenet")
    with pytest.raises(ValueError, match="flowers"):  # class names exist for the folder dataset too
        datasets.class_names("imagenet")
    assert datasets.class_names("flowers") == ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
    with pytest.raises(ValueError, match="Choose one of: mnist, fashion_mnist, cifar10, cifar100, digits"):
        datasets.load("flowers")  # a folder: datasets.flowers_dir()


def test_mirror_contract(monkeypatch, tmp_path):
    """A DIR/datasets/cifar10.npz you write is what load('cifar10') returns offline."""
    rng = np.random.default_rng(3)
    arrays = {
        "x_train": rng.integers(0, 256, (7, 32, 32, 3), dtype=np.uint8),
        "y_train": rng.integers(0, 10, (7, 1), dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8),
        "y_test": rng.integers(0, 10, (3, 1), dtype=np.uint8),
    }
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "cifar10.npz", **arrays)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    (x_train, y_train), (x_test, y_test) = datasets.load("cifar10")
    for got, key in [(x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")]:
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == arrays[key].dtype


def test_mirror_file_missing_arrays_is_explained(monkeypatch, tmp_path):
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=np.zeros((1, 28, 28), np.uint8))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="prefetch"):
        datasets.load("mnist")


# ------------------------------------------------------------------ folder loaders
def _save(path, image, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kwargs)
    return path


@pytest.fixture
def messy_folder(tmp_path):
    """A class folder the way learners have them: every image mode, bad files, hidden entries."""
    from PIL import Image

    root = tmp_path / "pets"
    good = {
        "cats/rgb.jpg": Image.new("RGB", (40, 30), (200, 30, 30)),
        "cats/grey.png": Image.new("L", (20, 20), 128),
        "cats/grey_alpha.png": Image.new("LA", (20, 20), (90, 128)),
        "cats/rgba.png": Image.new("RGBA", (20, 20), (0, 255, 0, 128)),
        "cats/palette.gif": Image.new("P", (20, 20), 3),
        "dogs/cmyk.jpg": Image.new("CMYK", (20, 20), (0, 128, 128, 0)),
        "dogs/sixteen_bit.png": Image.new("I;16", (20, 20), 40000),
        "dogs/one_bit.bmp": Image.new("1", (20, 20), 1),
        "dogs/photo.JPEG": Image.new("RGB", (64, 48), (10, 10, 200)),
    }
    for name, image in good.items():
        _save(root / name, image)
    palette = Image.new("P", (20, 20), 0)
    _save(root / "dogs" / "transparent.png", palette, transparency=0)
    # hidden entries and non-images: skipped without a word
    _save(root / "cats" / ".ipynb_checkpoints" / "rgb-checkpoint.jpg", Image.new("RGB", (8, 8)))
    _save(root / ".hidden_class" / "x.jpg", Image.new("RGB", (8, 8)))
    _save(root / "dogs" / "._photo.jpg", Image.new("RGB", (8, 8)))
    (root / ".DS_Store").write_bytes(b"\0\1\2")
    (root / "cats" / "notes.txt").write_text("cute")
    (root / "README.md").write_text("loose files at the top are ignored")
    # bad files: reported by name
    (root / "dogs" / "empty.jpg").write_bytes(b"")
    (root / "dogs" / "text.jpg").write_text("I am not a picture")
    jpeg = _save(tmp_path / "ok.jpg", Image.new("RGB", (64, 64), (1, 2, 3))).read_bytes()
    (root / "cats" / "corrupt.jpg").write_bytes(jpeg[:20] + bytes(range(256)) * 4)
    png = _save(tmp_path / "ok.png", Image.effect_noise((64, 64), 50).convert("RGB")).read_bytes()
    (root / "cats" / "truncated.png").write_bytes(png[: len(png) // 2])
    _save(root / "dogs" / "huge.png", Image.new("1", (8000, 8000), 0))
    return root, len(good) + 1


BAD_FILES = ["empty.jpg", "text.jpg", "corrupt.jpg", "truncated.png", "huge.png"]


def test_hand_loader_reads_every_mode_and_reports_bad_files(messy_folder, capsys):
    root, n_good = messy_folder
    images, labels, names = CHAPTER_01.load_image_folder(root, image_size=(24, 32))
    assert names == ["cats", "dogs"]
    assert images.shape == (n_good, 24, 32, 3) and images.dtype == np.uint8
    assert labels.tolist() == [0] * 5 + [1] * 5
    out = capsys.readouterr().out
    assert f"Skipped {len(BAD_FILES)} unreadable file(s)" in out
    for bad in BAD_FILES:
        assert bad in out
    assert "checkpoint" not in out and "notes.txt" not in out and "._photo" not in out


def test_hand_loader_empty_class_and_no_classes(tmp_path):
    from PIL import Image

    _save(tmp_path / "data" / "cats" / "a.png", Image.new("RGB", (4, 4)))
    (tmp_path / "data" / "dogs" / ".ipynb_checkpoints").mkdir(parents=True)
    with pytest.raises(ValueError, match="dogs holds no image files"):
        CHAPTER_01.load_image_folder(tmp_path / "data")
    (tmp_path / "flat").mkdir()
    _save(tmp_path / "flat" / "a.png", Image.new("RGB", (4, 4)))
    with pytest.raises(ValueError, match="no class folders"):
        CHAPTER_01.load_image_folder(tmp_path / "flat")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        CHAPTER_01.load_image_folder(tmp_path / "nowhere")


def test_hand_loader_only_bad_files(tmp_path):
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "a.jpg").write_text("text")
    with pytest.raises(ValueError, match="No readable image"):
        CHAPTER_01.load_image_folder(tmp_path)
