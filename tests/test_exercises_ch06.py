"""Chapter 06 checks: each one accepts the reference answer and explains typical mistakes."""

from __future__ import annotations

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

from helpers import evaluation, taught
from helpers.exercises import ch06
from helpers.exercises.question import load_json
from helpers.plots import plot_history
from tools.testing import ROOT, notebook_functions

TAUGHT = ("plot_confusion_matrix", "per_class_table", "plot_confident_mistakes")
CHAPTER_06 = notebook_functions(ROOT / "solutions" / "06_evaluation.ipynb", "plot_roc_curves", "dashboard")


def _incorrect(question, answer, fragment):
    verdict = question.verdict(answer)
    assert verdict.status == "incorrect", verdict
    assert fragment in verdict.message, verdict.message


# ------------------------------------------------------------------ q1: top-k accuracy
def top_k_accuracy(y_true, probabilities, k):
    best = np.argsort(probabilities, axis=1)[:, -k:]
    return float((best == np.asarray(y_true)[:, None]).any(axis=1).mean())


def test_q1_right():
    from sklearn.metrics import top_k_accuracy_score

    assert ch06.q1.verdict(top_k_accuracy).ok
    assert ch06.q1.verdict(lambda y, p, k: top_k_accuracy_score(y, p, k=k, labels=range(p.shape[1]))).ok
    # Keras's metric takes float32 probabilities only, as model.predict gives them: so does the check
    assert ch06.q1.verdict(
        lambda y, p, k: float(keras.metrics.sparse_top_k_categorical_accuracy(y, p, k=k).numpy().mean())
    ).ok


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda y, p, k: (np.argsort(p, axis=1)[:, :k] == y[:, None]).any(1).mean(), "LEAST probable"),
        (lambda y, p, k: (p.argmax(1) == y).mean(), "you return the top-1 accuracy"),
        (lambda y, p, k: (np.argsort(p, axis=1)[:, -k - 1 :] == y[:, None]).any(1).mean(), "is 0.746, not 0.917"),
        (lambda y, p, k: (np.argsort(p, axis=1)[:, -k:] == y[:, None]).any(1).sum(), "count of images"),
        (lambda y, p, k: 100 * top_k_accuracy(y, p, k), "74.6 is a percentage; return a share between 0 and 1"),
        (lambda y, p, k: (np.sort(p, axis=1)[:, -k:] == y[:, None]).any(1).mean(), "is 0.746, not 0.000"),
        (lambda y, p, k: (np.argsort(p, axis=0)[:, -k:] == y[:, None]).any(1).mean(), "is 0.746, not 0.004"),
        (lambda y, p, k: [top_k_accuracy(y, p, k)], "could not read your answer (TypeError: float()"),
        (lambda y, p: 0.5, "should take three arguments"),
        (lambda y, p, k: accuracy_score(y, p), "multiclass and continuous-multioutput targets (with k=1)"),
    ],
)
def test_q1_wrong(wrong, fragment):
    _incorrect(ch06.q1, wrong, fragment)


# ------------------------------------------------------------------ q2: confused pairs
def confused_pairs(y_true, y_pred, class_names, top=5):
    counts = confusion_matrix(y_true, y_pred, labels=range(len(class_names)))
    both_ways = np.triu(counts + counts.T, k=1)
    largest_first = np.argsort(both_ways, axis=None, kind="stable")[::-1][:top]
    rows, columns = np.unravel_index(largest_first, both_ways.shape)
    return [
        (class_names[a], class_names[b], int(both_ways[a, b])) for a, b in zip(rows, columns) if both_ways[a, b] > 0
    ]


def test_q2_right():
    assert ch06.q2.verdict(confused_pairs).ok


def test_q2_tolerates_reversed_pair_order():
    def reversed_pairs(y_true, y_pred, class_names, top=5):
        return [(b, a, n) for a, b, n in confused_pairs(y_true, y_pred, class_names, top)]

    assert ch06.q2.verdict(reversed_pairs).ok


