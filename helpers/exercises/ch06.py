"""Chapter 06 (Evaluation): top-k accuracy, the most confused pairs, the dashboard."""

from __future__ import annotations

import re

import numpy as np
from sklearn.metrics import confusion_matrix

from helpers.exercises.question import Question

CLASS_NAMES = ["cat", "dog", "fox", "owl"]


def _sample(n: int = 240, seed: int = 6):
    """Labels, logits-free probabilities and predictions of a decent 4-class model."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, len(CLASS_NAMES), n)
    logits = rng.normal(size=(n, len(CLASS_NAMES)))
    logits[np.arange(n), y_true] += 1.6
    logits[y_true == 0, 1] += 1.2  # cats are often taken for dogs
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_true, probabilities, probabilities.argmax(axis=1)


def _explain(exc: BaseException) -> str | None:
    """A chapter-specific hint for the learner's exception (the shared call names the exception itself)."""
    if isinstance(exc, AttributeError) and "'dict' object has no attribute 'history'" in str(exc):
        return (
            "The check passes the history as a dict, as chapter 03 saved it; model.fit returns a History object. "
            "plot_history takes both; for your own plots, getattr(history, 'history', history) gives the dict."
        )
    if "mix of" in str(exc) and "continuous" in str(exc):
        return (
            "scikit-learn metrics want class labels, not probabilities: "
            "turn each row of probabilities into a label with probabilities.argmax(axis=1) first."
        )
    return "Run it on the notebook's data first and read the traceback."


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
                where=f"with k={k}", explain=_explain, quiet=True,
            )  # fmt: skip
            try:
                got = float(got)
            except (TypeError, ValueError):
                self.fail(f"Return one number, the share of images (between 0 and 1); you returned {got!r}.")
            right = reference_top_k(y_true, probabilities, k)
            if np.isclose(got, right):
                continue
            if np.isclose(got, right * len(y_true)):
                self.fail(f"{got:.0f} is a count of images; divide by their number for a share between 0 and 1.")
            if np.isclose(got, reference_top_k(y_true, -probabilities, k)):
                self.fail("Those are the k LEAST probable classes: np.argsort sorts from smallest to largest.")
            if k > 1 and np.isclose(got, reference_top_k(y_true, probabilities, 1)):
                self.fail(f"With k={k} you return the top-1 accuracy: keep the {k} most probable classes, not one.")
            if any(np.isclose(got, reference_top_k(y_true, probabilities, j)) for j in (k - 1, k + 1) if j > 0):
                self.fail(f"With k={k} you keep one class too many or too few: count the classes you keep.")
            if got == 0:
                self.fail(
                    "Not one image counts as a hit: compare class numbers with y_true (np.argsort gives the classes), "
                    "not probabilities (np.sort gives the values)."
                )
            self.fail(
                f"With k={k} the top-k accuracy on the check's predictions is {right:.3f}, not {got:.3f}. Print "
                "best_k[:3] beside y_true[:3]: each row should hold the k classes with the largest probabilities, "
                "and an image counts when its y_true is one of them."
            )


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
        return None

    def _judge(self, confused_pairs, y_true, y_pred, top):
        result = self.call(
            confused_pairs,
            y_true,
            y_pred,
            CLASS_NAMES,
            top,
            signature="confused_pairs(y_true, y_pred, class_names, top)",
            explain=_explain,
            quiet=True,
        )
        if result is None:
            self.fail(
                "Your function returned None. Write its body in place of the `...`, and end it with a `return` line."
            )
        if isinstance(result, dict):
            self.fail(
                "Return a list of (class_a, class_b, count) tuples, not a dict: the list keeps the order, largest first."
            )
        try:
            result = [tuple(item) for item in result]
        except TypeError:
            self.fail(f"Return a list of (class_a, class_b, count) tuples; you returned a {type(result).__name__}.")
        if not all(len(item) == 3 for item in result):
            self.fail("Each entry should be a tuple of three things: (class_a, class_b, count).")
        if any(not isinstance(a, str) or not isinstance(b, str) for a, b, _ in result):
            self.fail("Give class names, not numbers: class_names[i] turns a label into its name.")
        counts = confusion_matrix(y_true, y_pred, labels=range(len(CLASS_NAMES)))
        both = counts + counts.T
        index = {name: i for i, name in enumerate(CLASS_NAMES)}
        if any(a == b for a, b, _ in result):
            self.fail("A class paired with itself is a right answer, not a confusion: leave out the diagonal.")
        for a, b, n in result:
            if a not in index or b not in index:
                self.fail(f"{a!r} or {b!r} is not one of the class names.")
            if int(n) == counts[index[a], index[b]] and int(n) != both[index[a], index[b]]:
                self.fail(
                    f"({a!r}, {b!r}) has {n}: that counts only {a} predicted as {b}. Add the other direction too "
                    "(counts + counts.T)."
                )
            if int(n) != both[index[a], index[b]]:
                self.fail(
                    f"({a!r}, {b!r}) should have {both[index[a], index[b]]} mistakes in both directions, not {n}."
                )
        pairs = {frozenset((a, b)) for a, b, _ in result}
        if len(pairs) < len(result):
            self.fail("The same pair appears twice (once as (a, b), once as (b, a)): keep one triangle of the matrix.")
        expected = [int(n) for n in sorted(both[np.triu_indices(len(CLASS_NAMES), k=1)], reverse=True)[:top] if n > 0]
        got = [int(n) for _, _, n in result]
        if not got:
            self.fail(
                f"Your list is empty, but the check's predictions have mistakes: with top={top} the counts should be "
                f"{expected}. Count them with confusion_matrix(y_true, y_pred), and sort the pairs largest first "
                "([::-1] after np.argsort) before you keep `top` of them."
            )
        if got != sorted(got, reverse=True):
            self.fail(f"Sort the pairs by count, largest first; your counts are {got}.")
        if 0 in got:
            self.fail(
                f"Your list has pairs with 0 mistakes ({got}): leave out the pairs the model never confuses, even when "
                "fewer than `top` are left."
            )
        if got != expected:
            self.fail(
                f"With top={top} the counts should be {expected}; yours are {got}. Did you keep only `top` pairs?"
            )


