"""Checks of chapter 03's exercises: a right answer and typical wrong ones for each, with their messages.

The unit tests run in smoke mode, where the exercises' budgets shrink (``course.epochs``, ``course.take``):
2 epochs of 10,000 images become 1 epoch of 256.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from helpers import course
from helpers.exercises import ch03


class FakeHistory:
    def __init__(self, values):
        self.history = values


# ------------------------------------------------------------------ q1: gradient descent for a line
def descent(gradient=np.mean, factor=2, record=lambda error: np.mean(error**2), rate=None, intercept=True):
    """Gradient descent for a line: right with the defaults, each argument one typical mistake (a sum for the
    mean, no factor 2, another number recorded as the loss, a fixed learning rate, the intercept never moved)."""

    def fit(x, y, learning_rate, steps):
        w, b, losses, step = 0.0, 0.0, [], learning_rate if rate is None else rate
        for _ in range(steps):
            error = w * x + b - y
            losses.append(record(error))
            w, b = w - step * gradient(factor * error * x), b - step * gradient(factor * error) * intercept
        return w, b, losses

    return fit


def fit_line(x, y, learning_rate, steps):
    w, b, losses = 0.0, 0.0, []
    for _ in range(steps):
        error = w * x + b - y
        losses.append(np.mean(error**2))
        w, b = w - learning_rate * np.mean(2 * error * x), b - learning_rate * np.mean(2 * error)
    return w, b, losses


def losses_after_the_update(x, y, learning_rate, steps):
    w, b, losses = fit_line(x, y, learning_rate, steps + 1)
    return w, b, losses[1:]


@pytest.fixture(scope="module")
def points():
    """The points the check gives fit_line (seen by a right answer that notes them)."""
    seen = {}

    def noting(x, y, learning_rate, steps):
        seen.update(x=x, y=y)
        return fit_line(x, y, learning_rate, steps)

    assert ch03.q1.verdict(noting).ok
    return seen["x"], seen["y"]


def test_q1_accepts_gradient_descent(points):
    verdict = ch03.q1.verdict(fit_line)
    losses = fit_line(*points, 0.1, 20)[2]
    assert verdict.status == "correct", verdict.message
    assert f"the loss falls from {losses[0]:.2f} to {losses[-1]:.2f} in 20 steps" in verdict.message


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda x, y, learning_rate, steps: fit_line(x, y, -learning_rate, steps), "step against the gradient"),
        (descent(gradient=np.sum), "np.mean"),
        (descent(rate=0.1), "use learning_rate"),
        (lambda x, y, learning_rate, steps: (1.5, -0.5), "not enough values to unpack"),
        (lambda x, y, learning_rate, steps: fit_line(x, y, learning_rate, steps)[::-1], "could not read your answer"),
        (lambda x, y, steps: None, "four arguments"),
        (lambda x, y, learning_rate, steps: None, "NoneType object). Does your function end with a `return` line?"),
    ],
)
def test_q1_wrong_answers(answer, fragment):
    verdict = ch03.q1.verdict(answer)
    assert verdict.status == "incorrect"
    assert fragment in verdict.message, verdict.message


@pytest.mark.parametrize(
    "answer",
    [
        descent(intercept=False),
        descent(factor=1),
        losses_after_the_update,
        lambda x, y, learning_rate, steps: (1.5, -0.5, [0.1]),
        descent(record=lambda error: np.sum(error**2)),
        descent(record=lambda error: np.sqrt(np.mean(error**2))),
        descent(record=lambda error: np.mean(error**2) / 2),
    ],
)
def test_q1_rarer_mistakes_get_the_steps_compared(answer, points):
    """The expected and the learner's weights and first loss after 20 steps, and what to look at."""
    verdict = ch03.q1.verdict(answer)
    w, b, losses = fit_line(*points, 0.1, 20)
    their_w, their_b, their_losses = answer(*points, 0.1, 20)
    assert verdict.status == "incorrect"
    first, their_first = (
        np.round(np.asarray(values[:2], dtype=float), 4).tolist() for values in (losses, their_losses)
    )
    assert f"reach w = {w:.4f}, b = {b:.4f} with 20 losses starting {first}" in verdict.message, verdict.message
    assert f"yours reach w = {their_w:.4f}, b = {their_b:.4f} with {len(their_losses)} starting {their_first}" in (
        verdict.message
    )
    assert "before each update" in verdict.message


