"""Chapter 09: the data checks on a folder with every problem (each reported, nothing changed),
the split, the upload reader for ipywidgets 7 and 8, and the exercise check. The chapter's
code lives in the notebook only: these tests run its own functions."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tools.testing import notebook_functions

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "09_your_own_classifier.ipynb"
TAUGHT = (
    "find_files",
    "inspect_file",
    "check_photos",
    "report_problems",
    "report_classes",
    "stratified_split",
    "load_photos",
    "build_classifier",
    "uploaded_files",
)
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
    (root / "birds" / "IMG_0042.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)  # phone format
    _photo(root / "birds" / "thumbnail.jpg", seed=300, size=(40, 30))  # tiny
    (root / "birds" / "notes.txt").write_text("taken in May")  # not a photo
    _photo(root / "stray.jpg", seed=400)  # outside the class folders
    (root / "cats" / ".ipynb_checkpoints").mkdir()
    (root / "cats" / ".ipynb_checkpoints" / "cat_00-checkpoint.jpg").write_bytes(b"junk")  # hidden: skipped
    (root / ".DS_Store").write_bytes(b"\x00\x01")
    return root


def _snapshot(root: Path) -> dict:
    return {
        str(p.relative_to(root)): (p.is_dir(), p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


def _problem(photos: pd.DataFrame, name: str) -> str | None:
    row = photos[photos["path"].map(lambda p: Path(p).name) == name]
    assert len(row) == 1, f"{name} should be listed once"
    problem = row["problem"].iloc[0]
    return None if pd.isna(problem) else problem


def test_every_problem_is_found_and_the_folder_is_untouched(messy_folder, capsys):
    before = _snapshot(messy_folder)
    photos = capstone.check_photos(messy_folder)
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
    assert _problem(photos, "web_page.jpg").startswith("unreadable")
    assert _problem(photos, "cut_off.jpg").startswith("unreadable")
    assert _problem(photos, "IMG_0042.heic") == "not a photo"
    assert _problem(photos, "thumbnail.jpg") == "tiny"
    assert _problem(photos, "notes.txt") == "not a photo"
    assert _problem(photos, "stray.jpg") == "outside the class folders"
    assert not any("checkpoint" in str(p) or ".DS_Store" in str(p) for p in photos["path"]), "hidden files skipped"

    assert kinds == sorted(
        ["duplicate", "same photo in two classes", "unreadable", "tiny", "not a photo", "outside the class folders"]
    )
    for kind in kinds:
        assert f"! {kind}:" in printed
    assert printed.count("What to do:") == len(kinds)
    assert "web_page.jpg" in printed and "cut_off.jpg" in printed

    used = set(photos[photos["use"]]["path"].map(lambda p: Path(p).name))
    assert "thumbnail.jpg" in used and "cat_00.jpg" in used
    assert not used & {"copy_of_cat_00.jpg", "cat_05.jpg", "web_page.jpg", "cut_off.jpg", "notes.txt", "stray.jpg"}
    assert counts.to_dict() == {"dogs": 4, "birds": 7, "cats": 24}
    assert any("'dogs' has 4 usable photos" in w for w in warnings)
    assert any("Imbalance" in w and "'cats'" in w and "'dogs'" in w for w in warnings)


def test_a_clean_folder_reports_nothing(tmp_path, capsys):
    for offset, label in enumerate(("a", "b")):
        for i in range(20):
            _photo(tmp_path / label / f"{i}.jpg", seed=1000 * offset + i)  # 40 different photos
    photos = capstone.check_photos(tmp_path)
    assert capstone.report_problems(photos, 224) == []
    counts, warnings = capstone.report_classes(photos)
    assert warnings == [] and counts.tolist() == [20, 20]
    assert "No problem found" in capsys.readouterr().out


def test_one_class_and_a_missing_folder_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="PHOTOS_DIR"):
        capstone.find_files(tmp_path / "nope")
    for i in range(3):
        _photo(tmp_path / "only" / f"{i}.jpg", seed=i)
    _, warnings = capstone.report_classes(capstone.check_photos(tmp_path))
    assert any("at least two" in w for w in warnings)


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
    _photo(tmp_path / "wide.jpg", seed=1, size=(300, 100))
    Image.fromarray(np.zeros((50, 80), np.uint8)).save(tmp_path / "grey.png")
    images = capstone.load_photos([tmp_path / "wide.jpg", tmp_path / "grey.png"], 64)
    assert images.shape == (2, 64, 64, 3) and images.dtype == np.uint8


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