def _with_diagonal(y_true, y_pred, class_names, top=5):
    counts = confusion_matrix(y_true, y_pred) + confusion_matrix(y_true, y_pred).T
    flat = np.argsort(counts, axis=None)[::-1][:top]
    return [(class_names[a], class_names[b], int(counts[a, b])) for a, b in zip(*np.unravel_index(flat, counts.shape))]


def _both_triangles(y_true, y_pred, class_names, top=5):
    counts = confusion_matrix(y_true, y_pred)
    both = counts + counts.T
    np.fill_diagonal(both, 0)
    flat = np.argsort(both, axis=None)[::-1][:top]
    return [(class_names[a], class_names[b], int(both[a, b])) for a, b in zip(*np.unravel_index(flat, both.shape))]


def _one_direction(y_true, y_pred, class_names, top=5):
    counts = confusion_matrix(y_true, y_pred, labels=range(len(class_names)))
    np.fill_diagonal(counts, 0)
    flat = np.argsort(counts, axis=None, kind="stable")[::-1][:top]
    rows, cols = np.unravel_index(flat, counts.shape)
    return [(class_names[a], class_names[b], int(counts[a, b])) for a, b in zip(rows, cols) if counts[a, b] > 0]


def _keeps_empty_pairs(y_true, y_pred, class_names, top=5):
    """Right counts, largest first, but pairs with no mistake stay in the list."""
    counts = confusion_matrix(y_true, y_pred, labels=range(len(class_names)))
    rows, columns = np.triu_indices(len(class_names), k=1)
    both = (counts + counts.T)[rows, columns]
    order = np.argsort(-both, kind="stable")[:top]
    return [(class_names[rows[i]], class_names[columns[i]], int(both[i])) for i in order]


def _keeps_empty_cells(y_true, y_pred, class_names, top=5):
    """The reference without its `if both_ways[a, b] > 0`: empty cells of the lower triangle and diagonal come back."""
    both_ways = np.triu(confusion_matrix(y_true, y_pred) + confusion_matrix(y_true, y_pred).T, k=1)
    rows, columns = np.unravel_index(np.argsort(both_ways, axis=None, kind="stable")[::-1][:top], both_ways.shape)
    return [(class_names[a], class_names[b], int(both_ways[a, b])) for a, b in zip(rows, columns)]


def _smallest_first(y_true, y_pred, class_names, top=5):
    """Forgot [::-1]: the top pairs are the smallest cells, all zero, and the filter leaves nothing."""
    both = np.triu(confusion_matrix(y_true, y_pred) + confusion_matrix(y_true, y_pred).T, k=1)
    rows, columns = np.unravel_index(np.argsort(both, axis=None)[:top], both.shape)
    return [(class_names[a], class_names[b], int(both[a, b])) for a, b in zip(rows, columns) if both[a, b] > 0]


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (
            _keeps_empty_pairs,
            "mistakes), not [('cat', 'dog', 5), ('fox', 'owl', 2), ('dog', 'owl', 1), ('cat', 'fox', 0)",
        ),
        (  # not "counts only owl predicted as dog", nor "a class paired with itself": the zeros are the mistake
            _keeps_empty_cells,
            "(largest first, no pair with 0 mistakes), not [('cat', 'dog', 5), ('fox', 'owl', 2), ('dog', 'owl', 1), "
            "('owl', 'owl', 0), ('owl', 'fox', 0), ('owl', 'dog', 0)]",
        ),
        (_smallest_first, "With top=2 the check's labels give [('cat', 'dog', 5), ('fox', 'owl', 2)]"),
        (lambda y, p, n, top=5: {(a, b): c for a, b, c in confused_pairs(y, p, n, top)}, "(expected 3, got 2)"),
        (_one_direction, "('cat', 'dog') should have 5 mistakes in both directions, not 3"),
        (_with_diagonal, "paired with itself"),
        (_both_triangles, "should appear once"),
        (
            lambda y, p, n, top=5: [(a, b, c) for a, b, c in reversed(confused_pairs(y, p, n, top))],
            "[('fox', 'owl', 2), ('cat', 'dog', 5)].",
        ),
        (
            lambda y, p, n, top=5: confused_pairs(y, p, n, top + 1),
            "mistakes), not [('cat', 'dog', 5), ('fox', 'owl', 2), ('dog', 'owl', 1)]. Count",
        ),
        (lambda y, p, n, top=5: [(0, 1, 3)], "not [(0, 1, 3)]"),
        (lambda y, p, n, top=5: None, "'NoneType' object is not iterable"),
        (lambda y, p, n, top=5: 7, "'int' object is not iterable"),
    ],
)
def test_q2_wrong(wrong, fragment):
    _incorrect(ch06.q2, wrong, fragment)


