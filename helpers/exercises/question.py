"""What every exercise check shares, so a chapter module writes only its teaching messages.

A chapter module subclasses :class:`Question` once per exercise and writes ``_check``: ``if``
tests that each call ``self.fail("...")`` with a message that teaches. Shared behaviour: the
learner copy's placeholders (``...``, ``None``, a ``def`` whose body is ``...``) get a "not
attempted" nudge (:func:`not_attempted`); several parts are separate arguments in the order of
``answer_names``; the learner's function is called through :meth:`Question.call`, which turns a
wrong signature or any exception into a message, and :func:`explain_difference` compares a result
with the reference and names the typical mistake it matches; checks draw random numbers only from
their own seeded generators; in strict mode (``COURSE_STRICT_CHECKS=1``) a wrong answer raises
:class:`CheckFailed`. Reference solutions come from ``helpers/exercises/answers/chNN.json`` (written
by ``python tools/notebooks.py --write``); each exercise's title, hints and message when right are
data in ``texts/chNN.json``.
"""

from __future__ import annotations

import contextlib
import dis
import html
import inspect
import io
import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

import numpy as np

from helpers import course, progress

_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_STYLES = {  # kind: (border colour, title colour with 4.5:1 contrast on white, symbol in the box, title)
    "correct": ("#009e73", "#007e5b", "&#10004; ", "Correct"),
    "incorrect": ("#d55e00", "#b75000", "&#10008; ", "Not yet"),
    "not attempted": ("#0072b2", "#0072b2", "&#9998; ", "Not attempted yet"),
    "hint": ("#cc79a7", "#96597b", "&#128161; ", "Hint"),
    "solution": ("#56b4e9", "#377395", "", "Solution"),
}


class CheckFailed(AssertionError):
    """Raised by a failed check in strict mode (``COURSE_STRICT_CHECKS=1``)."""


class _Incorrect(Exception):
    """A check found a mistake; the message is what the learner reads."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``status`` is 'correct', 'incorrect' or 'not attempted'."""

    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "correct"


def render(kind: str, body: str, code: bool = False) -> None:
    """Show feedback as a coloured box in Jupyter and as text elsewhere."""
    colour, text_colour, symbol, title = _STYLES[kind]
    content = f"<pre>{html.escape(body)}</pre>" if code else html.escape(body).replace("\n", "<br>")
    box = f'<div style="border-left:6px solid {colour};padding:6px 12px;margin:4px 0"><b style="color:{text_colour}">{symbol}{title}</b><br>{content}</div>'
    course.show(f"{title}:{chr(10) if code else ' '}{body}", box)


def _words(n: int) -> str:
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def _is_placeholder_function(value: Any) -> bool:
    """A ``def`` whose body does nothing yet (only a docstring, comments, ``...`` or ``pass``)."""
    code = getattr(inspect.unwrap(getattr(value, "python_function", value)), "__code__", None)
    if code is None or code.co_name == "<lambda>":
        return False
    steps = [(i.opname, i.argval) for i in dis.get_instructions(code) if i.opname not in ("RESUME", "NOP", "CACHE")]
    return steps in ([("LOAD_CONST", None), ("RETURN_VALUE", None)], [("RETURN_CONST", None)])


def not_attempted(value: Any) -> bool:
    """True while ``value`` is still the learner copy's placeholder."""
    return value is Ellipsis or value is None or value is NotImplemented or _is_placeholder_function(value)


