"""The shared exercise problem types (helpers/exercises/question.py), and one promise every
check keeps: it draws only from its own seeded generators, so the learner's next random numbers
are the same with or without it, and the same answer always gets the same verdict."""

from __future__ import annotations

import importlib
import pkgutil
import random

import numpy as np
import pytest

from helpers.course import import_tensorflow
from helpers.exercises import question as q
from helpers.exercises.question import Question

tf = import_tensorflow()
import keras  # noqa: E402


# ---------------------------------------------------------------- not attempted
def placeholder(model, optimizer):
    """What a learner copy starts with."""
    # Your code here
    ...


def placeholder_with_pass(x):
    pass


def does_something(x):
    print(x)


def test_placeholders_are_recognised():
    assert all(q.not_attempted(v) for v in (..., None, NotImplemented, placeholder, placeholder_with_pass))
    assert q.not_attempted(tf.function(placeholder))
    assert not q.not_attempted(does_something)
    assert not q.not_attempted(lambda x: None)  # a lambda is never the notebook's placeholder
    assert not any(q.not_attempted(v) for v in (0, "", (), [], {}, np.zeros(0)))


class TwoParts(Question):
    chapter, number = "test", 1
    answer_names = ("model", "variants")

    def _check(self, model, variants, *, scale=1):
        if model != "m":
            self.fail("wrong model")
        return f"got {variants * scale}"


def test_multi_part_answers_are_separate_arguments():
    two = TwoParts()
    assert two.verdict("m", 2).message == "got 2"
    assert two.verdict("m", 2, scale=3).message == "got 6"  # facts the check needs come as keywords
    assert two.verdict(..., ...).status == "not attempted"
    assert two.verdict().status == "not attempted"
    assert "Fill in variants too (it is still `...`)" in two.verdict("m", ...).message
    message = "Give the check two answers, separately: test.q1.check(model, variants)."
    assert two.verdict(("m", 2)).message == two.verdict("m").message == message  # a tuple of both, or one only
    assert two.verdict("x", 2).message == "wrong model"


class ReadsANumber(Question):
    chapter, number = "test", 7

    def _check(self, answer):
        if float(answer) != 2.0:
            self.fail("not two")


def test_an_answer_the_check_cannot_read_gets_a_message_not_a_traceback():
    assert ReadsANumber().verdict("2").ok and ReadsANumber().verdict("3").message == "not two"
    message = ReadsANumber().verdict({"value": 2}).message
    assert message.startswith("The check could not read your answer (TypeError:") and "test.q7.hint()" in message


# ---------------------------------------------------------------- calling learner code
class CallsIt(Question):
    chapter, number = "test", 2

    def _check(self, function):
        return str(self.call(function, 3, 4, signature="add(a, b)", where="a=3, b=4", quiet=True))


def test_call_names_the_exception_and_the_signature():
    calls = CallsIt()
    assert calls.verdict(lambda a, b: a + b).message == "7"

    def raises(a, b):
        return {}[a]

    message = calls.verdict(raises).message
    assert "Your function raised KeyError: 3 (a=3, b=4)" in message
    assert "should take two arguments" in calls.verdict(lambda a: a).message
    assert "Pass your function itself (`add`, without brackets)" in calls.verdict(7).message


def test_call_quiet_hides_prints_and_warnings(capsys):
    import warnings

    def noisy(a, b):
        print("chatter")
        warnings.warn("careful", UserWarning, stacklevel=1)
        return a * b

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CallsIt().verdict(noisy).message == "12"
    assert "chatter" not in capsys.readouterr().out


# ---------------------------------------------------------------- comparing with a reference
class Doubles(Question):
    chapter, number = "test", 3

    def _check(self, got):
        x = np.array([[1.0, -2.0]])
        mistakes = {"You squared.": [None, x**2], "Keep (1, 2).": 2 * x.ravel(), "You added one.": x + 1}
        q.explain_difference(self, np.asarray(got), 2 * x, mistakes, "Not twice x.")


def test_explain_difference_names_the_mistake_by_its_values_or_its_shape():
    doubles = Doubles()
    assert doubles.verdict([[2.0, -4.0]]).ok and doubles.verdict([[2.0, -4.0 + 1e-9]]).ok
    assert doubles.verdict([[1.0, 4.0]]).message == "You squared."  # one of a list of values; None is no value
    assert doubles.verdict([0.0, 0.0]).message == "Keep (1, 2)."  # another shape than the right one: by shape alone
    assert doubles.verdict([[2.0, -1.0]]).message == "You added one."  # the right shape: by its values
    assert doubles.verdict([[2.0, 4.0]]).message == doubles.verdict([1.0]).message == "Not twice x."


def test_as_array_and_walk_layers_descend_into_nested_models():
    assert q.as_array(Doubles(), tf.constant([1.0, 2.0]), "x").tolist() == [1.0, 2.0]
    inner = keras.Sequential([keras.layers.RandomFlip(), keras.layers.RandomRotation(0.1)], name="augment")
    model = keras.Sequential([keras.Input((8, 8, 3)), inner, keras.layers.Conv2D(2, 3), keras.layers.Flatten()])
    kinds = [type(layer).__name__ for layer in q.walk_layers(model)]
    assert kinds == ["Sequential", "RandomFlip", "RandomRotation", "Conv2D", "Flatten"]
    assert q.require_model(Doubles(), model) is model
    assert "not the function: call it, e.g. test.q6.check(build())" in NeedsModel().verdict(lambda: model).message
    assert "Expected a Keras model" in NeedsModel().verdict("model").message