# ------------------------------------------------------------------ q3: dashboard
def dashboard(history, y_true, probabilities, class_names):
    y_pred = np.asarray(probabilities).argmax(axis=1)
    fig, axes = plt.subplots(2, 2, figsize=(13, 11), layout="constrained")
    plot_history(history, metrics=["accuracy"], axes=[axes[0, 0]])
    evaluation.plot_confusion_matrix(y_true, y_pred, class_names, normalize="true", ax=axes[0, 1])
    evaluation.per_class_table(y_true, y_pred, class_names)["f1-score"].plot.barh(ax=axes[1, 0])
    CHAPTER_06.plot_roc_curves(y_true, probabilities, class_names, ax=axes[1, 1])
    fig.suptitle(f"accuracy {np.mean(y_pred == y_true):.1%}")
    return fig


def test_q3_right_and_closes_its_figures():
    before = len(plt.get_fignums())
    assert ch06.q3.verdict(dashboard).ok
    assert ch06.q3.verdict(CHAPTER_06.dashboard).ok
    assert len(plt.get_fignums()) == before


def _three_panels(history, y_true, probabilities, class_names):
    fig, axes = plt.subplots(1, 3)
    y_pred = np.asarray(probabilities).argmax(axis=1)
    plot_history(history, metrics=["accuracy"], axes=[axes[0]])
    evaluation.plot_confusion_matrix(y_true, y_pred, class_names, ax=axes[1])
    CHAPTER_06.plot_roc_curves(y_true, probabilities, class_names, ax=axes[2])
    return fig


def _shows_instead_of_returning(history, y_true, probabilities, class_names):
    dashboard(history, y_true, probabilities, class_names)
    plt.show()


def _no_matrix(history, y_true, probabilities, class_names):
    fig, axes = plt.subplots(2, 2)
    y_pred = np.asarray(probabilities).argmax(axis=1)
    plot_history(history, metrics=["accuracy"], axes=[axes[0, 0]])
    plot_history(history, metrics=["loss"], axes=[axes[0, 1]])
    evaluation.per_class_table(y_true, y_pred, class_names)["f1-score"].plot.barh(ax=axes[1, 0])
    CHAPTER_06.plot_roc_curves(y_true, probabilities, class_names, ax=axes[1, 1])
    return fig


def _changed_dashboard(normalize="true", column="f1-score", title=True, show=False, roc=True):
    """The dashboard with one typical slip."""

    def answer(history, y_true, probabilities, class_names):
        y_pred = np.asarray(probabilities).argmax(axis=1)
        fig, axes = plt.subplots(2, 2, figsize=(13, 11), layout="constrained")
        plot_history(history, metrics=["accuracy"], axes=[axes[0, 0]])
        evaluation.plot_confusion_matrix(y_true, y_pred, class_names, normalize=normalize, ax=axes[0, 1])
        evaluation.per_class_table(y_true, y_pred, class_names)[column].plot.barh(ax=axes[1, 0])
        if roc:
            CHAPTER_06.plot_roc_curves(y_true, probabilities, class_names, ax=axes[1, 1])
        else:  # the loss curves in its place
            plot_history(history, metrics=["loss"], axes=[axes[1, 1]])
        if title:
            fig.suptitle(f"accuracy {np.mean(y_pred == y_true):.1%}")
        if show:
            plt.show()
        return fig

    return answer