def test_q1_not_attempted():
    def fit_line(x, y, learning_rate, steps):
        """What the learner copy starts with."""
        ...

    assert ch03.q1.verdict(fit_line).status == "not attempted"


# ------------------------------------------------------------------ q2: the first CNN on Fashion-MNIST
def first_cnn(shape=(28, 28, 1), filters=(32, 64, 64), rescale=True, last=None, loss=None):
    keras.utils.set_random_seed(0)
    stack = [keras.Input(shape)] + ([layers.Rescaling(1 / 255)] if rescale else [])
    for i, f in enumerate(filters):
        stack += [layers.Conv2D(f, 3, activation="relu")] + ([layers.MaxPooling2D()] if i < 2 else [])
    model = keras.Sequential([*stack, layers.Flatten(), layers.Dense(64, activation="relu"), layers.Dense(10, last)])
    loss = keras.losses.SparseCategoricalCrossentropy(True) if loss is None else loss
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def fake_trained(model, steps):
    """A compiled model whose optimizer says it took ``steps`` steps (cheaper than training)."""
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(steps)
    return model


@pytest.fixture(scope="module")
def fashion():
    rng = np.random.default_rng(0)
    n = course.take(10_000)
    x, y = rng.integers(0, 256, (n, 28, 28)).astype("uint8"), rng.integers(0, 10, n)
    x_test, y_test = x[:64], y[:64]
    model = first_cnn()
    history = model.fit(x[..., None], y, batch_size=64, epochs=course.epochs(2), verbose=0)
    accuracy = model.evaluate(x_test[..., None], y_test, verbose=0)[1]
    return model, history, accuracy, {"images": x_test, "labels": y_test}


def test_q2_accepts_the_trained_first_cnn(fashion):
    model, history, accuracy, data = fashion
    verdict = ch03.q2.verdict(model, history, accuracy, **data)
    assert verdict.status == "correct", verdict.message
    assert f"{accuracy:.1%}" in verdict.message


def test_q2_wrong_answers(fashion):
    model, history, accuracy, data = fashion
    steps = course.epochs(2) * math.ceil(course.take(10_000) / 64)
    relu = "Conv2D({}, activation='relu')"
    cases = [
        (
            (first_cnn((32, 32, 3)), history, accuracy),
            "has Input(shape=(32, 32, 3)) where the exercise's has Input(shape=(28, 28, 1))",
        ),
        ((first_cnn((28, 28, 3)), history, accuracy), "has Input(shape=(28, 28, 3)) where"),
        (
            (first_cnn(filters=(16, 32, 32)), history, accuracy),
            f"has {relu.format(16)} where the exercise's has {relu.format(32)}",
        ),
        ((first_cnn(rescale=False), history, accuracy), f"has {relu.format(32)} where the exercise's has Rescaling()"),
        ((first_cnn(last="softmax"), history, accuracy), "applies softmax but from_logits=True"),
        (
            (first_cnn(loss="sparse_categorical_crossentropy"), history, accuracy),
            "outputs logits but from_logits=False",
        ),
        (
            (first_cnn(), history, accuracy),
            f"took 0 steps in 1 epochs; course.epochs(2) epochs of {course.take(10_000):,}",
        ),
        ((fake_trained(first_cnn(), 2 * steps), history, accuracy), f"took {2 * steps} steps"),
        ((model, model, accuracy), "'History' object is not subscriptable"),  # the model passed as its history
        ((model, history, [0.5, accuracy]), "[loss, accuracy]"),
        ((model, history, model.evaluate(data["images"][..., None], data["labels"], verbose=0)[0]), "[loss, accuracy]"),
        ((model, history, 100 * accuracy), f"gets {accuracy:.4f}, not {100 * accuracy:.4f}"),
        ((model, history, history.history["loss"][-1]), f"not {history.history['loss'][-1]:.4f}"),
        ((model, history, history.history["accuracy"][-1]), f"not {history.history['accuracy'][-1]:.4f}"),
        ((model, history, accuracy + 0.05), f"gets {accuracy:.4f}, not {accuracy + 0.05:.4f}"),
    ]
    for answers, fragment in cases:
        verdict = ch03.q2.verdict(*answers, **data)
        assert verdict.status == "incorrect" and fragment in verdict.message, (fragment, verdict.message)
    assert "'images' and 'labels'" in ch03.q2.verdict(model, history, accuracy).message  # the test images not passed


