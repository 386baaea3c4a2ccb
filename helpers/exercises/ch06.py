"""Chapter 06 (Evaluation): a report table, the most confused pairs, the dashboard."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

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
    if "mix of" in str(exc) and "continuous" in str(exc):
        return (
            "scikit-learn metrics want class labels, not probabilities: "
            "turn each row of probabilities into a label with probabilities.argmax(axis=1) first."
        )
    return "Run it on the notebook's data first and read the traceback."


class ReportTable(Question):
    chapter, number = "ch06", 1
    title = "The classification report as a DataFrame"
    hints = [
        "classification_report wants labels: y_pred = probabilities.argmax(axis=1).",
        "classification_report(y_true, y_pred, target_names=class_names, output_dict=True) gives a dict of dicts.",
        "pd.DataFrame(that_dict) puts the classes in columns; .T (transpose) puts one class per row.",
    ]
    correct_message = "One row per class, then the averages: the table you will read for every model from now on."

    def _check(self, report_table):
        import pandas as pd

        y_true, probabilities, y_pred = _sample()
        table = self.call(
            report_table,
            y_true,
            probabilities,
            CLASS_NAMES,
            signature="report_table(y_true, probabilities, class_names)",
            explain=_explain,
            quiet=True,
        )
        if table is None:
            self.fail(
                "Your function returned None. Write its body in place of the `...`, and end it with a `return` line."
            )
        if isinstance(table, str):
            self.fail("That is the printed report (a string). Ask for output_dict=True and build a DataFrame from it.")
        if isinstance(table, dict):
            self.fail("That is the report as a dict; wrap it in pd.DataFrame(...) and transpose it with .T.")
        if not isinstance(table, pd.DataFrame):
            self.fail(f"Return a pandas DataFrame; you returned a {type(table).__name__}.")
        if "precision" in table.index and "cat" in table.columns:
            self.fail("The classes are the columns: transpose the DataFrame with .T so that each class is a row.")
        rows = [str(r) for r in table.index]
        if "0" in rows and "cat" not in rows:
            self.fail("The rows are called 0, 1, 2...: pass target_names=class_names to classification_report.")
        missing = [name for name in CLASS_NAMES + ["macro avg", "weighted avg"] if name not in rows]
        if missing:
            self.fail(
                f"The table has no row for {missing}; it should have one per class plus 'macro avg' and 'weighted avg'."
            )
        columns = {"precision", "recall", "f1-score", "support"}
        if not columns <= set(table.columns):
            self.fail(f"The columns should be {sorted(columns)}; yours are {list(table.columns)}.")
        expected = classification_report(y_true, y_pred, target_names=CLASS_NAMES, output_dict=True, zero_division=0)
        for row in CLASS_NAMES + ["macro avg", "weighted avg"]:
            for column in ("precision", "recall", "f1-score"):
                if not np.isclose(float(table.loc[row, column]), expected[row][column], atol=1e-6):
                    self.fail(
                        f"{row!r} {column} is {float(table.loc[row, column]):.3f} but should be "
                        f"{expected[row][column]:.3f}. Did you compute y_pred with argmax(axis=1)?"
                    )
        return None


class ConfusedPairs(Question):
    chapter, number = "ch06", 2
    title = "The most confused pairs, counted in both directions"
    hints = [
        "Start from counts = confusion_matrix(y_true, y_pred, labels=range(len(class_names))).",
        "Mistakes between a and b in both directions: counts + counts.T. Keep one triangle (np.triu(..., k=1)) so "
        "each pair appears once and the diagonal (right answers) is gone.",
        "np.argsort(pairs, axis=None)[::-1] gives flat indices, largest first; np.unravel_index turns them back "
        "into (row, column). Skip pairs with a count of 0.",
    ]
    correct_message = "Those are the pairs your model cannot tell apart, whichever way round."

    def _check(self, confused_pairs):
        y_true, _, y_pred = _sample()
        result = self.call(
            confused_pairs,
            y_true,
            y_pred,
            CLASS_NAMES,
            3,
            signature="confused_pairs(y_true, y_pred, class_names, top)",
            explain=_explain,
            quiet=True,
        )
        if result is None:
            self.fail(
                "Your function returned None. Write its body in place of the `...`, and end it with a `return` line."
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
        expected = sorted(both[np.triu_indices(len(CLASS_NAMES), k=1)], reverse=True)[:3]
        got = [int(n) for _, _, n in result]
        if got != sorted(got, reverse=True):
            self.fail(f"Sort the pairs by count, largest first; your counts are {got}.")
        if got != [n for n in expected if n > 0]:
            self.fail(f"With top=3 the counts should be {expected}; yours are {got}. Did you keep only `top` pairs?")
        return None


class Dashboard(Question):
    chapter, number = "ch06", 3
    title = "An evaluation dashboard in one figure"
    hints = [
        "fig, axes = plt.subplots(2, 2, figsize=(13, 11)) gives four panels; pass each one as ax=.",
        "plot_history(history, metrics=['accuracy'], axes=[ax]), plot_confusion_matrix(..., normalize='true', ax=ax) "
        "and plot_roc_curves(..., ax=ax) draw into the panel you give them.",
        "The F1 bars: per_class_table(y_true, y_pred, class_names)['f1-score'].plot.barh(ax=ax).",
        "Return the figure (fig), and do not call plt.show() inside the function.",
    ]
    correct_message = "One picture that tells the whole story of a model. Reuse it for every model you train."

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
        try:
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
        finally:
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
        return None


q1 = ReportTable()
q2 = ConfusedPairs()
q3 = Dashboard()
