"""Chapter 09: the data checks on a folder with every problem (each reported, nothing changed),
HEIC photos, folders that cannot be trained on (a clear stop), a zip with an extra folder, the
near-duplicate split (a slowly changing series included), the whole model against the head on
stored features, the same pixels for training and the app, the budget in updates, the
model card's counts and intervals, the upload reader for ipywidgets 7 and 8 and the Colab
branch. The chapter's code lives in the notebook only: these tests run its own functions."""

from __future__ import annotations

import datetime
import hashlib
import io
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tools.testing import notebook_functions

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "09_your_own_classifier.ipynb"
TAUGHT = (
    "class_root",
    "find_files",
    "fingerprint",
    "read_photo",
    "check_photos",
    "report_problems",
    "report_classes",
    "enough_photos",
    "FolderNotReady",
    "embed",
    "cosine_similarities",
    "near_duplicate_groups",
    "cross_class_twins",
    "NEAR_DUPLICATE",
    "stratified_split",
    "load_photos",
    "epochs_for",
    "early_stopping",
    "build_head",
    "build_classifier",
    "wilson_interval",
    "with_interval",
    "card_data",
    "predict_photo",
    "prediction_html",
    "uploaded_files",
    "predictions_for_uploads",
    "upload_app",
)
SIZE = 48
capstone = notebook_functions(NOTEBOOK, *TAUGHT)


def _photo(path: Path, seed: int, size=(160, 120)) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path, quality=90)


@pytest.fixture
def messy_folder(tmp_path):
    """cats (25 good photos), dogs (4 good) and birds (6), plus one of each problem."""
    root = tmp_path / "my_photos"
    for i in range(25):
        _photo(root / "cats" / f"cat_{i:02d}.jpg", seed=i)
    for i in range(4):
        _photo(root / "dogs" / f"dog_{i}.jpg", seed=100 + i)
    for i in range(6):
        _photo(root / "birds" / f"bird_{i}.png", seed=200 + i)
    (root / "cats" / "copy_of_cat_00.jpg").write_bytes((root / "cats" / "cat_00.jpg").read_bytes())  # duplicate
    (root / "dogs" / "cat_05.jpg").write_bytes((root / "cats" / "cat_05.jpg").read_bytes())  # in two classes
    (root / "dogs" / "web_page.jpg").write_text("<html>404 Not Found</html>")  # unreadable
    good = io.BytesIO()
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(good, format="JPEG")
    (root / "birds" / "cut_off.jpg").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])  # truncated
    (root / "birds" / "IMG_0042.heic").write_bytes(HEIC)  # the iPhone's format, by name
    (root / "birds" / "IMG_0043.jpg").write_bytes(HEIC.replace(b"heic", b"mif1", 1))  # by content, renamed
    _photo(root / "birds" / "thumbnail.jpg", seed=300, size=(40, 30))  # tiny
    (root / "birds" / "notes.txt").write_text("taken in May")  # not a photo
    _photo(root / "stray.jpg", seed=400)  # outside the class folders
    (root / "cats" / ".ipynb_checkpoints").mkdir()
    (root / "cats" / ".ipynb_checkpoints" / "cat_00-checkpoint.jpg").write_bytes(b"junk")  # hidden: skipped
    (root / ".DS_Store").write_bytes(b"\x00\x01")
    return root


HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