# ------------------------------------------------------------------ q3: BatchNorm, global pooling, a schedule
def improved(filters=(32, 64, 64), momentum=0.9, head="gap", augment=False, rate="cosine", steps=None, conv=None,
             relu=True, dropout=0.3, last=None, loss=None):  # fmt: skip
    keras.utils.set_random_seed(0)
    stack = [keras.Input((32, 32, 3)), layers.Rescaling(1 / 255)] + ([layers.RandomFlip()] if augment else [])
    conv = {"padding": "same", "use_bias": False} if conv is None else conv
    for i, f in enumerate(filters):
        stack += [layers.Conv2D(f, 3, **conv), layers.BatchNormalization(momentum=momentum)]
        stack += ([layers.ReLU()] if relu else []) + ([layers.MaxPooling2D()] if i < 2 else [])
    heads = {"gap": [layers.GlobalAveragePooling2D(), layers.Dropout(dropout)], "flatten": [layers.Flatten()],
             "gap only": [layers.GlobalAveragePooling2D()],
             "gap+dense": [layers.GlobalAveragePooling2D(), layers.Dropout(dropout), layers.Dense(64, "relu")]}  # fmt: skip
    model = keras.Sequential([*stack, *heads[head], layers.Dense(10, last)])
    budget = course.epochs(3) * math.ceil(course.take(10_000) / 32)
    schedules = {"cosine": keras.optimizers.schedules.CosineDecay(2e-3, budget), "constant": 2e-3,
                 "epochs": keras.optimizers.schedules.CosineDecay(2e-3, course.epochs(3)),
                 "start": keras.optimizers.schedules.CosineDecay(1e-2, budget)}  # fmt: skip
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True) if loss is None else loss
    model.compile(optimizer=keras.optimizers.Adam(schedules[rate]), loss=loss)
    return fake_trained(model, budget if steps is None else steps)


HISTORY = FakeHistory({"loss": [2.0] * course.epochs(3), "accuracy": [0.3], "val_accuracy": [0.35]})
BUDGET = course.epochs(3) * math.ceil(course.take(10_000) / 32)
BLOCK = "Conv2D({}, padding='same', use_bias=False)"


