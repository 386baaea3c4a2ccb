"""Evaluating a classifier: reports, confusion matrices, per-class diagnosis, ROC, dashboard.

Every function accepts labels and scores the way learners have them: labels as ``(n,)``,
``(n, 1)`` (``keras.datasets`` style) or one-hot ``(n, k)``; scores as probabilities or
logits (``model.predict`` with or without a softmax). The maths is scikit-learn's, the
plots are scikit-learn's, seaborn's and matplotlib's; this module only checks inputs,
names things and lays out figures. Chapter 06 teaches each piece.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, softmax
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    auc,
    classification_report,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_curve,
)

MANY_CLASSES = 20
"""From this many classes on, confusion matrices drop the numbers in the cells and thin
out the tick labels so that the picture stays readable (CIFAR-100 has 100)."""


class EvaluationNote(UserWarning):
    """Something worth knowing about the data that does not stop the evaluation
    (for example a class that never occurs in ``y_true``)."""


def _note(message: str) -> None:
    warnings.warn(message, EvaluationNote, stacklevel=4)


# ------------------------------------------------------------------ input checks
def _array(values: Any, name: str) -> np.ndarray:
    if hasattr(values, "numpy"):  # a TensorFlow tensor
        values = values.numpy()
    array = np.asarray(values)
    if array.dtype == object:
        raise ValueError(f"{name} should be an array of numbers; got objects of mixed types.")
    if array.size == 0:
        raise ValueError(f"{name} is empty: there is nothing to evaluate. Did a filter or a `take(0)` remove everything?")
    return array


def _names(class_names: Sequence[str] | None, n_classes: int | None) -> list[str]:
    if class_names is None:
        if n_classes is None:
            raise ValueError("Pass class_names (a list of names, one per class, in label order).")
        return [str(i) for i in range(n_classes)]
    if isinstance(class_names, str):
        raise ValueError(f"class_names should be a list of names, not the single string {class_names!r}.")
    names = [str(name) for name in class_names]
    if not names:
        raise ValueError("class_names is empty; give one name per class, in label order.")
    return names


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


def _is_binary_scores(array: np.ndarray) -> bool:
    """True for a (n,) or (n, 1) float array that is not whole-number labels."""
    flat = array.reshape(len(array), -1)
    return (
        flat.shape[1] == 1
        and np.issubdtype(array.dtype, np.floating)
        and bool(np.any(flat != np.round(flat)))
    )


def _prepare(y_true: Any, y_pred: Any, class_names: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Checked integer labels for truth and prediction, and the class names."""
    true_raw = _array(y_true, "y_true")
    pred_raw = _array(y_pred, "y_pred")
    if len(true_raw) != len(pred_raw):
        raise ValueError(
            f"y_true has {len(true_raw)} entries but y_pred has {len(pred_raw)}; they must describe the same images. "
            "Did you predict on a different split, or on a dataset that was shuffled again?"
        )
    width = None
    for array in (true_raw, pred_raw):
        if array.ndim == 2 and array.shape[1] > 1:
            width = array.shape[1]
    n_classes = len(class_names) if class_names is not None and not isinstance(class_names, str) else width
    if class_names is None and n_classes is None:
        n_classes = int(max(np.max(true_raw), np.max(pred_raw))) + 1
    names = _names(class_names, n_classes)
    true = to_labels(true_raw, len(names), "y_true")
    if len(names) == 2 and _is_binary_scores(pred_raw):  # one sigmoid output per image
        pred = to_probabilities(pred_raw, 2, "y_pred").argmax(axis=1)
    else:
        pred = to_labels(pred_raw, len(names), "y_pred")
    absent = [names[k] for k in range(len(names)) if not np.any(true == k)]
    if absent:
        shown = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
        _note(f"{len(absent)} class(es) never occur in y_true ({shown}): their recall is undefined and shown as 0.")
    return true, pred, names