class Question:
    """A coding question: subclasses set ``hints`` (and ``answer_names`` for several parts) and write ``_check``."""

    chapter: ClassVar[str] = ""
    number: ClassVar[int] = 0
    title: ClassVar[str] = ""
    hints: ClassVar[list[str]] = []
    correct_message: ClassVar[str] = "Well done."
    answer_names: ClassVar[tuple[str, ...]] = ()
    words: ClassVar[dict] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """An exercise's words (title, hints, message when right) come from ``texts/chNN.json``."""
        super().__init_subclass__(**kwargs)
        if cls.chapter and cls.number:
            words = load_json("texts", cls.chapter).get(f"q{cls.number}", {})
            cls.title = words.get("title", cls.title)
            cls.hints = words.get("hints", cls.hints)
            cls.correct_message = words.get("correct", cls.correct_message)
            cls.words = words  # and whatever else the check says from the data, e.g. a table of lessons

    @property
    def key(self) -> str:
        return f"{self.chapter}.q{self.number}"

    def _check(self, *answers: Any, **context: Any) -> str | None:  # pragma: no cover - abstract
        """Call ``self.fail(msg)`` on a mistake; may return a success note."""
        raise NotImplementedError

    @staticmethod
    def fail(message: str) -> None:
        """Stop the check with a teaching message."""
        raise _Incorrect(message)

    def not_attempted_message(self, answer: Any) -> str:
        if _is_placeholder_function(answer):
            name = getattr(inspect.unwrap(getattr(answer, "python_function", answer)), "__name__", "function")
            return (
                f"Your function {name} does nothing yet: write its body in place of the `...` (and end it with a "
                f"`return` line), run the cell, then check again. Stuck? Try {self.key}.hint()."
            )
        return f"Replace the `...` with your answer, run the cell, then call {self.key}.check(...) again. Stuck? Try {self.key}.hint()."

    def verdict(self, *answers: Any, **context: Any) -> Verdict:
        """Judge the answer(s) without printing anything."""
        expected = max(len(self.answer_names), 1)
        answers = answers or (Ellipsis,) * expected
        if len(answers) != expected:  # also one tuple of all the answers: each is an argument of its own
            form = f"{self.key}.check({', '.join(self.answer_names or ['your_answer'])})"
            many = f"{_words(expected)} answers, separately" if expected > 1 else "one answer"
            return Verdict("incorrect", f"Give the check {many}: {form}.")
        if all(not_attempted(answer) for answer in answers):
            return Verdict("not attempted", self.not_attempted_message(answers[0]))
        missing = [name for name, value in zip(self.answer_names, answers) if not_attempted(value)]
        if expected > 1 and missing:
            return Verdict("incorrect", f"Fill in {' and '.join(missing)} too (it is still `...`).")
        try:
            note = self._check(*answers, **context)
        except _Incorrect as exc:
            return Verdict("incorrect", str(exc))
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:  # an answer of an unexpected kind
            none = " Does your function end with a `return` line?" * ("NoneType" in str(exc))  # it returned None
            return Verdict(
                "incorrect",
                f"The check could not read your answer ({type(exc).__name__}: {exc}).{none} Compare what you give or "
                f"return with what the exercise asks for (its type and shape), or try {self.key}.hint().",
            )
        return Verdict("correct", note or self.correct_message)

    def check(self, *answers: Any, **context: Any) -> None:
        """Check your answer(s) and show feedback (raises in strict mode if it is wrong)."""
        result = self.verdict(*answers, **context)
        render(result.status, result.message)
        progress.record(self.key, result.status)
        if not result.ok and course.strict_checks():
            raise CheckFailed(f"{self.key}: {result.status}: {result.message}")

    def call(self, function: Callable, *args: Any, signature="", where="", explain=None, quiet=False) -> Any:
        """Call the learner's ``function(*args)``; a wrong signature or any exception fails with a teaching message.

        ``signature`` ("add(a, b)") is named when the arguments do not fit, ``where`` says on what
        input it failed, ``explain`` may add a hint: a function ``explain(exc)``, or a dict from a piece
        of the error (its type name or words of its message, any case) to the hint; ``quiet`` hides
        warnings and prints.
        """
        if not callable(function):  # the learner may have passed its result instead
            name = signature.split("(")[0] or "your_function"
            self.fail(
                f"Pass your function itself (`{name}`, without brackets), e.g. {self.key}.check({name}); "
                f"you gave a {type(function).__name__}."
            )
        try:
            inspect.signature(function).bind(*args)
        except TypeError as exc:
            self.fail(
                f"Calling {signature or 'your function'} failed: {exc}. Your function should take {_words(len(args))} argument{'s' * (len(args) != 1)}, in this order."
            )
        except ValueError:  # no signature to inspect (a builtin): just call it
            pass
        try:
            with contextlib.ExitStack() as stack:
                if quiet:
                    stack.enter_context(warnings.catch_warnings())
                    warnings.simplefilter("ignore")
                    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
                return function(*args)
        except _Incorrect:
            raise
        except Exception as exc:  # the learner's code may raise anything: say what, in their terms
            if isinstance(explain, Mapping):
                error = f"{type(exc).__name__}: {exc}".lower()
                extra = next((hint for piece, hint in explain.items() if piece.lower() in error), None)
            else:
                extra = explain(exc) if explain is not None else None
            self.fail(
                f"Your function raised {type(exc).__name__}: {str(exc).rstrip('.')}{f' ({where})' if where else ''}"
                + (f"\n{extra}" if extra else ".")
            )

    def hint(self, n: int | None = None) -> None:
        """Show the hints (or only hint ``n``, counting from 1)."""
        if not self.hints:
            return render("hint", "No hint for this one: re-read the text just above the exercise.")
        chosen = self.hints if n is None else [self.hints[min(max(n, 1), len(self.hints)) - 1]]
        render("hint", "\n".join(f"{i}. {h}" for i, h in enumerate(chosen, 1)) if len(chosen) > 1 else chosen[0])

    def solution_text(self) -> str:
        """The reference answer, as written in the solutions notebook."""
        answers = load_json("answers", self.chapter)  # reference answers, keyed 'chNN.qK'
        if self.key not in answers:
            raise LookupError(f"No reference solution stored for {self.key}: run `python tools/notebooks.py --write`.")
        return answers[self.key]

    def solution(self) -> None:
        """Show the reference answer (try the hints first!), unless this is a graded version."""
        if os.environ.get("COURSE_WITHHOLD_SOLUTIONS") == "1":
            render("hint", f"The solution of {self.key} is withheld in this graded version. Try {self.key}.hint().")
            return
        render("solution", self.solution_text(), code=True)

    def __repr__(self) -> str:
        return f"<exercise {self.key}: {self.title}>"


