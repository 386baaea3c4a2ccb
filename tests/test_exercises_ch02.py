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
        ((112, 112, 3), "its 64 filters"),
        # rarer mistakes get the general message, which repeats the answer and asks for (height, width, channels)
        ((56, 56, 64), "You gave (56, 56, 64): follow"),
        ((222, 222, 64), "You gave (222, 222, 64): follow"),
        (
            (64, 112, 112),
            "You gave (64, 112, 112): follow (224, 224, 3) through each layer to (height, width, channels)",
        ),
        ("112x112x64", "You gave '112x112x64'"),
        ((112, 112), "You gave (112, 112)"),
        (112, "You gave 112: follow (224, 224, 3)"),  # one number, not a TypeError
    ],
)
def test_q1_typical_mistakes(answer, fragment):
    assert_incorrect(ch02.q1, answer, fragment)


# ------------------------------------------------------------------------ q2
def small_cnn(*middle, head=None, input_shape=(28, 28, 1), softmax=True):
    convs = middle or (layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2),
                       layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2))  # fmt: skip
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            *convs,
            head if head is not None else layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax" if softmax else None),
        ]
    )


def test_q2_right_answers():
    verdict = ch02.q2.verdict(small_cnn())
    assert verdict.status == "correct" and "5,130 parameters" in verdict.message, verdict.message
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(layers.Conv2D(16, 3, padding="same", activation="relu")(layers.MaxPooling2D(2)(x)))
    functional = keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Flatten()(x)))
    assert ch02.q2.verdict(functional).status == "correct"  # 7x7x16 flattened: 8,970 parameters
    assert ch02.q2.verdict(...).status == "not attempted"


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: small_cnn(head=layers.Flatten()), "over the budget of 10,000. dense"),
        (
            lambda: small_cnn(
                layers.Conv2D(64, 3, activation="relu"),
                layers.MaxPooling2D(2),
                layers.Conv2D(128, 3, activation="relu"),
                layers.MaxPooling2D(2),
            ),  # fmt: skip
            "use fewer filters",
        ),
        (lambda: small_cnn(layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(4)), "at least two"),
        (lambda: small_cnn(layers.Conv2D(8, 3), layers.Conv2D(8, 3)), "at most 7x7"),
        (lambda: small_cnn(input_shape=(28, 28, 3)), "grayscale 28x28 images are (28, 28, 1)"),
        (lambda: small_cnn(input_shape=(32, 32, 3)), "(28, 28, 1)"),
        (lambda: small_cnn(softmax=False), "not probabilities adding up to 1"),
        (lambda: small_cnn(head=layers.Dropout(0.0)), "(4, 5, 5, 10), not (4, 10)"),
        (lambda: small_cnn(head=layers.Dropout(0.0)), "put Flatten() or GlobalAveragePooling2D() before it"),
        (lambda: small_cnn, "not the function"),
        (lambda: "a model", "Expected a Keras model"),
        # no keras.Input: the check's call builds the model, whose Dense-less end gives feature maps
        (lambda: keras.Sequential([layers.Conv2D(8, 3), layers.Conv2D(8, 3)]), "(4, 24, 24, 8), not (4, 10)"),
    ],
)
def test_q2_typical_mistakes(make, fragment):
    assert_incorrect(ch02.q2, make(), fragment)


def test_q2_messages_name_only_what_is_wrong():
    """One output per image is not a missing Flatten; one convolution is not a pooling problem, nor the reverse."""
    one_output = ch02.q2.verdict(keras.Sequential([*small_cnn().layers[:-1], layers.Dense(1)]))
    assert "(4, 1), not (4, 10). End with Dense(10, activation='softmax')" in one_output.message, one_output
    assert "Flatten" not in one_output.message, one_output
    one_conv = ch02.q2.verdict(small_cnn(layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(4)))
    assert "1 Conv2D layer(s) and its last feature maps are 6x6: use at least two Conv2D layers" in one_conv.message
    assert "7x7" not in one_conv.message, one_conv
    unpooled = ch02.q2.verdict(small_cnn(layers.Conv2D(8, 3), layers.Conv2D(8, 3)))
    assert "are 24x24: pool the feature maps down to at most 7x7" in unpooled.message, unpooled
    assert "at least two" not in unpooled.message, unpooled


