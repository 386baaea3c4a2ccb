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


class MultipleChoice(Question):
    """One review question, from its entry in a data file: ``check("b")`` explains the option chosen, right or wrong.

    The entry's fields are checked when the notebooks are written (``python tools/notebooks.py --check``).
    """

    hints = [HINT]

    def __init__(self, key: str, entry: Any) -> None:
        self._key, self.question, self.title = key, entry["question"], entry["question"]
        self.options = {str(letter).lower(): option["text"] for letter, option in entry["options"].items()}
        self.explanations = {str(letter).lower(): option["explanation"] for letter, option in entry["options"].items()}
        self.answer = str(entry["answer"]).lower()

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
    try:  # the fields are checked by `tools/notebooks.py --check`; here a broken file only needs naming
        entries = json.loads(path.read_text(encoding="utf-8"))
        made = {f"r{n}": MultipleChoice(f"review.{chapter}.r{n}", entry) for n, entry in enumerate(entries, 1)}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"{path.name} is not a valid list of review questions ({type(exc).__name__}: {exc}): "
            "`python tools/notebooks.py --check` names the question and the field that is wrong."
        ) from exc
    return SimpleNamespace(**made, questions=list(made.values()))


CHAPTERS = {f"ch{n:02d}": read_chapter(DATA / f"ch{n:02d}.json") for n in range(11)}
"""Every chapter's review questions, keyed 'ch00' ... 'ch10'."""
ch00, ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10 = CHAPTERS.values()
