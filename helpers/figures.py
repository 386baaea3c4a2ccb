"""Figures of the learner's own data: a model, a training history, predictions, files, arrays.

Every figure function takes what the chapter made (and an optional ``ax=`` or ``axes=``),
draws with matplotlib, on scikit-learn's displays where one exists, and never calls
``plt.show()``. One return convention: a dict of what it drew (artists, a display) and the
numbers behind them, with the Axes under ``"ax"`` (one panel) or ``"axes"`` (several). Two
building blocks differ and say so: ``draw_grid`` returns its cells and
``convolution_animation`` the animation to show. The figures are deterministic, drawn on a
white background (so they read the same in light and dark JupyterLab themes and on a
projector) in the Okabe-Ito colours, which colour-blind readers can tell apart; where two
colours carry the meaning, a hatch or line style carries it too. The course's fixed
diagrams (no learner data) are images in the chapters, drawn by ``tools/draw_figures.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.conv import output_size as conv_output_size

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

FROZEN = BLUE  # transfer learning: weights that do not change (drawn hatched as well)
TRAINABLE = ORANGE  # weights that training updates
NO_WEIGHTS = LIGHT_GREY  # layers without weights (pooling, dropout, activations)


# --------------------------------------------------------------------------- shared pieces


def _new_axes(ax: Any, figsize: tuple[float, float]):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        fig.patch.set_facecolor("white")
    return ax


def _new_axes_row(axes: Any, count: int, figsize: tuple[float, float], **kwargs) -> list:
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, count, figsize=figsize, **kwargs)
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


def convolution_step(image: Any, kernel: Any, position: tuple[int, int], *, stride: int = 1, axes: Any = None) -> dict:
    """One step of a convolution in four panels: the window on the input, the kernel, the products, the output.

    ``position`` is the (row, column) of the output cell being computed. Output cells
    computed before it show their numbers; the current one is highlighted. Returns the
    window's products, their sum and the output so far.
    """
    image, kernel = _check_2d(image, kernel)
    out_h, out_w = (conv_output_size(n, k, stride, "valid") for n, k in zip(image.shape, kernel.shape))
    row, col = position
    if not (0 <= row < out_h and 0 <= col < out_w):
        raise ValueError(f"position {position} is outside the {out_h}x{out_w} output.")
    kh, kw = kernel.shape
    top, left = row * stride, col * stride
    window = image[top : top + kh, left : left + kw]
    products = window * kernel
    value = float(products.sum())
    axes = _new_axes_row(axes, 4, (13, 3.4), gridspec_kw={"width_ratios": [image.shape[1], kw, kw, out_w]})
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
    return {"products": products, "value": value, "output": done, "axes": axes}


def convolution_animation(image: Any, kernel: Any, *, stride: int = 1, interval: int = 800, dpi: int = 60):
    """The window sliding over the whole input: a ``FuncAnimation`` with one frame per output position.

    Show it with ``IPython.display.HTML(animation.to_jshtml())``: plain JavaScript and
    images, so it plays in JupyterLab, Colab and an exported HTML page without widgets.
    The figure is closed, so the notebook does not show a still copy as well.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    image, kernel = _check_2d(image, kernel)
    out_h, out_w = (conv_output_size(n, k, stride, "valid") for n, k in zip(image.shape, kernel.shape))
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


def _look(trainable: bool | None) -> tuple[str, str | None]:
    """Colour and hatch of a layer: ``None`` for a layer without weights, else trainable or frozen."""
    if trainable is None:
        return NO_WEIGHTS, None
    return (TRAINABLE, None) if trainable else (FROZEN, "////")