class Dashboard(Question):
    chapter, number = "ch06", 3

    def _check(self, dashboard):
        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure

        y_true, probabilities, _ = _sample(120)
        history = {
            "accuracy": [0.5, 0.6, 0.7],
            "val_accuracy": [0.45, 0.55, 0.6],
            "loss": [1.2, 0.9, 0.8],
            "val_loss": [1.3, 1.1, 1.0],
        }
        before = set(plt.get_fignums())
        shown = []
        real_show, plt.show = plt.show, lambda *args, **kwargs: shown.append(True)  # see whether the function shows
        try:
            try:
                figure = self.call(
                    dashboard,
                    history,
                    y_true,
                    probabilities,
                    CLASS_NAMES,
                    signature="dashboard(history, y_true, probabilities, class_names)",
                    explain=_explain,
                    quiet=True,
                )
            finally:
                plt.show = real_show
            if figure is None:
                self.fail(
                    "Your function returned None. Write its body in place of the `...` and end it with `return fig` (no plt.show())."
                )
            if not isinstance(figure, Figure):
                self.fail(f"Return the matplotlib Figure; you returned a {type(figure).__name__}.")
            axes = [ax for ax in figure.axes if ax.has_data() and ax.get_label() != "<colorbar>"]
            if len(axes) < 4:
                self.fail(
                    f"The figure has {len(axes)} panel(s) with something drawn; it needs 4 (curves, matrix, F1, ROC)."
                )
            if not any(ax.images for ax in axes):
                self.fail(
                    "No confusion matrix found: none of the panels shows an image (ConfusionMatrixDisplay / imshow)."
                )
            if not any(len(ax.patches) >= len(CLASS_NAMES) for ax in axes):
                self.fail("No per-class F1 bars found: one panel should have a bar per class.")
            text = " ".join(f"{ax.get_title()} {ax.get_xlabel()}".lower() for ax in axes)
            if "false positive" not in text and "roc" not in text:
                self.fail(
                    "No ROC panel found: plot true positive rate against false positive rate (plot_roc_curves, written earlier in this chapter)."
                )
            if not any(len(ax.get_lines()) >= 2 and not ax.images for ax in axes):
                self.fail("No training curves found: plot history['accuracy'] and history['val_accuracy'].")
            self._check_content(figure, axes, y_true, probabilities)
            if shown:
                self.fail(
                    "Your function calls plt.show(): leave that to whoever calls it, so that they can still add to "
                    "the figure, save it (fig.savefig) or put it in a report. Just return fig."
                )
        finally:
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
        return None

    def _check_content(self, figure, axes, y_true, probabilities):
        """The matrix is row-normalised, the bars are the per-class F1, the title holds the accuracy."""
        from sklearn.metrics import f1_score

        y_pred = probabilities.argmax(axis=1)
        matrices = [np.asarray(ax.images[0].get_array(), dtype=float) for ax in axes if ax.images]
        if not any(np.allclose(matrix.sum(axis=1), 1, atol=0.02) for matrix in matrices):
            self.fail(
                "Your confusion matrix is not row-normalised: its rows do not add up to 1. Draw it with "
                "normalize='true', so that each row is divided by its total and the diagonal is each class's recall."
            )
        f1 = f1_score(y_true, y_pred, labels=range(len(CLASS_NAMES)), average=None, zero_division=0)
        for ax in axes:
            sizes = [size for patch in ax.patches for size in (patch.get_width(), patch.get_height())]  # barh or bar
            lengths = np.array(sizes + [size / 100 for size in sizes])  # F1 as a share or in %, rounded to 2 digits
            if len(ax.patches) >= len(CLASS_NAMES) and all(
                np.isclose(lengths, value, atol=0.006).any() for value in f1
            ):
                break
        else:
            self.fail(
                "The bars do not show the per-class F1: take the 'f1-score' column of per_class_table "
                "(not precision or recall)."
            )
        title = figure.get_suptitle()
        accuracy = float(np.mean(y_pred == y_true))
        numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", title)]
        if not any(abs(n - accuracy) < 0.01 or abs(n / 100 - accuracy) < 0.01 for n in numbers):
            self.fail(
                f"Put the accuracy in the figure's title with fig.suptitle(...); on the check's data it is "
                f"{accuracy:.1%}, and your title is {title!r}."
            )


q1 = TopKAccuracy()
q2 = ConfusedPairs()
q3 = Dashboard()
