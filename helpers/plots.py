"""Plots for looking at data and training runs: image grids and training curves.

Like scikit-learn's displays, each function takes data and draws (``plot_history`` also into
given ``axes=``); like ``helpers.figures``, it returns the Axes it drew on, a list when it
draws several panels, and never calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _as_display_image(image: Any) -> tuple[np.ndarray, str | None]:
    """An array ``imshow`` draws as intended, and the colour map (gray for 1-channel images)."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(
            f"An image must have shape (height, width), (height, width, 1) or (height, width, 3); got {array.shape}."
        )
    if np.issubdtype(array.dtype, np.floating):
        low, high = float(np.nanmin(array)), float(np.nanmax(array))
        if 0 <= low and high <= 255 and high > 1:  # 0-255 floats, e.g. from image_dataset_from_directory
            array = array / 255.0
        elif low < 0 or high > 1:  # standardised or otherwise shifted: stretch to 0-1 for display
            array = (array - low) / (high - low) if high > low else np.zeros_like(array)
        array = np.clip(array, 0, 1)
    return array, ("gray" if array.ndim == 2 else None)


def _label_text(label: Any, class_names: Sequence[str] | None) -> str:
    value = np.asarray(label).ravel()
    if value.size != 1:  # one-hot or multi-label: name every active class
        active = np.flatnonzero(value > 0.5)
        return ", ".join(class_names[i] if class_names is not None else str(i) for i in active)
    index = int(value[0])
    if class_names is None:
        return str(index)
    if not 0 <= index < len(class_names):
        raise ValueError(f"Label {index} has no class name: class_names has {len(class_names)} entries.")
    return str(class_names[index])


def image_grid(
    images: Any,
    labels: Any = None,
    class_names: Sequence[str] | None = None,
    ncols: int = 5,
    size: float = 1.8,
) -> list:
    """Draw ``images`` in a grid, each titled with its class name; returns the list of Axes, one per image.

    ``images`` may be uint8 or float (0-1 or 0-255), grayscale or colour, a NumPy array,
    a list or a tensor. ``labels`` are class indices (or one-hot rows) and ``class_names``
    turns them into names.
    """
    import matplotlib.pyplot as plt

    images = list(images) if not hasattr(images, "shape") else np.asarray(images)
    count = len(images)
    if count == 0:
        raise ValueError("image_grid got no images: pass at least one (e.g. x_train[:10]).")
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != count:
            raise ValueError(f"image_grid got {count} images but {len(labels)} labels; pass one label per image.")
    ncols = max(1, min(ncols, count))
    nrows = -(-count // ncols)
    _, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * (labels is not None)))
    axes = np.atleast_1d(axes).ravel()
    for index, ax in enumerate(axes):
        ax.axis("off")
        if index >= count:
            continue
        array, cmap = _as_display_image(images[index])
        if cmap:  # grayscale: fixed range, so a dark image stays dark
            ax.imshow(array, cmap=cmap, vmin=0, vmax=255 if array.dtype == np.uint8 else 1)
        else:
            ax.imshow(array)
        if labels is not None:
            ax.set_title(_label_text(labels[index], class_names), fontsize="small")
    return list(axes[:count])


# ---------------------------------------------------------------- training runs
class NotAHistory(TypeError, ValueError):
    """What was passed is not what ``model.fit`` returns (nor its ``.history`` dict)."""


class MissingMetric(KeyError, ValueError):
    """The history has no such metric; the message lists the ones it has."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def history_dict(history: Any) -> dict[str, list[float]]:
    """The per-epoch values of a ``keras.callbacks.History`` (or of a plain dict) as lists."""
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping):
        raise NotAHistory(
            f"Expected what model.fit returns (the History, or its .history dict), got {type(history).__name__}. "
            "Write `history = model.fit(...)` and pass `history`."
        )
    if not values:
        raise ValueError("This history is empty: did model.fit(...) run for at least one epoch?")
    return {str(k): [float(v) for v in vals] for k, vals in values.items()}


def plot_history(
    history: Any, metrics: Sequence[str] = ("loss", "accuracy"), axes: Any = None, title: str | None = None
):
    """Training (solid) and validation (dashed) curves per epoch, one panel per metric; returns the list of Axes.

    ``history`` is what ``model.fit`` returns (or its ``.history`` dict). Pass ``axes`` (one per
    metric) to draw into existing ones, e.g. ``plot_history(history, metrics=["accuracy"], axes=[ax])``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    metrics = list(metrics)
    values = history_dict(history)
    missing = [m for m in metrics if m not in values]
    if missing:
        raise MissingMetric(
            f"The history has no {', '.join(repr(m) for m in missing)}; it holds {sorted(values)}. "
            "Add the metric to model.compile(metrics=[...]) or choose from that list."
        )
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.4), squeeze=False)
        axes = axes[0]
    axes = list(np.ravel(axes))
    if len(axes) != len(metrics):
        raise ValueError(f"Got {len(axes)} axes for {len(metrics)} metrics {metrics}; pass one axis per metric.")
    for panel, name in zip(axes, metrics, strict=True):
        epochs = range(1, len(values[name]) + 1)
        panel.plot(epochs, values[name], "-o", markersize=3, label="training")
        if f"val_{name}" in values:
            panel.plot(epochs, values[f"val_{name}"], "--s", markersize=3, label="validation")
        panel.set_xlabel("epoch")
        panel.set_ylabel(name)
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.legend()
        if title:
            panel.set_title(title)
    return axes