def transfer_setup(model, *, ax: Any = None, title: str | None = None, zoom: int = 24) -> dict:
    """The transfer-learning model as drawn from its ``trainable`` flags: frozen, trainable, no weights.

    A nested model (the pretrained base) is drawn as a bar of thin stripes, one per layer;
    the other layers as boxes. A base of more than ``2 * zoom`` layers also gets its last
    ``zoom`` layers drawn enlarged above it (that is where fine-tuning starts). Returns
    ``{"patches": {name: patch}, "trainable": {name: bool}, "zoomed": {name: patch}}`` for every
    layer with weights, using the same names (``base/layer``) throughout, the number of
    trainable parameters and the axes. A layer inside a frozen base is frozen, whatever its own flag.
    """
    from matplotlib.patches import Patch, Rectangle

    ax = _new_axes(ax, (13, 3.8))
    patches, flags, zoomed = {}, {}, {}
    x, top_used, base_width, head_started = 0.0, 1.0, 7.0, False
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        inner = getattr(layer, "layers", None)
        if inner and any(sub.weights for sub in inner):  # the pretrained base: one stripe per layer
            states = {f"{layer.name}/{sub.name}": bool(layer.trainable and sub.trainable) if sub.weights else None
                      for sub in inner}  # fmt: skip
            flags.update({name: state for name, state in states.items() if state is not None})
            stripe = base_width / len(states)
            for index, (name, state) in enumerate(states.items()):
                color, hatch = _look(state)
                patch = ax.add_patch(Rectangle((x + index * stripe, 0), stripe, 1, facecolor=color, edgecolor=color,
                                               hatch=hatch, linewidth=0))  # fmt: skip
                if state is not None:
                    patches[name] = patch
            ax.add_patch(Rectangle((x, 0), base_width, 1, fill=False, edgecolor=INK, linewidth=1.5))
            weighted = [state for state in states.values() if state is not None]
            summary = f"pretrained base: {layer.name}, {len(inner)} layers; {sum(weighted)} of {len(weighted)} with weights trainable"
            if len(inner) > 2 * zoom:  # the top of a long base, enlarged
                top, wide = 1.7, base_width / zoom
                ax.plot([x + (len(inner) - zoom) * stripe, x], [1, top], color=GREY, linewidth=1)
                ax.plot([x + base_width, x + base_width], [1, top], color=GREY, linewidth=1)
                for index, (name, state) in enumerate(list(states.items())[-zoom:]):
                    color, hatch = _look(state)
                    patch = ax.add_patch(Rectangle((x + index * wide, top), wide, 0.6, facecolor=color, edgecolor=INK,
                                                   hatch=hatch, linewidth=0.5))  # fmt: skip
                    if state is not None:
                        zoomed[name] = patch
                ax.text(x + base_width / 2, top + 0.72, f"its last {zoom} layers, enlarged\n{summary}",
                        ha="center", va="top", fontsize=9.5)  # fmt: skip
                top_used = top + 1.3
            else:
                ax.text(x + base_width / 2, 1.12, summary.replace("; ", "\n"), ha="center", va="top", fontsize=9.5)
                top_used = max(top_used, 1.5)
            ax.text(x, -0.1, "input side (edges, textures)", fontsize=8.5, va="bottom")
            ax.text(x + base_width, -0.1, "output side (object parts)", fontsize=8.5, va="bottom", ha="right")
            x += base_width + 0.35
            continue
        state = bool(layer.trainable) if layer.weights else None
        color, hatch = _look(state)
        patch = ax.add_patch(Rectangle((x, 0.1), 1.5, 0.8, facecolor=color, edgecolor=INK, hatch=hatch, linewidth=1.2))
        if state is not None:
            patches[layer.name], flags[layer.name] = patch, state
        label = layer.name if inner is not None else kind.replace("GlobalAveragePooling2D", "GlobalAverage\nPooling2D")
        ax.text(x + 0.75, 0.5, label, ha="center", va="center", fontsize=8, color=INK,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1})  # fmt: skip
        if not head_started and any("/" in name for name in patches):
            head_started = True
            ax.text(x, -0.1, "new head →", fontsize=8.5, va="bottom")
        x += 1.65
    trainable_params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    legend = [
        Patch(facecolor=FROZEN, hatch="////", edgecolor=FROZEN, label="frozen (trainable=False)"),
        Patch(facecolor=TRAINABLE, edgecolor=TRAINABLE, label="trainable"),
        Patch(facecolor=NO_WEIGHTS, edgecolor=GREY, label="no weights"),
    ]
    ax.legend(handles=legend, loc="lower center", ncol=3, fontsize=9, frameon=False)
    ax.set_title(
        title or f"{model.name}: {trainable_params:,} of {model.count_params():,} parameters trainable", fontsize=11
    )
    blank(ax, (-0.1, x + 0.1), (-0.45, top_used + 0.5))
    ax.set_aspect("auto")
    return {"patches": patches, "trainable": flags, "zoomed": zoomed, "trainable_params": trainable_params, "ax": ax}
