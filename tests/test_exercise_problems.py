"""The shared exercise problem types (helpers/exercises/question.py), and one promise every
check keeps: it never changes the learner's global random state."""

from __future__ import annotations

import importlib
import pkgutil
import random

import numpy as np
import pytest

from helpers.course import import_tensorflow
from helpers.exercises import question as q
from helpers.exercises.question import MultipleChoice, Question, ShapeQuestion

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
    assert "separately: test.q1.check(model, variants)" in two.verdict(("m", 2)).message
    assert "two answers, in this order" in two.verdict("m").message
    assert two.verdict("x", 2).message == "wrong model"


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


# ---------------------------------------------------------------- shapes, arrays, models
class Shape(ShapeQuestion):
    chapter, number = "test", 3
    expected = (2, 3)
    mistakes = {(3, 2): "swapped"}

    def diagnose(self, shape):
        if len(shape) != 2:
            self.fail("two numbers")


def test_shape_question():
    shape = Shape()
    assert shape.verdict((2, 3)).ok and shape.verdict([np.int64(2), 3]).ok
    assert shape.verdict((3, 2)).message == "swapped"
    assert shape.verdict((1, 2, 3)).message == "two numbers"
    assert shape.verdict((5, 5)).message == "(5, 5) is not it."
    assert "tuple of whole numbers" in shape.verdict("2x3").message
    assert "whole number" in shape.verdict((2.0, 3)).message
    assert "whole number" in shape.verdict((True, 3)).message


def test_first_mismatch_and_as_array():
    assert q.first_mismatch(np.zeros((2, 3)), np.zeros((2, 3))) is None
    expected = np.zeros((2, 3))
    expected[1, 2] = 1
    assert q.first_mismatch(np.zeros((2, 3)), expected) == (1, 2)
    assert q.as_array(Shape(), tf.constant([1.0, 2.0]), "x").tolist() == [1.0, 2.0]


def test_walk_layers_descends_into_nested_models():
    inner = keras.Sequential([keras.layers.RandomFlip(), keras.layers.RandomRotation(0.1)], name="augment")
    model = keras.Sequential([keras.Input((8, 8, 3)), inner, keras.layers.Conv2D(2, 3), keras.layers.Flatten()])
    assert q.layer_types(model) == ["Sequential", "RandomFlip", "RandomRotation", "Conv2D", "Flatten"]
    assert q.require_model(Shape(), model) is model
    with pytest.raises(q._Incorrect, match="not the function"):
        q.require_model(Shape(), lambda: model, name="build")
    with pytest.raises(q._Incorrect, match="Expected a Keras model"):
        q.require_model(Shape(), "model")


# ---------------------------------------------------------------- multiple choice
def pooling_question():
    return MultipleChoice(
        "review.q1",
        "Which layer halves height and width?",
        {"a": "Conv2D(8, 3, padding='same')", "b": "MaxPooling2D(2)", "c": "Dense(10)"},
        answer="b",
        explanations={"a": "'same' keeps the size.", "b": "2x2 windows, stride 2.", "c": "Dense has no height."},
        hints=["Which layer has a pool size?"],
    )


def test_multiple_choice(capsys, monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "0")
    choice = pooling_question()
    assert choice.verdict("b").ok and choice.verdict(" (B) ").ok
    assert "2x2 windows" in choice.verdict("b").message
    wrong = choice.verdict("a")
    assert wrong.status == "incorrect" and "'same' keeps the size." in wrong.message
    assert 'one option ("a", "b", "c")' in choice.verdict("z").message
    assert 'one option ("a", "b", "c")' in choice.verdict(2).message
    assert choice.verdict(...).status == "not attempted"
    assert "(b) MaxPooling2D(2)" in choice.text() and "(b) MaxPooling2D(2)" in choice.solution_text()
    choice.check("c")
    choice.hint()
    out = capsys.readouterr().out
    assert "Dense has no height" in out and "pool size" in out


def test_multiple_choice_rejects_a_broken_question():
    with pytest.raises(ValueError, match="not one of the options"):
        MultipleChoice("r.q1", "?", {"a": "x"}, answer="b", explanations={"a": ""})
    with pytest.raises(ValueError, match="explanation"):
        MultipleChoice("r.q1", "?", {"a": "x", "b": "y"}, answer="a", explanations={"a": ""})


