"""One exercise question: ``check(answer)``, ``hint()``, ``solution()``.

A chapter module (``helpers/exercises/chNN.py``) subclasses :class:`Question` once per
exercise and implements ``_check``: a few plain ``if`` tests that call
``self.fail("...")`` with a message that teaches. The reference solution is the code
from the chapter's solutions notebook, which ``python -m helpers notebooks --write``
copies into ``helpers/exercises/answers/chNN.json``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

from helpers import course

NOT_ATTEMPTED = (Ellipsis, None, NotImplemented)


class CheckFailed(AssertionError):
    """Raised by a failed check in strict mode (``COURSE_STRICT_CHECKS=1``)."""


class _Incorrect(Exception):
    """Internal: a check found a mistake; the message is what the learner reads."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``status`` is 'correct', 'incorrect' or 'not attempted'."""

    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "correct"


_STYLES = {
    "correct": ("#009e73", "&#10004; Correct", "Correct"),
    "incorrect": ("#d55e00", "&#10008; Not yet", "Not yet"),
    "not attempted": ("#0072b2", "&#9998; Not attempted yet", "Not attempted yet"),
    "hint": ("#cc79a7", "&#128161; Hint", "Hint"),
    "solution": ("#56b4e9", "Solution", "Solution"),
}


def render(kind: str, body: str, code: bool = False) -> None:
    """Show feedback as a coloured box in Jupyter and as text elsewhere."""
    colour, html_title, text_title = _STYLES[kind]
    content = f"<pre>{html.escape(body)}</pre>" if code else html.escape(body).replace("\n", "<br>")
    box = (
        f'<div style="border-left:6px solid {colour};padding:6px 12px;margin:4px 0">'
        f'<b style="color:{colour}">{html_title}</b><br>{content}</div>'
    )
    text = f"{text_title}: {body}" if not code else f"{text_title}:\n{body}"
    course.show(text, box)


class Question:
    """Base class of every exercise; subclasses set ``hints`` and implement ``_check``."""

    chapter: ClassVar[str] = ""
    number: ClassVar[int] = 0
    title: ClassVar[str] = ""
    hints: ClassVar[list[str]] = []
    correct_message: ClassVar[str] = "Well done."

    @property
    def key(self) -> str:
        return f"{self.chapter}.q{self.number}"

    # -- what a check does ------------------------------------------------------
    def _check(self, answer: Any) -> str | None:  # pragma: no cover - abstract
        """Call ``self.fail(msg)`` on a mistake; may return an extra success note."""
        raise NotImplementedError

    @staticmethod
    def fail(message: str) -> None:
        """Stop the check with a teaching message."""
        raise _Incorrect(message)

    def verdict(self, answer: Any) -> Verdict:
        """Judge ``answer`` without printing anything (used by tests and ``check``)."""
        if any(answer is marker for marker in NOT_ATTEMPTED):
            return Verdict(
                "not attempted",
                f"Replace the `...` with your answer, run the cell, then call {self.key}.check(...) again. "
                f"Stuck? Try {self.key}.hint().",
            )
        try:
            note = self._check(answer)
        except _Incorrect as exc:
            return Verdict("incorrect", str(exc))
        return Verdict("correct", note or self.correct_message)

    def check(self, answer: Any = Ellipsis) -> None:
        """Check your answer and print feedback (raises in strict mode if it is wrong)."""
        result = self.verdict(answer)
        render(result.status, result.message)
        if not result.ok and course.strict_checks():
            raise CheckFailed(f"{self.key}: {result.status}: {result.message}")

    # -- help -------------------------------------------------------------------
    def hint(self, n: int | None = None) -> None:
        """Show the hints (or only hint ``n``, counting from 1)."""
        if not self.hints:
            render("hint", "No hint for this one: re-read the text just above the exercise.")
            return
        chosen = self.hints if n is None else [self.hints[min(max(n, 1), len(self.hints)) - 1]]
        render("hint", "\n".join(f"{i}. {h}" for i, h in enumerate(chosen, 1)) if len(chosen) > 1 else chosen[0])

    def solution_text(self) -> str:
        """The reference answer, as written in the solutions notebook."""
        answers = load_answers(self.chapter)
        if self.key not in answers:
            raise LookupError(
                f"No reference solution stored for {self.key}: run `python -m helpers notebooks --write`."
            )
        return answers[self.key]

    def solution(self) -> None:
        """Show the reference answer (try the hints first!)."""
        render("solution", self.solution_text(), code=True)

    def __repr__(self) -> str:
        return f"<exercise {self.key}: {self.title}>"


def load_answers(chapter: str) -> dict[str, str]:
    """Reference answers of one chapter, keyed ``'chNN.qK'``."""
    package = resources.files("helpers.exercises") / "answers" / f"{chapter}.json"
    if not package.is_file():
        return {}
    return json.loads(package.read_text(encoding="utf-8"))
