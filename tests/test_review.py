"""Review questions: every option of every chapter's questions checked, and the review section
at the end of each chapter notebook matching the questions."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from helpers.exercises import review
from tools import notebooks

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [q for chapter in review.CHAPTERS.values() for q in chapter.questions]


def test_every_chapter_has_four_to_six_questions():
    assert list(review.CHAPTERS) == [f"ch{n:02d}" for n in range(11)]
    for key, chapter in review.CHAPTERS.items():
        assert 4 <= len(chapter.questions) <= 6, key
        assert [q.key for q in chapter.questions] == [
            f"review.{key}.r{i}" for i in range(1, len(chapter.questions) + 1)
        ]
        assert getattr(review, key) is chapter
        assert chapter.r1 is chapter.questions[0]


def spread_problems(answers: list[str]) -> list[str]:
    """What is wrong with a chapter's right letters: one right too often, or one never right."""
    problems = [
        f"'{a}' is right in {answers.count(a)} of {len(answers)}"
        for a in set(answers)
        if answers.count(a) > len(answers) / 2
    ]
    return problems + [f"'{letter}' is never right" for letter in "abcd" if letter not in answers]


def test_spread_problems_finds_an_always_b_chapter():
    assert spread_problems(list("abcd")) == [] and spread_problems(list("acdbc")) == []
    assert spread_problems(list("bbbb")) == [
        "'b' is right in 4 of 4",
        "'a' is never right",
        "'c' is never right",
        "'d' is never right",
    ]
    assert spread_problems(list("abcdbb")) == [] and spread_problems(list("abcdbbb")) == ["'b' is right in 4 of 7"]


@pytest.mark.parametrize("chapter", sorted(review.CHAPTERS))
def test_right_letters_are_spread_over_a_to_d(chapter):
    """A learner who always answers the same letter passes at most half of a chapter's questions."""
    assert spread_problems([q.answer for q in review.CHAPTERS[chapter].questions]) == []


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.key)
def test_every_option_gets_its_own_explanation(question):
    assert question.answer in question.options and len(question.options) >= 3
    explanations = list(question.explanations.values())
    assert len(set(explanations)) == len(explanations), "each option explains its own misconception"
    for letter, text in question.options.items():
        explanation = question.explanations[letter]
        for given in (letter, letter.upper(), f"({letter})", f" {letter} "):
            verdict = question.verdict(given)
            assert verdict.status == ("correct" if letter == question.answer else "incorrect"), (question.key, given)
            assert text in verdict.message and explanation in verdict.message
    assert question.explanations[question.answer] in question.solution_text()


@pytest.mark.parametrize("answer", [..., None])
def test_not_attempted(answer):
    verdict = review.ch03.r1.verdict(answer)
    assert verdict.status == "not attempted" and 'review.ch03.r1.check("a")' in verdict.message


@pytest.mark.parametrize("answer", ["z", "line 2", 2, "", ["a"]])
def test_not_an_option(answer):
    verdict = review.ch02.r1.verdict(answer)
    assert verdict.status == "incorrect" and "letter of one option" in verdict.message


def test_check_prints_and_raises_only_in_strict_mode(monkeypatch, capsys):
    question = review.ch01.r1
    wrong = next(letter for letter in question.options if letter != question.answer)
    monkeypatch.delenv("COURSE_STRICT_CHECKS", raising=False)
    question.check(wrong)
    assert "Not yet" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    question.check(question.answer)
    with pytest.raises(AssertionError, match="review.ch01.r1"):
        question.check(wrong)


# ---------------------------------------------------------------- the renderer, on a data file of its own
POOLING = {
    "question": "Which layer halves height and width?",
    "options": {
        "a": {"text": "Conv2D(8, 3, padding='same')", "explanation": "'same' keeps the size."},
        "b": {"text": "MaxPooling2D(2)", "explanation": "Right: 2x2 windows, stride 2."},
        "c": {"text": "Dense(10)", "explanation": "Dense has no height."},
    },
    "answer": "b",
}


def _chapter_file(tmp_path, questions, name="ch42.json"):
    path = tmp_path / name
    path.write_text(json.dumps(questions) if not isinstance(questions, str) else questions, encoding="utf-8")
    return path