# ------------------------------------------------------------------------ q3
def loop_max_pool(feature_map, size, stride):
    """A right answer written as the learner would, with two loops."""
    rows, cols = (feature_map.shape[0] - size) // stride + 1, (feature_map.shape[1] - size) // stride + 1
    out = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.max(feature_map[i * stride : i * stride + size, j * stride : j * stride + size])
    return out


def keras_max_pool(feature_map, size, stride):
    """Another right answer: Keras itself."""
    pooled = layers.MaxPooling2D(size, strides=stride)(feature_map[np.newaxis, :, :, np.newaxis].astype("float32"))
    return keras.ops.convert_to_numpy(pooled)[0, :, :, 0]


def test_q3_right_answers():
    assert ch02.q3.verdict(loop_max_pool).status == "correct"
    assert ch02.q3.verdict(keras_max_pool).status == "correct"
    assert ch02.q3.verdict(...).status == "not attempted"


def side_by_side(feature_map, size, stride):
    """The windows jump by their size, whatever the stride (the chapter's avg_pool2d with .max)."""
    return loop_max_pool(feature_map, size, size)


def keeps_leftovers(feature_map, size, stride):
    rows, cols = -(-feature_map.shape[0] // stride), -(-feature_map.shape[1] // stride)
    return np.array(
        [
            [feature_map[i * stride : i * stride + size, j * stride : j * stride + size].max() for j in range(cols)]
            for i in range(rows)
        ]
    )


def average(feature_map, size, stride):
    return keras.ops.convert_to_numpy(
        layers.AveragePooling2D(size, strides=stride)(feature_map[np.newaxis, :, :, np.newaxis].astype("float32"))
    )[0, :, :, 0]


def last_window_off(feature_map, size, stride):
    """Right but for the last window: the message names that position, not the first."""
    out = loop_max_pool(feature_map, size, stride)
    out[-1, -1] += 2
    return out


def running_max_from_zero(feature_map, size, stride):
    """A running maximum that starts at 0: wrong wherever a whole window is negative."""
    out = loop_max_pool(feature_map, size, stride)
    for i, j in np.ndindex(out.shape):
        out[i, j] = max(0, out[i, j])
    return out


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (side_by_side, "your windows jump by their size"),
        (lambda feature_map, size, stride: loop_max_pool(feature_map, stride, size), "size and stride changed places"),
        (keeps_leftovers, "On a 5x7 map with size=2, stride=2"),
        (keeps_leftovers, "(H - size) // stride + 1 rows"),
        (lambda feature_map, size: feature_map, "max_pool(feature_map, size, stride)"),
    ],
)
def test_q3_typical_mistakes(answer, fragment):
    assert_incorrect(ch02.q3, answer, fragment)


@pytest.mark.parametrize(
    "wrong",
    [
        keeps_leftovers,
        average,
        lambda feature_map, size, stride: loop_max_pool(feature_map, size, stride) - (feature_map.max() > 8),
        last_window_off,
        lambda feature_map, size, stride: None,  # no `return`
        running_max_from_zero,
        lambda feature_map, size, stride: loop_max_pool(feature_map, size, stride).astype(int),
    ],
)
def test_q3_other_mistakes_show_the_right_output_beside_theirs(wrong):
    """Rarer mistakes get one message: the output max_pool should give on the failing map, and the learner's."""
    calls = []

    def answer(feature_map, size, stride):
        calls.append((feature_map.copy(), size, stride, wrong(feature_map, size, stride)))
        return calls[-1][-1]

    verdict = ch02.q3.verdict(answer)
    feature_map, size, stride, theirs = calls[-1]
    assert verdict.status == "incorrect", verdict
    assert f"should give {loop_max_pool(feature_map, size, stride).tolist()}" in verdict.message, verdict.message
    assert f"yours gives {np.asarray(theirs).tolist()}" in verdict.message, verdict.message


def test_solutions_are_stored():
    for question in (ch02.q1, ch02.q2, ch02.q3):
        assert "### BEGIN" not in question.solution_text()
        assert question.solution_text().strip()
