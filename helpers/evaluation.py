"""Evaluating a classifier: copies of the pieces chapter 06 writes, for later chapters.

Chapter 06 builds its evaluation suite in the notebook: a confusion matrix, a per-class
table with a diagnosis, a grid of confident mistakes, one-vs-rest ROC curves, and (in its
exercise 3) a dashboard composed from them. The functions below are exactly those cells
(``tests/test_evaluation.py`` checks that they stay identical), so chapters 08 and 09 can
reuse them. The rest is plumbing: turning the labels and scores learners have into the
plain integer labels and probabilities those pieces expect.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.special import expit, softmax
from sklearn.metrics import ConfusionMatrixDisplay, auc, confusion_matrix, precision_recall_fscore_support, roc_curve

from helpers import plots
from helpers.training import plot_history


# ------------------------------------------------------------------ input checks
def _array(values: Any, name: str) -> np.ndarray:
    if hasattr(values, "numpy"):  # a TensorFlow tensor
        values = values.numpy()
    array = np.asarray(values)
    if array.dtype == object:
        raise ValueError(f"{name} should be an array of numbers; got objects of mixed types.")
    if array.size == 0:
        raise ValueError(
            f"{name} is empty: there is nothing to evaluate. Did a filter or a `take(0)` remove everything?"
        )
    return array


def to_labels(y: Any, n_classes: int | None = None, name: str = "y_true") -> np.ndarray:
    """Integer labels of shape (n,) from ``(n,)``, ``(n, 1)``, one-hot or score arrays."""
    array = _array(y, name)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 2:
        if n_classes is not None and array.shape[1] != n_classes:
            raise ValueError(
                f"{name} has {array.shape[1]} columns but there are {n_classes} classes; "
                "one-hot labels and probabilities need one column per class."
            )
        array = array.argmax(axis=1)
    elif array.ndim != 1:
        raise ValueError(f"{name} should have shape (n,), (n, 1) or (n, classes); got {array.shape}.")
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError(
                f"{name} holds fractional values such as {array[array != np.round(array)][:1]}; "
                "labels are whole numbers. For probabilities, pass the full (n, classes) array."
            )
    elif not np.issubdtype(array.dtype, np.integer) and array.dtype != bool:
        raise ValueError(f"{name} should hold whole-number class labels; got dtype {array.dtype}.")
    labels = array.astype(np.int64)
    if labels.min() < 0:
        raise ValueError(f"{name} contains the negative label {labels.min()}; labels run from 0 to classes - 1.")
    if n_classes is not None and labels.max() >= n_classes:
        raise ValueError(
            f"{name} contains the label {labels.max()} but there are only {n_classes} class names "
            f"(labels 0..{n_classes - 1}). Is class_names the list for this dataset?"
        )
    return labels


def looks_like_logits(scores: np.ndarray) -> bool:
    """True when rows of ``scores`` are not probabilities (negative values or rows not summing to 1)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1 or scores.shape[1] == 1:
        return bool(np.any(scores < 0) or np.any(scores > 1))
    return bool(np.any(scores < 0) or not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3))


def to_probabilities(scores: Any, n_classes: int | None = None, name: str = "probabilities") -> np.ndarray:
    """Class probabilities of shape (n, classes): logits get a softmax (sigmoid for one column)."""
    array = _array(scores, name).astype(np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} should have shape (n, classes); got {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity; the model's training probably diverged.")
    if array.shape[1] == 1:  # one sigmoid output: the probability of class 1
        if n_classes not in (None, 2):
            raise ValueError(f"{name} has a single column (a binary model) but there are {n_classes} classes.")
        positive = expit(array[:, 0]) if looks_like_logits(array) else array[:, 0]
        return np.stack([1 - positive, positive], axis=1)
    if n_classes is not None and array.shape[1] != n_classes:
        raise ValueError(
            f"{name} has {array.shape[1]} columns but there are {n_classes} class names; "
            "the model's last Dense layer needs one unit per class."
        )
    return softmax(array, axis=1) if looks_like_logits(array) else array


# ------------------------------------------------------------------ taught in chapter 06


def plot_confusion_matrix(y_true, y_pred, class_names, normalize=None, ax=None):
    """Draw a confusion matrix: counts, or with normalize="true" each row divided by its total."""
    many_classes = len(class_names) > 20  # numbers in hundreds of cells would be unreadable
    display = ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=list(range(len(class_names))),
        display_labels=class_names,
        normalize=normalize,
        include_values=not many_classes,
        values_format=".2f" if normalize else "d",
        xticks_rotation="vertical",
        cmap="Blues",
        colorbar=False,
        ax=ax,
    )
    if many_classes:
        display.ax_.tick_params(labelsize=5)
    display.ax_.set_title("row-normalised (recall on the diagonal)" if normalize == "true" else "counts")
    return display


