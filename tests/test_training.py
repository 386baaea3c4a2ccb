"""Tests of helpers.training: history curves and the timing callback."""

from __future__ import annotations

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers.plots import history_dict, plot_history
from helpers.training import TrainingTimer

HISTORY = {
    "loss": [2.0, 1.5, 1.2],
    "accuracy": [0.3, 0.5, 0.6],
    "val_loss": [1.9, 1.6, 1.5],
    "val_accuracy": [0.35, 0.45, 0.5],
}


class FakeHistory:
    def __init__(self, values):
        self.history = values


def test_history_dict_accepts_history_objects_and_dicts():
    assert history_dict(FakeHistory(HISTORY)) == history_dict(HISTORY)
    assert history_dict({"loss": [np.float32(1.5)]}) == {"loss": [1.5]}


def test_history_dict_explains_wrong_input():
    with pytest.raises(TypeError, match="model.fit"):
        history_dict([1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        history_dict({})


def test_plot_history_draws_training_and_validation_per_metric():
    axes = plot_history(FakeHistory(HISTORY))
    assert len(axes) == 2
    loss_ax, acc_ax = axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["training", "validation"]
    np.testing.assert_allclose(acc_ax.get_lines()[1].get_ydata(), HISTORY["val_accuracy"])
    np.testing.assert_allclose(acc_ax.get_lines()[0].get_xdata(), [1, 2, 3])
    assert acc_ax.get_ylabel() == "accuracy"


def test_plot_history_uses_given_axes_and_skips_missing_validation():
    _, ax = plt.subplots()
    out = plot_history({"loss": [1.0, 0.5]}, metrics=["loss"], axes=[ax], title="run")
    assert out == [ax]
    assert len(ax.get_lines()) == 1 and ax.get_title() == "run"


def test_plot_history_errors_name_the_problem():
    with pytest.raises(KeyError, match="top3"):
        plot_history(HISTORY, metrics=["top3"])
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="one axis per metric"):
        plot_history(HISTORY, axes=[ax])


def test_training_timer_measures_every_epoch():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    timer = TrainingTimer()
    model.fit(np.zeros((16, 4)), np.zeros((16, 2)), epochs=3, verbose=0, callbacks=[timer])
    assert len(timer.epoch_seconds) == 3
    assert all(s > 0 for s in timer.epoch_seconds)
    assert timer.train_seconds >= sum(timer.epoch_seconds) * 0.99
    assert timer.cpu_seconds > 0
