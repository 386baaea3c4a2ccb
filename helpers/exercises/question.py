"""Exercise problem types: what every check shares, so each question is a few teaching messages.

A chapter module (``helpers/exercises/chNN.py``) builds one object per exercise from these
types and writes only what is particular to it: the ``if`` tests of ``_check``, each calling
``self.fail("...")`` with a message that teaches. Everything else behaves the same in every
chapter:

* **Not attempted.** ``...``, ``None`` and ``NotImplemented`` (what the learner copy of a
  notebook starts with), and a ``def`` whose body is still only ``...``/``pass``, get a
  friendly "not attempted yet" nudge, never an error (:func:`not_attempted`).
* **Multi-part answers** are passed as separate arguments, in the order the notebook
  names them: ``ch04.q1.check(my_augmentation, variants)``. A question with several parts
  lists their names in ``answer_names``; its ``_check`` receives them as separate arguments.
  All parts still ``...`` is "not attempted"; some of them still ``...`` names the missing
  ones. Extra facts the check needs (not answers) are keyword arguments, e.g.
  ``check(counts, chart, labels=y_train)``, and reach ``_check`` as keywords.
* **The learner's function** is called through :meth:`Question.call`: a wrong number of
  arguments or any exception becomes a teaching message that names it.
* **Global random state is never touched** by a check: a check that needs random numbers makes
  its own seeded generator (``np.random.default_rng(seed)``, a ``keras.random.SeedGenerator(seed)``
  passed as ``seed=``, layers built with seeded initializers and ``Dropout(rate, seed=...)``), so
  the learner's next random numbers are the ones they would have been without the check, and
  the same answer always gets the same verdict.
* Shared comparisons: :func:`shape_tuple`, :func:`as_array`, :func:`first_mismatch`,
  :func:`require_model`, :func:`walk_layers` / :func:`layer_types`.

Question types: :class:`Question` (a coding question, you write ``_check``),
:class:`ShapeQuestion` (the answer is an array shape) and :class:`MultipleChoice` (one object
per question, ``check("b")``, an explanation per option).

The reference solution of a coding question is the code from the chapter's solutions
notebook, which ``python tools/notebooks.py --write`` copies into
``helpers/exercises/answers/chNN.json``.
"""

from __future__ import annotations

import contextlib
import dis
import html
import inspect
import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

import numpy as np

from helpers import course, progress

NOT_ATTEMPTED = (Ellipsis, None, NotImplemented)

_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


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


# ---------------------------------------------------------------------- not attempted
def is_blank(value: Any) -> bool:
    """True for the placeholders a learner copy starts with: ``...``, ``None``, ``NotImplemented``."""
    return any(value is marker for marker in NOT_ATTEMPTED)


def is_placeholder_function(value: Any) -> bool:
    """True for a ``def`` whose body does nothing yet (only a docstring, comments, ``...`` or ``pass``)."""
    function = inspect.unwrap(getattr(value, "python_function", value))  # tf.function keeps the original
    code = getattr(function, "__code__", None)
    if code is None or code.co_name == "<lambda>":
        return False
    steps = [(i.opname, i.argval) for i in dis.get_instructions(code) if i.opname not in ("RESUME", "NOP", "CACHE")]
    return steps in ([("LOAD_CONST", None), ("RETURN_VALUE", None)], [("RETURN_CONST", None)])


def not_attempted(value: Any) -> bool:
    """True when ``value`` is still the learner's placeholder (see the module docstring)."""
    return is_blank(value) or is_placeholder_function(value)


