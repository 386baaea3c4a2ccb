"""Checks of chapter 03's exercises: a right answer and typical wrong ones for each."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from helpers.exercises import ch03


class FakeHistory:
    def __init__(self, values, model=None):
        self.history = values
        self.model = model


def small_sequential(augment=True, bn=True, gap=True, dropout=True, outputs=10):
    stack = [keras.Input((32, 32, 3)), layers.Rescaling(1 / 255)]
    if augment:
        stack.append(keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.1)]))
    for filters in (4, 8, 8):
        stack.append(layers.Conv2D(filters, 3, padding="same"))
        if bn:
            stack.append(layers.BatchNormalization())
        stack += [layers.ReLU(), layers.MaxPooling2D()]
    stack.append(layers.GlobalAveragePooling2D() if gap else layers.Flatten())
    if dropout:
        stack.append(layers.Dropout(0.3))
    stack.append(layers.Dense(outputs))
    model = keras.Sequential(stack)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


# ------------------------------------------------------------------ q1
def test_q1_accepts_a_history_with_validation_accuracy():
    verdict = ch03.q1.verdict(FakeHistory({"loss": [1.0], "accuracy": [0.5], "val_accuracy": [0.47]}))
    assert verdict.status == "correct"
    assert "47.0%" in verdict.message


def test_q1_real_history_from_fit():
    model = keras.Sequential([keras.Input((32, 32, 3)), layers.Flatten(), layers.Dense(10)])
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    x, y = np.zeros((8, 32, 32, 3), "float32"), np.zeros((8, 1))
    history = model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert ch03.q1.verdict(history).status == "correct"


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (FakeHistory({"loss": [1.0], "accuracy": [0.5]}), "validation_data"),
        (FakeHistory({"loss": [1.0], "val_loss": [1.1]}), "metrics=['accuracy']"),
        (0.53, "History object"),
        (FakeHistory({}), "empty"),
    ],
)
def test_q1_wrong_answers(answer, fragment):
    verdict = ch03.q1.verdict(answer)
    assert verdict.status == "incorrect"
    assert fragment in verdict.message


def test_q1_model_instead_of_history():
    verdict = ch03.q1.verdict(small_sequential())
    assert verdict.status == "incorrect" and "History that fit returns" in verdict.message


def test_q1_not_attempted():
    assert ch03.q1.verdict(...).status == "not attempted"


# ------------------------------------------------------------------ q2
def test_q2_accepts_batchnorm_model_with_or_without_augmentation():
    verdict = ch03.q2.verdict(small_sequential(augment=False))
    assert verdict.status == "correct", verdict.message
    assert "3 BatchNorm" in verdict.message and "augmentation" not in verdict.message
    verdict = ch03.q2.verdict(small_sequential())
    assert verdict.status == "correct" and "try it without" in verdict.message


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"bn": False}, "BatchNormalization"),
        ({"gap": False}, "GlobalAveragePooling2D"),
        ({"dropout": False}, "Dropout"),
        ({"outputs": 5}, "10"),
    ],
)
def test_q2_wrong_models(kwargs, fragment):
    verdict = ch03.q2.verdict(small_sequential(**kwargs))
    assert verdict.status == "incorrect"
    assert fragment in verdict.message


def test_q2_uncompiled_and_non_models():
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.RandomFlip(),
            layers.Conv2D(4, 3),
            layers.BatchNormalization(),
            layers.Conv2D(4, 3),
            layers.BatchNormalization(),
            layers.Conv2D(4, 3),
            layers.BatchNormalization(),
            layers.GlobalAveragePooling2D(),
            layers.Dropout(0.2),
            layers.Dense(10),
        ]
    )
    assert "not compiled" in ch03.q2.verdict(model).message
    assert "Keras model" in ch03.q2.verdict("model").message


# ------------------------------------------------------------------ q3
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


def test_q3_accepts_the_reference_step():
    verdict = ch03.q3.verdict(gradient_step)
    assert verdict.status == "correct", verdict.message


def step_not_written_yet(model, optimizer, loss_fn, images, labels, max_norm):
    """What the learner's notebook starts with."""
    ...


def test_q3_accepts_a_tf_function():
    assert ch03.q3.verdict(tf.function(gradient_step)).status == "correct"


def test_q3_unwritten_step_is_not_attempted():
    verdict = ch03.q3.verdict(step_not_written_yet)
    assert verdict.status == "not attempted" and "does nothing yet" in verdict.message


def test_q3_step_that_does_nothing():
    def computes_nothing(model, optimizer, loss_fn, images, labels, max_norm):
        model(images)

    verdict = ch03.q3.verdict(computes_nothing)
    assert verdict.status == "incorrect" and "does nothing yet" in verdict.message


def test_q3_a_crash_is_named():
    def crashes(model, optimizer, loss_fn, images, labels, max_norm):
        return loss_fn(labels)

    verdict = ch03.q3.verdict(crashes)
    assert verdict.status == "incorrect" and "Your function raised TypeError" in verdict.message


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (step_without_update, "apply_gradients"),
        (step_inference_mode, "training=True"),
        (step_no_return, "return loss"),
        (step_twice, "exactly once"),
        (step_unclipped, "unclipped"),
        (step_clipped_one_by_one, "clip_by_global_norm"),
        (lambda model, optimizer, loss_fn, images, labels: None, "six arguments"),
        ("gradient_step", "without brackets"),
    ],
)
def test_q3_wrong_steps(answer, fragment):
    verdict = ch03.q3.verdict(answer)
    assert verdict.status == "incorrect"
    assert fragment in verdict.message


def test_q3_swapped_loss_arguments():
    def swapped(model, optimizer, loss_fn, images, labels, max_norm):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            loss = keras.losses.MeanSquaredError()(tf.one_hot(tf.reshape(labels, [-1]), 4), logits)
        gradients, _ = tf.clip_by_global_norm(tape.gradient(loss, model.trainable_variables), max_norm)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    verdict = ch03.q3.verdict(swapped)
    assert verdict.status == "incorrect" and "loss_fn(labels, logits)" in verdict.message