# ---------------------------------------------------------------- random state
def random_state():
    """Everything a learner's next random number depends on."""
    from keras.src.backend.common import global_state
    from tensorflow.python.eager import context

    from helpers.exercises.question import keras_random_keys

    ctx = context.context()
    keras_generator = global_state.get_global_attribute(keras_random_keys()[1])
    numpy_state = np.random.get_state()
    return (
        random.getstate(),
        (numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]),
        tf.random.get_global_generator().state.numpy().tolist(),
        ctx._seed,
        ctx._rng.getstate() if ctx._rng is not None else None,
        None if keras_generator is None else keras_generator.state.value.numpy().tolist(),
    )


class Reseeds(Question):
    chapter, number = "test", 4

    def _check(self, answer):
        keras.utils.set_random_seed(7)
        np.random.rand(3)
        random.random()
        tf.random.uniform([2])
        tf.random.get_global_generator().normal([2])
        keras.random.normal([2])
        keras.layers.Dense(2).build((None, 3))
        if answer != "right":
            self.fail("wrong")


def _seed_everything(seed):
    """Seed every generator and create Keras's global SeedGenerator afresh (Keras 3.6's
    set_random_seed keeps an existing one, and creating one draws from Python's random)."""
    from keras.src.backend.common import global_state

    from helpers.exercises.question import keras_random_keys

    keras.utils.set_random_seed(seed)
    global_state.set_global_attribute(keras_random_keys()[1], None)
    tf.random.get_global_generator()
    keras.random.normal([1])  # the global Keras SeedGenerator exists


def test_saving_keras_random_state_warns_nothing():
    """With Keras's global SeedGenerator in place (as after any unseeded layer), a check saves its
    state without warnings: NumPy 2 warns when it converts a TensorFlow variable directly."""
    import warnings

    _seed_everything(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CallsIt().verdict(lambda a, b: a * b).message == "12"
        assert Reseeds().verdict("right").ok


def test_a_check_that_reseeds_leaves_no_trace():
    _seed_everything(123)
    before = random_state()
    for answer in ("right", "wrong"):
        Reseeds().verdict(answer)
        assert random_state() == before
    after_checks = (random.random(), np.random.rand(), float(tf.random.uniform([])))
    _seed_everything(123)
    assert (random.random(), np.random.rand(), float(tf.random.uniform([]))) == after_checks


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
def test_no_check_changes_global_random_state(question, monkeypatch, capsys):
    """Every question of every chapter, with a nonsense answer (and the answers below where it computes)."""
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "0")
    answers = [("not it",) * _parts(question), *COMPUTING_ANSWERS.get(question.key, list)()]
    keras.utils.set_random_seed(5)
    tf.random.get_global_generator()
    keras.random.normal([1])
    before = random_state()
    for answer in answers:
        question.check(*answer)
    assert random_state() == before


def _gradient_steps():
    def right(model, optimizer, loss_fn, images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    def reseeding(model, optimizer, loss_fn, images, labels):
        keras.utils.set_random_seed(1)
        return right(model, optimizer, loss_fn, images, labels)

    def inference_mode(model, optimizer, loss_fn, images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=False))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    return [(right,), (reseeding,), (inference_mode,)]


def _convolutions():
    from helpers.exercises.ch02 import reference_convolve2d

    return [(reference_convolve2d,), (lambda image, kernel: reference_convolve2d(image, kernel[::-1, ::-1]),)]


def _augmentations():
    from keras import layers

    pipeline = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.05), layers.RandomZoom(0.1)])
    images = np.full((8, 32, 32, 3), 100, "float32")
    images[:, :, :16] = 0
    return [(pipeline, pipeline(images, training=True)), (pipeline, images)]


def _report_tables():
    import pandas as pd
    from sklearn.metrics import classification_report

    def right(y_true, probabilities, class_names):
        y_pred = np.asarray(probabilities).argmax(axis=1)
        report = classification_report(y_true, y_pred, target_names=class_names, output_dict=True, zero_division=0)
        return pd.DataFrame(report).T

    return [(right,), (lambda y_true, probabilities, class_names: np.random.rand(3),)]


def _top3():
    from helpers.images import list_images

    def right(predict, folder):
        top3 = {}
        for path in list_images(folder):
            try:
                top3[path.name] = predict(path)[:3]
            except ValueError:
                pass
        return top3

    return [(right,)]


COMPUTING_ANSWERS = {
    "ch02.q3": _convolutions,
    "ch03.q3": _gradient_steps,
    "ch04.q1": _augmentations,
    "ch06.q1": _report_tables,
    "ch07.q1": _top3,
}
