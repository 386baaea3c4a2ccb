"""Chapter 09 check: the lowest "unsure" threshold that keeps the answered photos right often enough."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import ch09

q1 = ch09.q1


def pick_threshold(probabilities, y_true, target):
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == y_true
    for t in np.sort(np.unique(confidence)):
        answered = confidence >= t
        if right[answered].mean() >= target:
            return float(t), float(answered.mean())
    return None, 0.0


def strictest(probabilities, y_true, target):
    """From the top down: a threshold that reaches the target, but not the lowest one."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == y_true
    for t in np.sort(np.unique(confidence))[::-1]:
        if right[confidence >= t].mean() >= target:
            return float(t), float((confidence >= t).mean())
    return None, 0.0


def over_all_photos(probabilities, y_true, target):
    """Counts an unsure photo as a mistake: the accuracy of all photos, not of the answered ones."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == y_true
    for t in np.sort(np.unique(confidence)):
        if (right & (confidence >= t)).mean() >= target * (confidence >= t).mean() * 0.8:
            return float(t), float((confidence >= t).mean())
    return None, 0.0


def counts(probabilities, y_true, target):
    t, share = pick_threshold(probabilities, y_true, target)
    return t, share * len(y_true)


def never_gives_up(probabilities, y_true, target):
    t, share = pick_threshold(probabilities, y_true, target)
    return (t, share) if t is not None else (float(probabilities.max()), 1.0)


def on_a_grid(probabilities, y_true, target):
    """Thresholds 0, 0.05, ..., 1 instead of the confidences that occur: 0.55 answers the same photos as 0.6."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == y_true
    for t in np.linspace(0, 1, 21):
        if (confidence >= t).any() and right[confidence >= t].mean() >= target:
            return float(t), float((confidence >= t).mean())
    return None, 0.0


def no_return_after_the_loop(probabilities, y_true, target):
    """Half-finished: returns None when no threshold reaches the target."""
    t, share = pick_threshold(probabilities, y_true, target)
    if t is not None:
        return t, share


def _variant(strict=False, above_target=False, true_class=False):
    """pick_threshold with one slip: `>` for the answered photos, `>` for the target, or the true class's probability."""

    def answer(probabilities, y_true, target):
        confidence = probabilities[np.arange(len(y_true)), y_true] if true_class else probabilities.max(axis=1)
        right = probabilities.argmax(axis=1) == y_true
        for t in np.sort(np.unique(confidence)):
            answered = confidence > t if strict else confidence >= t
            if answered.any() and (
                right[answered].mean() > target if above_target else right[answered].mean() >= target
            ):
                return float(t), float(answered.mean())
        return None, 0.0

    return answer


def test_right_answer_passes():
    assert q1.verdict(pick_threshold).ok
    assert q1.verdict(ch09.reference).ok


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (strictest, "0.900 is stricter than needed: 0.600 already reaches it"),
        (_variant(above_target=True), "0.700 is stricter than needed: 0.600 already reaches it, answering 80%"),
        (_variant(strict=True), ">= 0.500 are only 60% right"),
        (_variant(true_class=True), ">= 0.250 are only 60% right. The confidence is each row's largest probability"),
        (
            over_all_photos,
            ">= 0.600 are only 75% right. The confidence is each row's largest probability, whatever the label; measure the accuracy of the answered photos only",
        ),
        (counts, "(a share, confidence >= threshold); you returned (0.6, 4.0)"),
        (never_gives_up, "return (None, 0.0)"),
        (lambda p, y, t: 0.5, "could not read your answer"),
        (lambda p, y: (0.5, 1.0), "should take three arguments"),
        (lambda p, y, t: (None, 0.0), "With target=0.75 the lowest threshold among the confidences is 0.600, where"),
        (on_a_grid, "the lowest threshold among the confidences is 0.600, where the app answers 80.0% of the photos"),
        (no_return_after_the_loop, "return (None, 0.0) then, not None."),
    ],
)
def test_typical_mistakes(answer, fragment):
    verdict = q1.verdict(answer)
    assert verdict.status == "incorrect" and fragment in verdict.message, verdict
