"""Tests of helpers.plots: they draw what they are given and return it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import plots

NAMES = ["cat", "dog", "bird"]


def test_image_grid_titles_with_class_names_and_hides_spare_axes():
    images = np.random.default_rng(0).integers(0, 256, (7, 8, 8, 3), dtype=np.uint8)
    labels = np.array([[0], [1], [2], [0], [1], [2], [0]])  # (n, 1) as Keras gives CIFAR labels
    axes = plots.image_grid(images, labels, NAMES, ncols=4)
    assert len(axes) == 7
    assert [ax.get_title() for ax in axes] == ["cat", "dog", "bird", "cat", "dog", "bird", "cat"]
    figure_axes = axes[0].figure.axes
    assert len(figure_axes) == 8 and not figure_axes[-1].images  # the 8th stays empty
    np.testing.assert_array_equal(axes[1].images[0].get_array(), images[1])


def test_image_grid_grayscale_float_and_one_hot():
    images = np.linspace(0, 255, 2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 1)
    axes = plots.image_grid(images, np.array([[0, 1, 1], [1, 0, 0]]), NAMES)
    shown = axes[0].images[0]
    assert shown.get_cmap().name == "gray" and shown.get_array().max() <= 1.0
    assert axes[0].get_title() == "dog, bird" and axes[1].get_title() == "cat"


def test_image_grid_without_labels_draws_untitled_images():
    axes = plots.image_grid(np.zeros((2, 5, 5), np.uint8))
    assert len(axes) == 2 and axes[0].get_title() == ""


def test_image_grid_explains_mistakes():
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        plots.image_grid(np.zeros((3, 4, 4)), [0, 1], NAMES)
    with pytest.raises(ValueError, match="no class name"):
        plots.image_grid(np.zeros((1, 4, 4)), [5], NAMES)
    with pytest.raises(ValueError, match=r"got \(4, 4, 5\)"):
        plots.image_grid(np.zeros((1, 4, 4, 5)))
    with pytest.raises(ValueError, match="no images"):
        plots.image_grid([])


def test_plot_history_draws_one_panel_per_metric_and_returns_them():
    logs = {"accuracy": [0.3, 0.5], "val_accuracy": [0.3, 0.4], "loss": [2, 1]}
    _, ax = plt.subplots()
    assert plots.plot_history(logs, metrics=["accuracy"], axes=[ax]) == [ax]  # into a given Axes
    assert len(ax.get_lines()) == 2 and ax.get_ylabel() == "accuracy"
    assert len(plots.plot_history(logs, metrics=["loss"])) == 1  # a new figure, one panel per metric
    with pytest.raises(ValueError, match="2 metrics"):
        plots.plot_history(logs, axes=[ax])
    with pytest.raises(KeyError, match="auc"):  # a KeyError as well as a ValueError
        plots.plot_history({"accuracy": [0.3]}, metrics=["auc"])
    with pytest.raises(ValueError, match="what model.fit returns"):
        plots.plot_history([0.1, 0.2])
    with pytest.raises(TypeError, match="model.fit"):
        plots.plot_history([0.1, 0.2])
