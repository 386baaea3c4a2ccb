"""Chapter 06 (Evaluation): top-k accuracy, the most confused pairs, the dashboard."""

from __future__ import annotations

import re
from unittest import mock

import numpy as np

from helpers.exercises.question import Question, explain_difference

CLASS_NAMES = ["cat", "dog", "fox", "owl"]


def _sample(n: int = 240, seed: int = 6):
    """Labels and probabilities of a decent 4-class model."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, len(CLASS_NAMES), n)
    logits = rng.normal(size=(n, len(CLASS_NAMES)))
    logits[np.arange(n), y_true] += 1.6
    return y_true, (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype("float32")  # as predict gives


def _call(question, function, *args, where=""):
    """The learner's function on the check's data, quietly; a history used as a History object gets a hint."""
    hint = "The check passes the history as a dict, as chapter 03 saved it (getattr(history, 'history', history))."
    explain = {"'dict' object has no attribute 'history'": hint}
    return question.call(function, *args, signature=question.signature, where=where, explain=explain, quiet=True)


class TopKAccuracy(Question):
    chapter, number, signature = "ch06", 1, "top_k_accuracy(y_true, probabilities, k)"

    def _check(self, top_k_accuracy):
        y_true, probabilities = _sample()
        rank = (np.argsort(-probabilities, axis=1, kind="stable") == y_true[:, None]).argmax(axis=1)  # 0: most probable
        for k in (1, 2, 3):
            got = float(_call(self, top_k_accuracy, y_true, probabilities.copy(), k, where=f"with k={k}"))
            right, count = np.mean(rank < k), np.sum(rank < k)
            least, top_1 = np.mean(rank >= len(CLASS_NAMES) - k), np.mean(rank < 1)
            mistakes = {
                f"{got:.0f} is a count of images; divide by their number for a share between 0 and 1.": count,
                "Those are the k LEAST probable classes: np.argsort sorts from smallest to largest.": least,
                f"With k={k} you return the top-1 accuracy: keep the {k} most probable classes, not one.": top_1,
                f"{got:.1f} is a percentage; return a share between 0 and 1 (0.75, not 75).": 100 * right,
            }
            otherwise = (
                f"With k={k} the top-k accuracy on the check's data is {right:.3f}, not {got:.3f}: print best_k[:3] "
                "beside y_true[:3]; each row should hold the k most probable classes (np.argsort gives classes)."
            )
            explain_difference(self, got, right, mistakes, otherwise)


class ConfusedPairs(Question):
    chapter, number, signature = "ch06", 2, "confused_pairs(y_true, y_pred, class_names, top)"

    def _check(self, confused_pairs):
        # Only cat-dog (5 mistakes), fox-owl (2) and dog-owl (1) are confused: 3 of the 6 pairs have no mistake.
        y_true, y_pred = np.repeat(np.arange(len(CLASS_NAMES)), 10), np.repeat(np.arange(len(CLASS_NAMES)), 10)
        y_pred[[0, 1, 2, 10, 11, 12, 30, 31]] = [1, 1, 1, 0, 0, 3, 2, 2]
        counts = np.bincount(len(CLASS_NAMES) * y_true + y_pred).reshape(len(CLASS_NAMES), -1)  # the confusion matrix
        one_way = {(a, b): counts[i, j] for i, a in enumerate(CLASS_NAMES) for j, b in enumerate(CLASS_NAMES)}
        pairs = sorted(((n + one_way[b, a], a, b) for (a, b), n in one_way.items() if a < b), reverse=True)
        for top in (2, 6):  # with top=6 there are fewer than `top` pairs with mistakes
            result = _call(self, confused_pairs, y_true, y_pred, CLASS_NAMES, top, where=f"with top={top}")
            result = [(a, b, int(n)) for a, b, n in result]  # None, a number or a dict: "could not read"
            for a, b, n in result:
                if a != b and 0 < n == one_way.get((a, b)) != n + one_way[b, a]:  # 0: a pair with no mistake
                    self.fail(
                        f"({a!r}, {b!r}) should have {n + one_way[b, a]} mistakes in both directions, not {n}: that "
                        f"counts only {a} predicted as {b}. Add the other direction too (counts + counts.T)."
                    )
            counted = [(a, b) for a, b, n in result if n]  # pairs kept with 0 mistakes: the last message says so
            if any(a == b for a, b in counted) or len({frozenset(pair) for pair in counted}) < len(counted):
                self.fail(
                    "Keep one triangle of the matrix, without its diagonal (np.triu(..., k=1)): a class paired with "
                    "itself is a right answer, not a confusion; each pair should appear once, not as (a, b) and (b, a)."
                )
            expected = [(a, b, int(n)) for n, a, b in pairs[:top] if n > 0]  # no two tie: one right order
            if [({a, b}, n) for a, b, n in result] != [({a, b}, n) for a, b, n in expected]:
                self.fail(
                    f"With top={top} the check's labels give {expected} (largest first, no pair with 0 mistakes), not "
                    f"{result}. Count both ways, sort largest first ([::-1] after np.argsort), keep `top` of them."
                )


class Dashboard(Question):
    chapter, number, signature = "ch06", 3, "dashboard(history, y_true, probabilities, class_names)"

    def _check(self, dashboard):
        """Four panels, among them a row-normalised matrix and F1 bars (share or %); accuracy in the title."""
        import matplotlib.pyplot as plt
        from sklearn.metrics import f1_score

        history = {"accuracy": [0.5, 0.7], "val_accuracy": [0.45, 0.6], "loss": [1.2, 0.8], "val_loss": [1.3, 1.0]}
        (y_true, probabilities), before = _sample(120), set(plt.get_fignums())
        try:
            with mock.patch.object(plt, "show") as show:  # to see whether the function shows its figure
                figure = _call(self, dashboard, history, y_true, probabilities, CLASS_NAMES)
        finally:  # the figure stays readable once closed
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
        if show.called:
            self.fail("Leave plt.show() to the caller, who may add to the figure or save it: end with `return fig`.")
        y_pred = probabilities.argmax(axis=1)
        panels = [ax for ax in figure.axes if ax.has_data() and ax.get_label() != "<colorbar>"]
        f1 = f1_score(y_true, y_pred, labels=range(len(CLASS_NAMES)), average=None, zero_division=0)
        bars = [[size for bar in ax.patches for size in (bar.get_width(), bar.get_height())] for ax in panels]
        f1_bars = any(all(np.isclose([*s, *np.divide(s, 100)], v, atol=0.006).any() for v in f1) for s in bars)
        grids = [a for ax in panels for a in [x.get_array() for x in [*ax.images, *ax.collections]] if np.ndim(a) == 2]
        sums = [np.asarray(grid).sum(axis=1).round(2).tolist() for grid in grids]  # imshow, or seaborn's heatmap
        roc = any("roc" in ax.get_title().lower() or "false positive" in ax.get_xlabel().lower() for ax in panels)
        if len(panels) < 4 or not (f1_bars and roc) or not any(np.allclose(rows, 1, atol=0.02) for rows in sums):
            self.fail(
                f"Your figure has {len(panels)} panel(s) with something drawn; the rows of its images add up to {sums} "
                f"(normalize='true' makes each confusion matrix row add up to 1); {'a' if f1_bars else 'no'} panel has "
                f"a bar per class as long as its F1 ({np.round(f1, 2).tolist()}); {'a' if roc else 'no'} panel has "
                "ROC curves. It needs four: training curves, row-normalised confusion matrix, F1 bars and ROC curves."
            )
        title, accuracy = figure.get_suptitle(), np.mean(y_pred == y_true)
        numbers = np.array(re.findall(r"\d+(?:\.\d+)?", title), dtype=float)
        if not np.isclose(accuracy, [*numbers, *numbers / 100], atol=0.01).any():
            self.fail(f"Put the accuracy ({accuracy:.1%} on the check's data) in fig.suptitle(...); yours: {title!r}.")


q1 = TopKAccuracy()
q2 = ConfusedPairs()
q3 = Dashboard()
