"""helpers.evaluation: reports, confusion matrices, diagnosis, ROC and dashboard, with the
inputs learners really pass (label shapes, logits) and the mistakes they really make."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from helpers import evaluation as ev

NAMES = ["cat", "dog", "bird"]


def _data(n=300, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.5
    return y, logits


# ------------------------------------------------------------------ input shapes
def test_labels_accepted_flat_column_and_one_hot():
    y = np.array([0, 2, 1, 1])
    for form in (y, y[:, None], np.eye(3)[y], y.tolist()):
        np.testing.assert_array_equal(ev.to_labels(form, 3), y)


def test_logits_get_softmax_probabilities_pass_through():
    _, logits = _data()
    probs = ev.to_probabilities(logits)
    assert ev.looks_like_logits(logits)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_array_equal(probs.argmax(1), logits.argmax(1))
    np.testing.assert_allclose(ev.to_probabilities(probs), probs)


def test_single_sigmoid_column_becomes_two_classes():
    probs = ev.to_probabilities(np.array([[0.2], [0.9]]), 2)
    np.testing.assert_allclose(probs, [[0.8, 0.2], [0.1, 0.9]])
    from_logits = ev.to_probabilities(np.array([-3.0, 3.0]), 2)
    assert from_logits[0, 1] < 0.1 < 0.9 < from_logits[1, 1]


def test_all_label_forms_give_the_same_report():
    y, logits = _data()
    reference = ev.classification_report_df(y, logits.argmax(1), NAMES)
    for true in (y[:, None], np.eye(3)[y]):
        for pred in (logits, ev.to_probabilities(logits), logits.argmax(1)[:, None]):
            pd.testing.assert_frame_equal(ev.classification_report_df(true, pred, NAMES), reference)


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize(
    "y_true, y_pred, names, fragment",
    [
        (np.zeros(10, int), np.zeros(9, int), NAMES, "y_true has 10 entries but y_pred has 9"),
        (np.array([0, 1, 3]), np.array([0, 1, 2]), NAMES, "label 3 but there are only 3 class names"),
        (np.array([0, 1]), np.ones((2, 4)) / 4, NAMES, "4 columns but there are 3"),
        (np.array([], int), np.array([], int), NAMES, "empty"),
        (np.array([0, 1]), np.array([0, 1]), "cat", "not the single string"),
        (np.array([0.5, 1.0]), np.array([0, 1]), NAMES, "fractional"),
        (np.array([-1, 1]), np.array([0, 1]), NAMES, "negative label"),
        (np.array([0, 1, 2]), np.array([[np.nan, 1, 0], [0, 1, 0], [0, 0, 1]]), NAMES, "NaN"),
    ],
)
def test_wrong_inputs_get_clear_errors(y_true, y_pred, names, fragment):
    with pytest.raises(ValueError, match=fragment):
        if np.asarray(y_pred).ndim == 2 and np.isnan(y_pred).any():
            ev.roc_curves(y_true, y_pred, names)
        else:
            ev.classification_report_df(y_true, y_pred, names)


def test_probabilities_of_the_wrong_width_everywhere():
    y, logits = _data()
    too_wide = np.hstack([logits, logits[:, :1]])
    for call in (ev.roc_curves, ev.per_class_table, ev.most_confused, ev.plot_confusion_matrices):
        with pytest.raises(ValueError, match="4 columns but there are 3"):
            call(y, too_wide, NAMES)
    with pytest.raises(ValueError, match="4 columns"):
        ev.dashboard(None, y, too_wide, NAMES)


def test_absent_class_gets_a_note_not_a_crash():
    y, logits = _data()
    y = np.where(y == 2, 1, y)  # "bird" never occurs in y_true
    with pytest.warns(ev.EvaluationNote, match="bird"):
        report = ev.classification_report_df(y, logits, NAMES)
    assert report.loc["bird", "support"] == 0
    with pytest.warns(ev.EvaluationNote):
        table = ev.per_class_table(y, logits, NAMES)
    assert table.loc["bird", "diagnosis"].startswith("not in y_true")
    with pytest.warns(ev.EvaluationNote):
        aucs = ev.roc_curves(y, logits, NAMES)
    assert "bird" not in aucs and {"cat", "dog", "micro", "macro"} <= set(aucs)
    with pytest.warns(ev.EvaluationNote):
        ev.dashboard(None, y, logits, NAMES)


# ------------------------------------------------------------------ tables
def test_report_matches_sklearn_and_has_summary_rows():
    y, logits = _data()
    report = ev.classification_report_df(y, logits, NAMES)
    assert list(report.index) == NAMES + ["accuracy", "macro avg", "weighted avg"]
    assert list(report.columns) == ["precision", "recall", "f1-score", "support"]
    pred = logits.argmax(1)
    assert report.loc["macro avg", "f1-score"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert report.loc["weighted avg", "f1-score"] == pytest.approx(f1_score(y, pred, average="weighted"))
    assert report.loc["accuracy", "f1-score"] == pytest.approx(np.mean(pred == y))
    assert report.loc["accuracy", "support"] == len(y) and report["support"].dtype.kind == "i"


def test_most_confused_contract():
    y_true = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    y_pred = np.array([1, 1, 1, 0, 2, 2, 1, 0, 2, 2])
    pairs = ev.most_confused(y_true, y_pred, NAMES, top=5)
    assert pairs == [("cat", "dog", 3), ("dog", "bird", 2), ("bird", "cat", 1)]
    assert ev.most_confused(y_true, y_pred, NAMES, top=1) == [("cat", "dog", 3)]
    assert all(isinstance(n, int) for *_, n in pairs)
    assert ev.most_confused(y_true, y_true, NAMES) == []
    with pytest.raises(ValueError, match="top"):
        ev.most_confused(y_true, y_pred, NAMES, top=0)


def test_per_class_table_sorted_by_f1_with_diagnosis():
    # cat: always right; dog: often predicted for birds (low precision); bird: often missed (low recall)
    y_true = np.array([0] * 10 + [1] * 10 + [2] * 10)
    y_pred = np.array([0] * 10 + [1] * 10 + [1] * 6 + [2] * 4)
    table = ev.per_class_table(y_true, y_pred, NAMES)
    assert list(table["f1-score"]) == sorted(table["f1-score"])
    assert table.index[-1] == "cat" and table.loc["cat", "diagnosis"] == "good"
    assert table.loc["dog", "diagnosis"].startswith("low precision")
    assert table.loc["bird", "diagnosis"].startswith("low recall")
    assert table.loc["bird", "mistaken for"] == "dog"


@pytest.mark.parametrize(
    "precision, recall, support, fragment",
    [
        (0.95, 0.92, 10, "good"),
        (0.5, 0.9, 10, "low precision"),
        (0.9, 0.5, 10, "low recall"),
        (0.5, 0.55, 10, "both low"),
        (0.0, 0.0, 0, "not in y_true"),
    ],
)
def test_diagnose(precision, recall, support, fragment):
    assert fragment in ev.diagnose(precision, recall, support)


# ------------------------------------------------------------------ plots
def test_confusion_matrices_side_by_side():
    y, logits = _data()
    counts, rates = ev.plot_confusion_matrices(y, logits, NAMES)
    assert counts.confusion_matrix.sum() == len(y)
    np.testing.assert_allclose(rates.confusion_matrix.sum(axis=1), 1.0)
    assert counts.ax_ is not rates.ax_ and counts.ax_.figure is rates.ax_.figure


def test_confusion_matrix_with_100_classes_stays_readable():
    rng = np.random.default_rng(1)
    names = [f"class_{i}" for i in range(100)]
    y = rng.integers(0, 100, 2000)
    pred = np.where(rng.uniform(size=2000) < 0.5, y, rng.integers(0, 100, 2000))
    display = ev.plot_confusion_matrix(y, pred, names, normalize="true")
    assert display.text_ is None  # no numbers in 10,000 cells
    assert len(display.ax_.get_xticks()) <= 25


def test_confusion_matrix_draws_into_given_axes():
    y, logits = _data()
    _, ax = plt.subplots()
    assert ev.plot_confusion_matrix(y, logits, NAMES, ax=ax).ax_ is ax


def test_misclassified_grid_shows_most_confident_mistakes_first():
    y, logits = _data(60)
    images = np.random.default_rng(0).integers(0, 255, (60, 8, 8, 3), dtype=np.uint8)
    figure = ev.plot_misclassified(images, y[:, None], logits, NAMES, n=4, cols=2)
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert len(titles) == 4 and all(t.startswith("true: ") and "pred: " in t and "%" in t for t in titles)
    confidences = [int(t.split("(")[1].rstrip("%)")) for t in titles]
    assert confidences == sorted(confidences, reverse=True)
    assert ev.plot_misclassified(images, y, np.eye(3)[y] * 5, NAMES) is None  # no mistakes
    with pytest.raises(ValueError, match="images has 59"):
        ev.plot_misclassified(images[:59], y, logits, NAMES)


def test_misclassified_grid_accepts_grayscale_float_images():
    y, logits = _data(20)
    images = np.random.default_rng(0).uniform(0, 255, (20, 8, 8, 1)).astype("float32")
    assert ev.plot_misclassified(images, y, logits, NAMES, n=3) is not None


def test_roc_curves_match_sklearn():
    y, logits = _data()
    _, ax = plt.subplots()
    aucs = ev.roc_curves(y, logits, NAMES, ax=ax)
    probs = ev.to_probabilities(logits)
    for k, name in enumerate(NAMES):
        assert aucs[name] == pytest.approx(roc_auc_score(y == k, probs[:, k]))
    assert aucs["macro"] == pytest.approx(roc_auc_score(y, probs, multi_class="ovr", average="macro"))
    assert aucs["micro"] == pytest.approx(roc_auc_score(np.eye(3)[y], probs, average="micro"))
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(label.startswith("micro") for label in labels) and any(label.startswith("macro") for label in labels)


def test_roc_with_many_classes_draws_only_some_curves():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 30, 900)
    scores = rng.normal(size=(900, 30))
    scores[np.arange(900), y] += 1
    _, ax = plt.subplots()
    aucs = ev.roc_curves(y, scores, [f"c{i}" for i in range(30)], ax=ax, max_curves=6)
    assert len(aucs) == 32
    assert len(ax.get_lines()) == 6 + 3


def test_roc_needs_two_classes():
    with pytest.raises(ValueError, match="single class"), pytest.warns(ev.EvaluationNote):
        ev.roc_curves(np.zeros(5, int), np.tile([0.6, 0.3, 0.1], (5, 1)), NAMES)


def test_binary_model_with_one_sigmoid_output():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    p = np.clip(y * 0.6 + rng.uniform(0, 0.4, 200), 0, 1)[:, None]
    report = ev.classification_report_df(y, p, ["healthy", "sick"])
    assert report.loc["accuracy", "f1-score"] == pytest.approx(np.mean((p[:, 0] > 0.5) == y))
    assert ev.roc_curves(y, p, ["healthy", "sick"])["sick"] == pytest.approx(roc_auc_score(y, p[:, 0]))


def test_history_plot_and_errors():
    ax = ev.plot_history({"accuracy": [0.3, 0.5], "val_accuracy": [0.3, 0.4], "loss": [2, 1]})
    assert len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="no 'auc'"):
        ev.plot_history({"accuracy": [0.3]}, metric="auc")
    with pytest.raises(ValueError, match="what model.fit returns"):
        ev.plot_history([0.1, 0.2])


def test_dashboard_has_the_four_panels():
    y, logits = _data()

    class History:  # what model.fit returns
        history = {"accuracy": [0.4, 0.6, 0.7], "val_accuracy": [0.4, 0.5, 0.55]}

    figure = ev.dashboard(History(), y, logits, NAMES)
    titles = " | ".join(ax.get_title() for ax in figure.axes)
    for fragment in ("training curves", "row-normalised", "per-class F1", "ROC"):
        assert fragment in titles
    assert "accuracy" in figure.get_suptitle()
    assert ev.dashboard(None, y, logits, NAMES) is not None
