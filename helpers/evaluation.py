"""Evaluating a classifier: the pieces chapter 06 writes, for later chapters, and their plumbing.

Chapter 06 builds its evaluation suite in the notebook. The pieces later chapters reuse (the
confusion matrix, the per-class table, the confident mistakes) are generated into
``helpers.taught`` from its ``#@save`` cells. Here the first two check their input, so that text
labels, too few class names, lengths that differ or empty arrays get a message in the
course's words rather than scikit-learn's. The rest is plumbing: turning the labels
learners have into the plain integer labels those pieces expect.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers import taught


# ------------------------------------------------------------------ input checks
def to_labels(y: Any, n_classes: int | None = None, name: str = "y_true") -> np.ndarray:
    """Integer labels of shape (n,) from ``(n,)``, ``(n, 1)``, one-hot or score arrays."""
    array = np.asarray(y.numpy() if hasattr(y, "numpy") else y)  # .numpy(): a TensorFlow tensor
    if array.dtype == object:
        raise ValueError(f"{name} should be an array of numbers; got objects of mixed types.")
    if array.size == 0:
        raise ValueError(
            f"{name} is empty: there is nothing to evaluate. Did a filter or a `take(0)` remove everything?"
        )
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
    elif array.dtype.kind in "US":
        raise ValueError(
            f"{name} holds text such as {str(array[0])!r}, but labels are class numbers 0, 1, 2...: turn names into "
            f"numbers with [class_names.index(label) for label in {name}]."
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


# ------------------------------------------------------------------ chapter 06's pieces, checked
def checked_labels(y_true: Any, y_pred: Any, class_names: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``y_true`` and ``y_pred`` as integer labels of equal length that ``class_names`` all name."""
    class_names = [str(name) for name in class_names]
    if not class_names:
        raise ValueError("class_names is empty: pass the list of class names, in label order.")
    y_true = to_labels(y_true, len(class_names), "y_true")
    y_pred = to_labels(y_pred, len(class_names), "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}: pass one prediction per test image, "
            "made on the same images in the same order."
        )
    return y_true, y_pred, class_names


def per_class_table(y_true: Any, y_pred: Any, class_names: Any):
    """Chapter 06's per-class table (precision, recall, F1, support, diagnosis), after checking the input."""
    return taught.per_class_table(*checked_labels(y_true, y_pred, class_names))


def plot_confusion_matrix(y_true: Any, y_pred: Any, class_names: Any, normalize: str | None = None, ax: Any = None):
    """Chapter 06's confusion matrix (counts, or ``normalize="true"``), after checking the input."""
    return taught.plot_confusion_matrix(*checked_labels(y_true, y_pred, class_names), normalize=normalize, ax=ax)