def _snapshot(root: Path) -> dict:
    """Every entry under root: folder or file, its SHA-256 and its modification time."""
    return {
        str(p.relative_to(root)): (
            p.is_dir(),
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None,
            p.stat().st_mtime_ns,
        )
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def no_pillow_heif(monkeypatch):
    """As on a machine without pillow-heif, whether or not it is installed here."""
    from helpers import images

    monkeypatch.setitem(images._heif, "readable", False)


def _problem(photos: pd.DataFrame, name: str) -> str | None:
    row = photos[photos["path"].map(lambda p: Path(p).name) == name]
    assert len(row) == 1, f"{name} should be listed once"
    problem = row["problem"].iloc[0]
    return None if pd.isna(problem) else problem


def test_every_problem_is_found_and_the_folder_is_untouched(messy_folder, capsys, no_pillow_heif):
    before = _snapshot(messy_folder)
    photos = capstone.check_photos(messy_folder, SIZE)
    kinds = capstone.report_problems(photos, image_size=224)
    counts, warnings = capstone.report_classes(photos)
    printed = capsys.readouterr().out
    assert _snapshot(messy_folder) == before, "the checks must not delete, move, rename or rewrite anything"

    assert _problem(photos, "copy_of_cat_00.jpg") == "duplicate"
    assert _problem(photos, "cat_00.jpg") is None, "the first copy of a duplicate stays usable"
    assert (
        photos[photos["path"].map(lambda p: Path(p).name) == "cat_05.jpg"]["problem"].tolist()
        == ["same photo in two classes"] * 2
    )
    assert _problem(photos, "web_page.jpg") == "unreadable"
    assert _problem(photos, "cut_off.jpg") == "unreadable"
    assert _problem(photos, "IMG_0042.heic") == _problem(photos, "IMG_0043.jpg") == "iPhone photo (HEIC)"
    assert _problem(photos, "thumbnail.jpg") == "tiny"
    assert _problem(photos, "notes.txt") == "not a photo"
    assert _problem(photos, "stray.jpg") == "outside the class folders"
    assert not any("checkpoint" in str(p) or ".DS_Store" in str(p) for p in photos["path"]), "hidden files skipped"

    assert kinds == sorted(
        [
            "duplicate",
            "same photo in two classes",
            "unreadable",
            "iPhone photo (HEIC)",
            "tiny",
            "not a photo",
            "outside the class folders",
        ]
    )
    for kind in kinds:
        assert f"! {kind}:" in printed
    assert printed.count("What to do:") == len(kinds)
    assert "web_page.jpg" in printed and "cut_off.jpg" in printed
    assert "pip install pillow-heif" in printed and "JPEG" in printed

    used = set(photos[photos["use"]]["path"].map(lambda p: Path(p).name))
    assert "thumbnail.jpg" in used and "cat_00.jpg" in used
    assert not used & {"copy_of_cat_00.jpg", "cat_05.jpg", "web_page.jpg", "cut_off.jpg", "notes.txt", "stray.jpg"}
    assert not used & {"IMG_0042.heic", "IMG_0043.jpg"}
    assert counts.to_dict() == {"dogs": 4, "birds": 7, "cats": 24}
    assert any("'dogs' has 4 usable photos" in w for w in warnings)
    assert any("Imbalance" in w and "'cats'" in w and "'dogs'" in w for w in warnings)
    with pytest.raises(capstone.FolderNotReady, match=r"'dogs' \(4\)") as stop:
        capstone.enough_photos(counts, messy_folder)
    assert "at least 5" in str(stop.value) and "'cats'" not in str(stop.value)
    with pytest.raises(capstone.FolderNotReady, match="'dogs'"):  # the split stops the same way, not scikit-learn
        capstone.stratified_split(photos, seed=42)


def test_heic_with_pillow_heif_installed_is_decoded_like_any_photo(tmp_path, monkeypatch):
    from helpers import images

    monkeypatch.setitem(images._heif, "readable", True)  # as with pillow-heif installed
    (tmp_path / "IMG_0042.heic").write_bytes(HEIC)
    assert capstone.fingerprint(tmp_path / "IMG_0042.heic")["problem"] is None  # goes on to be decoded
    # (these bytes are only a header, so decoding then finds it unreadable, as a broken photo)
    assert capstone.read_photo(tmp_path / "IMG_0042.heic", SIZE)["problem"] == "unreadable"


def test_a_clean_folder_reports_nothing(tmp_path, capsys):
    for offset, label in enumerate(("a", "b")):
        for i in range(20):
            _photo(tmp_path / label / f"{i}.jpg", seed=1000 * offset + i)  # 40 different photos
    photos = capstone.check_photos(tmp_path, SIZE)
    assert capstone.report_problems(photos, 224) == []
    counts, warnings = capstone.report_classes(photos)
    assert warnings == [] and counts.tolist() == [20, 20]
    assert "No problem found" in capsys.readouterr().out


def _stop(folder):
    """The message the chapter stops with for this folder (checks, counts, then the split)."""
    photos = capstone.check_photos(folder, SIZE)
    counts, _ = capstone.report_classes(photos)
    with pytest.raises(capstone.FolderNotReady) as stop:
        capstone.enough_photos(counts, folder)
    with pytest.raises(capstone.FolderNotReady):
        capstone.stratified_split(photos, seed=42)
    return str(stop.value)


def test_a_missing_folder_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="PHOTOS_DIR"):
        capstone.find_files(tmp_path / "nope")


