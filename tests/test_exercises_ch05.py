"""Chapter 05 check: the preprocessing a batch went through, named from its values."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import ch05

q1 = ch05.q1


def right(batch):
    low, high = float(np.min(batch)), float(np.max(batch))
    if low < -1.5:
        return "mean subtracted"
    if low < 0:
        return "-1 to 1"
    return "0-255" if high > 1.5 else "0-1"


def only_the_largest(batch):
    return "0-255" if np.max(batch) > 1.5 else "0-1"


def by_the_mean(batch):
    mean = float(np.mean(batch))
    return "0-255" if mean > 2 else "0-1" if mean > 0.2 else "-1 to 1" if mean > -1 else "mean subtracted"


def compares_with_255(batch):
    low = float(np.min(batch))
    return "mean subtracted" if low < -1.5 else "-1 to 1" if low < 0 else "0-255" if np.max(batch) > 200 else "0-1"


def test_right_answer_passes_and_keras_agrees_with_the_cases():
    assert q1.verdict(right).ok
    import keras

    photos = ch05.batches()["0-255"]
    assert right(keras.applications.mobilenet_v2.preprocess_input(photos.copy())) == "-1 to 1"
    assert right(keras.applications.resnet50.preprocess_input(photos.copy())) == "mean subtracted"


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (only_the_largest, "look at the smallest value too"),
        (by_the_mean, "about -124"),
        (compares_with_255, "a dark batch never reaches 255"),
        (  # not a word of the table: the check says which words it takes, not to compare values
            lambda batch: "MobileNet",
            "is not 'MobileNet': return exactly one of '0-255', '0-1', '-1 to 1' or 'mean subtracted'.",
        ),
        (
            lambda batch: "0 to 1" if np.max(batch) <= 1.5 else right(batch),
            "(values 0.0 to 1.0) is not '0 to 1': return",
        ),
        (lambda batch: print(right(batch)), "A 0-255 batch (values 0.0 to 254.8) is not None: return exactly one of"),
        (lambda batch: {}["min"], "Your function raised KeyError"),
        (lambda batch, stats: "0-1", "missing a required argument: 'stats'. Your function should take one argument,"),
        (  # a word of the table with no lesson of its own for this batch
            lambda batch: "-1 to 1",
            f"A 0-255 batch (values 0.0 to {ch05.batches()['0-255'].max():.1f}) is not '-1 to 1': compare its smallest",
        ),
    ],
)
def test_typical_mistakes_get_their_lesson(answer, fragment):
    verdict = q1.verdict(answer)
    assert verdict.status == "incorrect" and fragment in verdict.message, verdict
