"""Figures of chapter 02's convolution and chapter 05's frozen and trainable layers, and the course's colours.

Each figure function takes what the chapter made (and an optional ``axes=``), draws with
matplotlib and never calls ``plt.show()``; like ``helpers.plots``, it returns the Axes it
drew on, a list when it draws several panels. Two building blocks differ and say so:
``draw_grid`` draws into the Axes you give it and returns its cells, and
``convolution_animation`` returns the animation to show. The figures are deterministic,
drawn on a white background (so they read the same in light and dark JupyterLab themes and
on a projector) in the Okabe-Ito colours, which colour-blind readers can tell apart; where
two colours carry the meaning, a hatch or line style carries it too. The course's fixed
diagrams (no learner data) are images in the chapters, drawn by ``tools/draw_figures.py``
with these colours and grid cells; other figures of the learner's data are drawn in the
chapters' own cells or by ``helpers.plots``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.taught import output_size

# Okabe-Ito: distinguishable with every common kind of colour blindness.
BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#999999"
LIGHT_GREY = "#E5E5E5"
INK = "#222222"
WINDOW_COLORS = (SKY, ORANGE, GREEN, PURPLE, YELLOW, BLUE, VERMILLION)


# --------------------------------------------------------------------------- shared pieces


def _panels(axes: Any, count: int, figsize: tuple[float, float], *, rows: int = 1, **kwargs) -> list:
    """The Axes to draw ``count`` panels in: the ones given, or a new white figure (``rows`` rows of them)."""
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(rows, count // rows, figsize=figsize, **kwargs)
        fig.patch.set_facecolor("white")
    axes = list(np.atleast_1d(np.asarray(axes, dtype=object)).ravel())
    if len(axes) < count:
        raise ValueError(f"This figure needs {count} axes, got {len(axes)}.")
    return axes[:count]


def blank(ax, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    """Axes for a diagram: no ticks or frame, y growing downwards, square cells."""
    ax.set_xlim(*xlim)
    ax.set_ylim(ylim[1], ylim[0])
    ax.set_aspect("equal")
    ax.axis("off")


def _number(value: float) -> str:
    value = float(value) + 0.0  # no "-0"
    return f"{value:.0f}" if value == round(value) else f"{value:.2f}".rstrip("0")


def draw_grid(
    ax,
    values: Any,
    *,
    origin: tuple[float, float] = (0.0, 0.0),
    colors: Any = None,
    highlight: Sequence[tuple[int, int]] = (),
    text: bool = True,
    fontsize: float = 11,
    hatch: Any = None,
) -> list:
    """Draw a 2-D array as a grid of square cells with its numbers; returns the cell Rectangles (row by row).

    ``colors`` is one colour per cell (an array of the same shape) or None for white;
    ``highlight`` lists (row, column) cells drawn with a thick border; ``hatch`` is a boolean
    array of cells drawn hatched (e.g. padding).
    """
    from matplotlib.patches import Rectangle

    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"draw_grid needs a 2-D array (height, width); got shape {values.shape}.")
    x0, y0 = origin
    marked = {tuple(cell) for cell in highlight}
    cells = []
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            face = "white" if colors is None else colors[i][j]
            cell = Rectangle(
                (x0 + j, y0 + i),
                1,
                1,
                facecolor=face,
                edgecolor=INK if (i, j) in marked else GREY,
                linewidth=3 if (i, j) in marked else 0.8,
                hatch="///" if hatch is not None and hatch[i][j] else None,
                zorder=3 if (i, j) in marked else 1,
            )
            ax.add_patch(cell)
            cells.append(cell)
            if text and not (isinstance(values[i, j], float) and math.isnan(values[i, j])):
                ax.text(
                    x0 + j + 0.5,
                    y0 + i + 0.5,
                    _number(values[i, j]),
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color=INK,
                    fontweight="bold" if (i, j) in marked else "normal",
                    zorder=4,
                )
    return cells


# --------------------------------------------------------------------------- chapter 02: convolution


def _check_2d(image: Any, kernel: Any) -> tuple[np.ndarray, np.ndarray]:
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(
            f"Pass a 2-D image and a 2-D kernel (one channel, no batch axis); got {image.shape} and {kernel.shape}."
        )
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"The kernel {kernel.shape} is larger than the image {image.shape}.")
    return image, kernel


def convolution_step(image: Any, kernel: Any, position: tuple[int, int], *, stride: int = 1, axes: Any = None) -> list:
    """One step of a convolution in four panels: the window on the input, the kernel, the products, the output.

    ``position`` is the (row, column) of the output cell being computed. Output cells
    computed before it show their numbers; the current one is highlighted. Returns the four Axes.
    """
    image, kernel = _check_2d(image, kernel)
    out_h, out_w = (output_size(n, k, stride, "valid") for n, k in zip(image.shape, kernel.shape))
    row, col = position
    if not (0 <= row < out_h and 0 <= col < out_w):
        raise ValueError(f"position {position} is outside the {out_h}x{out_w} output.")
    kh, kw = kernel.shape
    top, left = row * stride, col * stride
    window = image[top : top + kh, left : left + kw]
    products = window * kernel
    value = float(products.sum())
    axes = _panels(axes, 4, (13, 3.4), gridspec_kw={"width_ratios": [image.shape[1], kw, kw, out_w]})
    for ax in axes:
        ax.clear()
    ax_in, ax_k, ax_p, ax_out = axes
    colors = np.full(image.shape, "white", dtype=object)
    colors[top : top + kh, left : left + kw] = SKY
    draw_grid(ax_in, image, colors=colors, fontsize=10)
    from matplotlib.patches import Rectangle

    ax_in.add_patch(Rectangle((left, top), kw, kh, fill=False, edgecolor=INK, linewidth=3, zorder=5))
    ax_in.set_title(f"input: window at rows {top}-{top + kh - 1}, columns {left}-{left + kw - 1}", fontsize=10)
    draw_grid(ax_k, kernel, colors=np.full(kernel.shape, ORANGE, dtype=object), fontsize=10)
    ax_k.set_title("kernel", fontsize=10)
    draw_grid(ax_p, products, colors=np.full(kernel.shape, LIGHT_GREY, dtype=object), fontsize=10)
    ax_p.set_title(f"window × kernel\nsum = {_number(value)}", fontsize=10)
    done = np.full((out_h, out_w), np.nan)
    order = np.arange(out_h * out_w).reshape(out_h, out_w)
    for i in range(out_h):
        for j in range(out_w):
            if order[i, j] <= order[row, col]:
                done[i, j] = (image[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel).sum()
    out_colors = np.where(np.isnan(done), "white", GREEN).astype(object)
    out_colors[row, col] = ORANGE
    draw_grid(ax_out, done, colors=out_colors, highlight=[(row, col)], fontsize=10)
    ax_out.set_title(f"output[{row}, {col}] = {_number(value)}", fontsize=10)
    for ax, (h, w) in zip(axes, [image.shape, kernel.shape, kernel.shape, (out_h, out_w)]):
        blank(ax, (-0.1, w + 0.1), (-0.1, h + 0.1))
    return axes


def convolution_animation(image: Any, kernel: Any, *, stride: int = 1, interval: int = 800, dpi: int = 60):
    """The window sliding over the whole input: a ``FuncAnimation`` with one frame per output position.

    Show it with ``IPython.display.HTML(animation.to_jshtml())``: plain JavaScript and
    images, so it plays in JupyterLab, Colab and an exported HTML page without widgets.
    The figure is closed, so the notebook does not show a still copy as well.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    image, kernel = _check_2d(image, kernel)
    out_h, out_w = (output_size(n, k, stride, "valid") for n, k in zip(image.shape, kernel.shape))
    fig, axes = plt.subplots(
        1, 4, figsize=(11, 2.9), dpi=dpi, gridspec_kw={"width_ratios": [image.shape[1], kernel.shape[1], kernel.shape[1], out_w]}
    )  # fmt: skip
    fig.patch.set_facecolor("white")
    positions = [(i, j) for i in range(out_h) for j in range(out_w)]

    def draw(frame: int):
        convolution_step(image, kernel, positions[frame], stride=stride, axes=axes)
        return []

    animation = FuncAnimation(fig, draw, frames=len(positions), init_func=lambda: [], interval=interval, blit=False)
    plt.close(fig)
    return animation