def test_an_empty_folder_stops_clearly(tmp_path):
    assert "holds no class folders" in _stop(tmp_path) and "one subfolder per class" in _stop(tmp_path)


def test_photos_without_class_folders_stop_clearly(tmp_path):
    for i in range(6):
        _photo(tmp_path / f"{i}.jpg", seed=i)
    assert "one subfolder per class" in _stop(tmp_path)


def test_one_class_stops_clearly(tmp_path):
    for i in range(8):
        _photo(tmp_path / "only" / f"{i}.jpg", seed=i)
    message = _stop(tmp_path)
    assert "Only 1 class" in message and "only" in message and "at least two" in message


def test_a_class_without_usable_photos_is_named(tmp_path, no_pillow_heif):
    for i in range(8):
        _photo(tmp_path / "cats" / f"{i}.jpg", seed=i)
        _photo(tmp_path / "dogs" / f"{i}.jpg", seed=50 + i)
    (tmp_path / "birds").mkdir()
    (tmp_path / "birds" / "IMG_1.heic").write_bytes(HEIC)
    message = _stop(tmp_path)
    assert "'birds' (0)" in message and "cats" not in message and "move their folders out" in message


def test_a_zip_with_an_extra_folder_and_colab_sample_data(tmp_path):
    archive = tmp_path / "my_photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for label in ("cats", "dogs"):
            for i in range(3):
                buffer = io.BytesIO()
                Image.fromarray(np.full((120, 120, 3), 40 * i + (label == "dogs") * 7, np.uint8)).save(buffer, "PNG")
                zf.writestr(f"my_photos/{label}/{i}.png", buffer.getvalue())
        zf.writestr("__MACOSX/my_photos/cats/._0.png", b"mac resource fork")
    content = tmp_path / "content"  # Colab's /content: sample_data, the zip, and where it was unzipped
    (content / "sample_data").mkdir(parents=True)
    (content / "sample_data" / "mnist_test.csv").write_text("0,0\n")
    zipfile.ZipFile(archive).extractall(content / "my_photos")
    for folder in (content, content / "my_photos"):
        assert capstone.class_root(folder) == content / "my_photos" / "my_photos"
        files = capstone.find_files(folder)
        assert sorted(files["label"].unique()) == ["cats", "dogs"] and len(files) == 6
    single = tmp_path / "single" / "cats"  # one class folder alone stays a class (and then the stop says so)
    _photo(single / "0.jpg", seed=0)
    assert capstone.class_root(tmp_path / "single") == tmp_path / "single"


def test_a_cap_applies_only_when_set(tmp_path):
    for label in ("a", "b"):
        for i in range(9):
            _photo(tmp_path / label / f"{i}.jpg", seed=100 * ord(label) + i)
    every = capstone.check_photos(tmp_path, SIZE)
    assert every["use"].sum() == 18
    capped = capstone.check_photos(tmp_path, SIZE, per_class=5, seed=1)
    assert capped[capped["use"]].groupby("label").size().tolist() == [5, 5]
    assert capped["pixels"].notna().sum() == 10, "photos over the cap are not even decoded"
    again = capstone.check_photos(tmp_path, SIZE, per_class=5, seed=1)
    assert list(again[again["use"]]["path"]) == list(capped[capped["use"]]["path"]), "seeded: the same photos"


def test_near_duplicate_groups_keep_a_burst_together_and_distinct_photos_apart():
    rng = np.random.default_rng(0)
    distinct = rng.normal(size=(6, 64))
    burst = distinct[0] + rng.normal(scale=0.01, size=(4, 64))  # four frames of one shot
    labels = ["a"] * 10
    groups = capstone.near_duplicate_groups(np.vstack([distinct, burst]), labels, threshold=0.93)
    assert len(set(groups[[0, 6, 7, 8, 9]])) == 1, "a burst is one group, with its original"
    assert len(set(groups[:6])) == 6, "different photos stay in groups of their own"


def test_near_duplicates_of_two_classes_are_reported_not_grouped():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(6, 64))
    features[5] = features[1] + rng.normal(scale=0.01, size=64)  # the same shot, filed as "b"
    labels = np.array(["a", "a", "a", "b", "b", "b"])
    groups = capstone.near_duplicate_groups(features, labels)
    assert len(set(groups)) == 6, "groups never span two classes"
    assert capstone.cross_class_twins(features, labels) == [(1, 5)]
    assert capstone.cross_class_twins(features, np.array(["a"] * 6)) == [], "same class: a burst, not a label problem"


