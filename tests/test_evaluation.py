"""helpers.evaluation: the chapter 06 pieces (identical to the notebook's cells) compute what
scikit-learn computes and draw what they promise; the plumbing turns the labels
learners have into integer labels."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.special import softmax
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score

from helpers import evaluation as ev
from helpers import taught
from tools.testing import notebook_functions

NAMES = ["cat", "dog", "bird"]
CHAPTER_06 = Path(__file__).resolve().parent.parent / "solutions" / "06_evaluation.ipynb"
CHAPTER_06_ONLY = notebook_functions(CHAPTER_06, "plot_roc_curves", "dashboard")  # taught, reused by no later chapter


def _data(n=300, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.5
    return y, logits


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------ plumbing
def test_labels_accepted_flat_column_and_one_hot():
    y = np.array([0, 2, 1, 1])
    for form in (y, y[:, None], np.eye(3)[y], y.tolist()):
        np.testing.assert_array_equal(ev.to_labels(form, 3), y)


def test_labels_that_are_not_labels_are_refused():
    with pytest.raises(ValueError, match="fractional"):
        ev.to_labels(np.array([0.2, 1.0]))
    with pytest.raises(ValueError, match="only 3 class names"):
        ev.to_labels(np.array([0, 5]), 3)
    with pytest.raises(ValueError, match="negative"):
        ev.to_labels(np.array([0, -1]))


# ------------------------------------------------------------------ the taught pieces
def test_confusion_matrix_counts_and_row_normalised():
    y, logits = _data()
    pred = logits.argmax(1)
    fig, axes = plt.subplots(1, 2)
    counts = ev.plot_confusion_matrix(y, pred, NAMES, ax=axes[0])
    rates = ev.plot_confusion_matrix(y, pred, NAMES, normalize="true", ax=axes[1])
    np.testing.assert_array_equal(counts.confusion_matrix, confusion_matrix(y, pred))
    np.testing.assert_allclose(rates.confusion_matrix.sum(axis=1), 1.0)
    assert counts.ax_ is axes[0] and rates.ax_.get_title().startswith("row-normalised")
    assert counts.text_[0, 0].get_text() == str(confusion_matrix(y, pred)[0, 0])


def test_confusion_matrix_with_100_classes_leaves_the_numbers_out():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 100, 2000)
    display = ev.plot_confusion_matrix(y, y, [f"c{i}" for i in range(100)], normalize="true")
    assert display.text_ is None
    assert display.confusion_matrix.shape == (100, 100)


def test_per_class_table_matches_sklearn_sorted_with_diagnosis():
    y, logits = _data(600)
    pred = logits.argmax(1)
    pred[(y == 0) & (np.arange(600) % 2 == 0)] = 1  # half the cats called dogs: cat recall drops, dog precision too
    table = ev.per_class_table(y, pred, NAMES)
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, zero_division=0)
    np.testing.assert_allclose(table.loc[NAMES, "f1-score"], f1)
    np.testing.assert_array_equal(table.loc[NAMES, "support"], support)
    assert list(table["f1-score"]) == sorted(table["f1-score"])
    assert table.loc["cat", "most often taken for"] == "dog"
    assert table.loc["cat", "diagnosis"].startswith("low recall")
    assert table.loc["dog", "diagnosis"].startswith("low precision")
    perfect = ev.per_class_table(y, y, NAMES)
    assert set(perfect["diagnosis"]) == {"good"} and set(perfect["most often taken for"]) == {"-"}


def test_confident_mistakes_surest_first_on_an_image_grid():
    y = np.array([0, 1, 2, 0, 1])
    probs = np.array([[0.1, 0.9, 0.0], [0.0, 1.0, 0.0], [0.6, 0.2, 0.2], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])
    images = np.arange(5)[:, None, None, None] * np.ones((5, 4, 4, 3), dtype=np.uint8)
    axes = taught.plot_confident_mistakes(images, y, probs, NAMES, n=3)
    assert len(axes) == 3
    assert [ax.get_title().splitlines()[:2] for ax in axes] == [
        ["true: cat", "predicted: dog"],
        ["true: bird", "predicted: cat"],
        ["true: cat", "predicted: bird"],
    ]
    assert axes[0].get_title().endswith("90% sure")


def test_confident_mistakes_none_when_all_right(capsys):
    y = np.array([0, 1])
    assert taught.plot_confident_mistakes(np.zeros((2, 4, 4, 3)), y, np.eye(3)[y], NAMES) is None
    assert "every prediction is right" in capsys.readouterr().out


def test_roc_aucs_match_sklearn():
    y, logits = _data(400, k=4)
    probs = softmax(logits, axis=1)
    names = NAMES + ["fox"]
    fig, ax = plt.subplots()
    aucs = CHAPTER_06_ONLY.plot_roc_curves(y, probs, names, ax=ax)
    assert aucs["macro"] == pytest.approx(roc_auc_score(y, probs, multi_class="ovr", average="macro"))
    assert aucs["micro"] == pytest.approx(roc_auc_score(np.eye(4)[y], probs, average="micro"))
    assert aucs["dog"] == pytest.approx(roc_auc_score(y == 1, probs[:, 1]))
    assert ax.get_xlabel() == "false positive rate"
    assert len(ax.get_lines()) == 4 + 2  # one curve per class, micro average, chance


def test_roc_with_many_classes_keeps_the_legend_short():
    rng = np.random.default_rng(2)
    y = np.repeat(np.arange(30), 10)
    probs = softmax(rng.normal(size=(300, 30)), axis=1)
    fig, ax = plt.subplots()
    CHAPTER_06_ONLY.plot_roc_curves(y, probs, [f"c{i}" for i in range(30)], ax=ax)
    assert len(ax.get_legend().get_texts()) == 2


def test_dashboard_has_the_four_panels_and_accuracy_title():
    y, logits = _data()
    probs = softmax(logits, axis=1)
    history = {"accuracy": [0.5, 0.7], "val_accuracy": [0.45, 0.6], "loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}
    fig = CHAPTER_06_ONLY.dashboard(history, y, probs, NAMES)
    drawn = [ax for ax in fig.axes if ax.has_data()]
    assert len(drawn) == 4
    assert f"accuracy {np.mean(probs.argmax(1) == y):.1%}" in fig._suptitle.get_text()
    bars = [ax for ax in drawn if len(ax.patches) == 3][0]
    np.testing.assert_allclose(
        sorted(p.get_width() for p in bars.patches), sorted(f1_score(y, probs.argmax(1), average=None))
    )


# ------------------------------------------------------------------ input in the course's words
@pytest.mark.parametrize(
    ("y_true", "y_pred", "names", "fragment"),
    [
        ([0, 1, 3], [0, 1, 2], ["a", "b", "c"], "contains the label 3 but there are only 3 class names"),
        (["cat", "dog"], ["cat", "cat"], NAMES, "holds text such as 'cat'"),
        ([0, 1, 2], [0, 1], NAMES, "y_true has 3 labels but y_pred has 2"),
        ([], [], NAMES, "y_true is empty"),
        ([0, 1], [0, 1], [], "class_names is empty"),
    ],
)
def test_per_class_table_and_confusion_matrix_explain_bad_input(y_true, y_pred, names, fragment):
    for piece in (ev.per_class_table, ev.plot_confusion_matrix):
        with pytest.raises(ValueError, match=fragment):
            piece(y_true, y_pred, names)


def test_too_few_class_names_is_refused_not_a_shorter_table():
    y = np.array([0, 1, 2, 3, 3])
    assert len(ev.per_class_table(y, y, ["a", "b", "c", "d"])) == 4
    with pytest.raises(ValueError, match="Is class_names the list for this dataset"):
        ev.per_class_table(y, y, ["a", "b", "c"])