def _own_history_plot(history, y_true, probabilities, class_names):
    """history.history works on what model.fit returns, not on the saved dict: the check says so."""
    fig, axes = plt.subplots(2, 2)
    axes[0, 0].plot(history.history["accuracy"])
    return fig


def test_q3_right_with_f1_in_percent_rounded_and_a_decimal_accuracy():
    def percent(history, y_true, probabilities, class_names):
        y_pred = np.asarray(probabilities).argmax(axis=1)
        fig = _changed_dashboard(title=False)(history, y_true, probabilities, class_names)
        bars = fig.axes[2]
        bars.clear()
        (100 * evaluation.per_class_table(y_true, y_pred, class_names)["f1-score"]).round(1).plot.bar(ax=bars)
        fig.suptitle(f"accuracy {np.mean(y_pred == y_true):.2f}")
        return fig

    assert ch06.q3.verdict(percent).ok


def test_q3_right_with_a_seaborn_heatmap():
    """seaborn draws the matrix as a QuadMesh, not an image: its rows count too."""
    import seaborn as sns

    def heatmap(history, y_true, probabilities, class_names):
        y_pred = np.asarray(probabilities).argmax(axis=1)
        fig = _changed_dashboard()(history, y_true, probabilities, class_names)
        matrix = fig.axes[1]
        matrix.clear()
        sns.heatmap(confusion_matrix(y_true, y_pred, normalize="true"), annot=True, cbar=False, ax=matrix)
        return fig

    assert ch06.q3.verdict(heatmap).ok


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (_changed_dashboard(normalize=None), "images add up to [[24, 34, 25, 37]]"),
        (_changed_dashboard(normalize="pred"), "images add up to [[0.84, 1.05, 0.91, 1.2]]"),
        (
            _changed_dashboard(column="precision"),
            "no panel has a bar per class as long as its F1 ([0.72, 0.74, 0.6, 0.78]",
        ),
        (
            _changed_dashboard(roc=False),
            "a panel has a bar per class as long as its F1 ([0.72, 0.74, 0.6, 0.78]); no panel has ROC",
        ),
        (
            _changed_dashboard(title=False),
            "Put the accuracy (71.7% on the check's data) in fig.suptitle(...); yours: ''.",
        ),
        (_changed_dashboard(show=True), "Leave plt.show() to the caller"),
        (_own_history_plot, "getattr(history, 'history', history)"),
        (_shows_instead_of_returning, "Leave plt.show() to the caller"),
        (_three_panels, "Your figure has 3 panel(s)"),
        (_no_matrix, "images add up to [] "),
        (lambda h, y, p, n: plt.subplots(2, 2)[1], "'numpy.ndarray' object has no attribute 'axes'"),
        (lambda h, y, p, n: 1 / 0, "raised ZeroDivisionError: division by zero."),
    ],
)
def test_q3_wrong(wrong, fragment):
    before = len(plt.get_fignums())
    _incorrect(ch06.q3, wrong, fragment)
    assert len(plt.get_fignums()) == before


# ------------------------------------------------------------------ stored solutions
def test_reference_solutions_are_stored_and_pass():
    answers = load_json("answers", "ch06")
    assert set(answers) == {"ch06.q1", "ch06.q2", "ch06.q3"}
    namespace = {
        "np": np,
        "pd": pd,
        "plt": plt,
        "plot_history": plot_history,
        "classification_report": classification_report,
        "confusion_matrix": confusion_matrix,
    }
    namespace.update({name: getattr(taught, name) for name in TAUGHT})
    namespace["plot_roc_curves"] = CHAPTER_06.plot_roc_curves
    for key, name in [("ch06.q1", "top_k_accuracy"), ("ch06.q2", "confused_pairs"), ("ch06.q3", "dashboard")]:
        exec(answers[key], namespace)
        question = getattr(ch06, key.split(".")[1])
        assert question.verdict(namespace[name]).ok, key
