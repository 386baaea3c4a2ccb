"""helpers.cleaning: the decisions CSV round-trips, undoes, refuses malformed files clearly,
and the widget's Python side records what its buttons say."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import cleaning

CLASSES = ["daisy", "roses", "tulips"]


def test_decisions_round_trip_and_survive_a_restart(tmp_path):
    path = tmp_path / "sub" / "decisions.csv"
    log = cleaning.DecisionLog(path, CLASSES)
    assert len(log) == 0 and not path.exists()
    log.decide("roses/1.jpg", "relabel", "tulips", note="tulips, filed as roses")
    log.decide("daisy/2.jpg", "remove", "daisy")
    log.decide("tulips/3.jpg", "keep", "tulips")
    again = cleaning.read_decisions(path, CLASSES)
    assert again == log.decisions
    assert again["roses/1.jpg"] == cleaning.Decision("roses/1.jpg", "relabel", "tulips", "tulips, filed as roses")
    assert path.read_text(encoding="utf-8").splitlines()[0] == "file,decision,label,note"
    restarted = cleaning.DecisionLog(path, CLASSES)  # re-running the notebook picks the file up
    assert restarted.decisions == log.decisions


def test_undo_removes_a_new_decision_and_restores_a_replaced_one(tmp_path):
    path = tmp_path / "d.csv"
    log = cleaning.DecisionLog(path, CLASSES)
    log.decide("roses/1.jpg", "keep", "roses")
    log.decide("roses/1.jpg", "relabel", "tulips")
    log.decide("daisy/2.jpg", "remove", "daisy")
    assert log.undo() == "daisy/2.jpg"
    assert "daisy/2.jpg" not in cleaning.read_decisions(path)
    assert log.undo() == "roses/1.jpg"
    assert cleaning.read_decisions(path)["roses/1.jpg"].decision == "keep"
    assert log.undo() == "roses/1.jpg"
    assert cleaning.read_decisions(path) == {}
    assert log.undo() is None


def test_a_missing_file_is_no_error_and_says_so(tmp_path, capsys):
    assert cleaning.read_decisions(tmp_path / "none.csv") == {}
    assert "No decisions yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("", "columns ['file', 'decision', 'label'] are missing"),
        ("name,what\nroses/1.jpg,keep\n", "is not a decisions file"),
        ("file,decision,label,note\nroses/1.jpg,delete,roses,\n", "line 2: decision 'delete'"),
        ("file,decision,label,note\nroses/1.jpg,keep,roses,\nroses/2.jpg,relabel,lilies,\n", "line 3: label 'lilies'"),
        ("file,decision,label,note\nroses/1.jpg,keep\n", "line 2: expected 4 comma-separated values"),
        ("file,decision,label,note\nroses/1.jpg,keep,roses,a,b\n", "the row 'roses/1.jpg,keep,roses,a,b' has 5 values"),
        ("file,decision,label,note\n,keep,roses,\n", "'file' column is empty"),
    ],
)
def test_malformed_files_get_a_clear_message(tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(cleaning.DecisionsFileError) as error:
        cleaning.read_decisions(path, CLASSES)
    assert fragment in str(error.value)
    assert str(path) in str(error.value)


def test_a_wrong_decision_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "d.csv"
    log = cleaning.DecisionLog(path, CLASSES)
    with pytest.raises(cleaning.DecisionsFileError, match="not one of keep, relabel, remove"):
        log.decide("roses/1.jpg", "burn", "roses")
    with pytest.raises(cleaning.DecisionsFileError, match="not a class"):
        log.decide("roses/1.jpg", "relabel", "lilies")
    assert not path.exists() and log.undo() is None


def test_apply_decisions_drops_removed_and_relabels():
    files = ["daisy/a.jpg", "roses/b.jpg", "tulips/c.jpg", "roses/d.jpg"]
    decisions = {
        "roses/b.jpg": cleaning.Decision("roses/b.jpg", "relabel", "tulips"),
        "tulips/c.jpg": cleaning.Decision("tulips/c.jpg", "remove", "tulips"),
        "roses/d.jpg": cleaning.Decision("roses/d.jpg", "keep", "roses"),
        "other/x.jpg": cleaning.Decision("other/x.jpg", "remove", "daisy"),
    }
    kept, labels = cleaning.apply_decisions(files, [0, 1, 2, 1], CLASSES, decisions)
    assert kept == [0, 1, 3] and labels == [0, 2, 1]


def test_the_shipped_course_decisions_are_valid():
    decisions = cleaning.course_decisions(
        "flower_decisions.csv", ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
    )
    assert len(decisions) >= 10
    assert {d.decision for d in decisions.values()} <= {"relabel", "remove"}
    assert all(d.note for d in decisions.values()), "every shipped decision says what the photo shows"
    for d in decisions.values():
        folder = d.file.split("/")[0]
        assert (d.label != folder) == (d.decision == "relabel")


def test_the_widget_buttons_write_the_csv(tmp_path):
    import ipywidgets  # noqa: F401  (a course requirement: missing must fail, not skip)

    path = tmp_path / "d.csv"
    log = cleaning.DecisionLog(path, CLASSES)
    images = np.zeros((3, 8, 8, 3), dtype="uint8")
    tool = cleaning.CleaningTool(
        log, ["roses/1.jpg", "daisy/2.jpg", "tulips/3.jpg"], ["roses", "daisy", "tulips"], lambda i: images[i]
    )
    assert bytes(tool.image.value).startswith(b"\x89PNG") and "1 / 3" in tool.info.value
    tool.new_label.value = "tulips"
    tool.buttons["relabel"].click()
    assert cleaning.read_decisions(path)["roses/1.jpg"] == cleaning.Decision("roses/1.jpg", "relabel", "tulips")
    assert tool.position == 1 and "saved: roses/1.jpg" in tool.status.value
    tool.buttons["remove"].click()
    tool.buttons["keep"].click()
    assert [d.decision for d in cleaning.read_decisions(path).values()] == ["remove", "relabel", "keep"]
    tool.undo_button.click()
    assert "tulips/3.jpg" not in cleaning.read_decisions(path) and "undone" in tool.status.value
    tool.previous_button.click()
    assert tool.position == 1 and "decided: <b>remove</b>" in tool.info.value
    with pytest.raises(ValueError, match="differ in length"):
        cleaning.CleaningTool(log, ["a.jpg"], [], lambda i: images[0])


def test_apply_decisions_explains_an_unknown_class_and_uneven_lists():
    decisions = {"roses/1.jpg": cleaning.Decision("roses/1.jpg", "relabel", "zebra")}
    with pytest.raises(
        ValueError,
        match=r"roses/1.jpg gives it the class 'zebra', which is not a class of this dataset \(daisy, roses, tulips\)",
    ):
        cleaning.apply_decisions(["roses/1.jpg"], [1], CLASSES, decisions)
    with pytest.raises(ValueError, match="files and labels differ in length"):
        cleaning.apply_decisions(["roses/1.jpg", "daisy/2.jpg"], [1], CLASSES, {})


def test_a_hand_edited_file_reads_back_and_a_bad_row_loses_nothing(tmp_path):
    path = tmp_path / "d.csv"
    text = 'file,decision,label,note\nroses/1.jpg,relabel,tulips,"pink, cup-shaped"\n\ndaisy/2.jpg,remove,daisy,\n'
    path.write_text(text, encoding="utf-8")
    assert cleaning.read_decisions(path, CLASSES)["roses/1.jpg"].note == "pink, cup-shaped"  # quotes keep the comma
    broken = text + "tulips/3.jpg,keep\n"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(cleaning.DecisionsFileError, match=r"line 5: expected 4 comma-separated values"):
        cleaning.DecisionLog(path, CLASSES)
    assert path.read_text(encoding="utf-8") == broken  # refused before anything was rewritten
