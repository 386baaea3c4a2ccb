"""Chapter 08's cleaning tool, run from the chapter's own cells: its buttons write the decisions
CSV, which survives a restart and a crash while writing; undo takes decisions back; a
hand-edited file's bad row is named by its line; an unknown class is named with the classes
there are; the course's shipped decisions are valid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tools.testing import ROOT, notebook_functions

NOTEBOOK = ROOT / "solutions" / "08_look_inside.ipynb"
chapter = notebook_functions(NOTEBOOK, "read_decisions", "write_decisions", "CleaningTool", "apply_decisions")
CLASSES = ["daisy", "roses", "tulips"]
FILES = ["roses/1.jpg", "daisy/2.jpg", "tulips/3.jpg"]
HEADER = "file,decision,label,note\n"


@pytest.fixture
def photos(tmp_path) -> Path:
    """A dataset folder with the three small JPEGs of FILES."""
    folder = tmp_path / "photos"
    for i, file in enumerate(FILES):
        (folder / file).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((8, 8, 3), 60 * i, dtype="uint8")).save(folder / file)
    return folder


def make_tool(path: Path, photos: Path):
    return chapter.CleaningTool(path, CLASSES, photos, FILES, ["roses", "daisy", "tulips"], ["a", "b", "c"])


def on_disk(path: Path) -> dict[str, tuple[str, str, str]]:
    """The decisions file, read back by the chapter's own reader, as {file: (decision, label, note)}."""
    return {file: (row.decision, row.label, row.note) for file, row in chapter.read_decisions(path, CLASSES).iterrows()}


def test_the_buttons_write_the_file_and_a_restart_picks_it_up(tmp_path, photos):
    photos_before = {p: p.read_bytes() for p in photos.rglob("*.jpg")}
    path = tmp_path / "decisions" / "flowers.csv"
    tool = make_tool(path, photos)
    assert not path.exists() and len(tool.decisions) == 0
    assert bytes(tool.image.value) == (photos / "roses/1.jpg").read_bytes()  # the file's own bytes
    assert "1 / 3" in tool.info.value and "not decided yet" in tool.info.value
    tool.new_label.value = "tulips"
    tool.buttons["relabel"].click()
    assert on_disk(path) == {"roses/1.jpg": ("relabel", "tulips", "")}
    assert tool.position == 1 and "saved: roses/1.jpg" in tool.status.value
    tool.buttons["remove"].click()
    tool.buttons["keep"].click()
    assert on_disk(path) == {
        "daisy/2.jpg": ("remove", "daisy", ""),
        "roses/1.jpg": ("relabel", "tulips", ""),
        "tulips/3.jpg": ("keep", "tulips", ""),
    }
    assert path.read_text(encoding="utf-8").splitlines()[0] == HEADER.strip()
    assert [p.name for p in path.parent.iterdir()] == ["flowers.csv"]  # no temporary file left behind
    restarted = make_tool(path, photos)  # re-running the notebook picks the file up
    assert "decided: <b>relabel</b> (tulips)" in restarted.info.value
    restarted.buttons["next ▶"].click()  # skips without deciding
    assert restarted.position == 1 and on_disk(path)["daisy/2.jpg"] == ("remove", "daisy", "")
    assert {p: p.read_bytes() for p in photos.rglob("*.jpg")} == photos_before  # never moved, renamed or changed


def test_undo_removes_a_new_decision_and_restores_a_replaced_one(tmp_path, photos):
    path = tmp_path / "d.csv"
    tool = make_tool(path, photos)
    tool.buttons["keep"].click()
    tool.show(0)
    tool.new_label.value = "tulips"
    tool.buttons["relabel"].click()
    tool.buttons["remove"].click()
    tool.buttons["undo"].click()
    assert "daisy/2.jpg" not in on_disk(path) and tool.position == 1 and "undone: daisy/2.jpg" in tool.status.value
    tool.buttons["undo"].click()
    assert on_disk(path) == {"roses/1.jpg": ("keep", "roses", "")} and tool.position == 0
    tool.buttons["undo"].click()
    assert on_disk(path) == {}
    tool.buttons["undo"].click()
    assert tool.status.value == "nothing to undo"


