"""Chapter 09 (Your own classifier): choose the app's "unsure" threshold on validation photos."""

from __future__ import annotations

import numpy as np

from helpers.exercises.question import Question


def reference(probabilities, y_true, target):
    """(lowest threshold whose answered photos are at least `target` right, share answered), or (None, 0.0)."""
    confidence = np.max(probabilities, axis=1)
    right = np.argmax(probabilities, axis=1) == np.ravel(y_true)
    for threshold in np.sort(np.unique(confidence)):
        answered = confidence >= threshold
        if right[answered].mean() >= target:
            return float(threshold), float(answered.mean())
    return None, 0.0


def cases():
    """(probabilities, labels, target): five photos 50% to 90% sure, not in order, the two least sure wrong (so at
    0.6 the answered photos are exactly 75% right), with two targets; and a model that is never right."""
    sure = np.array([0.8, 0.5, 0.9, 0.6, 0.7])
    five, labels = np.column_stack([sure, (1 - sure) / 2, (1 - sure) / 2]), np.array([0, 1, 0, 1, 0])
    hopeless = np.tile([0.6, 0.2, 0.2], (6, 1))  # always class 0, always 60% sure, and never right
    return [(five, labels, 0.75), (five, labels, 0.9), (hopeless, np.ones(6, int), 0.9)]


class PickThreshold(Question):
    chapter, number = "ch09", 1

    def _check(self, pick_threshold):
        for probabilities, labels, target in cases():
            got = self.call(
                pick_threshold, probabilities.copy(), labels.copy(), target,
                signature="pick_threshold(probabilities, y_true, target)", where=f"with target={target}", quiet=True,
            )  # fmt: skip
            (lowest, share), given = reference(probabilities, labels, target), np.array(got, float)  # None: nan
            if np.allclose(given, [np.nan if lowest is None else lowest, share], equal_nan=True):
                continue
            if lowest is None:  # also when the function ends without `return (None, 0.0)`
                self.fail(
                    f"No threshold reaches {target:.0%} for a model that is never right: return (None, 0.0) "
                    f"then, not {got!r}. An app that cannot be right often enough should not answer at all."
                )
            threshold, coverage = got  # an answer that is not a pair: the check could not read it
            answered = probabilities.max(axis=1) >= given[0]  # a threshold of None (nan) answers none
            accuracy = np.mean((probabilities.argmax(axis=1) == labels)[answered]) if answered.any() else 1.0
            if accuracy < target:
                self.fail(
                    f"With target={target}, the photos with confidence = probabilities.max(axis=1) >= {given[0]:.3f} are "
                    f"only {accuracy:.0%} right. The confidence is each row's largest probability, whatever the label; "
                    "measure the accuracy of the answered photos only (>=, not >)."
                )
            if given[0] > lowest:
                self.fail(
                    f"With target={target}, {given[0]:.3f} is stricter than needed: {lowest:.3f} already reaches it, "
                    f"answering {share:.0%} of the photos. Try the thresholds from the smallest up ('at least' is >=)."
                )
            self.fail(
                f"With target={target} the lowest threshold among the confidences is {lowest:.3f}, where the app "
                f"answers {share:.1%} of the photos (a share, confidence >= threshold); you returned {got!r}."
            )


q1 = PickThreshold()