def _slow_series(n, size=16, seed=0):
    """n photos that change a little from one to the next: from one random photo to another."""
    rng = np.random.default_rng(seed)
    start, end = rng.integers(0, 255, (2, size, size, 3)).astype(float)
    return np.array([(1 - t) * start + t * end for t in np.linspace(0, 1, n)]).round().astype(np.uint8)


def test_a_slowly_changing_series_does_not_swallow_its_class():
    """Like shelf photos taken one step apart: each is a near-duplicate of the next, the ends are not alike.
    Linking every such pair would make one group of the whole class and leave nothing to split."""
    import keras

    series = _slow_series(40)
    others = np.random.default_rng(9).integers(0, 255, (40, 16, 16, 3)).astype(np.uint8)
    base = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Reshape((1, 1, 16 * 16 * 3))])  # features = pixels
    features = capstone.embed(base, lambda x: x / 127.5 - 1, np.concatenate([series, others]), batch_size=16)
    labels = np.array(["shelf"] * 40 + ["other"] * 40)

    similarity = capstone.cosine_similarities(features[:40])
    assert np.diag(similarity, k=1).min() >= capstone.NEAR_DUPLICATE, "every photo is a near-duplicate of the next"
    assert similarity[0, -1] < 0.5, "but the two ends are not alike"

    groups = capstone.near_duplicate_groups(features, labels)
    assert len(set(groups[:40])) >= 3, "average linkage breaks the chain into several groups"
    assert np.bincount(groups[:40]).max() <= 20, "none of them holds more than half the class"
    assert all(np.all(np.diff(np.flatnonzero(groups[:40] == g)) == 1) for g in set(groups[:40])), "of neighbours"
    photos = pd.DataFrame({"path": [f"{c}/{i}" for c, i in zip(labels, range(80))], "label": labels, "use": True})
    photos["group"] = groups
    for seed in (0, 1, 42):
        parts = capstone.stratified_split(photos, seed=seed)
        for part in parts:
            assert set(part["label"]) == {"shelf", "other"}, "every class has photos in every part"
        for g in set(groups):
            assert sum(part["group"].eq(g).any() for part in parts) == 1, "each group on one side"


def test_embeddings_of_a_burst_group_it_together():
    """embed() on real pixel arrays, with a stand-in base whose features are the pixels themselves."""
    import keras

    rng = np.random.default_rng(1)
    distinct = rng.integers(0, 255, (6, 16, 16, 3)).astype(np.uint8)
    frames = [
        np.clip(distinct[2].astype(int) + shift + rng.integers(-2, 3, (16, 16, 3)), 0, 255) for shift in (4, 8, -6)
    ]
    pixels = np.concatenate([distinct, np.array(frames, np.uint8)])  # photo 2 and three frames of its burst
    base = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Reshape((1, 1, 16 * 16 * 3))])
    features = capstone.embed(base, lambda x: x / 127.5 - 1, pixels, batch_size=4)
    assert features.shape == (9, 768)
    groups = capstone.near_duplicate_groups(features, ["a"] * 9)
    assert len(set(groups[[2, 6, 7, 8]])) == 1 and len(set(groups[:6])) == 6


def test_the_whole_model_gives_the_heads_logits_on_stored_features():
    """Train the head on embed()'s features, put it on the base: the same logits from the pixels."""
    import keras

    keras.utils.set_random_seed(0)
    base = keras.Sequential(
        [keras.Input((24, 24, 3)), keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.BatchNormalization()],
        name="stand_in_base",
    )

    def preprocess(x):
        return x / 127.5 - 1

    pixels = np.random.default_rng(2).integers(0, 255, (20, 24, 24, 3)).astype(np.uint8)
    labels = np.arange(20) % 3
    features = capstone.embed(base, preprocess, pixels, batch_size=8)
    head = capstone.build_head(features.shape[1], 3)
    head.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    head.fit(features, labels, epochs=3, batch_size=8, verbose=0)
    classifier = capstone.build_classifier(base, preprocess, head, 24)
    assert classifier.input_shape == (None, 24, 24, 3) and classifier.output_shape == (None, 3)
    assert not base.trainable and len(classifier.trainable_weights) == 2, "only the head's kernel and bias train"
    np.testing.assert_allclose(
        classifier.predict(pixels, verbose=0), head.predict(features, verbose=0), rtol=1e-4, atol=1e-4
    )
    assert np.abs(head.predict(features, verbose=0)).max() > 0.1, "a trained head, not all zeros"


