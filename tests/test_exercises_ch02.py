"""Chapter 02 exercise checks: right answers pass, typical mistakes get a teaching message."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.course import import_tensorflow
from helpers.exercises import ch02

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402


def assert_incorrect(question, answer, fragment):
    verdict = question.verdict(answer)
    assert verdict.status == "incorrect", verdict
    assert fragment in verdict.message, verdict.message


# ------------------------------------------------------------------------ q1
def test_q1_right_answers():
    assert ch02.q1.verdict((112, 112, 64)).status == "correct"
    assert ch02.q1.verdict((None, 112, 112, 64)).status == "correct"
    assert ch02.q1.verdict(...).status == "not attempted"


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ((224, 224, 64), "after the convolution only"),
        ((111, 111, 64), "padding='valid'"),
        ((112, 112, 3), "number of filters (64)"),
        ((56, 56, 64), "halves each side once"),
        ((64, 112, 112), "channels-first"),
        ("112x112x64", "as a tuple"),
        ((112, 112), "2 numbers"),
    ],
)
def test_q1_typical_mistakes(answer, fragment):
    assert_incorrect(ch02.q1, answer, fragment)


# ------------------------------------------------------------------------ q2
def cnn(filters=(32, 64, 128), pool=True, classes=10, activation="softmax", shape=(32, 32, 3)):
    stack = [keras.Input(shape=shape)]
    for f in filters:
        stack.append(layers.Conv2D(f, 3, padding="same", activation="relu"))
        if pool:
            stack.append(layers.MaxPooling2D(2))
    stack += [layers.GlobalAveragePooling2D(), layers.Dense(classes, activation=activation)]
    return keras.Sequential(stack)


def test_q2_right_answer():
    verdict = ch02.q2.verdict(cnn())
    assert verdict.status == "correct"
    assert "parameters" in verdict.message


def test_q2_accepts_two_convs_per_block_and_functional_models():
    inputs = keras.Input(shape=(32, 32, 3))
    x = inputs
    for f in (32, 64, 128):
        x = layers.Conv2D(f, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(f, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
    assert ch02.q2.verdict(keras.Model(inputs, outputs)).status == "correct"


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda: cnn(), "not the function"),
        (None, None),
        ("model", "Expected a Keras model"),
        (cnn(shape=(28, 28, 1)), "(28, 28, 1)"),
        (cnn(classes=100), "10 units"),
        (cnn(filters=(128, 64, 32)), "32, then 64, then 128"),
        (cnn(filters=(32, 64)), "32, then 64, then 128"),
        (cnn(pool=False), "never shrink"),
        (cnn(activation=None), "softmax"),
    ],
)
def test_q2_typical_mistakes(answer, fragment):
    if fragment is None:
        assert ch02.q2.verdict(answer).status == "not attempted"
    else:
        assert_incorrect(ch02.q2, answer, fragment)


# ------------------------------------------------------------------------ q3
def good_convolve2d(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def flipped(image, kernel):
    return good_convolve2d(image, kernel[::-1, ::-1])


def same_size(image, kernel):
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)))
    return good_convolve2d(padded, kernel)


def off_by_one(image, kernel):
    return good_convolve2d(image, kernel)[:-1, :-1]


def swapped_axes(image, kernel):
    """Treats the first axis as x (width): the output comes out transposed."""
    return good_convolve2d(image.T, kernel.T)


def forgot_return(image, kernel):
    good_convolve2d(image, kernel)


def crashes(image, kernel):
    return image @ kernel


def wrong_values(image, kernel):
    return good_convolve2d(image, kernel) + (np.arange(1) == 0)[0] * np.eye(1)[0, 0] * 0.5


def test_q3_right_answers():
    assert ch02.q3.verdict(good_convolve2d).status == "correct"

    def vectorised(image, kernel):
        return ch02.reference_convolve2d(image, kernel)

    assert ch02.q3.verdict(vectorised).status == "correct"


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (flipped, "flips the kernel"),
        (same_size, "'same' padding"),
        (off_by_one, "one off"),
        (swapped_axes, "swapped"),
        (forgot_return, "returned None"),
        (crashes, "raised ValueError"),
        (wrong_values, "some values are not"),
        (np.zeros((3, 3)), "Pass your function itself"),
    ],
)
def test_q3_typical_mistakes(answer, fragment):
    assert_incorrect(ch02.q3, answer, fragment)


def test_q3_full_convolution_is_named():
    from scipy.signal import correlate2d

    assert_incorrect(ch02.q3, lambda image, kernel: correlate2d(image, kernel, mode="full"), "'full' convolution")


def test_solutions_are_stored():
    for question in (ch02.q1, ch02.q2, ch02.q3):
        assert "### BEGIN" not in question.solution_text()
        assert question.solution_text().strip()
