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
def fit_line(x, y, learning_rate, steps):
    w, b, losses = 0.0, 0.0, []
    for _ in range(steps):
        error = w * x + b - y
        losses.append(np.mean(error**2))
        w, b = w - learning_rate * np.mean(2 * error * x), b - learning_rate * np.mean(2 * error)
    return w, b, losses


def gradient_ascent(x, y, learning_rate, steps):
    return fit_line(x, y, -learning_rate, steps)


def summed_gradients(x, y, learning_rate, steps):
    w, b, losses = 0.0, 0.0, []
    for _ in range(steps):
        error = w * x + b - y
        losses.append(np.mean(error**2))
        w, b = w - learning_rate * np.sum(2 * error * x), b - learning_rate * np.sum(2 * error)
    return w, b, losses


def slope_only(x, y, learning_rate, steps):
    w, losses = 0.0, []
    for _ in range(steps):
        losses.append(np.mean((w * x - y) ** 2))
        w -= learning_rate * np.mean(2 * (w * x - y) * x)
    return w, 0.0, losses


def fixed_rate(x, y, learning_rate, steps):
    return fit_line(x, y, 0.1, steps)


def without_the_factor_two(x, y, learning_rate, steps):
    w, b, losses = 0.0, 0.0, []
    for _ in range(steps):
        error = w * x + b - y
        losses.append(np.mean(error**2))
        w, b = w - learning_rate * np.mean(error * x), b - learning_rate * np.mean(error)
    return w, b, losses


def losses_after_the_update(x, y, learning_rate, steps):
    w, b, losses = fit_line(x, y, learning_rate, steps + 1)
    return w, b, losses[1:]


def recorded_loss(loss):
    """Right updates, but another number recorded as the loss."""

    def fit(x, y, learning_rate, steps):
        w, b, losses = 0.0, 0.0, []
        for _ in range(steps):
            error = w * x + b - y
            losses.append(loss(error))
            w, b = w - learning_rate * np.mean(2 * error * x), b - learning_rate * np.mean(2 * error)
        return w, b, losses

    return fit


def test_q1_accepts_gradient_descent():
    verdict = ch03.q1.verdict(fit_line)
    assert verdict.status == "correct", verdict.message
    assert "w = 1.5" in verdict.message


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (gradient_ascent, "step against the gradient"),
        (summed_gradients, "np.mean"),
        (slope_only, "b never moves"),
        (fixed_rate, "use the learning_rate argument"),
        (without_the_factor_two, "Compare your gradients with the formulas"),
        (losses_after_the_update, "record the loss before each update"),
        (lambda x, y, learning_rate, steps: (1.5, -0.5), "return w, b, losses"),
        (lambda x, y, learning_rate, steps: (1.5, -0.5, [0.1]), "one per step"),
        (lambda x, y, learning_rate, steps: fit_line(x, y, learning_rate, steps)[::-1], "in the order"),
        (recorded_loss(lambda error: np.sum(error**2)), "sum of the squared errors"),
        (recorded_loss(lambda error: np.sqrt(np.mean(error**2))), "square root"),
        (recorded_loss(lambda error: np.mean(error**2) / 2), "half the mean squared error"),
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
        ({"conv": {"padding": "same", "use_bias": False, "activation": "relu"}}, "still apply activation='relu'"),
        ({"conv": {"padding": "valid", "use_bias": True}}, "padding='valid', use_bias=True"),
        ({"relu": False}, "by a ReLU(), not MaxPooling2D"),
        ({"dropout": 0.5}, "Dropout(0.3)"),
        ({"head": "gap+dense"}, "keep only the last layer, Dense(10)"),
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
def gradient_step(model, optimizer, loss_fn, images, labels, max_norm):
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        loss = loss_fn(labels, logits)
    gradients = tape.gradient(loss, model.trainable_variables)
    gradients, _ = tf.clip_by_global_norm(gradients, max_norm)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


def step_unclipped(model, optimizer, loss_fn, images, labels, max_norm):
    """The chapter's train_step, copied: the exercise asks for more."""
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    return loss


def step_clipped_one_by_one(model, optimizer, loss_fn, images, labels, max_norm):
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    gradients = [tf.clip_by_norm(g, max_norm) for g in tape.gradient(loss, model.trainable_variables)]
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


def step_without_update(model, optimizer, loss_fn, images, labels, max_norm):
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    tape.gradient(loss, model.trainable_variables)
    return loss


def step_inference_mode(model, optimizer, loss_fn, images, labels, max_norm):
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=False))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    return loss


def step_no_return(model, optimizer, loss_fn, images, labels, max_norm):
    gradient_step(model, optimizer, loss_fn, images, labels, max_norm)


def step_twice(model, optimizer, loss_fn, images, labels, max_norm):
    gradient_step(model, optimizer, loss_fn, images, labels, max_norm)
    return gradient_step(model, optimizer, loss_fn, images, labels, max_norm)


def step_returns_logits(model, optimizer, loss_fn, images, labels, max_norm):
    gradient_step(model, optimizer, loss_fn, images, labels, max_norm)
    return tf.constant(0.0)


def step_swapped_loss(model, optimizer, loss_fn, images, labels, max_norm):
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        loss = keras.losses.MeanSquaredError()(tf.one_hot(tf.reshape(labels, [-1]), 4), logits)
    gradients, _ = tf.clip_by_global_norm(tape.gradient(loss, model.trainable_variables), max_norm)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


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


def step_returns_gradients(model, optimizer, loss_fn, images, labels, max_norm):
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    gradients, _ = tf.clip_by_global_norm(tape.gradient(loss, model.trainable_variables), max_norm)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return gradients


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
        (step_without_update, "apply_gradients"),
        (step_inference_mode, "training=True"),
        (step_no_return, "return loss"),
        (step_twice, "exactly once"),
        (step_unclipped, "unclipped"),
        (step_clipped_one_by_one, "clip_by_global_norm"),
        (step_swapped_loss, "loss_fn(labels, logits)"),
        (step_returns_logits, "return the loss computed inside the tape"),
        (step_clip_not_unpacked, "`gradients, norm = tf.clip_by_global_norm(gradients, max_norm)`"),
        (step_loss_outside_the_tape, "inside `with tf.GradientTape() as tape:`"),
        (step_returns_gradients, "your function returns list"),
        (lambda model, optimizer, loss_fn, images, labels: None, "six arguments"),
        (lambda model, optimizer, loss_fn, images, labels, max_norm: loss_fn(labels), "raised TypeError"),
        ("gradient_step", "without brackets"),
    ],
)
def test_q4_wrong_steps(answer, fragment):
    verdict = ch03.q4.verdict(answer)
    assert verdict.status == "incorrect"
    assert fragment in verdict.message, verdict.message
