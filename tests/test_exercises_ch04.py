"""Checks of chapter 04's exercises: a right answer and typical wrong ones for each."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from helpers.exercises import ch04

IMAGE = np.random.default_rng(0).integers(0, 256, (1, 32, 32, 3)).astype("float32")


def pipeline(*extra):
    return keras.Sequential(
        [layers.RandomFlip("horizontal"), layers.RandomRotation(0.05), layers.RandomContrast(0.2), *extra]
    )


class FakeHistory:
    def __init__(self, train, val, model=None):
        self.history = {"loss": [1.0] * len(train), "accuracy": train, "val_accuracy": val}
        self.model = model


# ------------------------------------------------------------------ q1
def test_q1_accepts_three_augmentations_and_eight_variants():
    augment = pipeline()
    variants = keras.ops.convert_to_numpy(augment(np.repeat(IMAGE, 8, axis=0), training=True))
    verdict = ch04.q1.verdict(augment, variants)
    assert verdict.status == "correct", verdict.message
    assert "RandomContrast" in verdict.message


def test_q1_variants_made_in_inference_mode_are_identical():
    augment = pipeline()
    variants = keras.ops.convert_to_numpy(augment(np.repeat(IMAGE, 8, axis=0), training=False))
    verdict = ch04.q1.verdict(augment, variants)
    assert verdict.status == "incorrect" and "training=True" in verdict.message


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: (keras.Sequential([layers.RandomFlip("horizontal")]), np.zeros((8, 32, 32, 3))), "at least three"),
        (lambda: (pipeline(), np.zeros((4, 32, 32, 3))), "(8, 32, 32, 3)"),
        (lambda: (pipeline(layers.RandomFlip("vertical")), np.zeros((8, 32, 32, 3))), "horizontal"),
        (lambda: ("flip", np.zeros((8, 32, 32, 3))), "Keras layer"),
        (lambda: (pipeline(),), "two answers, in this order: ch04.q1.check(my_augmentation, variants)"),
        (lambda: ((pipeline(), np.zeros((8, 32, 32, 3))),), "separately: ch04.q1.check(my_augmentation, variants)"),
        (lambda: (pipeline(), ...), "Fill in variants too (it is still `...`)"),
    ],
)
def test_q1_wrong_answers(make, fragment):
    verdict = ch04.q1.verdict(*make())
    assert verdict.status == "incorrect"
    assert fragment in verdict.message


# ------------------------------------------------------------------ q2
def plain_model(augment=None):
    inputs = keras.Input((32, 32, 3))
    x = augment(inputs) if augment is not None else inputs
    return keras.Model(inputs, layers.Dense(10)(layers.GlobalAveragePooling2D()(x)))


def test_q1_not_attempted():
    assert ch04.q1.verdict(..., ...).status == "not attempted"
    assert ch04.q1.verdict().status == "not attempted"


def test_q2_reports_both_gaps():
    answer = {
        "without": FakeHistory([0.6, 0.9], [0.5, 0.55], plain_model()),
        "with": FakeHistory([0.5, 0.7], [0.5, 0.62], plain_model(pipeline())),
    }
    verdict = ch04.q2.verdict(answer)
    assert verdict.status == "correct", verdict.message
    assert "without +35.0%" in verdict.message and "with +8.0%" in verdict.message


def test_q2_real_histories():
    x, y = np.zeros((8, 32, 32, 3), "float32"), np.zeros((8, 1))
    histories = {}
    for key, augment in [("without", None), ("with", pipeline())]:
        model = plain_model(augment)
        model.compile(
            optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
        )
        histories[key] = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0)
    assert ch04.q2.verdict(histories).status == "correct"


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ({"no": FakeHistory([0.5], [0.5]), "yes": FakeHistory([0.5], [0.5])}, "'without' and 'with'"),
        ({"without": FakeHistory([0.5], [0.5]), "with": FakeHistory([0.5, 0.6], [0.5, 0.6])}, "same number of"),
        (
            {
                "without": FakeHistory([0.5], [0.5], plain_model(pipeline())),
                "with": FakeHistory([0.5], [0.5], plain_model(pipeline())),
            },
            "'without' model",
        ),
        (
            {"without": FakeHistory([0.5], [0.5], plain_model()), "with": FakeHistory([0.5], [0.5], plain_model())},
            "no augmentation",
        ),
        ([FakeHistory([0.5], [0.5])], "Pass a dict"),
    ],
)
def test_q2_wrong_answers(answer, fragment):
    verdict = ch04.q2.verdict(answer)
    assert verdict.status == "incorrect"
    assert fragment in verdict.message


def test_q2_same_history_twice():
    history = FakeHistory([0.5], [0.5])
    verdict = ch04.q2.verdict({"without": history, "with": history})
    assert verdict.status == "incorrect" and "same History" in verdict.message


def test_q2_missing_validation():
    history = FakeHistory([0.5], [0.5])
    del history.history["val_accuracy"]
    verdict = ch04.q2.verdict({"without": history, "with": FakeHistory([0.5], [0.5])})
    assert verdict.status == "incorrect" and "validation_data" in verdict.message
