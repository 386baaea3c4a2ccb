"""Review questions at the end of every chapter: ``review.ch03.r1.check("b")``.

The questions are data: ``reviews/chNN.json`` next to this module holds one chapter's list of
questions, each ``{"question": ..., "options": {"a": {"text": ..., "explanation": ...}, ...},
"answer": "b"}`` (a number or "which line is wrong" is asked as options too). Every option
carries its own explanation: a wrong answer is told the misconception behind it, the right one
why it is right. The questions aim at the mistakes learners really make. They quote no measured
accuracy, gap or time (those change with every measurement): a number in a question is a made-up
example for reasoning, like "1% of scans show a disease". This module reads the files into
:class:`MultipleChoice` objects (``tools/notebooks.py`` builds each chapter's review section from them).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from helpers.exercises.question import Question

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

HINT = "Re-read the section of the chapter this question is about, then rule out one option at a time."
DATA = resources.files("helpers.exercises") / "reviews"
FIELDS = ("question", "options", "answer")
OPTION_FIELDS = ("text", "explanation")


def _require_fields(entry: object, fields: tuple[str, ...], where: str) -> None:
    """Raise a ValueError naming ``where`` unless ``entry`` is an object with every one of ``fields``."""
    if not isinstance(entry, dict):
        raise ValueError(f"{where} should be an object with the fields {list(fields)}; it is a {type(entry).__name__}.")
    missing = [field for field in fields if field not in entry]
    if missing:
        raise ValueError(f"{where} has no {' and no '.join(map(repr, missing))}: it needs the fields {list(fields)}.")


class MultipleChoice(Question):
    """One review question, from its entry in a data file: ``check("b")`` explains the option chosen, right or wrong.

    ``where`` names the entry in the errors that say what is missing from it.
    """

    hints = [HINT]

    def __init__(self, key: str, entry: Any, where: str = "") -> None:
        where = where or key
        _require_fields(entry, FIELDS, where)
        if not isinstance(entry["options"], dict):
            raise ValueError(f"{where}: 'options' should map letters to options, like {{\"a\": {{...}}}}.")
        for letter, option in entry["options"].items():
            _require_fields(option, OPTION_FIELDS, f"{where}, option ({letter})")
        self._key, self.question, self.title = key, entry["question"], entry["question"]
        self.options = {str(letter).lower(): option["text"] for letter, option in entry["options"].items()}
        self.explanations = {str(letter).lower(): option["explanation"] for letter, option in entry["options"].items()}
        self.answer = str(entry["answer"]).lower()
        if self.answer not in self.options:
            raise ValueError(
                f"{where}: The right answer {entry['answer']!r} is not one of the options {sorted(self.options)}."
            )

    @property
    def key(self) -> str:
        return self._key

    def _explained(self, letter: str) -> str:
        return f"({letter}) {self.options[letter]}: {self.explanations[letter]}"

    def not_attempted_message(self, answer: Any) -> str:
        letters = ", ".join(f'"{letter}"' for letter in self.options)
        return f'Answer with the letter of one option ({letters}), e.g. {self.key}.check("{next(iter(self.options))}").'

    def _check(self, answer: Any) -> str:
        letter = answer.strip().strip("()").lower() if isinstance(answer, str) else None
        if letter not in self.options:
            letters = ", ".join(f'"{option}"' for option in self.options)
            self.fail(f"Answer with the letter of one option ({letters}); you gave {answer!r}.")
        if letter != self.answer:
            self.fail(self._explained(letter))
        return self._explained(letter)

    def solution_text(self) -> str:
        return f"({self.answer}) {self.options[self.answer]}\n{self.explanations[self.answer]}"


def read_chapter(path: Path | Traversable) -> SimpleNamespace:
    """One chapter's questions from its JSON file (``chNN.json``): ``.r1``, ``.r2``, ... and ``.questions`` in order."""
    chapter = path.name.removesuffix(".json")
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}).") from exc
    if not isinstance(entries, list) or not entries:
        held = "an empty list" if entries == [] else f"a {type(entries).__name__}"
        raise ValueError(f"{path.name} should hold a list of questions; it holds {held}.")
    made = {
        f"r{n}": MultipleChoice(f"review.{chapter}.r{n}", entry, f"{path.name}, question R{n}")
        for n, entry in enumerate(entries, 1)
    }
    return SimpleNamespace(**made, questions=list(made.values()))


CHAPTERS = {f"ch{n:02d}": read_chapter(DATA / f"ch{n:02d}.json") for n in range(11)}
"""Every chapter's review questions, keyed 'ch00' ... 'ch10'."""
ch00, ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10 = CHAPTERS.values()
