"""Chapter 09 (Your own classifier): balanced class weights for an unbalanced folder."""

from __future__ import annotations

import numpy as np

from helpers.exercises.question import Question

# Labels of an unbalanced folder (6 of class 0, 2 of class 1, 4 of class 2) and one where the
# classes are not in order; a right answer gives every class the same total weight.
CASES = (
    np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2]),
    np.array([2, 1, 1, 0, 1, 1, 1, 1, 2, 1]),
)


def reference(labels) -> dict[int, float]:
    counts = np.bincount(np.asarray(labels).ravel())
    return {i: len(labels) / (len(counts) * count) for i, count in enumerate(counts) if count > 0}


class BalancedClassWeights(Question):
    chapter, number = "ch09", 1
    title = "Balanced class weights"
    hints = [
        "np.bincount(labels) counts the photos of each class: counts[i] is the number of photos of class i.",
        "The weight of class i is len(labels) / (number of classes * counts[i]): a rare class gets a large weight.",
        "Return a dict: {i: weight for i, count in enumerate(counts)}.",
    ]
    correct_message = (
        "Every class now adds up to the same total weight. Pass the dict to model.fit(..., class_weight=...) "
        "and compare per-class recall with and without it."
    )

    def _check(self, balanced_class_weights):
        if not callable(balanced_class_weights):
            self.fail(
                "Pass your function itself (`balanced_class_weights`, without brackets); "
                f"you gave a {type(balanced_class_weights).__name__}."
            )
        for labels in CASES:
            try:
                got = balanced_class_weights(labels.copy())
            except Exception as exc:  # the learner's code may raise anything: say what
                self.fail(f"Your function raised {type(exc).__name__}: {exc} (labels {labels.tolist()}).")
            expected = reference(labels)
            if got is None:
                self.fail("Your function returned None: end it with `return weights`.")
            if not isinstance(got, dict):
                self.fail(f"Return a dict {{class index: weight}}; you returned a {type(got).__name__}.")
            keys = sorted(int(k) for k in got)
            if keys != sorted(expected):
                self.fail(
                    f"For labels {labels.tolist()} the keys should be the class indexes {sorted(expected)}; "
                    f"you gave {keys}."
                )
            got = {int(k): float(v) for k, v in got.items()}
            counts = np.bincount(labels)
            inverted = {i: len(counts) * c / len(labels) for i, c in enumerate(counts)}
            if all(np.isclose(got[i], inverted[i]) for i in expected):
                self.fail(
                    "Your weights are upside down: the most frequent class got the largest weight. "
                    "A class with few photos needs a LARGE weight: total / (classes * count)."
                )
            plain = {i: 1 / c for i, c in enumerate(counts)}
            if all(np.isclose(got[i], plain[i]) for i in expected):
                self.fail(
                    "1 / count has the right proportions but the wrong scale: multiply by "
                    "total / number of classes, so that the average photo keeps weight 1 (same learning rate as before)."
                )
            wrong = [i for i in expected if not np.isclose(got[i], expected[i])]
            if wrong:
                i = wrong[0]
                self.fail(
                    f"For labels {labels.tolist()}, class {i} ({counts[i]} of {len(labels)} photos) should weigh "
                    f"{expected[i]:.3f}; you gave {got[i]:.3f}."
                )


q1 = BalancedClassWeights()
