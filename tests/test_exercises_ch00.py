"""The warm-up check of chapter 00, and the check machinery every chapter uses."""

from __future__ import annotations

import pytest

from helpers.exercises import ch00
from helpers.exercises.question import CheckFailed

q1 = ch00.q1


def test_right_answer():
    assert q1.verdict((16, 32, 32, 3)).ok
    assert q1.verdict([16, 32, 32, 3]).ok


@pytest.mark.parametrize(
    "answer, fragment",
    [
        ((16, 3, 32, 32), "channels-first"),
        ((32, 32, 3), "one image"),
        ((8, 32, 32, 3), "16 images"),
        ((16, 32, 32, 1), "3 channels"),
        ("16, 32, 32, 3", "tuple of whole numbers"),
        ((16.0, 32, 32, 3), "whole number"),
        ((16, 32, 3), "one image"),
        ((1, 16, 32, 32, 3), "5 dimensions"),
    ],
)
def test_typical_mistakes_get_a_teaching_message(answer, fragment):
    verdict = q1.verdict(answer)
    assert verdict.status == "incorrect" and fragment in verdict.message


def test_not_attempted_is_a_nudge_not_an_error(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "0")
    q1.check(...)
    assert "Not attempted yet" in capsys.readouterr().out
    assert q1.verdict(None).status == "not attempted"


def test_strict_mode_raises_on_wrong_answers_only(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    q1.check((16, 32, 32, 3))
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="channels-first"):
        q1.check((16, 3, 32, 32))


def test_hint_and_solution(capsys):
    q1.hint()
    q1.hint(2)
    q1.solution()
    out = capsys.readouterr().out
    assert "channels last" in out and "3 channels" in out
    assert "batch_shape = (16, 32, 32, 3)" in out  # taken from the solutions notebook