@pytest.mark.parametrize("seed", [0, 1, 2, 42])
def test_a_burst_lands_on_one_side_of_the_split(seed):
    rows = [{"path": f"{c}/{i}.jpg", "label": c, "use": True, "group": f"{c}{i}"} for c in "ab" for i in range(20)]
    for i in range(8):  # a burst of 8 frames of one scene in class a
        rows.append({"path": f"a/burst_{i}.jpg", "label": "a", "use": True, "group": "burst"})
    photos = pd.DataFrame(rows)
    train, val, test = capstone.stratified_split(photos, seed=seed)
    sides = [name for name, part in zip("tvs", (train, val, test)) if part["group"].eq("burst").any()]
    assert len(sides) == 1, f"the burst is split over {sides}"
    assert len(train) + len(val) + len(test) == len(photos) and not set(train["path"]) & set(test["path"])
    assert set(val["label"]) == set(test["label"]) == {"a", "b"}


def test_a_class_of_few_shots_stops_clearly():
    rows = [{"path": f"b/{i}.jpg", "label": "b", "use": True, "group": i} for i in range(6)]
    rows += [{"path": f"a/{i}.jpg", "label": "a", "use": True, "group": i % 2 + 100} for i in range(6)]  # 2 shots
    with pytest.raises(capstone.FolderNotReady, match="'a'.*2 shot"):
        capstone.stratified_split(pd.DataFrame(rows), seed=0)


def test_five_photos_per_class_split_one_one_three():
    photos = pd.DataFrame(
        {"path": [f"{c}/{i}" for c in "abcd" for i in range(5)], "label": [c for c in "abcd" for _ in range(5)]}
    )
    photos["use"] = True
    train, val, test = capstone.stratified_split(photos, seed=3)
    assert val["label"].value_counts().to_dict() == test["label"].value_counts().to_dict() == dict.fromkeys("abcd", 1)
    assert train["label"].value_counts().to_dict() == dict.fromkeys("abcd", 3)


def test_split_is_stratified_seeded_and_disjoint(tmp_path):
    photos = pd.DataFrame(
        {"path": [f"{c}/{i}.jpg" for c in "abc" for i in range(40)], "label": [c for c in "abc" for _ in range(40)]}
    )
    photos["use"] = True
    train, val, test = capstone.stratified_split(photos, seed=42)
    assert (len(train), len(val), len(test)) == (84, 18, 18)
    for part in (val, test):
        assert part["label"].value_counts().tolist() == [6, 6, 6]
    assert not (set(train["path"]) & set(val["path"]) or set(train["path"]) & set(test["path"]))
    again = capstone.stratified_split(photos, seed=42)[2]
    assert list(again["path"]) == list(test["path"])
    assert list(capstone.stratified_split(photos, seed=7)[2]["path"]) != list(test["path"])


def test_load_photos_gives_uint8_squares(tmp_path):
    _photo(tmp_path / "a" / "wide.jpg", seed=1, size=(300, 100))
    Image.fromarray(np.zeros((50, 80), np.uint8)).save(tmp_path / "a" / "grey.png")
    images = capstone.load_photos(capstone.check_photos(tmp_path, 64))
    assert images.shape == (2, 64, 64, 3) and images.dtype == np.uint8


def test_training_and_the_app_see_the_same_pixels(tmp_path, monkeypatch):
    """A big phone-like JPEG stored sideways: the checks' pixels (training) equal the app's, draft mode and all."""
    rng = np.random.default_rng(5)
    small = rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)
    big = Image.fromarray(small).resize((1600, 1200), Image.Resampling.BICUBIC)
    exif = big.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "cats" / "IMG_0001.JPG"
    path.parent.mkdir()
    big.save(path, quality=92, exif=exif)
    trained_on = capstone.load_photos(capstone.check_photos(tmp_path, SIZE))[0]

    seen = {}

    def tflite_predict(interpreter, batch):  # what reaches the model in the app
        seen["batch"] = batch
        return np.zeros((1, 3))

    namespace = capstone.predict_photo.__globals__  # the chapter's own namespace: give it the app's variables
    stand_ins = {
        "IMAGE_SIZE": SIZE,
        "interpreter": None,
        "class_names": ["cats", "dogs", "birds"],
        "tflite_predict": tflite_predict,
        "top_k": lambda p, names, top: names[:top],
    }
    for name, value in stand_ins.items():
        monkeypatch.setitem(namespace, name, value)
    image, _ = capstone.predict_photo(path)
    np.testing.assert_array_equal(seen["batch"][0], image)
    assert image.dtype == np.float32 and image.shape == (SIZE, SIZE, 3)
    np.testing.assert_array_equal(trained_on, image.astype(np.uint8))
    np.testing.assert_array_equal(trained_on.astype(np.float32), image)  # no rounding between the two