# ---------------------------------------------------------------------- questions
class Question:
    """A coding question: subclasses set ``hints`` (and ``answer_names`` for several parts) and write ``_check``."""

    chapter: ClassVar[str] = ""
    number: ClassVar[int] = 0
    title: ClassVar[str] = ""
    hints: ClassVar[list[str]] = []
    correct_message: ClassVar[str] = "Well done."
    #: The names of the answers, in order, when the question has several parts (check(a, b)).
    answer_names: ClassVar[tuple[str, ...]] = ()

    @property
    def key(self) -> str:
        return f"{self.chapter}.q{self.number}"

    # -- what a check does ------------------------------------------------------
    def _check(self, *answers: Any, **context: Any) -> str | None:  # pragma: no cover - abstract
        """Call ``self.fail(msg)`` on a mistake; may return an extra success note."""
        raise NotImplementedError

    @staticmethod
    def fail(message: str) -> None:
        """Stop the check with a teaching message."""
        raise _Incorrect(message)

    def not_attempted_message(self, answer: Any) -> str:
        """The nudge shown while the answer is still the placeholder."""
        if is_placeholder_function(answer):
            name = getattr(inspect.unwrap(getattr(answer, "python_function", answer)), "__name__", "function")
            return (
                f"Your function {name} does nothing yet: write its body in place of the `...` (and end it with a "
                f"`return` line), run the cell, then check again. Stuck? Try {self.key}.hint()."
            )
        return (
            f"Replace the `...` with your answer, run the cell, then call {self.key}.check(...) again. "
            f"Stuck? Try {self.key}.hint()."
        )

    def _call_form(self) -> str:
        return f"{self.key}.check({', '.join(self.answer_names)})"

    def verdict(self, *answers: Any, **context: Any) -> Verdict:
        """Judge the answer(s) without printing anything (used by tests and ``check``)."""
        expected = max(len(self.answer_names), 1)
        if not answers:
            answers = (Ellipsis,) * expected
        if len(answers) != expected:
            if expected == 1:
                return Verdict("incorrect", f"Give one answer: {self.key}.check(your_answer).")
            if len(answers) == 1 and isinstance(answers[0], tuple) and len(answers[0]) == expected:
                return Verdict("incorrect", f"Pass the {_words(expected)} answers separately: {self._call_form()}.")
            return Verdict(
                "incorrect", f"Give the check {_words(expected)} answers, in this order: {self._call_form()}."
            )
        if all(not_attempted(answer) for answer in answers):
            return Verdict("not attempted", self.not_attempted_message(answers[0]))
        if expected > 1:
            missing = [name for name, value in zip(self.answer_names, answers, strict=True) if not_attempted(value)]
            if missing:
                return Verdict("incorrect", f"Fill in {' and '.join(missing)} too (it is still `...`).")
        try:
            note = self._check(*answers, **context)
        except _Incorrect as exc:
            return Verdict("incorrect", str(exc))
        return Verdict("correct", note or self.correct_message)

    def check(self, *answers: Any, **context: Any) -> None:
        """Check your answer(s) and print feedback (raises in strict mode if it is wrong)."""
        result = self.verdict(*answers, **context)
        render(result.status, result.message)
        progress.record(self.key, result.status)
        if not result.ok and course.strict_checks():
            raise CheckFailed(f"{self.key}: {result.status}: {result.message}")

    # -- calling the learner's code --------------------------------------------------
    def require_callable(self, answer: Any, name: str) -> None:
        """Fail unless ``answer`` is a function (the learner may have passed its result instead)."""
        if not callable(answer):
            self.fail(
                f"Pass your function itself (`{name}`, without brackets), e.g. {self.key}.check({name}); "
                f"you gave a {type(answer).__name__}."
            )

    def call(
        self,
        function: Callable,
        *args: Any,
        signature: str = "",
        where: str = "",
        explain: Callable[[BaseException], str | None] | None = None,
        quiet: bool = False,
    ) -> Any:
        """Call the learner's ``function(*args)``; a wrong signature or any exception fails with a teaching message.

        ``signature`` ("gradient_step(model, optimizer, ...)") is named when the arguments do not fit;
        ``where`` says on what input it failed; ``explain(exc)`` may add a chapter-specific hint;
        ``quiet`` hides warnings and printed output of the learner's code.
        """
        self.require_callable(function, signature.split("(")[0] or "your_function")
        if signature:
            try:
                inspect.signature(function).bind(*args)
            except TypeError as exc:
                self.fail(
                    f"Calling {signature} failed: {exc}. Your function should take {_words(len(args))} "
                    "arguments, in this order."
                )
            except ValueError:  # no signature to inspect (a builtin): just call it
                pass
        try:
            with contextlib.ExitStack() as stack:
                if quiet:
                    stack.enter_context(warnings.catch_warnings())
                    warnings.simplefilter("ignore")
                    stack.enter_context(contextlib.redirect_stdout(_Discard()))
                return function(*args)
        except _Incorrect:
            raise
        except Exception as exc:  # the learner's code may raise anything: say what, in their terms
            extra = explain(exc) if explain is not None else None
            message = f"Your function raised {type(exc).__name__}: {exc}"
            if where:
                message += f" ({where})"
            self.fail(message + (f"\n{extra}" if extra else "."))

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


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _words(n: int) -> str:
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


class ShapeQuestion(Question):
    """The answer is an array shape: ``expected``, exact wrong shapes in ``mistakes``, rules in ``diagnose``."""

    expected: ClassVar[tuple[int, ...]] = ()
    example: ClassVar[str] = "(28, 28, 16)"
    allow_none: ClassVar[bool] = False
    mistakes: ClassVar[dict[tuple, str]] = {}

    def normalise(self, shape: tuple) -> tuple:
        """Turn an acceptable variant into the expected form (e.g. drop a leading batch axis)."""
        return shape

    def diagnose(self, shape: tuple) -> None:
        """Rules for wrong shapes not listed in ``mistakes``: call ``self.fail``."""

    def _check(self, answer: Any) -> None:
        shape = self.normalise(shape_tuple(self, answer, example=self.example, allow_none=self.allow_none))
        if shape == tuple(self.expected):
            return None
        if shape in self.mistakes:
            self.fail(self.mistakes[shape])
        self.diagnose(shape)
        self.fail(f"{shape} is not it.")