def test_q3_accepts_the_improved_model():
    verdict = ch03.q3.verdict(improved(), HISTORY)
    assert verdict.status == "correct", verdict.message
    assert "35.0%" in verdict.message


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"filters": (16, 32, 64)}, f"has {BLOCK.format(16)} where the exercise's has {BLOCK.format(32)}"),
        ({"momentum": 0.99}, "has BatchNormalization() where the exercise's has BatchNormalization(momentum=0.9)"),
        ({"head": "flatten"}, "has Flatten() where the exercise's has GlobalAveragePooling2D()"),
        ({"augment": True}, f"has RandomFlip() where the exercise's has {BLOCK.format(32)}"),
        ({"rate": "constant"}, "Your learning rate is constant from 0.002; use Adam(CosineDecay(2e-3, decay_steps))"),
        ({"rate": "start"}, "Your learning rate is CosineDecay from 0.01"),
        ({"rate": "epochs"}, f"decay_steps is {course.epochs(3)}, but the training took {BUDGET} steps"),
        ({"steps": 0}, "took 0 steps"),
        (
            {"conv": {"padding": "same", "use_bias": False, "activation": "relu"}},
            f"has {BLOCK.format(32)[:-1]}, activation='relu') where",
        ),
        (
            {"conv": {"padding": "valid", "use_bias": True}},
            f"has Conv2D(32) where the exercise's has {BLOCK.format(32)}",
        ),
        ({"relu": False}, "has MaxPooling2D() where the exercise's has ReLU()"),
        ({"dropout": 0.5}, "has Dropout(0.5) where the exercise's has Dropout(0.3)"),
        ({"head": "gap+dense"}, "has Dense(64, activation='relu') where the exercise's has Dense(10)"),
        ({"head": "gap only"}, "has Dense(10) where the exercise's has Dropout(0.3)"),
        ({"last": "softmax"}, "applies softmax but from_logits=True"),
        ({"loss": "sparse_categorical_crossentropy"}, "outputs logits but from_logits=False"),
    ],
)
def test_q3_wrong_answers(kwargs, fragment):
    verdict = ch03.q3.verdict(improved(**kwargs), HISTORY)
    assert verdict.status == "incorrect" and fragment in verdict.message, verdict.message


def test_q3_the_structure_message_explains_and_lists_both_models():
    message = ch03.q3.verdict(improved(conv={"padding": "same", "use_bias": True}), HISTORY).message
    assert "use_bias=False) (use_bias=False: BatchNormalization adds its own offset).\n" in message
    assert "Yours:                 Input(shape=(32, 32, 3)) > Rescaling() > Conv2D(32, padding='same') >" in message
    message = ch03.q3.verdict(improved(momentum=0.99), HISTORY).message
    assert (
        "has BatchNormalization() where the exercise's has BatchNormalization(momentum=0.9) (momentum=0.9: " in message
    )


def test_q3_the_structure_message_explains_only_the_settings_that_differ():
    """A wrong dropout or filter count is not explained with the bias and momentum that are right."""
    for kwargs in ({"dropout": 0.5}, {"filters": (16, 64, 64)}):
        message = ch03.q3.verdict(improved(**kwargs), HISTORY).message
        assert "where the exercise's has" in message and "BatchNormalization adds" not in message, message
        assert "quick averages" not in message, message


def test_q3_wrong_history_and_no_batchnorm():
    no_validation = FakeHistory({"loss": [2.0] * course.epochs(3), "accuracy": [0.3]})
    assert "KeyError: 'val_accuracy'" in ch03.q3.verdict(improved(), no_validation).message
    assert "'float' object has no attribute 'history'" in ch03.q3.verdict(improved(), 0.35).message
    plain = keras.Sequential(
        [keras.Input((32, 32, 3))] + [layers.Conv2D(f, 3) for f in (32, 64, 64)] + [layers.Dense(10)]
    )
    plain.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert "has Conv2D(32) where the exercise's has Rescaling()" in ch03.q3.verdict(plain, HISTORY).message


# ------------------------------------------------------------------ q4: a training step with gradient clipping
def stepper(training=True, clip="global", apply=True, returns="loss", loss=None):
    """A training step: right with the defaults, each argument one typical mistake (inference mode, clipping
    each gradient or none, no update, another loss, returning something else than the loss)."""

    def step(model, optimizer, loss_fn, images, labels, max_norm):
        with tf.GradientTape() as tape:
            logits = model(images, training=training)
            value = (loss or loss_fn)(labels, logits)
        gradients = tape.gradient(value, model.trainable_variables)
        if clip == "global":
            gradients, _ = tf.clip_by_global_norm(gradients, max_norm)
        if clip == "each":
            gradients = [tf.clip_by_norm(g, max_norm) for g in gradients]
        if apply:
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return {"loss": value, "nothing": None, "zero": tf.constant(0.0), "gradients": gradients}[returns]

    return step