class NeedsModel(Question):
    chapter, number = "test", 6

    def _check(self, answer):
        q.require_model(self, answer, name="build")


# ---------------------------------------------------------------- random state
def _seed(seed: int = 5) -> None:
    """What a learner does to make a notebook repeatable (plus a fresh global tf.random.Generator)."""
    keras.utils.set_random_seed(seed)
    tf.random.set_global_generator(tf.random.Generator.from_seed(seed))


def _keras_reseeds() -> bool:
    """Whether set_random_seed restarts Keras's global SeedGenerator (Keras 3.6 lets it run on)."""
    _seed()
    first = float(keras.random.uniform([]))
    _seed()
    return first == float(keras.random.uniform([]))


def _next_draws(keras_too: bool) -> tuple:
    """The learner's next number from every global random generator."""
    draws = (
        random.random(),
        float(np.random.rand()),
        float(tf.random.uniform([])),
        float(tf.random.get_global_generator().uniform([])),
    )
    return (*draws, float(keras.random.uniform([]))) if keras_too else draws


def _changes_the_learners_random_numbers(question: Question, answers: list[tuple]) -> bool:
    """Run every answer's check twice (same verdicts required) and say whether the next draws moved."""
    keras_too = _keras_reseeds()
    _seed()
    without_checks = _next_draws(keras_too)
    _seed()
    first = [question.verdict(*answer) for answer in answers]
    second = [question.verdict(*answer) for answer in answers]
    assert second == first, "the same answer gets the same verdict every time"
    return _next_draws(keras_too) != without_checks


class OwnGenerators(Question):
    """A check that needs random numbers the way every check gets them: from its own seeded generators."""

    chapter, number = "test", 4

    def _check(self, answer):
        noise = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
        shift = keras.random.uniform([2, 3], seed=keras.random.SeedGenerator(1))
        dense = keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(seed=2))
        dropped = keras.layers.Dropout(0.5, seed=3)(dense(noise + shift), training=True)
        if answer != "right":
            self.fail(f"wrong: {np.round(keras.ops.convert_to_numpy(dropped), 4).tolist()}")


class GlobalGenerator(Question):
    """A check written the wrong way, to show the test below would notice."""

    chapter, number = "test", 5

    def _check(self, answer):
        if np.random.rand() < 2:
            self.fail("wrong")


def test_own_seeded_generators_leave_the_learners_random_numbers_alone():
    assert not _changes_the_learners_random_numbers(OwnGenerators(), [("right",), ("wrong",)])
    assert _changes_the_learners_random_numbers(GlobalGenerator(), [("right",)])


# Answers (built before the state is recorded) for the checks that run or build something.
def _chapter_questions():
    import helpers.exercises as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("ch"):
            module = importlib.import_module(f"helpers.exercises.{info.name}")
            for name in sorted(vars(module)):
                value = getattr(module, name)
                if isinstance(value, Question) and name.startswith("q"):
                    yield pytest.param(value, id=value.key)


def _parts(question):
    return len(getattr(question, "answer_names", ()) or getattr(question, "parts", ()) or (1,))


@pytest.mark.parametrize("question", list(_chapter_questions()))
def test_no_check_changes_the_learners_random_numbers(question, monkeypatch):
    """Every question of every chapter, with a nonsense answer (and the answers below where it computes):
    after a seed, the learner's next random numbers are the same with or without the checks in between."""
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "0")
    answers = [("not it",) * _parts(question), *COMPUTING_ANSWERS.get(question.key, list)()]
    assert not _changes_the_learners_random_numbers(question, answers)


def _gradient_steps():
    """The notebook's own gradient_step (as stored from the solutions), and the same step taken twice."""
    namespace = {"tf": tf}
    exec(q.load_json("answers", "ch03")["ch03.q4"], namespace)  # noqa: S102 - the course's own solution
    step = namespace["gradient_step"]
    return [(step,), (lambda *arguments: [step(*arguments), step(*arguments)][-1],)]


def _poolings():
    from helpers.exercises.ch02 import pool

    return [(pool,), (lambda feature_map, size, stride: pool(feature_map, 2, 2),)]


def _augmentations():
    from keras import layers

    suits = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.1)])
    upside_down = keras.Sequential([layers.RandomFlip("vertical")])
    return [(suits,), (upside_down,)]


def _sure_answers():
    from helpers.images import list_images

    def right(predict, folder, threshold):
        answers = {}
        for path in list_images(folder):
            try:
                best = predict(path)[0]
            except ValueError:
                continue
            answers[path.name] = best["class"] if best["confidence"] >= threshold else "unsure"
        return answers

    return [(right,)]


def _layer_picks():
    from helpers.heatmaps import last_conv_layer  # a right answer

    return [(last_conv_layer,), (lambda model: model.layers[0].name,)]


COMPUTING_ANSWERS = {
    "ch02.q3": _poolings,
    "ch03.q4": _gradient_steps,
    "ch04.q1": _augmentations,
    "ch07.q1": _sure_answers,
    "ch08.q1": _layer_picks,
}