# ------------------------------------------------------------------ tables
def classification_report_df(y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """``sklearn.metrics.classification_report`` as a DataFrame: one row per class, then
    accuracy, macro avg and weighted avg."""
    true, pred, names = _prepare(y_true, y_pred, class_names)
    report = classification_report(
        true, pred, labels=list(range(len(names))), target_names=names, output_dict=True, zero_division=0
    )
    accuracy = report.pop("accuracy", None)
    if accuracy is None:  # sklearn leaves it out when some labels never occur; it is still well defined
        accuracy = float(np.mean(true == pred))
        report.pop("micro avg", None)
    table = pd.DataFrame(report).T
    summary = pd.DataFrame(
        {"precision": [np.nan], "recall": [np.nan], "f1-score": [accuracy], "support": [len(true)]}, index=["accuracy"]
    )
    table = pd.concat([table.iloc[: len(names)], summary, table.iloc[len(names) :]])
    table["support"] = table["support"].astype(int)
    return table


def per_class_table(y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Precision, recall, F1 and support per class, worst F1 first, with a diagnosis and the
    class each one is most often mistaken for."""
    true, pred, names = _prepare(y_true, y_pred, class_names)
    labels = list(range(len(names)))
    precision, recall, f1, support = precision_recall_fscore_support(true, pred, labels=labels, zero_division=0)
    counts = confusion_matrix(true, pred, labels=labels)
    off_diagonal = counts.copy()
    np.fill_diagonal(off_diagonal, 0)
    partner = [names[row.argmax()] if row.max() > 0 else "" for row in off_diagonal]
    table = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1-score": f1, "support": support, "mistaken for": partner},
        index=pd.Index(names, name="class"),
    )
    table["diagnosis"] = [diagnose(p, r, s) for p, r, s in zip(precision, recall, support)]
    return table.sort_values(["f1-score", "support"], ascending=[True, False], kind="stable")


def diagnose(precision: float, recall: float, support: int, good: float = 0.9, gap: float = 0.1) -> str:
    """A short verdict on one class from its precision, recall and support."""
    if support == 0:
        return "not in y_true: recall cannot be measured"
    if min(precision, recall) >= good:
        return "good"
    if recall - precision > gap:
        return "low precision: other classes are often predicted as this one (false positives)"
    if precision - recall > gap:
        return "low recall: images of this class are often missed (false negatives)"
    return "precision and recall both low: confused in both directions"


def most_confused(
    y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None, top: int = 5
) -> list[tuple[str, str, int]]:
    """The ``top`` most frequent mistakes as ``(true_name, predicted_name, count)``, largest first."""
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"top should be a whole number of at least 1, got {top!r}.")
    true, pred, names = _prepare(y_true, y_pred, class_names)
    counts = confusion_matrix(true, pred, labels=list(range(len(names))))
    np.fill_diagonal(counts, 0)
    rows, cols = np.nonzero(counts)
    pairs = sorted(zip(counts[rows, cols], rows, cols), key=lambda item: (-item[0], item[1], item[2]))
    return [(names[r], names[c], int(n)) for n, r, c in pairs[:top]]


# ------------------------------------------------------------------ plots
def _plt():
    import matplotlib.pyplot as plt

    return plt


def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str] | None = None,
    normalize: str | None = None,
    ax: Any = None,
    colorbar: bool = True,
) -> ConfusionMatrixDisplay:
    """One confusion matrix (``normalize='true'`` for row-normalised), readable up to 100 classes."""
    true, pred, names = _prepare(y_true, y_pred, class_names)
    many = len(names) >= MANY_CLASSES
    if ax is None:
        size = 5 if not many else 9
        _, ax = _plt().subplots(figsize=(size, size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 rows of classes absent from y_true
        display = ConfusionMatrixDisplay.from_predictions(
            true,
            pred,
            labels=list(range(len(names))),
            display_labels=names,
            normalize=normalize,
            include_values=not many,
            values_format=".2f" if normalize else "d",
            xticks_rotation="vertical",
            cmap="Blues",
            ax=ax,
            colorbar=colorbar,
            text_kw={"fontsize": 8 if len(names) <= 10 else 6},
        )
    ax.grid(False)
    display.confusion_matrix = np.nan_to_num(display.confusion_matrix)
    if many:
        step = max(1, len(names) // 25)
        ticks = np.arange(0, len(names), step)
        ax.set_xticks(ticks, [names[i] for i in ticks], fontsize=6, rotation=90)
        ax.set_yticks(ticks, [names[i] for i in ticks], fontsize=6)
    ax.set_title("row-normalised (recall on the diagonal)" if normalize == "true" else "counts")
    return display


def plot_confusion_matrices(y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None, axes: Any = None):
    """Counts and row-normalised confusion matrices side by side; returns the two displays."""
    if axes is None:
        n = len(class_names) if class_names is not None else 10
        width = 15 if n < MANY_CLASSES else 20
        _, axes = _plt().subplots(1, 2, figsize=(width, width / 2.2), layout="constrained")
    counts = plot_confusion_matrix(y_true, y_pred, class_names, normalize=None, ax=axes[0])
    rates = plot_confusion_matrix(y_true, y_pred, class_names, normalize="true", ax=axes[1])
    return counts, rates


def plot_misclassified(
    images: Any,
    y_true: Any,
    probabilities: Any,
    class_names: Sequence[str] | None = None,
    n: int = 12,
    cols: int = 6,
    axes: Any = None,
):
    """A grid of the most confident mistakes: true label, predicted label and confidence.

    Returns the figure (or ``None`` when there are no mistakes to show)."""
    image_array = _array(images, "images")
    probs_raw = _array(probabilities, "probabilities")
    if len(image_array) != len(probs_raw):
        raise ValueError(f"images has {len(image_array)} entries but probabilities has {len(probs_raw)}.")
    true, _, names = _prepare(y_true, probs_raw, class_names)
    probs = to_probabilities(probs_raw, len(names))
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != true)
    if len(wrong) == 0:
        print("No misclassified images: every prediction is right.")
        return None
    wrong = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:n]
    if axes is None:
        rows = int(np.ceil(len(wrong) / cols))
        _, axes = _plt().subplots(rows, cols, figsize=(2.1 * cols, 2.5 * rows), squeeze=False, layout="constrained")
    flat = np.ravel(axes)
    for ax in flat:
        ax.axis("off")
    for ax, index in zip(flat, wrong):
        image = image_array[index]
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        if np.issubdtype(image.dtype, np.floating) and image.max() > 1.0:
            image = image / 255.0
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.set_title(
            f"true: {names[true[index]]}\npred: {names[pred[index]]} ({probs[index, pred[index]]:.0%})", fontsize=8
        )
    figure = flat[0].figure
    figure.suptitle(f"{len(wrong)} most confident mistakes (of {int(np.sum(pred != true))})")
    return figure


def roc_curves(
    y_true: Any,
    probabilities: Any,
    class_names: Sequence[str] | None = None,
    ax: Any = None,
    max_curves: int = 10,
) -> dict[str, float]:
    """One-vs-rest ROC curves with AUC per class, plus micro and macro averages.

    Draws at most ``max_curves`` per-class curves (the best and the worst by AUC) and
    always the two averages; returns ``{class_name: auc, ..., 'micro': ..., 'macro': ...}``."""
    probs_raw = _array(probabilities, "probabilities")
    true, _, names = _prepare(y_true, probs_raw, class_names)
    probs = to_probabilities(probs_raw, len(names))
    onehot = np.eye(len(names))[true]
    curves, aucs = {}, {}
    for k, name in enumerate(names):
        positives = int(onehot[:, k].sum())
        if positives in (0, len(true)):
            continue  # ROC needs both positives and negatives; _prepare already noted absent classes
        fpr, tpr, _ = roc_curve(onehot[:, k], probs[:, k])
        curves[name] = (fpr, tpr)
        aucs[name] = float(auc(fpr, tpr))
    if not curves:
        raise ValueError("y_true holds a single class: a ROC curve needs examples of at least two classes.")
    micro_fpr, micro_tpr, _ = roc_curve(onehot.ravel(), probs.ravel())
    grid = np.linspace(0.0, 1.0, 201)
    macro_tpr = np.mean([np.interp(grid, fpr, tpr) for fpr, tpr in curves.values()], axis=0)
    aucs["micro"] = float(auc(micro_fpr, micro_tpr))
    aucs["macro"] = float(np.mean([aucs[name] for name in curves]))
    if ax is None:
        _, ax = _plt().subplots(figsize=(5.5, 5))
    ranked = sorted(curves, key=lambda name: aucs[name])
    shown = ranked if len(ranked) <= max_curves else ranked[: max_curves // 2] + ranked[-(max_curves - max_curves // 2) :]
    for name in shown:
        fpr, tpr = curves[name]
        ax.plot(fpr, tpr, lw=1, alpha=0.7, label=f"{name} ({aucs[name]:.2f})")
    ax.plot(micro_fpr, micro_tpr, color="black", lw=2.5, ls=":", label=f"micro average ({aucs['micro']:.3f})")
    ax.plot(grid, macro_tpr, color="black", lw=2.5, label=f"macro average ({aucs['macro']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="chance (0.50)")
    ax.set(xlabel="false positive rate", ylabel="true positive rate (recall)", xlim=(0, 1), ylim=(0, 1.01))
    title = "one-vs-rest ROC (AUC)"
    if len(shown) < len(curves):
        title += f": worst and best {len(shown)} of {len(curves)} classes"
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower right")
    return aucs


def plot_history(history: Any, ax: Any = None, metric: str = "accuracy"):
    """Training and validation curves of ``metric`` from a Keras ``History`` or its ``.history`` dict."""
    from matplotlib.ticker import MaxNLocator

    logs = history.history if hasattr(history, "history") else history
    if not isinstance(logs, Mapping):
        raise ValueError(f"history should be what model.fit returns (or its .history dict); got {type(history).__name__}.")
    if ax is None:
        _, ax = _plt().subplots(figsize=(5.5, 4))
    shown = [key for key in (metric, f"val_{metric}") if key in logs]
    if not shown:
        raise ValueError(f"history has no {metric!r}; it holds {sorted(logs)}. Pass metric= one of those.")
    for key in shown:
        values = logs[key]
        ax.plot(range(1, len(values) + 1), values, marker="o", label=key)
    ax.set(xlabel="epoch", ylabel=metric, title=f"training curves ({metric})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    return ax


def plot_per_class_f1(y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None, ax: Any = None, top: int = 20):
    """Horizontal bars of per-class F1, worst first (at most ``top`` classes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvaluationNote)  # the caller is told once elsewhere
        table = per_class_table(y_true, y_pred, class_names)
    shown = table.iloc[:top]
    if ax is None:
        _, ax = _plt().subplots(figsize=(5.5, max(3, 0.25 * len(shown))))
    import seaborn as sns

    sns.barplot(x=shown["f1-score"], y=shown.index, ax=ax, color="#0072b2", orient="h")
    ax.set(xlim=(0, 1), xlabel="F1", ylabel="")
    ax.set_title("per-class F1 (worst first)" if len(shown) == len(table) else f"per-class F1: worst {len(shown)}")
    ax.tick_params(axis="y", labelsize=7 if len(shown) > 12 else 9)
    return ax


def dashboard(history: Any, y_true: Any, probabilities: Any, class_names: Sequence[str] | None = None):
    """One figure: training curves, row-normalised confusion matrix, per-class F1 and ROC."""
    probs_raw = _array(probabilities, "probabilities")
    true, _, names = _prepare(y_true, probs_raw, class_names)
    probs = to_probabilities(probs_raw, len(names))
    pred = probs.argmax(axis=1)
    figure, axes = _plt().subplots(2, 2, figsize=(13, 11), layout="constrained")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvaluationNote)  # already said by _prepare above
        if history is not None:
            plot_history(history, ax=axes[0, 0])
        else:
            axes[0, 0].text(0.5, 0.5, "no training history given", ha="center", va="center")
            axes[0, 0].axis("off")
        plot_confusion_matrix(true, pred, names, normalize="true", ax=axes[0, 1])
        plot_per_class_f1(true, pred, names, ax=axes[1, 0])
        roc_curves(true, probs, names, ax=axes[1, 1])
    accuracy = float(np.mean(pred == true))
    figure.suptitle(f"Evaluation dashboard: {len(true)} images, {len(names)} classes, accuracy {accuracy:.1%}")
    return figure