# --------------------------------------------------------------------------- chapter 05

LAYER_LOOKS = {  # what training may change in a layer: colour and hatch (frozen is hatched as well)
    "frozen": (BLUE, "////"),
    "trainable": (ORANGE, ""),
    "no weights": (LIGHT_GREY, ""),
}


def transfer_setup(model, *, title: str | None = None, last: int = 24, axes: Any = None) -> list:
    """The model's layers as stripes, input side on the left, coloured by what training may change.

    A model inside the model (the pretrained base) is drawn layer by layer. A layer is
    *trainable* when it has trainable weights, *frozen* when it has weights but none that train
    (every layer inside a frozen base), and *no weights* otherwise (pooling, dropout,
    activations). The lower panel enlarges the last ``last`` layers, where fine-tuning
    starts, with their names. Returns the two Axes.
    """
    names, states = [], []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        for inner in getattr(layer, "layers", None) or [layer]:
            names.append(inner.name)
            trains = layer.trainable and inner.trainable_weights  # a frozen base freezes all its layers
            states.append("trainable" if trains else "frozen" if inner.weights else "no weights")
    ax_all, ax_last = _panels(axes, 2, (13, 4.2), rows=2, height_ratios=[1, 1.4], layout="constrained")
    first = max(0, len(states) - last)
    for ax, start in ((ax_all, 0), (ax_last, first)):
        for state, (color, hatch) in LAYER_LOOKS.items():
            x = [i for i in range(start, len(states)) if states[i] == state]
            count = states.count(state)  # a thin gap between bars keeps neighbouring layers apart
            ax.bar(x, 1, width=0.85, color=color, hatch=hatch, edgecolor="white", linewidth=0,  # hatch: edge colour
                   label=f"{state} ({count} layer{'' if count == 1 else 's'})")  # fmt: skip
        ax.set(xlim=(start - 0.5, len(states) - 0.5), ylim=(0, 1), yticks=[])
        ax.grid(False)
    trainable_params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    ax_all.set_title(
        title or f"{model.name}: {trainable_params:,} of {model.count_params():,} parameters trainable", fontsize=11
    )
    ax_all.set_xlabel(f"all {len(states)} layers, input side on the left", fontsize=9)
    ax_all.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    ax_last.set_xticks(range(first, len(states)), names[first:], rotation=90, fontsize=7)
    ax_last.set_title(f"the last {len(states) - first} layers, enlarged", fontsize=10)
    return [ax_all, ax_last]