# ---------------------------------------------------------------------- shared comparisons
def as_array(question: Question, value: Any, what: str) -> np.ndarray:
    """``value`` (a list, NumPy array or tensor) as a NumPy array, or fail naming ``what``."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as exc:
        question.fail(f"{what} should be an array of numbers; got a {type(value).__name__} ({exc}).")


def require_images(question: Question, images: np.ndarray, shape: tuple, name: str) -> None:
    """Fail unless ``images`` is a float32 batch of ``shape``, channels last, saying what is off (chapters 00, 01)."""
    if images.shape == shape[:-1]:
        question.fail(
            f"{name} has shape {images.shape}, without a channel axis: Keras wants one even for grayscale, {shape}."
        )
    if images.shape != shape:
        question.fail(f"{name} has shape {images.shape}; expected {shape}: images unflattened, channels last.")
    if np.issubdtype(images.dtype, np.integer):
        question.fail(
            f"{name} holds {images.dtype} whole numbers; a network wants float32, which holds fractions like 0.5 "
            "(`//` rounds them away): .astype('float32')."
        )
    if images.dtype != np.float32:
        why = ", 8 bytes per value: NumPy makes float64 unless you ask for another type" * (images.dtype == np.float64)
        question.fail(
            f"{name} is {images.dtype}{why}. Keras works in float32 (half the memory of float64): "
            "dtype='float32' in np.zeros, or .astype('float32')."
        )


def require_model(question: Question, answer: Any, name: str = "model") -> Any:
    """Fail unless ``answer`` is a Keras model (says so when a function was passed instead of its result)."""
    import keras

    if isinstance(answer, keras.Model):
        return answer
    if callable(answer) and not isinstance(answer, keras.layers.Layer):
        question.fail(f"Pass the model itself, not the function: call it, e.g. {question.key}.check({name}()).")
    question.fail(
        f"Expected a Keras model (keras.Sequential or keras.Model); got {type(answer).__name__}. "
        "Did your function forget to `return model`?"
    )


def walk_layers(model: Any, kind: str = "") -> list:
    """Every layer of a model in order, descending into nested models (each nested model, then its layers).

    With ``kind``, only the layers whose class name starts with it ("Conv2D", "Random").
    """
    found = []
    for layer in getattr(model, "layers", []):
        found += [layer, *(walk_layers(layer) if hasattr(layer, "layers") else [])]
    return [layer for layer in found if type(layer).__name__.startswith(kind)]


def explain_difference(question, got, expected, mistakes: dict, otherwise: str, atol: float = 1e-8) -> None:
    """Pass when ``got`` is close to ``expected``; else fail with the message of the first of ``mistakes``
    ({message: the value that mistake gives, or a list of such values}) that ``got`` matches, or with ``otherwise``.

    A mistake is matched by its values first; failing that, one whose value has another shape than
    ``expected`` is matched by its shape alone (a result of the wrong shape needs no more to be
    recognised). For checks that compute the learner's result first (chapters 02, 04, 06, 08 and 10).
    """

    def close(value, shape_alone=False) -> bool:
        if value is None or np.shape(got) != np.shape(value):
            return False
        if shape_alone:
            return np.shape(value) != np.shape(expected)
        return np.allclose(got, value, atol=atol)

    if close(expected):
        return
    for shape_alone in (False, True):
        for message, values in mistakes.items():
            if any(close(value, shape_alone) for value in (values if isinstance(values, list) else [values])):
                question.fail(message)
    question.fail(otherwise)


def load_json(folder: str, chapter: str) -> dict:
    """``folder/chapter.json`` next to this module (``answers``, ``texts``), or {} if there is none."""
    path = resources.files("helpers.exercises") / folder / f"{chapter}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