class MultipleChoice(Question):
    """One multiple-choice (or one-right-value) question: ``check("b")`` explains the option chosen.

    >>> q = MultipleChoice("review03.q1", "Which layer shrinks the feature maps?",
    ...                    {"a": "Conv2D with padding='same'", "b": "MaxPooling2D(2)"}, answer="b",
    ...                    explanations={"a": "'same' keeps height and width.", "b": "2x2 pooling halves them."})
    >>> q.verdict("b").ok
    True
    """

    def __init__(
        self,
        key: str,
        question: str,
        options: Mapping[str, str],
        answer: str,
        explanations: Mapping[str, str],
        hints: Sequence[str] = (),
    ) -> None:
        options = {str(letter).lower(): text for letter, text in options.items()}
        explanations = {str(letter).lower(): text for letter, text in explanations.items()}
        if answer.lower() not in options:
            raise ValueError(f"The right answer {answer!r} is not one of the options {sorted(options)}.")
        missing = sorted(set(options) - set(explanations))
        if missing:
            raise ValueError(f"Every option needs an explanation; {missing} have none.")
        self._key, self.question, self.options = key, question, options
        self.answer, self.explanations, self.hints = answer.lower(), explanations, list(hints)
        self.title = question

    @property
    def key(self) -> str:
        return self._key

    def text(self) -> str:
        """The question and its options, one per line."""
        return "\n".join([self.question, *(f"  ({letter}) {text}" for letter, text in self.options.items())])

    def not_attempted_message(self, answer: Any) -> str:
        letters = ", ".join(f'"{letter}"' for letter in self.options)
        return f'Answer with the letter of one option ({letters}), e.g. {self.key}.check("{next(iter(self.options))}").'

    def _check(self, answer: Any) -> str:
        letter = answer.strip().strip("()").lower() if isinstance(answer, str) else None
        if letter not in self.options:
            letters = ", ".join(f'"{option}"' for option in self.options)
            self.fail(f"Answer with the letter of one option ({letters}); you gave {answer!r}.")
        if letter != self.answer:
            self.fail(f"({letter}) {self.options[letter]}: {self.explanations[letter]}")
        return f"({letter}) {self.options[letter]}: {self.explanations[letter]}"

    def solution_text(self) -> str:
        return f"({self.answer}) {self.options[self.answer]}\n{self.explanations[self.answer]}"


# ---------------------------------------------------------------------- comparisons
def shape_tuple(question: Question, answer: Any, *, example: str = "(28, 28, 16)", allow_none: bool = False) -> tuple:
    """``answer`` as a shape tuple of whole numbers, or fail with what is wrong with it."""
    if not isinstance(answer, (tuple, list)):
        question.fail(
            f"Give the shape as a tuple of whole numbers, like {example}; you gave a {type(answer).__name__}."
        )

    def whole(v: Any) -> bool:
        return (allow_none and v is None) or (isinstance(v, (int, np.integer)) and not isinstance(v, bool))

    if not all(whole(v) for v in answer):
        question.fail(f"Every entry of a shape is a whole number; {tuple(answer)!r} has something else in it.")
    return tuple(None if v is None else int(v) for v in answer)


def as_array(question: Question, value: Any, what: str) -> np.ndarray:
    """``value`` (a list, NumPy array or tensor) as a NumPy array, or fail naming ``what``."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as exc:
        question.fail(f"{what} should be an array of numbers; got a {type(value).__name__} ({exc}).")
    raise AssertionError("unreachable")  # pragma: no cover


def first_mismatch(got: np.ndarray, expected: np.ndarray, atol: float = 1e-6) -> tuple[int, ...] | None:
    """The index of the first value of ``got`` that differs from ``expected`` (same shape), or None."""
    wrong = np.argwhere(~np.isclose(got, expected, atol=atol))
    return tuple(int(v) for v in wrong[0]) if len(wrong) else None


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
    raise AssertionError("unreachable")  # pragma: no cover


def walk_layers(model: Any) -> list:
    """Every layer of a model in order, descending into nested models (each nested model, then its layers)."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(walk_layers(layer))
    return found


def layer_types(model: Any) -> list[str]:
    """The class names of :func:`walk_layers` (``['Conv2D', 'BatchNormalization', ...]``)."""
    return [type(layer).__name__ for layer in walk_layers(model)]


def load_answers(chapter: str) -> dict[str, str]:
    """Reference answers of one chapter, keyed ``'chNN.qK'``."""
    package = resources.files("helpers.exercises") / "answers" / f"{chapter}.json"
    if not package.is_file():
        return {}
    return json.loads(package.read_text(encoding="utf-8"))
