"""Progress: real check() calls leave outcomes beside the models folder; the tables read them back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import progress
from helpers.exercises import ch00, review
from tools.room_progress import room_table


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path / "course" / "models"))
    monkeypatch.delenv("COURSE_PROGRESS", raising=False)
    monkeypatch.delenv("COURSE_STRICT_CHECKS", raising=False)
    return tmp_path / "course"


def right_letter(question):
    return question.answer


def wrong_letter(question):
    return next(letter for letter in question.options if letter != question.answer)


def test_checks_are_recorded_beside_the_models_folder_and_tabled(home, capsys):
    r1, r2 = review.ch01.r1, review.ch01.r2
    r1.check(wrong_letter(r1))
    r1.check(right_letter(r1))
    r2.check(wrong_letter(r2))
    ch00.q1.check(...)  # not attempted: nothing to record
    outcomes = progress.read(home / "progress.jsonl")
    assert [(o["question"], o["right"]) for o in outcomes] == [
        ("review.ch01.r1", False), ("review.ch01.r1", True), ("review.ch01.r2", False),
    ]  # fmt: skip
    table = progress.learner_table(outcomes)
    assert table.loc["ch01", "r1"] == "done" and table.loc["ch01", "r2"] == "tried"
    assert table.loc["ch01", "r3"] == "not yet" and table.loc["ch00", "q1"] == "not yet"
    assert set(progress.questions()["ch03"]) >= {"q1", "r1"}


def test_a_right_answer_stays_done_after_a_later_wrong_one():
    outcomes = [{"question": "ch02.q1", "right": True}, {"question": "ch02.q1", "right": False}]
    assert progress.learner_table(outcomes, {"ch02": ["q1", "q2"]}).loc["ch02"].tolist() == ["done", "not yet"]


def test_recording_never_fails_a_check(home, capsys):
    home.mkdir(parents=True)
    (home / "progress.jsonl").mkdir()  # cannot be opened for appending, like a file on a full disk
    q = review.ch01.r1
    q.check(wrong_letter(q))
    assert q.explanations[wrong_letter(q)][:30] in capsys.readouterr().out  # the learner still gets the answer
    assert (home / "progress.jsonl").is_dir()


def test_an_unwritable_home_still_gets_its_answer(tmp_path, monkeypatch, capsys):
    (tmp_path / "not-a-folder").write_text("")  # its "subfolders" cannot be made, whoever you are
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path / "not-a-folder" / "course" / "models"))
    q = review.ch02.r1
    q.check(wrong_letter(q))
    assert q.explanations[wrong_letter(q)][:30] in capsys.readouterr().out


def test_switched_off(home):
    os.environ["COURSE_PROGRESS"] = "0"
    try:
        review.ch01.r1.check(right_letter(review.ch01.r1))
    finally:
        del os.environ["COURSE_PROGRESS"]
    assert not (home / "progress.jsonl").exists()


def test_a_hand_edited_file_keeps_its_good_lines(tmp_path):
    path = tmp_path / "p.jsonl"
    good = {"question": "ch01.q1", "right": True, "time": "2026-12-05T10:00:00+00:00"}
    path.write_text(json.dumps(good) + '\nnot json\n{"question": 3}\n' + '{"question": "ch01.q2", "ri')
    assert progress.read(path) == [good]


def test_a_rooms_table_from_the_learners_files(tmp_path):
    room = tmp_path / "room"
    room.mkdir()
    (room / "ana.jsonl").write_text(
        "\n".join(json.dumps({"question": q, "right": ok}) for q, ok in [("ch01.q1", True), ("review.ch01.r1", True)])
    )
    (room / "ben.jsonl").write_text(json.dumps({"question": "ch01.q1", "right": False}))
    table = room_table(room, {"ch01": ["q1", "q2", "r1"], "ch02": ["q1"]})
    assert table.loc["ana"].tolist() == ["2/3", "0/1"] and table.loc["ben"].tolist() == ["0/3", "0/1"]
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        room_table(room / "ana.jsonl")
    (tmp_path / "empty-room").mkdir()
    with pytest.raises(FileNotFoundError, match=r"No progress files \(\*.jsonl\) in .*empty-room"):
        room_table(tmp_path / "empty-room")


def test_the_command_prints_both_tables(home, tmp_path):
    review.ch01.r1.check(right_letter(review.ch01.r1))
    env = {**os.environ}
    mine = subprocess.run([sys.executable, "-m", "helpers", "progress"], env=env, capture_output=True, text=True)
    assert mine.returncode == 0 and "1 checks recorded" in mine.stdout and "done" in mine.stdout
    room = tmp_path / "room"
    room.mkdir()
    (room / "ana.jsonl").write_text((home / "progress.jsonl").read_text())
    theirs = subprocess.run([sys.executable, "-m", "helpers", "progress", str(room)], capture_output=True, text=True)
    assert theirs.returncode == 0 and "ana" in theirs.stdout and "1/" in theirs.stdout
    typo = subprocess.run(
        [sys.executable, "-m", "helpers", "progress", str(room / "nobody")], capture_output=True, text=True
    )
    assert typo.returncode == 2 and "is not a folder" in typo.stderr and "Traceback" not in typo.stderr
