"""The warm-up check of chapter 00 (a batch as one array), and the check machinery every chapter uses."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import ch00
from helpers.exercises.question import CheckFailed

q1 = ch00.q1


def batch(shape=(6, 28, 28, 1), *pixels, dtype="float32", value=1.0):
    made = np.zeros(shape, dtype=dtype)
    for pixel in pixels:
        made[pixel] = value
    return made


def right_answer():
    answer = np.zeros((6, 28, 28, 1), dtype="float32")
    answer[2, 10, 20, 0] = 1.0
    return answer


def test_right_answer():
    assert q1.verdict(right_answer()).ok
    assert "batch is float64" in q1.verdict(right_answer().tolist()).message  # a list, float64 once converted


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (batch((6, 28, 28), (2, 10, 20)), "without a channel axis"),
        (batch((6, 1, 28, 28), (2, 0, 10, 20)), "channels last"),
        (batch((6, 28, 28, 3), (2, 10, 20, 0)), "expected (6, 28, 28, 1)"),
        (batch((6, 28, 28, 1), (2, 10, 20, 0), dtype="uint8", value=1), "whole numbers"),
        (batch(), "still black"),
        (batch((6, 28, 28, 1), (3, 10, 20, 0)), "You lit up batch[3, 10, 20, 0]. Python counts from 0"),
        (batch((6, 28, 28, 1), (2, 20, 10, 0)), "swapped"),
        (
            batch((6, 28, 28, 1), (2, 10, slice(None), 0)),
            "28 pixel(s) of your batch are not black, the first at (2, 10, 0, 0)",
        ),
        (
            batch((6, 28, 28, 1), (2, 10, 20, 0), value=255.0),
            "1 pixel(s) of your batch are not black, the first at (2, 10, 20, 0) with value 255.0",
        ),
        ("np.zeros", "has shape ()"),
        (batch((6, 28, 28, 1), (2, 10, 20, 0), dtype="float64"), "dtype='float32'"),  # np.zeros without dtype
        (
            batch((6, 28, 28, 1), (2, 9, 19, 0)),
            "You lit up batch[2, 9, 19, 0]. Python counts from 0",
        ),  # row 10 read as the tenth
        (batch((6, 28, 28, 1), (3, 9, 19, 0)), "the third image is batch[2]"),  # everything counted from 1
    ],
)
def test_typical_mistakes_get_a_teaching_message(answer, fragment):
    verdict = q1.verdict(answer)
    assert verdict.status == "incorrect" and fragment in verdict.message, verdict.message


def test_not_attempted_is_a_nudge_not_an_error(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "0")
    q1.check(...)
    assert "Not attempted yet" in capsys.readouterr().out
    assert q1.verdict(None).status == "not attempted"


def test_strict_mode_raises_on_wrong_answers_only(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    q1.check(right_answer())
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="channels last"):
        q1.check(batch((6, 1, 28, 28), (2, 0, 10, 20)))


def test_hints_lead_and_only_the_last_gives_the_answer(capsys):
    q1.hint(1)
    first = capsys.readouterr().out
    assert "(6, 28, 28, 1)" not in first and "channels" in first
    q1.hint(4)
    assert "(6, 28, 28, 1)" in capsys.readouterr().out
    q1.solution()
    assert "batch[2, 10, 20, 0] = 1.0" in capsys.readouterr().out  # taken from the solutions notebook
