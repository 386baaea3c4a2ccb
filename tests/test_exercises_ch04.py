"""Checks of chapter 04's exercises: a right answer and typical wrong ones for each."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from keras import layers

from helpers.exercises import ch04


def pipeline(*extra, flip="horizontal"):
    return keras.Sequential([layers.RandomFlip(flip), layers.RandomTranslation(0.1, 0.1), *extra])


# ------------------------------------------------------------------ q1
def test_q1_right_answers():
    verdict = ch04.q1.verdict(pipeline(layers.RandomRotation(0.03)))
    assert verdict.status == "correct" and "RandomRotation" in verdict.message, verdict.message
    assert ch04.q1.verdict(keras.Sequential([layers.RandomZoom(0.1), layers.RandomContrast(0.2)])).ok
    assert ch04.q1.verdict(...).status == "not attempted"


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: pipeline(flip="vertical"), "upside down"),
        (lambda: pipeline(flip="horizontal_and_vertical"), "upside down"),
        (lambda: pipeline(layers.RandomRotation(0.5)), "RandomRotation with factor=(-0.5, 0.5) is too strong"),
        (lambda: pipeline(layers.RandomZoom(0.5)), "height_factor=0.5"),
        (lambda: keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.4)]), "width"),
        (lambda: keras.Sequential([layers.RandomFlip("horizontal")]), "your Sequential has ['RandomFlip']."),
        (lambda: [layers.RandomFlip("horizontal"), layers.RandomZoom(0.1)], "in keras.Sequential; your list has []."),
        (
            lambda: pipeline(layers.Rescaling(1 / 255)),
            "changes them when predicting. Leave out what is not an augmentation: ['Rescaling'].",
        ),
        (lambda: pipeline(layers.Resizing(32, 32)), "gives shape (8, 32, 32, 1)"),
        (
            lambda: keras.Sequential([layers.RandomTranslation(0.0, 0.0), layers.RandomZoom(0.0)]),
            "keeps them in training and keeps them when predicting",
        ),
        (lambda: "flip", "your str has []"),
        (lambda: pipeline(layers.Reshape((28, 28, 3))), "on 8 gray 28x28 images"),
        (lambda: pipeline(layers.RandomBrightness(0.9, value_range=(0, 1))), "RandomBrightness with factor"),
        (lambda: pipeline(layers.RandomContrast(0.9)), "RandomContrast with factor"),
    ],
)
def test_q1_wrong_answers(make, fragment):
    verdict = ch04.q1.verdict(make())
    assert verdict.status == "incorrect" and fragment in verdict.message, verdict.message


def test_q1_brightness_on_the_default_range_shows_the_pixels_it_gives():
    verdict = ch04.q1.verdict(pipeline(layers.RandomBrightness(0.2, seed=1)))  # shifts by up to 0.2 * 255 on pixels 0-1
    top = re.search(r"shape \(8, 28, 28, 1\), pixels [\d.]+ to ([\d.]+), changes them in training", verdict.message)
    assert verdict.status == "incorrect" and top and float(top.group(1)) > 1.5, verdict.message
    assert "value_range=(0, 1)" in verdict.message  # its default range is 0-255


def test_q1_fallback_names_only_the_layers_the_pipeline_has():
    """RandomCrop changes the size: the shape is the clue, not RandomBrightness or Rescaling, which it does not have."""
    verdict = ch04.q1.verdict(pipeline(layers.RandomCrop(24, 24)))
    assert verdict.status == "incorrect" and "gives shape (8, 24, 24, 1)" in verdict.message, verdict.message
    # (whether RandomCrop also crops when predicting depends on the Keras release: 3.6 does, 3.15 does not)
    assert verdict.message.endswith("them when predicting.") and "Brightness" not in verdict.message
    verdict = ch04.q1.verdict(pipeline(layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(10)))
    assert "Leave out what is not an augmentation: ['Conv2D', 'Dense', 'Flatten']." in verdict.message, verdict.message


# ------------------------------------------------------------------ q2
class FakeHistory:
    def __init__(self, train, val, model=None):
        self.history = {"loss": [1.0] * len(train), "accuracy": train} | ({"val_accuracy": val} if val else {})
        self.model = model


def tiny_model(augment=None):
    inputs = keras.Input((28, 28, 1))
    x = augment(inputs) if augment is not None else inputs
    model = keras.Model(inputs, layers.Dense(10)(layers.Flatten()(x)))
    model.compile(optimizer="sgd", loss="mse")  # what fit returns always holds a compiled model
    return model


def runs(without=([0.6, 0.95], [0.5, 0.70]), with_=([0.5, 0.80], [0.5, 0.74])):
    return {"without": FakeHistory(*without, tiny_model()), "with": FakeHistory(*with_, tiny_model(pipeline()))}


def gaps_of(histories):
    """The right answer: training minus validation accuracy at the last epoch."""
    return {key: h.history["accuracy"][-1] - h.history["val_accuracy"][-1] for key, h in histories.items()}


def test_q2_judges_the_learners_own_gaps():
    histories = runs()
    verdict = ch04.q2.verdict(histories, gaps_of(histories))
    assert verdict.status == "correct" and "shrank the gap (25.0% without, 6.0% with)" in verdict.message
    same = runs(with_=([0.6, 0.95], [0.5, 0.71]))
    assert "did not shrink" in ch04.q2.verdict(same, gaps_of(same)).message
    early = runs(without=([0.5], [0.48]), with_=([0.5], [0.5]))
    assert "has not overfit yet" in ch04.q2.verdict(early, gaps_of(early)).message


def test_q2_real_histories():
    x, y = np.zeros((8, 28, 28, 1), "float32"), np.zeros(8)
    histories = {}
    for key, augment in [("without", None), ("with", pipeline())]:
        model = tiny_model(augment)
        model.compile(
            optimizer="sgd",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
            run_eagerly=True,  # two tiny epochs: tracing a graph would cost more than running them
        )
        histories[key] = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0)
    assert ch04.q2.verdict(histories, gaps_of(histories)).ok


def wrong_gaps(transform):
    histories = runs()
    return histories, {key: transform(h.history) for key, h in histories.items()}


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (wrong_gaps(lambda h: h["val_accuracy"][-1] - h["accuracy"][-1]), "wrong sign"),
        (wrong_gaps(lambda h: 100 * (h["accuracy"][-1] - h["val_accuracy"][-1])), "as fractions"),
        (wrong_gaps(lambda h: h["accuracy"][0] - h["val_accuracy"][0]), "last epoch gives"),
        ((runs(), [0.25, 0.06]), "TypeError: list indices must be integers"),
        ((runs(), {"without": "25%", "with": [0.06]}), "could not convert string to float: '25%'"),
        (({"no": 1, "yes": 2}, {}), "KeyError: 'without'"),
        ((runs(([0.5], [0.5]), ([0.5, 0.6], [0.5, 0.6])), {}), "], [1, 2] epochs of val_accuracy"),
        ((runs() | {"with": runs()["without"]}, {}), "augmentation in []"),
        ((runs() | {"without": runs()["with"]}, {}), "augmentation in ['without', 'with']"),
        (({"without": [0.9], "with": [0.8]}, {}), "yours: ['list', 'list'], [0, 0] epochs of val_accuracy"),
        (  # history.history kept instead of the History: the check names what it got
            ({key: h.history for key, h in runs().items()}, gaps_of(runs())),
            "should hold the History objects fit returns, as many epochs each, validated on fashion_val, augmentation "
            "only in 'with'; yours: ['dict', 'dict'], [0, 0] epochs",
        ),
        ((runs(([0.9], None), ([0.8], None)), {}), "], [0, 0] epochs of val_accuracy"),  # no validation_data
    ],
)
def test_q2_wrong_answers(answer, fragment):
    verdict = ch04.q2.verdict(*answer)
    assert verdict.status == "incorrect" and fragment in verdict.message, verdict.message


def test_q2_training_must_not_outlast_the_schedule():
    """fit's default batch_size=32 makes four times the steps that compile_model's schedule counts on."""

    def trained(augment, steps):
        model = tiny_model(augment)
        schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=2)
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
        model.optimizer.build(model.trainable_variables)
        model.optimizer.iterations.assign(steps)
        return model

    def histories(steps):
        without, with_ = runs()["without"], runs()["with"]
        without.model, with_.model = trained(None, steps), trained(pipeline(), steps)
        return {"without": without, "with": with_}

    assert ch04.q2.verdict(histories(2), gaps_of(histories(2))).ok
    verdict = ch04.q2.verdict(histories(8), gaps_of(histories(8)))
    assert verdict.status == "incorrect" and "'without' run trained on after" in verdict.message, verdict.message


def test_q2_same_history_twice_and_missing_parts():
    history = FakeHistory([0.5], [0.5], tiny_model(pipeline()))
    assert "augmentation in ['without', 'with']" in ch04.q2.verdict({"without": history, "with": history}, {}).message
    assert "Fill in fashion_gaps" in ch04.q2.verdict(runs(), ...).message