def per_class_table(y_true, y_pred, class_names):
    """Precision, recall, F1 and support per class, worst F1 first, with a diagnosis."""
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    mistakes = confusion_matrix(y_true, y_pred, labels=labels)
    np.fill_diagonal(mistakes, 0)  # keep only the wrong answers
    table = pd.DataFrame(
        {
            "precision": precision,
            "recall": recall,
            "f1-score": f1,
            "support": support,
            "most often taken for": [class_names[row.argmax()] if row.any() else "-" for row in mistakes],
        },
        index=pd.Index(class_names, name="class"),
    )
    table["diagnosis"] = np.select(
        [
            table[["precision", "recall"]].min(axis=1) >= 0.9,
            table["recall"] - table["precision"] > 0.1,
            table["precision"] - table["recall"] > 0.1,
        ],
        [
            "good",
            "low precision: other classes are often predicted as this one",
            "low recall: images of this class are often missed",
        ],
        default="both low: confused in both directions",
    )
    return table.sort_values("f1-score", kind="stable")


def plot_confident_mistakes(images, y_true, probabilities, class_names, n=12, ncols=6):
    """Show the n mistakes the model was surest of, with the true class, the prediction and its confidence."""
    y_pred = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)
    if len(wrong) == 0:
        print("No mistakes to show: every prediction is right.")
        return None
    surest_first = wrong[np.argsort(-confidence[wrong], kind="stable")][:n]
    axes = plots.image_grid(images[surest_first], ncols=ncols, size=2.2)
    for ax, i in zip(axes, surest_first):
        ax.set_title(
            f"true: {class_names[y_true[i]]}\npredicted: {class_names[y_pred[i]]}\n{confidence[i]:.0%} sure", fontsize=8
        )
    return axes


def plot_roc_curves(y_true, probabilities, class_names, ax=None):
    """One-vs-rest ROC curve of every class, plus the micro average; returns the AUCs."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    is_class = np.asarray(y_true)[:, None] == np.arange(len(class_names))  # (images, classes): "is it class k?"
    aucs = {}
    for k, name in enumerate(class_names):
        # Rank all images by their class-k score; the images of class k are the positives.
        fpr, tpr, _ = roc_curve(is_class[:, k], probabilities[:, k])
        aucs[name] = float(auc(fpr, tpr))
        ax.plot(fpr, tpr, lw=1, alpha=0.7, label=f"{name} ({aucs[name]:.3f})" if len(class_names) <= 10 else None)
    aucs["macro"] = float(np.mean([aucs[name] for name in class_names]))  # every class counts the same
    fpr, tpr, _ = roc_curve(is_class.ravel(), probabilities.ravel())  # all (image, class) pairs in one ranking
    aucs["micro"] = float(auc(fpr, tpr))
    ax.plot(fpr, tpr, color="black", ls=":", lw=2.5, label=f"micro average ({aucs['micro']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="chance (0.500)")
    ax.set(xlabel="false positive rate", ylabel="true positive rate (recall)")
    ax.set_title(f"one-vs-rest ROC, macro AUC {aucs['macro']:.3f}")
    ax.legend(fontsize=7, loc="lower right")
    return aucs


def dashboard(history, y_true, probabilities, class_names):
    """Training curves, confusion matrix, per-class F1 and ROC curves of one model in one figure."""
    y_pred = probabilities.argmax(axis=1)
    fig, axes = plt.subplots(2, 2, figsize=(13, 11), layout="constrained")
    plot_history(history, metrics=["accuracy"], axes=[axes[0, 0]], title="training curves")
    plot_confusion_matrix(y_true, y_pred, class_names, normalize="true", ax=axes[0, 1])
    f1 = per_class_table(y_true, y_pred, class_names)["f1-score"]
    f1.plot.barh(ax=axes[1, 0], xlim=(0, 1), title="F1 per class (worst at the bottom)")
    plot_roc_curves(y_true, probabilities, class_names, ax=axes[1, 1])
    fig.suptitle(f"{len(y_true):,} images, accuracy {np.mean(y_pred == y_true):.1%}")
    return fig
