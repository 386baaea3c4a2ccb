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


fit_line = descent()


def losses_after_the_update(x, y, learning_rate, steps):
    w, b, losses = fit_line(x, y, learning_rate, steps + 1)
    return w, b, losses[1:]


def test_q1_accepts_gradient_descent():
    verdict = ch03.q1.verdict(fit_line)
    assert verdict.status == "correct", verdict.message
    assert "w = 1.5" in verdict.message


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda x, y, learning_rate, steps: fit_line(x, y, -learning_rate, steps), "step against the gradient"),
        (descent(gradient=np.sum), "np.mean"),
        (descent(intercept=False), "b never moves"),
        (descent(rate=0.1), "use the learning_rate argument"),
        (descent(factor=1), "Compare your gradients with the formulas"),
        (losses_after_the_update, "record the loss before each update"),
        (lambda x, y, learning_rate, steps: (1.5, -0.5), "return w, b, losses"),
        (lambda x, y, learning_rate, steps: (1.5, -0.5, [0.1]), "one per step"),
        (lambda x, y, learning_rate, steps: fit_line(x, y, learning_rate, steps)[::-1], "in the order"),
        (descent(record=lambda error: np.sum(error**2)), "sum of the squared errors"),
        (descent(record=lambda error: np.sqrt(np.mean(error**2))), "square root"),
        (descent(record=lambda error: np.mean(error**2) / 2), "half the mean squared error"),
        (lambda x, y, steps: None, "four arguments"),
    ],
)
def test_q1_wrong_answers(answer, fragment):
    verdict = ch03.q1.verdict(answer)
    assert verdict.status == "incorrect"
    assert fragment in verdict.message, verdict.message


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
    cases = [
        ((first_cnn((32, 32, 3)), history, accuracy), "28x28 with one channel"),
        ((first_cnn((28, 28, 3)), history, accuracy), "keras.Input(shape=(28, 28, 1))"),
        ((fake_trained(first_cnn(filters=(16, 32, 32)), steps), history, accuracy), "Conv2D 32, 64, 64"),
        ((first_cnn(), history, accuracy), "took 0 training steps"),
        ((fake_trained(first_cnn(), 2 * steps), history, accuracy), "running fit again goes on training"),
        ((model, model, accuracy), "Pass the History"),
        ((model, history, 100 * accuracy), "not 75"),
        ((model, history, [0.5, accuracy]), "[loss, accuracy]"),
        ((model, history, history.history["loss"][-1]), "the training loss"),
        ((model, history, history.history["accuracy"][-1]), "the training accuracy"),
        ((model, history, accuracy + 0.05), "On the test images your model gets"),
        ((first_cnn(rescale=False), history, accuracy), "Keep the first CNN's Rescaling"),
        ((first_cnn(last="softmax"), history, accuracy), "applies it again"),
        ((first_cnn(loss="sparse_categorical_crossentropy"), history, accuracy), "from_logits=True"),
        ((model, history, model.evaluate(data["images"][..., None], data["labels"], verbose=0)[0]), "the test loss"),
    ]
    for answers, fragment in cases:
        verdict = ch03.q2.verdict(*answers, **data)
        assert verdict.status == "incorrect" and fragment in verdict.message, (fragment, verdict.message)
    assert "Pass the test images" in ch03.q2.verdict(model, history, accuracy).message


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
    model.compile(optimizer=keras.optimizers.Adam(schedules[rate]), loss=loss or keras.losses.MeanSquaredError())
    return fake_trained(model, budget if steps is None else steps)


HISTORY = FakeHistory({"loss": [2.0], "accuracy": [0.3], "val_accuracy": [0.35]})


def test_q3_accepts_the_improved_model():
    verdict = ch03.q3.verdict(improved(), HISTORY)
    assert verdict.status == "correct", verdict.message
    assert "35.0%" in verdict.message


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"filters": (16, 32, 64)}, "keep the first CNN's 32, 64, 64"),
        ({"momentum": 0.99}, "momentum=0.9"),
        ({"head": "flatten"}, "GlobalAveragePooling2D() and Dropout(0.3)"),
        ({"augment": True}, "Leave augmentation out"),
        ({"rate": "constant"}, "not a schedule"),
        ({"rate": "start"}, "start it at 2e-3"),
        ({"rate": "epochs"}, "count steps (epochs x batches), not epochs"),
        ({"steps": 0}, "took 0 training steps"),
        (
            {"conv": {"padding": "same", "use_bias": False, "activation": "relu"}},
            "activation='relu': the ReLU comes after",
        ),
        ({"conv": {"padding": "valid", "use_bias": True}}, "padding='valid', use_bias=True"),
        ({"relu": False}, "by a ReLU(), not MaxPooling2D"),
        ({"dropout": 0.5}, "Dropout(0.3)"),
        ({"head": "gap+dense"}, "keep only the last layer, Dense(10)"),
        ({"head": "gap only"}, "Dropout rates []"),
        ({"last": "softmax", "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True)}, "applies it again"),
        ({"loss": "sparse_categorical_crossentropy"}, "from_logits=True"),
    ],
)
def test_q3_wrong_answers(kwargs, fragment):
    verdict = ch03.q3.verdict(improved(**kwargs), HISTORY)
    assert verdict.status == "incorrect" and fragment in verdict.message, verdict.message


def test_q3_wrong_history_and_no_batchnorm():
    no_validation = FakeHistory({"loss": [2.0], "accuracy": [0.3]})
    assert "validation_data=val_ds" in ch03.q3.verdict(improved(), no_validation).message
    assert "Pass the History" in ch03.q3.verdict(improved(), 0.35).message
    plain = keras.Sequential(
        [keras.Input((32, 32, 3))] + [layers.Conv2D(f, 3) for f in (32, 64, 64)] + [layers.Dense(10)]
    )
    assert "not Conv2D" in ch03.q3.verdict(plain, HISTORY).message


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


gradient_step = stepper()


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

    def computes_nothing(model, optimizer, loss_fn, images, labels, max_norm):
        model(images)

    assert ch03.q4.verdict(step_not_written_yet).status == "not attempted"
    verdict = ch03.q4.verdict(computes_nothing)
    assert verdict.status == "incorrect" and "does nothing yet" in verdict.message


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (stepper(apply=False), "apply_gradients"),
        (stepper(training=False), "training=True"),
        (stepper(returns="nothing"), "return loss"),
        (step_twice, "exactly once"),
        (stepper(clip=None), "unclipped"),
        (stepper(clip="each"), "clip_by_global_norm"),
        (stepper(loss=mean_squared_error), "loss_fn(labels, logits)"),
        (stepper(returns="zero"), "return the loss computed inside the tape"),
        (step_clip_not_unpacked, "`gradients, norm = tf.clip_by_global_norm(gradients, max_norm)`"),
        (step_loss_outside_the_tape, "inside `with tf.GradientTape() as tape:`"),
        (stepper(returns="gradients"), "your function returns a list"),
        (lambda model, optimizer, loss_fn, images, labels: None, "six arguments"),
        (lambda model, optimizer, loss_fn, images, labels, max_norm: loss_fn(labels), "raised TypeError"),
        ("gradient_step", "without brackets"),
    ],
)
def test_q4_wrong_steps(answer, fragment):
    verdict = ch03.q4.verdict(answer)
    assert verdict.status == "incorrect"
    assert fragment in verdict.message, verdict.message