def test_a_crash_while_writing_keeps_the_old_file(tmp_path, photos, monkeypatch):
    path = tmp_path / "d.csv"
    tool = make_tool(path, photos)
    tool.buttons["keep"].click()
    before = path.read_text(encoding="utf-8")

    def half_written(self, target, *args, **kwargs):
        Path(target).write_text("file,deci", encoding="utf-8")  # half a file, then the crash
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_written)
    with pytest.raises(KeyboardInterrupt):
        tool.buttons["remove"].click()
    assert path.read_text(encoding="utf-8") == before


def test_an_empty_list_of_photos_is_named_before_any_widget_is_built(tmp_path, photos):
    with pytest.raises(ValueError, match=f"no photos to review in {photos}"):
        chapter.CleaningTool(tmp_path / "d.csv", CLASSES, photos, [], [], [])


def test_a_missing_file_means_no_decision_yet(tmp_path):
    assert len(chapter.read_decisions(tmp_path / "none.csv", CLASSES)) == 0


def test_a_hand_edited_file_with_quotes_and_blank_lines_reads_back(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        HEADER + 'roses/1.jpg,relabel,tulips,"pink, cup-shaped"\n\ndaisy/2.jpg,remove,daisy,\n', encoding="utf-8"
    )
    decisions = chapter.read_decisions(path, CLASSES)
    assert on_disk(path) == {
        "roses/1.jpg": ("relabel", "tulips", "pink, cup-shaped"),
        "daisy/2.jpg": ("remove", "daisy", ""),
    }
    chapter.write_decisions(path, decisions)  # and writes back: the note keeps its comma
    assert on_disk(path)["roses/1.jpg"] == ("relabel", "tulips", "pink, cup-shaped")


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("", "No columns to parse from file. The first line must be the header file,decision,label,note"),
        ("name,what\nroses/1.jpg,keep\n", "the first line must be the header file,decision,label,note, not name,what"),
        (
            HEADER + "roses/1.jpg,delete,roses,\n",
            "line 2: the decision 'delete' for roses/1.jpg is not one of keep, relabel, remove",
        ),
        (
            HEADER + "roses/1.jpg,keep,roses,\n\nroses/2.jpg,relabel,lilies,\n",
            "line 4: roses/2.jpg gets the label 'lilies', which is not a class of this dataset (daisy, roses, tulips)",
        ),
        (HEADER + "roses/1.jpg,keep\n", "line 2: expected 4 values (file,decision,label,note), got 2"),
        (HEADER + "roses/1.jpg,keep,roses,\nroses/2.jpg,keep,roses,a,b\n", "Expected 4 fields in line 3, saw 5"),
    ],
)
def test_a_bad_row_stops_the_tool_naming_its_line_and_nothing_is_rewritten(tmp_path, photos, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as error:
        make_tool(path, photos)
    assert fragment in str(error.value) and str(path) in str(error.value)
    assert path.read_text(encoding="utf-8") == content


def decisions_table(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [(file, decision, label, "") for file, decision, label in rows], columns=["file", "decision", "label", "note"]
    ).set_index("file")


def test_apply_decisions_drops_removed_photos_and_relabels():
    files = ["daisy/a.jpg", "roses/b.jpg", "tulips/c.jpg", "roses/d.jpg"]
    decisions = decisions_table(
        ("roses/b.jpg", "relabel", "tulips"),
        ("tulips/c.jpg", "remove", "tulips"),
        ("roses/d.jpg", "keep", "roses"),
        ("other/x.jpg", "remove", "daisy"),  # a photo not in this list changes nothing
    )
    kept, labels = chapter.apply_decisions(files, np.array([0, 1, 2, 1]), CLASSES, decisions)
    assert list(kept) == [0, 1, 3] and [int(label) for label in labels] == [0, 2, 1]


def test_apply_decisions_names_the_classes_an_unknown_one_is_not_among():
    decisions = decisions_table(("roses/1.jpg", "relabel", "zebra"))
    with pytest.raises(
        ValueError,
        match=r"roses/1.jpg gets the label 'zebra', which is not a class of this dataset \(daisy, roses, tulips\)",
    ):
        chapter.apply_decisions(["roses/1.jpg"], [1], CLASSES, decisions)


def test_the_shipped_course_decisions_are_valid():
    flowers = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
    decisions = chapter.read_decisions(ROOT / "data" / "flower_decisions.csv", flowers)
    assert len(decisions) >= 10
    assert set(decisions.decision) <= {"relabel", "remove"}
    assert all(decisions.note), "every shipped decision says what the photo shows"
    for file, row in decisions.iterrows():
        assert (row.label != file.split("/")[0]) == (row.decision == "relabel"), file