def _jpeg_with_exif_tag(path: Path, count: int, offset: int) -> Path:
    """A JPEG whose EXIF holds one text tag of `count` bytes stored at `offset`, wherever that points."""
    import struct

    ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0x010E, 2, count, offset) + struct.pack("<I", 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd
    Image.fromarray(np.full((120, 160, 3), 90, np.uint8)).save(path, exif=exif)
    return path


def test_a_damaged_exif_tag_is_read_without_pillows_warning(tmp_path):
    """Some phone JPEGs carry an EXIF tag that claims more bytes than the file holds: Pillow skips it and
    warns (in words that differ between Pillow releases). The checks read such a photo quietly."""
    import warnings

    from PIL import ImageOps

    for name, count, offset in (("IMG_0007.jpg", 100_000, 26), ("IMG_0008.jpg", 20, 40)):  # a long and a short tag
        path = _jpeg_with_exif_tag(tmp_path / "cats" / name, count=count, offset=offset)
        with pytest.warns(UserWarning):
            ImageOps.exif_transpose(Image.open(path))  # what Pillow says on its own
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            info = capstone.read_photo(path, SIZE)
        assert info["problem"] is None and info["pixels"].shape == (SIZE, SIZE, 3)


# ----------------------------------------------------------------- training budget and the model card
def test_the_budget_is_counted_in_updates():
    assert capstone.epochs_for(160, 350) == 15  # 11 updates per epoch
    assert capstone.epochs_for(160, 31) == 160  # a tiny folder: one update per epoch, many epochs
    assert capstone.epochs_for(1, 5000) == 1
    assert capstone.early_stopping(350).patience == 3 and capstone.early_stopping(31).patience == 30
    assert capstone.early_stopping(5000).patience == 3  # never fewer than 3 epochs


@pytest.mark.parametrize(
    "right, n, text",
    [(6, 7, "86% (49–97%)"), (60, 70, "86% (76–92%)"), (7, 7, "100% (65–100%)"), (0, 7, "0% (0–35%)")],
)
def test_accuracies_come_with_wilson_intervals(right, n, text):
    assert capstone.with_interval(right, n) == text
    low, high = capstone.wilson_interval(right, n)
    assert 0 <= low <= right / n <= high <= 1


def test_the_model_card_counts_what_was_used(messy_folder, no_pillow_heif):
    photos = capstone.check_photos(messy_folder, SIZE, per_class=6, seed=0)
    photos = photos[photos["label"] != "dogs"].copy()  # a class with too few photos, left out by the learner
    train, val, test = capstone.stratified_split(photos, seed=0)
    text = capstone.card_data(photos, train, val, test, "my_photos", per_class=6)
    used = len(train) + len(val) + len(test)
    assert used == 12 == photos["use"].sum()
    assert f"**Data.** {used} photos" in text and f"{len(train)} for training, {len(val)} for validation" in text
    never_opened = int((photos["problem"].isna() & photos["pixels"].isna()).sum())
    assert never_opened >= 18  # 24 usable-looking cats, 6 used
    assert f"at most 6 photos per class were used, {never_opened} more were not" in text
    left = text.split("Files left out")[1].split("\n")[0]
    assert "iPhone photo (HEIC): 2" in left and "not a photo: 1" in left and "duplicate: 1" in left
    assert "tiny" not in left and "dogs" not in text
    assert "near-duplicates" not in text  # not looked for: not claimed
    photos["group"] = range(len(photos))
    assert "near-duplicates kept on one side" in capstone.card_data(photos, train, val, test, "my_photos", 6)
    assert "1 tiny photo(s)" in text and "are used" in text


# ----------------------------------------------------------------- uploads
def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_uploaded_files_ipywidgets_7_shape():
    content = _jpeg_bytes()
    value = {
        "photo.jpg": {"metadata": {"name": "photo.jpg", "type": "image/jpeg", "size": len(content)}, "content": content}
    }
    assert capstone.uploaded_files(value) == [("photo.jpg", content)]


def test_uploaded_files_ipywidgets_8_shape():
    content = _jpeg_bytes()
    value = (
        {
            "name": "a.jpg",
            "type": "image/jpeg",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": 0,
        },
        {"name": "b.png", "type": "image/png", "size": 3, "content": memoryview(b"abc"), "last_modified": 0},
    )
    files = capstone.uploaded_files(value)
    assert files == [("a.jpg", content), ("b.png", b"abc")]
    assert all(isinstance(data, bytes) for _, data in files)


def test_uploaded_files_empty_values():
    assert capstone.uploaded_files(()) == [] and capstone.uploaded_files({}) == []


def test_uploaded_files_real_widget_value():
    import ipywidgets as widgets  # a course requirement: missing must fail, not skip

    upload = widgets.FileUpload()
    content = _jpeg_bytes()
    if int(widgets.__version__.split(".")[0]) >= 8:
        upload.value = (
            {
                "name": "x.jpg",
                "type": "image/jpeg",
                "size": len(content),
                "content": memoryview(content),
                "last_modified": datetime.datetime.now(datetime.timezone.utc),
            },
        )
    else:  # ipywidgets 7: value is read-only, built from what the front end sends
        upload.metadata = [{"name": "x.jpg", "type": "image/jpeg", "size": len(content), "lastModified": 0}]
        upload.data = [content]
        upload._counter += 1  # the front end counts each pick; the widget then builds its value
        assert set(upload.value) == {"x.jpg"}
    assert capstone.uploaded_files(upload.value) == [("x.jpg", content)]


@pytest.fixture
def app_namespace(monkeypatch):
    """The chapter's namespace with a stand-in prediction_html (the model is not needed here)."""
    namespace = capstone.upload_app.__globals__
    monkeypatch.setitem(
        namespace, "prediction_html", lambda path: f"<p>{Path(path).name}: {Path(path).stat().st_size}</p>"
    )
    return namespace


def test_the_app_uses_colabs_own_upload_on_colab(tmp_path, monkeypatch, app_namespace, capsys):
    content = b"\xff\xd8" + b"\x00" * 5_000_000  # 5 MB: more than Colab's FileUpload widget passes on
    colab = types.ModuleType("google.colab")
    colab.files = types.SimpleNamespace(upload=lambda: {"IMG_0001.JPG": content})
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    shown = capstone.upload_app(tmp_path)
    said = capsys.readouterr().out
    assert "Colab" in said and "any size" in said and "1 MB" in said  # says why, in the learner's words
    assert shown.data == f"<p>IMG_0001.JPG: {len(content)}</p>"
    assert (tmp_path / "IMG_0001.JPG").read_bytes() == content


def test_the_app_uses_ipywidgets_elsewhere(tmp_path, monkeypatch, app_namespace):
    import ipywidgets as widgets

    monkeypatch.setitem(sys.modules, "google.colab", None)  # importing it fails, as outside Colab
    app = capstone.upload_app(tmp_path)
    upload = app.children[0].children[0]
    assert isinstance(upload, widgets.FileUpload)
    content = _jpeg_bytes()
    if int(widgets.__version__.split(".")[0]) >= 8:
        upload.value = ({"name": "x.jpg", "type": "image/jpeg", "size": len(content), "content": memoryview(content),
                         "last_modified": datetime.datetime.now(datetime.timezone.utc)},)  # fmt: skip
        assert app.children[1].value == f"<p>x.jpg: {len(content)}</p>"


def test_an_uploaded_heic_photo_gets_the_advice_in_the_app(tmp_path, monkeypatch, no_pillow_heif):
    namespace = capstone.predict_photo.__globals__
    monkeypatch.setitem(namespace, "IMAGE_SIZE", SIZE)
    shown = capstone.predictions_for_uploads([("IMG_0042.HEIC", HEIC)], tmp_path)
    assert 'class="photo-error"' in shown and "IMG_0042.HEIC" in shown
    assert "HEIC" in shown and "JPEG" in shown and "pip install pillow-heif" in shown
