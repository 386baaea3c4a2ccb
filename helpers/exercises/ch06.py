"""Chapter 06 (Evaluation): top-k accuracy, the most confused pairs, the dashboard."""

from __future__ import annotations

import re
from unittest import mock

import numpy as np

from helpers.exercises.question import Question, explain_difference

CLASS_NAMES = ["cat", "dog", "fox", "owl"]


def _sample(n: int = 240, seed: int = 6):
    """Labels, probabilities and predictions of a decent 4-class model."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, len(CLASS_NAMES), n)
    logits = rng.normal(size=(n, len(CLASS_NAMES)))
    logits[np.arange(n), y_true] += 1.6
    logits[y_true == 0, 1] += 1.2  # cats are often taken for dogs
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_true, probabilities, probabilities.argmax(axis=1)


ERRORS = {  # a hint for the learner's exception, by a piece of its message ("" matches any other)
    "'dict' object has no attribute 'history'": "The check passes the history as a dict, as chapter 03 saved it; "
    "model.fit returns a History object. plot_history takes both; for your own plots, "
    "getattr(history, 'history', history) gives the dict.",
    "and continuous": "scikit-learn metrics want class labels, not probabilities: turn each row of probabilities "
    "into a label with probabilities.argmax(axis=1) first.",
    "": "Run it on the notebook's data first and read the traceback.",
}


def reference_top_k(y_true, probabilities, k):
    best = np.argsort(-np.asarray(probabilities), axis=1, kind="stable")[:, :k]
    return float(np.mean((best == np.asarray(y_true)[:, None]).any(axis=1)))


class TopKAccuracy(Question):
    chapter, number = "ch06", 1

    def _check(self, top_k_accuracy):
        y_true, probabilities, _ = _sample()
        for k in (1, 2, 3):
            got = self.call(
                top_k_accuracy, y_true, probabilities.copy(), k, signature="top_k_accuracy(y_true, probabilities, k)",
                where=f"with k={k}", explain=ERRORS, quiet=True,
            )  # fmt: skip
            try:
                got = float(got)
            except (TypeError, ValueError):
                self.fail(f"Return one number, the share of images (between 0 and 1); you returned {got!r}.")
            right = reference_top_k(y_true, probabilities, k)
            count = right * len(y_true)
            least, top_1 = reference_top_k(y_true, -probabilities, k), reference_top_k(y_true, probabilities, 1)
            near = [reference_top_k(y_true, probabilities, j) for j in (k - 1, k + 1) if j > 0]
            mistakes = {
                f"{got:.0f} is a count of images; divide by their number for a share between 0 and 1.": count,
                "Those are the k LEAST probable classes: np.argsort sorts from smallest to largest.": least,
                f"With k={k} you return the top-1 accuracy: keep the {k} most probable classes, not one.": top_1,
                f"With k={k} you keep one class too many or too few: count the classes you keep.": near,
                "Not one image counts as a hit: compare class numbers with y_true (np.argsort gives the classes), "
                "not probabilities (np.sort gives the values).": 0.0,
            }
            explain_difference(
                self, got, right, mistakes, f"With k={k} the top-k accuracy on the check's predictions is {right:.3f}, "
                f"not {got:.3f}. Print best_k[:3] beside y_true[:3]: each row should hold the k classes with the "
                "largest probabilities, and an image counts when its y_true is one of them.",
            )  # fmt: skip


class ConfusedPairs(Question):
    chapter, number = "ch06", 2

    def _check(self, confused_pairs):
        y_true, _, y_pred = _sample()
        self._judge(confused_pairs, y_true, y_pred, 3)
        # A near-perfect model: only cat-dog and fox-owl are ever confused, so 4 of the 6 pairs have no mistake.
        y_true = np.repeat(np.arange(len(CLASS_NAMES)), 10)
        y_pred = y_true.copy()
        y_pred[[0, 1, 2, 10, 30, 31]] = [1, 1, 1, 0, 2, 2]
        self._judge(confused_pairs, y_true, y_pred, 6)

    def _judge(self, confused_pairs, y_true, y_pred, top):
        from sklearn.metrics import confusion_matrix  # here, so that chapters 08 and 10 import this module quickly

        result = self.call(
            confused_pairs, y_true, y_pred, CLASS_NAMES, top, explain=ERRORS, quiet=True,
            signature="confused_pairs(y_true, y_pred, class_names, top)",
        )  # fmt: skip
        if result is None or isinstance(result, dict) or not hasattr(result, "__iter__"):
            self.fail(
                "Return a list of (class_a, class_b, count) tuples, largest first (a list keeps the order), not "
                + ("None: end your function with a `return` line." if result is None else f"a {type(result).__name__}.")
            )
        result = [tuple(item) for item in result]
        if not all(len(item) == 3 for item in result):
            self.fail("Each entry should be a tuple of three things: (class_a, class_b, count).")
        if any(a not in CLASS_NAMES or b not in CLASS_NAMES for a, b, _ in result):
            self.fail(
                f"Give the class names of class_names ({CLASS_NAMES} here): class_names[i] turns a label into its name."
            )
        counts = confusion_matrix(y_true, y_pred, labels=range(len(CLASS_NAMES)))
        both = counts + counts.T
        for a, b, n in result:
            i, j = CLASS_NAMES.index(a), CLASS_NAMES.index(b)
            if a != b and int(n) != both[i, j]:  # the diagonal is the next rule's
                one_way = f": that counts only {a} predicted as {b}. Add the other direction too (counts + counts.T)"
                self.fail(f"({a!r}, {b!r}) should have {both[i, j]} mistakes in both directions, not {n}"
                          + (one_way if int(n) == counts[i, j] else "") + ".")  # fmt: skip
        if any(a == b for a, b, _ in result) or len({frozenset((a, b)) for a, b, _ in result}) < len(result):
            self.fail(
                "Keep one triangle of the matrix, without its diagonal (np.triu(..., k=1)): a class paired with itself "
                "is a right answer, not a confusion, and each pair should appear once, not as (a, b) and (b, a)."
            )
        expected = [int(n) for n in sorted(both[np.triu_indices(len(CLASS_NAMES), k=1)], reverse=True)[:top] if n > 0]
        got = [int(n) for _, _, n in result]
        if got != sorted(got, reverse=True):
            self.fail(f"Sort the pairs by count, largest first; your counts are {got}.")
        if 0 in got:
            self.fail(
                f"Your list has pairs with 0 mistakes ({got}): leave out the pairs the model never confuses, even when "
                "fewer than `top` are left."
            )
        if got != expected:
            self.fail(
                f"With top={top} the counts should be {expected}; yours are {got}. Count them with confusion_matrix"
                "(y_true, y_pred), sort the pairs largest first ([::-1] after np.argsort), then keep `top` of them."
            )


class Dashboard(Question):
    chapter, number = "ch06", 3

    def _check(self, dashboard):
        import matplotlib.pyplot as plt

        y_true, probabilities, _ = _sample(120)
        history = {"accuracy": [0.5, 0.7], "val_accuracy": [0.45, 0.6], "loss": [1.2, 0.8], "val_loss": [1.3, 1.0]}
        before = set(plt.get_fignums())
        try:
            with mock.patch.object(plt, "show") as show:  # to see whether the function shows its figure
                figure = self.call(
                    dashboard, history, y_true, probabilities, CLASS_NAMES, explain=ERRORS, quiet=True,
                    signature="dashboard(history, y_true, probabilities, class_names)",
                )  # fmt: skip
            self._judge(figure, y_true, probabilities)
            if show.called:
                self.fail(
                    "Your function calls plt.show(): leave that to whoever calls it, so that they can still add to "
                    "the figure, save it (fig.savefig) or put it in a report. Just return fig."
                )
        finally:
            for number in set(plt.get_fignums()) - before:
                plt.close(number)

    def _judge(self, figure, y_true, probabilities):
        """Four panels; the matrix is row-normalised, the bars are the per-class F1, the title holds the accuracy."""
        from matplotlib.figure import Figure
        from sklearn.metrics import f1_score

        if not isinstance(figure, Figure):
            what = "None" if figure is None else f"a {type(figure).__name__}"
            self.fail(f"Return the matplotlib Figure: end with `return fig` (no plt.show()); you returned {what}.")
        axes = [ax for ax in figure.axes if ax.has_data() and ax.get_label() != "<colorbar>"]
        if len(axes) < 4:
            self.fail(
                f"The figure has {len(axes)} panel(s) with something drawn; it needs 4 (curves, matrix, F1, ROC)."
            )
        labels = " ".join(f"{ax.get_title()} {ax.get_xlabel()}" for ax in axes).lower()
        if "roc" not in labels and "false positive" not in labels:
            self.fail(
                "No ROC panel found: plot true positive rate against false positive rate (plot_roc_curves, written "
                "earlier in this chapter)."
            )
        if not any(len(ax.get_lines()) >= 2 and not ax.images for ax in axes):
            self.fail("No training curves found: plot history['accuracy'] and history['val_accuracy'].")
        matrices = [np.asarray(ax.images[0].get_array(), dtype=float) for ax in axes if ax.images]
        if not any(np.allclose(matrix.sum(axis=1), 1, atol=0.02) for matrix in matrices):
            self.fail(
                "No row-normalised confusion matrix found: draw it as an image in one panel (plot_confusion_matrix) "
                "with normalize='true', so that each row is divided by its total (the rows add up to 1) and the "
                "diagonal is each class's recall."
            )
        y_pred = probabilities.argmax(axis=1)
        f1 = f1_score(y_true, y_pred, labels=range(len(CLASS_NAMES)), average=None, zero_division=0)
        for ax in axes:
            sizes = [size for patch in ax.patches for size in (patch.get_width(), patch.get_height())]  # barh or bar
            lengths = np.array(sizes + [size / 100 for size in sizes])  # F1 as a share or in %, rounded to 2 digits
            if len(ax.patches) >= len(CLASS_NAMES) and all(np.isclose(lengths, v, atol=0.006).any() for v in f1):
                break
        else:
            self.fail(
                "No per-class F1 bars found: one panel should have a bar per class, the 'f1-score' column of "
                "per_class_table (not precision or recall)."
            )
        title, accuracy = figure.get_suptitle(), float(np.mean(y_pred == y_true))
        if not any(
            min(abs(n - accuracy), abs(n / 100 - accuracy)) < 0.01
            for n in map(float, re.findall(r"\d+(?:\.\d+)?", title))
        ):
            self.fail(
                f"Put the accuracy in the figure's title with fig.suptitle(...); on the check's data it is "
                f"{accuracy:.1%}, and your title is {title!r}."
            )


q1 = TopKAccuracy()
q2 = ConfusedPairs()
q3 = Dashboard()
