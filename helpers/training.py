"""Training helpers for chapters 03 and 04: curves of a training run and a timing callback.

Only code that is too long to inline lives here. The models, the compile choices and the
training loops themselves are in the notebooks, where you read them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import keras

__all__ = ["TrainingTimer", "history_dict", "plot_history", "plot_histories"]


def history_dict(history: Any) -> dict[str, list[float]]:
    """The per-epoch values of a ``keras.callbacks.History`` (or of a plain dict) as lists."""
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping):
        raise TypeError(
            f"Expected the History that model.fit(...) returns (or its .history dict), got {type(history).__name__}. "
            "Write `history = model.fit(...)` and pass `history`."
        )
    if not values:
        raise ValueError("This history is empty: did model.fit(...) run for at least one epoch?")
    return {str(k): [float(v) for v in vals] for k, vals in values.items()}


def plot_history(history: Any, metrics: Sequence[str] = ("loss", "accuracy"), axes=None, title: str | None = None):
    """Plot training and validation curves, one panel per metric; returns the axes.

    ``history`` is what ``model.fit`` returns (or its ``.history`` dict). Each panel shows
    ``metric`` (training, solid) and ``val_metric`` (validation, dashed) per epoch.
    """
    import matplotlib.pyplot as plt

    values = history_dict(history)
    missing = [m for m in metrics if m not in values]
    if missing:
        raise KeyError(
            f"The history has no {missing}; it holds {sorted(values)}. "
            "Add the metric to model.compile(metrics=[...]) or choose metrics=... from that list."
        )
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.4), squeeze=False)
        axes = axes[0]
    axes = list(axes) if not hasattr(axes, "plot") else [axes]
    if len(axes) != len(metrics):
        raise ValueError(f"Got {len(axes)} axes for {len(metrics)} metrics {list(metrics)}; pass one axis per metric.")
    for ax, metric in zip(axes, metrics):
        epochs = range(1, len(values[metric]) + 1)
        ax.plot(epochs, values[metric], "-o", markersize=3, label="training")
        if f"val_{metric}" in values:
            ax.plot(epochs, values[f"val_{metric}"], "--s", markersize=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
        if title:
            ax.set_title(title)
    return axes


def plot_histories(histories: Mapping[str, Any], metric: str = "accuracy", ax=None):
    """Compare several runs on one axis: training (solid) and validation (dashed) ``metric``."""
    import matplotlib.pyplot as plt

    if not histories:
        raise ValueError("Pass a dict of at least one run, e.g. {'without augmentation': history}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, history) in enumerate(histories.items()):
        values = history_dict(history)
        if metric not in values:
            raise KeyError(f"Run {name!r} has no {metric!r}; it holds {sorted(values)}.")
        epochs = range(1, len(values[metric]) + 1)
        colour = colours[i % len(colours)]
        ax.plot(epochs, values[metric], "-", color=colour, label=f"{name}: training")
        if f"val_{metric}" in values:
            ax.plot(epochs, values[f"val_{metric}"], "--", color=colour, label=f"{name}: validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend(fontsize="small")
    return ax


class TrainingTimer(keras.callbacks.Callback):
    """Measure a ``fit``: wall-clock seconds per epoch and in total, and the process's CPU seconds.

    ``timer.train_seconds`` is the wall time of training (validation included),
    ``timer.cpu_seconds`` the CPU time the process used (all threads): on a machine shared
    with other programs, CPU time varies much less than wall time.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch_seconds: list[float] = []
        self.train_seconds = 0.0
        self.cpu_seconds = 0.0

    def on_train_begin(self, logs=None) -> None:
        self.epoch_seconds = []
        self._wall0, self._cpu0 = time.perf_counter(), time.process_time()

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.epoch_seconds.append(time.perf_counter() - self._epoch0)
        self._update()

    def on_train_end(self, logs=None) -> None:
        self._update()

    def _update(self) -> None:
        self.train_seconds = time.perf_counter() - self._wall0
        self.cpu_seconds = time.process_time() - self._cpu0