def gradient_step(model, optimizer, loss_fn, images, labels, max_norm):
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    gradients, _ = tf.clip_by_global_norm(tape.gradient(loss, model.trainable_variables), max_norm)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


def step_twice(model, optimizer, loss_fn, images, labels, max_norm):
    gradient_step(model, optimizer, loss_fn, images, labels, max_norm)
    return gradient_step(model, optimizer, loss_fn, images, labels, max_norm)


def mean_squared_error(labels, logits):
    return keras.losses.MeanSquaredError()(tf.one_hot(tf.reshape(labels, [-1]), 4), logits)


def step_clip_not_unpacked(model, optimizer, loss_fn, images, labels, max_norm):
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    gradients = tape.gradient(loss, model.trainable_variables)
    gradients = tf.clip_by_global_norm(gradients, max_norm)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


def step_loss_outside_the_tape(model, optimizer, loss_fn, images, labels, max_norm):
    loss = loss_fn(labels, model(images, training=True))
    with tf.GradientTape() as tape:
        pass
    gradients, _ = tf.clip_by_global_norm(tape.gradient(loss, model.trainable_variables), max_norm)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


def test_q4_accepts_the_reference_step_and_a_tf_function():
    assert ch03.q4.verdict(gradient_step).status == "correct"
    assert ch03.q4.verdict(tf.function(gradient_step)).status == "correct"


def test_q4_unwritten_step_is_not_attempted():
    def step_not_written_yet(model, optimizer, loss_fn, images, labels, max_norm):
        """What the learner's notebook starts with."""
        ...

    assert ch03.q4.verdict(step_not_written_yet).status == "not attempted"


def computes_nothing(model, optimizer, loss_fn, images, labels, max_norm):
    model(images)


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (
            stepper(clip=None),
            "gradients unclipped (clip them before apply_gradients): tf.clip_by_global_norm returns two things",
        ),
        (step_clip_not_unpacked, "`gradients, norm = tf.clip_by_global_norm(gradients, max_norm)`"),
        (tf.function(step_clip_not_unpacked), "`gradients, norm = tf.clip_by_global_norm(gradients, max_norm)`"),
        (step_loss_outside_the_tape, "inside `with tf.GradientTape() as tape:`"),
        (stepper(returns="nothing"), "now return the tape's loss"),
        (stepper(returns="zero"), "now return the tape's loss"),
        (stepper(returns="gradients"), "could not read your answer"),
        (lambda model, optimizer, loss_fn, images, labels: None, "six arguments"),
        (lambda model, optimizer, loss_fn, images, labels, max_norm: loss_fn(labels), "raised TypeError"),
        ("gradient_step", "without brackets"),
        (  # the labels and logits swapped: Keras's error about ranks, explained
            lambda model, optimizer, loss_fn, images, labels, max_norm: loss_fn(model(images, training=True), labels),
            "\nloss_fn takes the labels first, then the logits: loss_fn(labels, logits).",
        ),
    ],
)
def test_q4_wrong_steps(answer, fragment):
    verdict = ch03.q4.verdict(answer)
    assert verdict.status == "incorrect"
    assert fragment in verdict.message, verdict.message


@pytest.mark.parametrize(
    "answer",
    [
        stepper(apply=False),
        computes_nothing,
        stepper(training=False),
        step_twice,
        stepper(clip="each"),
        stepper(loss=mean_squared_error),
    ],
)
def test_q4_other_mistakes_are_compared_with_one_reference_step(answer):
    verdict = ch03.q4.verdict(answer)
    assert verdict.status == "incorrect"
    assert verdict.message.startswith("Your weights differ from one reference step"), verdict.message
