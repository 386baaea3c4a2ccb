"""Chapter 09 (Your own classifier): choose the app's "unsure" threshold on validation photos."""

from __future__ import annotations

import numpy as np

from helpers.exercises.question import Question


def reference(probabilities, y_true, target, confidence=None):
    """(lowest threshold whose answered photos are at least `target` right, share answered), or (None, 0.0).

    ``confidence`` replaces the largest probability of each row (the check uses it to recognise a mistake).
    """
    confidence = np.max(probabilities, axis=1) if confidence is None else confidence
    right = np.argmax(probabilities, axis=1) == np.ravel(y_true)
    for threshold in np.sort(np.unique(confidence)):
        answered = confidence >= threshold
        if right[answered].mean() >= target:
            return float(threshold), float(answered.mean())
    return None, 0.0


def cases():
    """(probabilities, labels, target): a model right more often when confident, and an unreachable target."""
    rng = np.random.default_rng(9)
    labels = rng.integers(0, 3, 60)
    logits = rng.normal(size=(60, 3))
    logits[np.arange(60), labels] += 1.5
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    hopeless = np.full((6, 3), 0.2)
    hopeless[:, 0] = 0.6  # always class 0, always 60% sure, and never right
    # Five photos, 50% to 90% sure, the two least sure wrong: at 0.6 the answered photos are exactly 75% right.
    sure = np.array([0.5, 0.6, 0.7, 0.8, 0.9])
    exact = np.column_stack([sure, (1 - sure) / 2, (1 - sure) / 2])
    return [
        (probabilities, labels, 0.9),
        (probabilities, labels, 0.8),
        (hopeless, np.ones(6, int), 0.9),
        (exact, np.array([1, 1, 0, 0, 0]), 0.75),
    ]


class PickThreshold(Question):
    chapter, number = "ch09", 1

    def _check(self, pick_threshold):
        for probabilities, labels, target in cases():
            got = self.call(
                pick_threshold, probabilities.copy(), labels.copy(), target,
                signature="pick_threshold(probabilities, y_true, target)", where=f"with target={target}", quiet=True,
            )  # fmt: skip
            expected = reference(probabilities, labels, target)
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                self.fail(f"Return a pair (threshold, coverage); you returned {got!r}.")
            threshold, coverage = got
            if expected[0] is None:
                if threshold is not None or coverage != 0:
                    self.fail(
                        f"No threshold reaches {target:.0%} for a model that is never right: return (None, 0.0) "
                        f"then, not {got!r}. An app that cannot be right often enough should not answer at all."
                    )
                continue
            if threshold is None:
                self.fail(f"With target={target} a threshold of {expected[0]:.3f} reaches it; you returned None.")
            if coverage > 1:
                self.fail(f"The coverage is a share of the photos, between 0 and 1 ({coverage} looks like a count).")
            confidence = probabilities.max(axis=1)
            right = probabilities.argmax(axis=1) == labels
            answered = confidence >= threshold
            accuracy = right[answered].mean() if answered.any() else 0
            if accuracy < target:
                of_true_class = probabilities[np.arange(len(labels)), labels]
                if np.isclose(float(threshold), reference(probabilities, labels, target, of_true_class)[0] or -1):
                    self.fail(
                        f"With target={target} your threshold {float(threshold):.3f} comes from each photo's "
                        "probability of its TRUE class, which the app cannot know for a new photo. Its confidence "
                        "is the largest probability of each row: probabilities.max(axis=1)."
                    )
                above = confidence > threshold
                if above.any() and right[above].mean() >= target:
                    self.fail(
                        f"With target={target}, the photos at or above {float(threshold):.3f} are only {accuracy:.0%} "
                        "right; you left out the photo exactly at the threshold. The app answers every photo whose "
                        "confidence is at least the threshold: confidence >= threshold, not >."
                    )
                self.fail(
                    f"With target={target}, the photos at or above {float(threshold):.3f} are only {accuracy:.0%} right. "
                    "Measure the accuracy of the answered photos only, not of all of them."
                )
            if float(threshold) > expected[0] + 1e-9:
                exactly = np.isclose(right[confidence >= expected[0]].mean(), target)
                self.fail(
                    f"With target={target}, {float(threshold):.3f} is stricter than needed: {expected[0]:.3f} already "
                    f"reaches it and answers {expected[1]:.0%} of the photos. "
                    + (
                        f"There the answered photos are exactly {target:.0%} right, and 'at least' is >=, not >."
                        if exactly
                        else "Try the thresholds from the smallest up."
                    )
                )
            if abs(float(coverage) - answered.mean()) > 1e-9:
                self.fail(
                    f"At your threshold the app answers {answered.mean():.1%} of the photos (confidence >= threshold), "
                    f"not {float(coverage):.1%}."
                )


q1 = PickThreshold()
