"""Chapter 08 checks: each one accepts the reference answer and explains typical mistakes."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from helpers import heatmaps
from helpers.exercises import ch08
from helpers.exercises.question import load_answers


def _incorrect(question, answer, fragment):
    verdict = question.verdict(answer)
    assert verdict.status == "incorrect", verdict
    assert fragment in verdict.message, verdict.message


# ------------------------------------------------------------------ q1: which layer
def pick_layer(model):
    skip = (keras.layers.InputLayer, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D, keras.layers.Dropout)
    for layer in reversed(model.layers):
        if not isinstance(layer, skip) and len(layer.output.shape) == 4:
            return layer.name


def first_conv(model):
    return next(layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D))


def last_4d_even_pooling(model):
    return next(layer.name for layer in reversed(model.layers) if len(layer.output.shape) == 4)


def test_q1_right():
    assert ch08.q1.verdict(pick_layer).ok
    assert ch08.q1.verdict(heatmaps.last_conv_layer).ok  # the course helper is right too


def test_q1_not_attempted():
    assert ch08.q1.verdict(...).status == "not attempted"


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (first_conv, "earlier layer"),  # Grad-CAM from the wrong (first) layer
        (last_4d_even_pooling, "pooling layer"),
        (lambda model: model.layers[-1].name, "no (height, width) map left"),
        (lambda model: model.get_layer(pick_layer(model)), "return its name"),
        (lambda model: None, "returned None"),
        (lambda model: "conv2d", "no layer called"),
        ("relu_b", "function itself"),
    ],
)
def test_q1_wrong(wrong, fragment):
    _incorrect(ch08.q1, wrong, fragment)


# ------------------------------------------------------------------ q2: class weights
def class_weights(y, num_classes):
    counts = np.bincount(np.ravel(y), minlength=num_classes)
    return {int(c): len(np.ravel(y)) / (num_classes * counts[c]) for c in range(num_classes) if counts[c] > 0}


def test_q2_right():
    assert ch08.q2.verdict(class_weights).ok


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda y, k: {c: np.sum(y == c) * k / len(y) for c in range(k)}, "inverted"),  # weights inverted
        (lambda y, k: {c: np.sum(y == c) / len(y) for c in range(k)}, "inverted"),  # class frequencies
        (lambda y, k: {c: 1 / np.sum(y == c) for c in range(k)}, "scale"),
        (lambda y, k: [len(y) / (k * np.sum(y == c)) for c in range(k)], "dict"),
        (lambda y, k: {str(c): len(y) / (k * np.sum(y == c)) for c in range(k)}, "keys"),
        (lambda y, k: {c: 1.0 for c in range(k)}, "should be"),
        (lambda y, k: None, "None"),
    ],
)
def test_q2_wrong(wrong, fragment):
    _incorrect(ch08.q2, wrong, fragment)


# ------------------------------------------------------------------ q3: ECE
def expected_calibration_error(probabilities, y_true, n_bins=10):
    """A right answer written differently from the reference: per-bin sums with np.bincount."""
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == np.ravel(y_true)).astype(float)
    bins = np.clip(np.floor(confidence * n_bins).astype(int), 0, n_bins - 1)
    gap = np.bincount(bins, weights=correct, minlength=n_bins) - np.bincount(bins, weights=confidence, minlength=n_bins)
    return float(np.abs(gap).sum() / len(confidence))  # sum over bins of |accuracy - confidence| x share


def unweighted(probabilities, y_true, n_bins=10):
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    return float(np.mean([abs(correct[bins == b].mean() - confidence[bins == b].mean()) for b in np.unique(bins)]))


def true_class_confidence(probabilities, y_true, n_bins=10):
    confidence = probabilities[np.arange(len(y_true)), y_true]
    correct = probabilities.argmax(axis=1) == y_true
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    return float(
        sum((bins == b).mean() * abs(correct[bins == b].mean() - confidence[bins == b].mean()) for b in np.unique(bins))
    )


def test_q3_right():
    assert ch08.q3.verdict(expected_calibration_error).ok


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (unweighted, "weight each gap"),
        (true_class_confidence, "LARGEST"),
        (lambda p, y, n=10: abs(np.mean(p.max(1)) - np.mean(p.argmax(1) == y)) * 0 - 0.1, "abs"),
        (lambda p, y, n=10: "0.1", "Expected"),
        (lambda p, y, n=10: None, "None"),
    ],
)
def test_q3_wrong(wrong, fragment):
    _incorrect(ch08.q3, wrong, fragment)


# ------------------------------------------------------------------ q4: temperature
def fit_temperature(logits, y_true):
    logits, y_true = np.asarray(logits, dtype="float64"), np.ravel(y_true)

    def nll(t):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -log_p[np.arange(len(y_true)), y_true].mean()

    return float(minimize_scalar(nll, bounds=(0.05, 20), method="bounded").x)


def test_q4_right():
    assert ch08.q4.verdict(fit_temperature).ok


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda logits, y: 1 / fit_temperature(logits, y), "multiplied"),
        (lambda logits, y: 1.0, "best temperature"),
        (lambda logits, y: -2.0, "positive"),
        (lambda logits, y: None, "None"),
    ],
)
def test_q4_wrong(wrong, fragment):
    _incorrect(ch08.q4, wrong, fragment)


def test_every_question_has_hints_and_a_stored_solution():
    answers = load_answers("ch08")
    for question in (ch08.q1, ch08.q2, ch08.q3, ch08.q4):
        assert question.hints
        assert question.key in answers and "def " in answers[question.key]