def test_a_data_file_becomes_questions_with_the_learners_api(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("COURSE_STRICT_CHECKS", raising=False)
    chapter = review.read_chapter(_chapter_file(tmp_path, [POOLING, POOLING]))
    assert [q.key for q in chapter.questions] == [
        "review.ch42.r1",
        "review.ch42.r2",
    ] and chapter.r2 is chapter.questions[1]
    right = chapter.r1.verdict("b")
    assert right.ok and right.message == "(b) MaxPooling2D(2): Right: 2x2 windows, stride 2."
    wrong = chapter.r1.verdict("a")
    assert wrong.status == "incorrect" and wrong.message == "(a) Conv2D(8, 3, padding='same'): 'same' keeps the size."
    chapter.r1.check("c")
    chapter.r1.hint()
    out = capsys.readouterr().out
    assert "Not yet: (c) Dense(10): Dense has no height." in out and "rule out one option at a time" in out
    assert notebooks.review_markdown(chapter.r2).startswith("**R2.** Which layer halves height and width?\n\n- **(a)**")


@pytest.mark.parametrize("answer", ["z", 2, ["b"]])
def test_a_malformed_answer_is_told_what_to_give(tmp_path, answer):
    verdict = review.read_chapter(_chapter_file(tmp_path, [POOLING])).r1.verdict(answer)
    assert verdict.status == "incorrect"
    assert verdict.message == f'Answer with the letter of one option ("a", "b", "c"); you gave {answer!r}.'


def _without(mapping, *path):
    """A deep copy of ``mapping`` with the key at ``path`` removed."""
    copy = json.loads(json.dumps(mapping))
    inner = copy
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return copy


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ([POOLING, _without(POOLING, "answer")], r"ch42.json, question R2 has no 'answer': it needs the fields"),
        (
            [_without(POOLING, "options", "c", "explanation")],
            r"ch42.json, question R1, option \(c\) has no 'explanation': it needs the fields \['text', 'explanation'\]",
        ),
        ([{**POOLING, "answer": "d"}], r"ch42.json, question R1: The right answer 'd' is not one of the options"),
        ([POOLING, "What is a kernel?"], r"ch42.json, question R2 should be an object with the fields"),
        ({"questions": [POOLING]}, r"ch42.json should hold a list of questions; it holds a dict"),
        ([], r"ch42.json should hold a list of questions; it holds an empty list"),
        ('[{"question": "Which layer?",}]', r"ch42.json is not valid JSON \(.*line 1 column"),
    ],
    ids=["no answer", "no explanation", "answer not an option", "not an object", "not a list", "empty", "not JSON"],
)
def test_a_broken_data_file_names_the_file_and_the_question(tmp_path, questions, message):
    """The authoring check names the file, the question and the field; at run time the file is named."""
    path = _chapter_file(tmp_path, questions)
    with pytest.raises(notebooks.AuthoringError, match=message):
        notebooks.check_review_file(path)
    if questions != [] and "right answer" not in message:  # an empty or mis-answered file still loads
        with pytest.raises(ValueError, match=r"ch42.json is not a valid list of review questions .*tools/notebooks.py"):
            review.read_chapter(path)


def test_the_authoring_check_runs_before_the_review_sections_are_written(tmp_path):
    (tmp_path / "helpers" / "exercises" / "reviews").mkdir(parents=True)
    _chapter_file(tmp_path / "helpers" / "exercises" / "reviews", [_without(POOLING, "answer")], "ch03.json")
    with pytest.raises(notebooks.AuthoringError, match="ch03.json, question R1 has no 'answer'"):
        notebooks.plan(tmp_path)


def test_markdown_lists_the_question_and_every_option():
    text = notebooks.review_markdown(review.ch02.r2)
    assert text.startswith("**R2.** How many parameters")
    for letter, option in review.ch02.r2.options.items():
        assert f"- **({letter})** {option}" in text


def _review_cells(chapter: str) -> list:
    path = next((ROOT / "solutions").glob(f"{chapter[2:]}_*.ipynb"), None)
    if path is None:
        pytest.skip(f"no solutions notebook for {chapter} yet")
    cells = nbformat.read(path, as_version=4).cells
    return cells, [c for c in cells if str(c.get("id", "")).startswith(f"review-{chapter}")]


@pytest.mark.parametrize("chapter", list(review.CHAPTERS))
def test_notebook_ends_with_its_review_section(chapter):
    cells, section = _review_cells(chapter)
    if not section:
        pytest.skip(f"{chapter}'s notebook has no review section yet")
    expected = notebooks.review_cells(chapter)
    assert cells[-len(expected) :] == section, "the review section is the end of the notebook"
    assert [(c.cell_type, c.source, c.id) for c in section] == [(c.cell_type, c.source, c.id) for c in expected]


@pytest.mark.parametrize("chapter", list(review.CHAPTERS))
def test_review_cells_run_in_both_copies(chapter, monkeypatch, capsys):
    """The solutions cells pass in strict mode; the learner cells get the 'not attempted' nudge."""
    _, section = _review_cells(chapter)
    if not section:
        pytest.skip(f"{chapter}'s notebook has no review section yet")
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    code = [c.source for c in section if c.cell_type == "code"]
    namespace: dict = {}
    for source in code:
        exec(source, namespace)  # noqa: S102 - the course's own notebook cells
    learner = [notebooks.learner_source(source, markdown=False) for source in code]
    assert all("answer = ...  # Your code here" in source for source in learner[1:])
    monkeypatch.delenv("COURSE_STRICT_CHECKS")
    capsys.readouterr()
    for source in learner:
        exec(source, namespace)  # noqa: S102
    assert capsys.readouterr().out.count("Not attempted yet") == len(code) - 1
