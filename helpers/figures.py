"""Explanatory figures: the drawings the chapters use to show an idea rather than describe it.

Every function takes the chapter's own data or model (and an optional ``ax=`` or ``axes=``),
draws with matplotlib, returns what it drew (artists and the numbers behind them) and never
calls ``plt.show()``. The figures are deterministic, drawn on a white background (so they
read the same in light and dark JupyterLab themes and on a projector) in the Okabe-Ito
colours, which colour-blind readers can tell apart; where two colours carry the meaning,
a hatch or line style carries it too.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from helpers.conv import output_size as conv_output_size
from helpers.conv import same_padding as _same_padding
from helpers.course import human_bytes as _human_bytes
from helpers.inference import size_on_disk

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


def _blank(ax, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
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
    highlight_color: str = INK,
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
                edgecolor=highlight_color if (i, j) in marked else GREY,
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


def _box(ax, x: float, y: float, width: float, height: float, text: str, *, color: str = "white", fontsize=10, **kw):
    """A rounded box with centred text; returns the patch."""
    from matplotlib.patches import FancyBboxPatch

    patch = FancyBboxPatch(
        (x, y),
        width,
        height,
        boxstyle="round,pad=0.02,rounding_size=0.08",
        facecolor=color,
        edgecolor=INK,
        linewidth=1.2,
        **kw,
    )
    ax.add_patch(patch)
    ax.text(x + width / 2, y + height / 2, text, ha="center", va="center", fontsize=fontsize, color=INK, zorder=5)
    return patch


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], *, text: str | None = None, **kw):
    from matplotlib.patches import FancyArrowPatch

    arrow = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color=INK, linewidth=1.3, **kw)
    ax.add_patch(arrow)
    if text:
        ax.text(
            (start[0] + end[0]) / 2,
            (start[1] + end[1]) / 2 - 0.12,
            text,
            ha="center",
            va="bottom",
            fontsize=8.5,
            color=INK,
            family="monospace",
        )
    return arrow


# --------------------------------------------------------------------------- chapter 01


PIPELINE_STEPS = (
    ("collect", "images + labels", "01"),
    ("preprocess", "resize, scale,\nbatch", "01, 04"),
    ("build", "stack layers", "02, 03, 05"),
    ("compile", "optimizer, loss,\nmetrics", "03"),
    ("train", "model.fit", "03, 05"),
    ("evaluate", "unseen test\nimages", "06, 08"),
    ("deploy", "save, export,\npredict", "07"),
)


def _step_row(
    ax,
    steps,
    width: float,
    gap: float,
    height: float,
    *,
    first_colour: int,
    fontsize: float,
    note_y: float,
    **note_style,
) -> tuple[list, list]:
    """Numbered boxes in a row joined by arrows, each (name, detail, note) with its detail above the box and
    its note at ``note_y`` (below the box when negative); the first ``first_colour`` boxes in sky blue, the
    rest orange. Returns the boxes and the arrows."""
    boxes, arrows = [], []
    for index, (name, detail, note) in enumerate(steps):
        x = index * (width + gap)
        colour = SKY if index < first_colour else ORANGE
        boxes.append(_box(ax, x, 0, width, height, f"{index + 1}. {name}", color=colour, fontsize=fontsize))
        ax.text(x + width / 2, height + 0.15, detail, ha="center", va="top", fontsize=fontsize - 1.75, color=INK)
        ax.text(x + width / 2, note_y, note, ha="center", va="bottom" if note_y < 0 else "top", fontsize=8.5,
                color=INK, **note_style)  # fmt: skip
        if index:
            arrows.append(_arrow(ax, (x - gap + 0.03, height / 2), (x - 0.03, height / 2)))
    return boxes, arrows


def pipeline(ax: Any = None) -> list:
    """The seven steps of every project, with the chapters that teach each; returns the 7 boxes."""
    ax = _new_axes(ax, (13, 2.8))
    width, gap = 1.45, 0.45
    steps = [(name, detail, f"ch. {chapters}") for name, detail, chapters in PIPELINE_STEPS]
    boxes, _ = _step_row(ax, steps, width, gap, 1.1, first_colour=4, fontsize=11, note_y=-0.12, style="italic")
    # Evaluation often sends you back to the model.
    evaluate_x = 5 * (width + gap) + width / 2
    build_x = 2 * (width + gap) + width / 2
    _arrow(ax, (evaluate_x, 1.95), (build_x, 1.95), connectionstyle="arc3,rad=0.0", linestyle="--")
    ax.plot([evaluate_x, evaluate_x], [1.72, 1.95], color=INK, linestyle="--", linewidth=1.3)
    ax.plot([build_x, build_x], [1.72, 1.95], color=INK, linestyle="--", linewidth=1.3)
    ax.text((evaluate_x + build_x) / 2, 2.02, "not good enough? change the model or the data and go again",
            ha="center", va="top", fontsize=9, color=INK)  # fmt: skip
    _blank(ax, (-0.2, 7 * (width + gap) - gap + 0.2), (-0.55, 2.35))
    return boxes


def problem_types(
    binary_probability: float,
    class_probabilities: Any,
    label_probabilities: Any,
    *,
    image: Any = None,
    binary_question: str = "yes",
    class_names: Sequence[str] | None = None,
    label_names: Sequence[str] | None = None,
    axes: Any = None,
) -> dict:
    """What the output layer emits for one image in each kind of problem; returns the three BarContainers.

    ``binary_probability`` is one sigmoid output, ``class_probabilities`` a softmax row,
    ``label_probabilities`` one sigmoid per label. With ``image`` a first panel shows the input.
    """
    class_probabilities = np.asarray(class_probabilities, dtype=float).ravel()
    label_probabilities = np.asarray(label_probabilities, dtype=float).ravel()
    binary_probability = float(np.asarray(binary_probability, dtype=float).ravel()[0])
    class_names = list(class_names) if class_names is not None else [str(i) for i in range(len(class_probabilities))]
    label_names = (
        list(label_names) if label_names is not None else [f"label {i}" for i in range(len(label_probabilities))]
    )
    if len(class_names) != len(class_probabilities) or len(label_names) != len(label_probabilities):
        raise ValueError("Pass one class name per softmax output and one label name per sigmoid output.")
    panels = 3 + (image is not None)
    axes = _new_axes_row(axes, panels, (4 * panels - (image is not None) * 1.5, 3.4),
                         gridspec_kw={"width_ratios": [0.6] * (image is not None) + [0.6, 1.6, 1.0]})  # fmt: skip
    if image is not None:
        axes[0].imshow(np.asarray(image).squeeze(), cmap="gray")
        axes[0].set_title("the input")
        axes[0].axis("off")
        axes = axes[1:]
    drawn = {}
    ax = axes[0]
    drawn["binary"] = ax.bar([binary_question], [binary_probability], color=ORANGE, edgecolor=INK)
    ax.set_title('binary: Dense(1, "sigmoid")\none probability', fontsize=10)
    ax = axes[1]
    best = int(class_probabilities.argmax())
    colors = [ORANGE if i == best else SKY for i in range(len(class_probabilities))]
    drawn["multiclass"] = ax.bar(class_names, class_probabilities, color=colors, edgecolor=INK)
    ax.set_title(f'multi-class: Dense({len(class_probabilities)}, "softmax")\n'
                 f"they sum to {class_probabilities.sum():.2f}; the largest wins", fontsize=10)  # fmt: skip
    ax = axes[2]
    on = label_probabilities >= 0.5
    drawn["multilabel"] = ax.bar(label_names, label_probabilities, color=[ORANGE if o else SKY for o in on],
                                 edgecolor=INK, hatch=None)  # fmt: skip
    ax.set_title(f'multi-label: Dense({len(label_probabilities)}, "sigmoid")\n'
                 "each is its own yes/no", fontsize=10)  # fmt: skip
    for ax, bars in zip(axes, drawn.values()):
        ax.set_ylim(0, 1.12)
        ax.bar_label(bars, fmt="{:.2f}", fontsize=8)
        ax.tick_params(axis="x", labelsize=8.5, rotation=30 if ax is axes[2] else 0)
    for ax in (axes[0], axes[2]):
        ax.axhline(0.5, color=INK, linestyle="--", linewidth=1, label="threshold 0.5")
        ax.legend(loc="upper right", fontsize=8)
        ax.set_ylim(0, 1.3)
    axes[0].set_ylabel("output (probability)")
    return drawn


def prefetch_timeline(batches: int = 4, read_time: float = 1.0, train_time: float = 1.5, *, ax: Any = None) -> dict:
    """Reading batches and training on them, without and with ``prefetch``; returns the schedules.

    Without prefetch the input pipeline reads batch k+1 only after the model has trained on
    batch k, so each waits for the other; with prefetch it reads the next batch while the
    model trains. Returns ``{"without": ..., "with": ...}``, each with the ``read`` and
    ``train`` steps as (start, duration) pairs, its ``total`` time and its ``bars``.
    """
    if batches < 1 or read_time <= 0 or train_time <= 0:
        raise ValueError(f"Need batches >= 1 and positive times, got {batches=}, {read_time=}, {train_time=}.")
    schedules: dict[str, dict] = {}
    for name, overlap in (("without", False), ("with", True)):
        read, train = [], []
        for k in range(batches):
            if overlap:  # a buffer of one batch: read k starts once batch k-1 has gone to the model
                start = max(read[-1][0] + read_time, train[-1][0]) if k else 0.0
            else:  # read k starts when the model has finished batch k-1
                start = train[-1][0] + train_time if k else 0.0
            read.append((start, read_time))
            train.append((max(start + read_time, train[-1][0] + train_time if k else 0.0), train_time))
        schedules[name] = {"read": read, "train": train, "total": train[-1][0] + train_time, "bars": []}

    ax = _new_axes(ax, (11, 3.8))
    total = schedules["without"]["total"]
    lanes = {("without", "read"): 0, ("without", "train"): 1, ("with", "read"): 3.2, ("with", "train"): 4.2}
    titles = {
        "without": "without prefetch: reading and training take turns, so each waits for the other",
        "with": "with .prefetch(tf.data.AUTOTUNE): the next batch is read while the model trains",
    }
    for (name, step), y in lanes.items():
        schedule = schedules[name]
        busy = schedule[step]
        color, verb = (SKY, "read") if step == "read" else (ORANGE, "train")
        waits, free_from = [], 0.0
        for start, duration in busy:
            if start > free_from:
                waits.append((free_from, start - free_from))
            free_from = start + duration
        if schedule["total"] > free_from:
            waits.append((free_from, schedule["total"] - free_from))
        ax.broken_barh(waits, (y - 0.35, 0.7), facecolors="white", edgecolors=GREY, hatch="///", linewidth=0.8)
        bars = ax.broken_barh(busy, (y - 0.35, 0.7), facecolors=color, edgecolors=INK, linewidth=1.2)
        schedule["bars"].append(bars)
        for index, (start, duration) in enumerate(busy):
            ax.text(start + duration / 2, y, f"{verb} {index + 1}", ha="center", va="center", fontsize=9, color=INK)
    for name, top in (("without", -0.75), ("with", 2.45)):
        ax.text(0, top, titles[name], ha="left", va="bottom", fontsize=10, color=INK, weight="bold")
        end = schedules[name]["total"]
        y0, y1 = lanes[(name, "read")] - 0.45, lanes[(name, "train")] + 0.45
        ax.plot([end, end], [y0, y1], color=INK, linestyle="--", linewidth=1.2)
        ax.text(end + 0.1, (y0 + y1) / 2, f"done after\n{_number(end)} time units", ha="left", va="center",
                fontsize=9, color=INK)  # fmt: skip
    ax.set_yticks([lanes[k] for k in lanes])
    ax.set_yticklabels(["input pipeline", "model"] * 2, fontsize=9)
    ax.set_ylim(5.0, -1.1)
    ax.set_xlim(0, total * 1.2)
    ax.set_xlabel("time (hatched: waiting)")
    ax.tick_params(axis="x", labelbottom=False, bottom=False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return schedules


# --------------------------------------------------------------------------- chapter 02: convolution


def _conv_output_shape(image: np.ndarray, kernel: np.ndarray, stride: int) -> tuple[int, int]:
    return ((image.shape[0] - kernel.shape[0]) // stride + 1, (image.shape[1] - kernel.shape[1]) // stride + 1)


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
    out_h, out_w = _conv_output_shape(image, kernel, stride)
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
        _blank(ax, (-0.1, w + 0.1), (-0.1, h + 0.1))
    return {"products": products, "value": value, "output": done, "axes": axes}


def convolution_steps(image: Any, kernel: Any, positions: Sequence[tuple[int, int]], *, stride: int = 1) -> list[dict]:
    """:func:`convolution_step` for several positions, one row each; returns one result per row."""
    import matplotlib.pyplot as plt

    image, kernel = _check_2d(image, kernel)
    out_w = _conv_output_shape(image, kernel, stride)[1]
    fig, grid = plt.subplots(
        len(positions),
        4,
        figsize=(13, 3.2 * len(positions)),
        squeeze=False,
        gridspec_kw={"width_ratios": [image.shape[1], kernel.shape[1], kernel.shape[1], out_w]},
    )
    fig.patch.set_facecolor("white")
    return [convolution_step(image, kernel, p, stride=stride, axes=row) for p, row in zip(positions, grid)]


def convolution_animation(image: Any, kernel: Any, *, stride: int = 1, interval: int = 800, dpi: int = 60):
    """The window sliding over the whole input: a ``FuncAnimation`` with one frame per output position.

    Show it with ``IPython.display.HTML(animation.to_jshtml())``: plain JavaScript and
    images, so it plays in JupyterLab, Colab and an exported HTML page without widgets.
    The figure is closed, so the notebook does not show a still copy as well.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    image, kernel = _check_2d(image, kernel)
    out_h, out_w = _conv_output_shape(image, kernel, stride)
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


def padding_and_stride(
    image: Any,
    kernel: Any,
    settings: Sequence[tuple[str, int]] = (("valid", 1), ("same", 1), ("valid", 2), ("same", 2)),
    *,
    axes: Any = None,
) -> dict:
    """The same input under each (padding, stride): the padded input with the first two windows, and the output.

    Padding cells are drawn hatched with their zeros; the first window is outlined solid,
    the next one along the row dashed (the step between them is the stride). Each title
    gives the output size from the formula. Returns ``{(padding, stride): output array}``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    image, kernel = _check_2d(image, kernel)
    n, k = image.shape[0], kernel.shape[0]
    if axes is None:
        rows = math.ceil(len(settings) / 2)
        fig, axes = plt.subplots(rows, 2, figsize=(13, 4.4 * rows))
        fig.patch.set_facecolor("white")
    axes = list(np.atleast_1d(np.asarray(axes, dtype=object)).ravel())
    results = {}
    for ax, (padding, stride) in zip(axes, settings):
        if padding == "same":
            (top, bottom), (left, right) = (
                _same_padding(n, k, stride),
                _same_padding(image.shape[1], kernel.shape[1], stride),
            )
        elif padding == "valid":
            top = bottom = left = right = 0
        else:
            raise ValueError(f"padding must be 'valid' or 'same'; got {padding!r}.")
        padded = np.pad(image, ((top, bottom), (left, right)))
        pad_mask = np.ones(padded.shape, bool)
        pad_mask[top : top + n, left : left + image.shape[1]] = False
        out_h = conv_output_size(n, k, stride, padding)
        out_w = conv_output_size(image.shape[1], kernel.shape[1], stride, padding)
        output = np.array(
            [
                [(padded[i * stride : i * stride + k, j * stride : j * stride + kernel.shape[1]] * kernel).sum() for j in range(out_w)]
                for i in range(out_h)
            ]
        )  # fmt: skip
        results[(padding, stride)] = output
        colors = np.where(pad_mask, LIGHT_GREY, "white").astype(object)
        draw_grid(ax, padded, colors=colors, hatch=pad_mask, fontsize=8)
        ax.add_patch(Rectangle((0, 0), kernel.shape[1], k, fill=False, edgecolor=ORANGE, linewidth=3.5, zorder=6))
        if out_w > 1:
            ax.add_patch(
                Rectangle(
                    (stride, 0), kernel.shape[1], k, fill=False, edgecolor=BLUE, linewidth=3, linestyle="--", zorder=7
                )
            )
        gap = 1.5
        x_out = padded.shape[1] + gap
        out_colors = np.full(output.shape, SKY, dtype=object)
        out_colors[0, 0] = ORANGE
        if out_w > 1:
            out_colors[0, 1] = LIGHT_GREY
        draw_grid(ax, output, origin=(x_out, 0), colors=out_colors, fontsize=8)
        ax.annotate("", (x_out - 0.1, out_h / 2), (padded.shape[1] + 0.1, out_h / 2),
                    arrowprops={"arrowstyle": "-|>", "color": INK, "linewidth": 1.3})  # fmt: skip
        formula = f"⌊({n} − {k}) / {stride}⌋ + 1 = {out_h}" if padding == "valid" else f"⌈{n} / {stride}⌉ = {out_h}"
        ax.set_title(
            f"padding={padding!r}, strides={stride}: {n}×{image.shape[1]} → {out_h}×{out_w}\n{formula}", fontsize=11
        )
        _blank(ax, (-0.2, x_out + out_w + 0.2), (-0.2, max(padded.shape[0], out_h) + 0.2))
    for ax in axes[len(settings) :]:
        ax.axis("off")
    return results


def pooling(grid: Any, size: int = 2, *, axes: Any = None) -> dict:
    """Max and average pooling side by side, each window in its own colour; returns both outputs.

    The largest value of each window is outlined on the input: that is the one max pooling keeps.
    """
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 2 or grid.shape[0] % size or grid.shape[1] % size:
        raise ValueError(f"pooling needs a 2-D grid whose sides divide by size={size}; got shape {grid.shape}.")
    out_h, out_w = grid.shape[0] // size, grid.shape[1] // size
    windows = grid.reshape(out_h, size, out_w, size).transpose(0, 2, 1, 3)
    maximum, average = windows.max(axis=(2, 3)), windows.mean(axis=(2, 3))
    window_colors = np.empty((out_h, out_w), dtype=object)
    for index in range(out_h * out_w):
        window_colors.flat[index] = WINDOW_COLORS[index % len(WINDOW_COLORS)]
    input_colors = np.repeat(np.repeat(window_colors, size, axis=0), size, axis=1)
    strongest = []
    for i in range(out_h):
        for j in range(out_w):
            r, c = np.unravel_index(np.argmax(windows[i, j]), (size, size))
            strongest.append((i * size + int(r), j * size + int(c)))
    axes = _new_axes_row(axes, 3, (11, 3.6), gridspec_kw={"width_ratios": [grid.shape[1], out_w, out_w]})
    draw_grid(axes[0], grid, colors=input_colors, highlight=strongest, fontsize=12)
    axes[0].set_title(f"input {grid.shape[0]}×{grid.shape[1]}, {out_h * out_w} windows of {size}×{size}")
    draw_grid(axes[1], maximum, colors=window_colors, fontsize=12)
    axes[1].set_title(f"MaxPooling2D({size})\nlargest of each window")
    draw_grid(axes[2], average, colors=window_colors, fontsize=12)
    axes[2].set_title(f"AveragePooling2D({size})\nmean of each window")
    for ax, (h, w) in zip(axes, [grid.shape, maximum.shape, average.shape]):
        _blank(ax, (-0.1, w + 0.1), (-0.1, h + 0.1))
    return {"max": maximum, "average": average, "window_colors": window_colors, "strongest": strongest, "axes": axes}


def receptive_field(layers: Sequence[tuple[str, int, int]], *, ax: Any = None, title: str | None = None) -> list[int]:
    """How much of the input one unit sees after each layer, drawn as nested squares on the input.

    ``layers`` is a list of ``(name, kernel_size, stride)``, e.g. three ``("conv", 3, 1)``
    or ``("pool", 2, 2)`` in between ('valid' padding). Returns the receptive-field sizes,
    layer by layer. The rule: each layer adds ``(kernel - 1) x jump``, where the jump is the
    product of the strides below it.
    """
    from matplotlib.patches import Patch, Rectangle

    if not layers:
        raise ValueError("Pass at least one layer, e.g. [('conv', 3, 1)].")
    sizes, jump, size = [], 1, 1
    for name, kernel, stride in layers:
        if kernel < 1 or stride < 1:
            raise ValueError(f"layer {name!r}: kernel and stride must be at least 1; got {kernel}, {stride}.")
        size += (kernel - 1) * jump
        jump *= stride
        sizes.append(size)

    # One unit per layer, nested: the middle one of the units that feed the last layer's first unit.
    def down(low: int, high: int, levels: range) -> tuple[int, int]:
        for level in levels:  # from the top layer down to the input
            _, kernel, stride = layers[level]
            low, high = low * stride, high * stride + kernel - 1
        return low, high

    spans = []
    for depth in range(len(layers)):
        low, high = down(0, 0, range(len(layers) - 1, depth, -1))
        middle = (low + high) // 2
        spans.append(down(middle, middle, range(depth, -1, -1)))
    total = sizes[-1]
    ax = _new_axes(ax, (5, 5))
    margin = 1
    draw_grid(ax, np.zeros((total + 2 * margin, total + 2 * margin)), text=False)
    handles = []
    for depth, ((name, kernel, stride), size) in enumerate(zip(layers, sizes)):
        low = spans[depth][0]
        color = WINDOW_COLORS[depth % len(WINDOW_COLORS)]
        inset = 0.07 * (len(layers) - depth)
        ax.add_patch(
            Rectangle(
                (margin + low + inset, margin + low + inset),
                size - 2 * inset,
                size - 2 * inset,
                facecolor=color,
                edgecolor=INK,
                linewidth=1.5,
                zorder=5 + len(layers) - depth,
            )
        )
        handles.append(Patch(facecolor=color, edgecolor=INK,
                             label=f"after layer {depth + 1} ({name} {kernel}×{kernel}, stride {stride}): {size}×{size}"))  # fmt: skip
    side = total + 2 * margin
    ax.vlines(range(side + 1), 0, side, color=GREY, linewidth=0.6, zorder=20)
    ax.hlines(range(side + 1), 0, side, color=GREY, linewidth=0.6, zorder=20)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=9, frameon=False)
    ax.set_title(title or f"one unit after {len(layers)} layers sees {total}×{total} input pixels", fontsize=11)
    _blank(ax, (-0.1, total + 2 * margin + 0.1), (-0.1, total + 2 * margin + 0.1))
    return sizes


# --------------------------------------------------------------------------- chapter 03


def _graphviz_available() -> bool:
    """True when ``keras.utils.plot_model`` can work: pydot importable and Graphviz's ``dot`` on the PATH."""
    import importlib.util

    return importlib.util.find_spec("pydot") is not None and shutil.which("dot") is not None


_KIND_COLORS = (
    (("Conv",), SKY),
    (("Pool",), GREEN),
    (("Dense",), ORANGE),
    (("Normalization", "Dropout", "ReLU", "Activation"), LIGHT_GREY),
    (("Sequential", "Functional", "Model"), PURPLE),
)


def _kind_color(layer) -> str:
    name = type(layer).__name__
    for keys, color in _KIND_COLORS:
        if any(key in name for key in keys):
            return color
    return "white"


def _shape_text(layer) -> str:
    try:
        return str(tuple(layer.output.shape)).replace("None", "batch")
    except (AttributeError, ValueError):
        return ""


def model_diagram(model, *, ax: Any = None, max_rows: int = 12, use_graphviz: bool | None = None) -> dict:
    """The model's layers as a diagram, made from the model object itself.

    Uses ``keras.utils.plot_model`` when Graphviz and pydot are installed (or when
    ``use_graphviz=True``), otherwise draws one box per layer (name, type, output shape,
    parameters), in columns of at most ``max_rows``. Returns ``{"method": ..., "boxes": {name: patch}}``.
    """
    import keras

    graphviz = _graphviz_available() if use_graphviz is None else use_graphviz
    if graphviz:
        import matplotlib.pyplot as plt

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.png"
            keras.utils.plot_model(model, to_file=str(path), show_shapes=True, show_layer_names=True, dpi=80)
            picture = plt.imread(path)
        ax = _new_axes(ax, (picture.shape[1] / 80, picture.shape[0] / 80))
        ax.imshow(picture)
        ax.axis("off")
        ax.set_title(f"{model.name}: {model.count_params():,} parameters")
        return {"method": "plot_model", "boxes": {}, "ax": ax}

    layers = list(model.layers)
    rows = [("input", "InputLayer", str(tuple(model.inputs[0].shape)).replace("None", "batch"), 0, "white")]
    if layers and type(layers[0]).__name__ == "InputLayer":
        layers = layers[1:]
    rows += [
        (layer.name, type(layer).__name__, _shape_text(layer), layer.count_params(), _kind_color(layer))
        for layer in layers
    ]
    columns = math.ceil(len(rows) / max_rows)
    per_column = math.ceil(len(rows) / columns)
    width, height, step_x, step_y = 3.6, 0.62, 4.6, 0.9
    ax = _new_axes(ax, (4.2 * columns + 0.4, 0.62 * per_column + 0.9))
    boxes = {}
    centres = []
    for index, (name, kind, shape, params, color) in enumerate(rows):
        column, row = divmod(index, per_column)
        x, y = column * step_x, row * step_y
        label = f"{name} ({kind})\n{shape}" + (f" · {params:,} params" if params else "")
        boxes[name] = _box(ax, x, y, width, height, label, color=color, fontsize=8.5)
        centres.append((x, y))
    for index in range(1, len(centres)):
        (x0, y0), (x1, y1) = centres[index - 1], centres[index]
        if x0 == x1:
            _arrow(ax, (x0 + width / 2, y0 + height), (x1 + width / 2, y1))
        else:  # wrap to the next column
            _arrow(ax, (x0 + width, y0 + height / 2), (x1, y1 + height / 2), connectionstyle="arc3,rad=-0.15")
    ax.set_title(f"{model.name}: {len(rows)} layers, {model.count_params():,} parameters", fontsize=11)
    _blank(ax, (-0.2, (columns - 1) * step_x + width + 0.2), (-0.2, (per_column - 1) * step_y + height + 0.2))
    ax.set_aspect("auto")
    return {"method": "course", "boxes": boxes, "ax": ax}


def learning_rate_schedule(schedule, total_steps: int, *, steps_per_epoch: int | None = None, ax: Any = None) -> dict:
    """A learning-rate schedule over a training run, with its warm-up and decay phases marked.

    ``schedule`` is a Keras ``LearningRateSchedule`` (or any function of the step). Returns the
    peak step and rate and the line.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be at least 1; got {total_steps}.")
    steps = np.unique(np.linspace(0, total_steps - 1, min(total_steps, 400)).round().astype(int))
    rates = np.array([float(schedule(int(step))) for step in steps])
    peak_index = int(rates.argmax())
    peak_step, peak = int(steps[peak_index]), float(rates[peak_index])
    ax = _new_axes(ax, (8, 3.6))
    (line,) = ax.plot(steps, rates, color=BLUE, linewidth=2.5)
    if peak_step > 0:
        ax.axvspan(0, peak_step, facecolor=SKY, alpha=0.25, hatch="//", edgecolor=SKY)
        ax.annotate(f"warm-up: {peak_step} steps,\nrising from {rates[0]:.1g}", (peak_step / 2, peak * 0.3),
                    (peak_step + 0.05 * steps[-1], peak * 0.12), fontsize=9, va="bottom",
                    arrowprops={"arrowstyle": "->", "color": INK})  # fmt: skip
    if steps[-1] > peak_step:
        ax.axvspan(peak_step, steps[-1], color=ORANGE, alpha=0.15)
        ax.text((peak_step + steps[-1]) / 2, peak * 0.62, f"decay: {steps[-1] - peak_step} steps,\nsmaller and smaller\nsteps at the end",
                ha="center", va="center", fontsize=9)  # fmt: skip
    ax.annotate(f"peak {peak:.1e}\nat step {peak_step}", (peak_step, peak), (peak_step + 0.08 * (steps[-1] + 1), peak * 0.95),
                arrowprops={"arrowstyle": "->", "color": INK}, fontsize=9, va="top")  # fmt: skip
    ax.annotate(f"ends at {rates[-1]:.1e}", (steps[-1], rates[-1]), (steps[-1] * 0.8, peak * 0.2),
                arrowprops={"arrowstyle": "->", "color": INK}, fontsize=9, ha="right")  # fmt: skip
    if steps_per_epoch:
        epochs = np.arange(0, total_steps + 1, steps_per_epoch)
        for edge in epochs[1:-1]:
            ax.axvline(edge, color=GREY, linewidth=0.6, linestyle=":")
        ax.set_xlabel(f"training step ({steps_per_epoch} per epoch, dotted lines between epochs)")
    else:
        ax.set_xlabel("training step")
    ax.set_ylabel("learning rate")
    ax.set_ylim(0, peak * 1.15 if peak > 0 else 1)
    ax.set_xlim(0, max(steps[-1], 1))
    return {"line": line, "peak_step": peak_step, "peak": peak, "final": float(rates[-1]), "ax": ax}


def _conv_blocks(model) -> list[list]:
    """The model's convolution blocks: each Conv2D with the layers after it, up to the next one or the head."""
    import keras

    head = (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D, keras.layers.Flatten,
            keras.layers.Dense)  # fmt: skip
    blocks: list[list] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            blocks.append([layer])
        elif isinstance(layer, head):
            if blocks:
                break
        elif blocks:
            blocks[-1].append(layer)
    if not blocks:
        raise ValueError(f"{model.name} has no Conv2D layer: block_costs draws the cost of convolution blocks.")
    return blocks


def _fresh_copy(layer):
    """A new layer with ``layer``'s settings: the learner's model and random state stay untouched."""
    import keras

    config = layer.get_config()
    if isinstance(layer, keras.layers.Conv2D):
        config["kernel_initializer"] = "zeros"  # timing does not depend on the values; no random draw
    if "seed" in config and config["seed"] is None:  # dropout and other random layers: a fixed seed, no draw
        config["seed"] = 0
    return type(layer).from_config(config)


def block_costs(model, *, batch_size: int = 128, rounds: int = 3, repeats: int = 4, ax: Any = None) -> dict:
    """Each convolution block's share of the multiply-adds beside its share of a training step's time.

    Times one forward and backward pass of a fresh copy of every block (same layers and
    shapes, its own weights) on a random batch, block after block, ``rounds`` times, and keeps
    each block's fastest time. The model itself, its weights and the random state of
    Keras, NumPy and Python are left as they were. Returns the block labels,
    ``multiply_adds``, ``seconds`` (per step of ``batch_size`` images) and both shares.
    """
    import keras
    import tensorflow as tf

    if batch_size < 1 or rounds < 1 or repeats < 1:
        raise ValueError(f"batch_size, rounds and repeats must be at least 1; got {batch_size}, {rounds}, {repeats}.")
    rng = np.random.default_rng(0)
    labels, multiply_adds, steps = [], [], []
    for index, block in enumerate(_conv_blocks(model), start=1):
        conv = block[0]
        try:
            in_shape, out_shape = tuple(conv.input.shape[1:]), tuple(conv.output.shape[1:])
        except (AttributeError, ValueError) as error:
            raise ValueError(
                f"{model.name} has not been built, so its blocks have no shapes yet ({error}). "
                "Start the model with keras.Input(shape=...), or call it once on a batch of images."
            ) from None
        if None in in_shape:
            raise ValueError(
                f"block_costs needs a fixed image size, but {conv.name} takes inputs of shape {in_shape}. "
                "Build the model with a fixed size, e.g. keras.Input(shape=(32, 32, 3))."
            )
        first = conv.data_format == "channels_first"
        in_size, out_size = (in_shape[1:], out_shape[1:]) if first else (in_shape[:2], out_shape[:2])
        copy = keras.Sequential([keras.Input(in_shape, name=f"block_{index}_input")] + [_fresh_copy(layer) for layer in block],
                                name=f"block_{index}")  # fmt: skip
        images = tf.constant(rng.random((batch_size, *in_shape), dtype=np.float32))

        @tf.function
        def step(images, copy=copy):
            with tf.GradientTape() as tape:
                tape.watch(images)  # later blocks pass gradients on to the block before them
                loss = tf.reduce_sum(copy(images, training=True))
            return tape.gradient(loss, [images, *copy.trainable_weights])

        step(images)  # the first call builds the graph: not timed
        labels.append(f"block {index}: {conv.filters} filters\non {in_size[0]}×{in_size[1]} maps")
        multiply_adds.append(int(np.prod(out_size)) * int(np.prod(conv.kernel.shape)))
        steps.append((step, images))
    seconds = [math.inf] * len(steps)
    for _ in range(rounds):  # block after block, round after round: a slow moment hits all blocks alike
        for index, (step, images) in enumerate(steps):
            start = time.perf_counter()
            for _ in range(repeats):
                [gradient.numpy() for gradient in step(images)]
            seconds[index] = min(seconds[index], (time.perf_counter() - start) / repeats)
    mac_share = np.array(multiply_adds, dtype=float) / sum(multiply_adds)
    time_share = np.array(seconds) / sum(seconds)

    ax = _new_axes(ax, (8, 0.9 * len(labels) + 1.4))
    rows = np.arange(len(labels))
    ax.barh(rows - 0.2, 100 * mac_share, height=0.38, color=BLUE, label="share of the multiply-adds")
    ax.barh(rows + 0.2, 100 * time_share, height=0.38, color=ORANGE, hatch="//", edgecolor=INK,
            label=f"share of the measured time (forward + backward, batch {batch_size})")  # fmt: skip
    for row, macs, share in zip(rows, mac_share, time_share):
        ax.text(100 * macs + 0.8, row - 0.2, f"{macs:.0%}", va="center", fontsize=9)
        ax.text(100 * share + 0.8, row + 0.2, f"{share:.0%}", va="center", fontsize=9)
    ax.set_yticks(rows, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 100 * max(mac_share.max(), time_share.max()) * 1.2)
    ax.set_xlabel("% of the whole network's convolution blocks")
    ax.set_title("Where a training step goes, block by block")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=9)
    return {"blocks": labels, "multiply_adds": multiply_adds, "seconds": seconds,
            "mac_share": mac_share, "time_share": time_share, "ax": ax}  # fmt: skip


def _schematic_history(epochs: int = 30) -> dict[str, np.ndarray]:
    epoch = np.arange(1, epochs + 1)
    train = 0.35 + 1.8 * np.exp(-epoch / 5)
    val = 0.75 + 1.45 * np.exp(-epoch / 5) + 0.0009 * np.maximum(0, epoch - 8) ** 2.2
    return {"loss": train, "val_loss": val}


def fitting_regimes(history: Any = None, *, ax: Any = None, title: str | None = None) -> dict:
    """Training and validation loss with the underfitting and overfitting regions marked.

    ``history`` is a Keras ``History`` (or its ``.history`` dict) with ``loss`` and
    ``val_loss``; without it, a textbook-shaped pair of curves is drawn. Returns the best
    epoch (lowest validation loss) and the regions' labels.
    """
    if history is None:
        curves = _schematic_history()
        title = title or "the typical shape (illustration)"
    else:
        curves = getattr(history, "history", history)
        if "loss" not in curves or "val_loss" not in curves:
            raise ValueError(
                f"fitting_regimes needs 'loss' and 'val_loss' in the history; it has {sorted(curves)}. "
                "Train with validation_data= or validation_split= to get val_loss."
            )
    train, val = np.asarray(curves["loss"], float), np.asarray(curves["val_loss"], float)
    epochs = np.arange(1, len(train) + 1)
    best = int(val.argmin()) + 1
    ax = _new_axes(ax, (7, 4))
    ax.plot(epochs, train, color=BLUE, linewidth=2.5, marker="o" if len(epochs) < 15 else None, label="training loss")
    ax.plot(epochs, val, color=VERMILLION, linewidth=2.5, linestyle="--", marker="s" if len(epochs) < 15 else None,
            label="validation loss")  # fmt: skip
    labels = []
    top = float(max(train.max(), val.max())) * 1.05
    if len(epochs) < 3:
        ax.text(0.5, 0.5, "too few epochs to see a trend", transform=ax.transAxes, ha="center", fontsize=10)
    else:
        if best > 1:
            ax.axvspan(0.5, best, color=SKY, alpha=0.2)
            ax.text(
                (0.5 + best) / 2,
                top * 0.97,
                "underfitting:\nboth still fall,\ntrain longer",
                ha="center",
                va="top",
                fontsize=9,
            )
            labels.append("underfitting")
        if best < len(epochs):
            ax.axvspan(best, len(epochs) + 0.5, facecolor=VERMILLION, alpha=0.12, hatch="\\\\", edgecolor=VERMILLION)
            ax.text((best + len(epochs) + 0.5) / 2, top * 0.97, "overfitting:\ntraining falls,\nvalidation rises",
                    ha="center", va="top", fontsize=9)  # fmt: skip
            labels.append("overfitting")
        ax.axvline(best, color=INK, linewidth=1.2)
        ax.annotate(f"lowest validation loss:\nepoch {best}, stop here", (best, val[best - 1]), (best + 0.3, 0.04 * top),
                    ha="left", va="bottom", fontsize=9, arrowprops={"arrowstyle": "->", "color": INK})  # fmt: skip
        last = len(epochs)
        ax.annotate("", (last, train[-1]), (last, val[-1]), arrowprops={"arrowstyle": "<->", "color": INK})
        ax.text(last - 0.2, (train[-1] + val[-1]) / 2, "gap", ha="right", va="center", fontsize=9)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_xlim(0.5, len(epochs) + 0.5)
    ax.set_ylim(0, top)
    ax.legend(loc="lower left", fontsize=9)
    if title:
        ax.set_title(title, fontsize=11)
    return {"best_epoch": best, "regions": labels, "ax": ax}


# --------------------------------------------------------------------------- chapter 05


def _effective_trainable(layer, parent_trainable: bool = True) -> bool:
    return bool(parent_trainable and layer.trainable)


def transfer_setup(model, *, ax: Any = None, title: str | None = None, zoom: int = 24) -> dict:
    """The transfer-learning model as drawn from its ``trainable`` flags: frozen, trainable, no weights.

    A nested model (the pretrained base) is drawn as a bar of thin stripes, one per layer;
    the other layers as boxes. A base of more than ``2 * zoom`` layers also gets its last
    ``zoom`` layers drawn enlarged underneath (that is where fine-tuning starts). Returns
    ``{"patches": {name: patch}, "trainable": {name: bool}, "zoomed": {name: patch}}`` for every
    layer with weights, using the same names (``base/layer``) throughout.
    """
    from matplotlib.patches import Patch, Rectangle

    ax = _new_axes(ax, (13, 3.8))
    patches, flags, zoomed = {}, {}, {}
    height_used = 1.0
    x = 0.0
    box_width, base_width, height = 1.5, 7.0, 1.0
    head_started = False
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        inner = getattr(layer, "layers", None)
        if inner and any(sub.weights for sub in inner):  # the pretrained base: one stripe per layer
            stripe = base_width / len(inner)
            for index, sub in enumerate(inner):
                name = f"{layer.name}/{sub.name}"
                if sub.weights:
                    trainable = _effective_trainable(sub, layer.trainable)
                    color, hatch = (TRAINABLE, None) if trainable else (FROZEN, "////")
                    flags[name] = trainable
                else:
                    color, hatch = NO_WEIGHTS, None
                patch = Rectangle((x + index * stripe, 0), stripe, height, facecolor=color, edgecolor=color,
                                  hatch=hatch, linewidth=0)  # fmt: skip
                ax.add_patch(patch)
                if sub.weights:
                    patches[name] = patch
            ax.add_patch(Rectangle((x, 0), base_width, height, fill=False, edgecolor=INK, linewidth=1.5))
            n_trainable = sum(flags[f"{layer.name}/{s.name}"] for s in inner if s.weights)
            n_weighted = sum(1 for s in inner if s.weights)
            summary = f"pretrained base: {layer.name}, {len(inner)} layers; {n_trainable} of {n_weighted} with weights trainable"
            if len(inner) > 2 * zoom:  # the top of a long base, enlarged
                top, wide = height + 0.7, base_width / zoom
                start = x + (len(inner) - zoom) * stripe
                ax.plot([start, x], [height, top], color=GREY, linewidth=1)
                ax.plot([x + base_width, x + base_width], [height, top], color=GREY, linewidth=1)
                for index, sub in enumerate(inner[-zoom:]):
                    name = f"{layer.name}/{sub.name}"
                    if sub.weights:
                        color, hatch = (TRAINABLE, None) if flags[name] else (FROZEN, "////")
                    else:
                        color, hatch = NO_WEIGHTS, None
                    patch = Rectangle((x + index * wide, top), wide, 0.6, facecolor=color, edgecolor=INK,
                                      hatch=hatch, linewidth=0.5)  # fmt: skip
                    ax.add_patch(patch)
                    if sub.weights:
                        zoomed[name] = patch
                ax.text(x + base_width / 2, top + 0.72, f"its last {zoom} layers, enlarged\n{summary}",
                        ha="center", va="top", fontsize=9.5)  # fmt: skip
                height_used = top + 1.3
            else:
                ax.text(
                    x + base_width / 2, height + 0.12, summary.replace("; ", "\n"), ha="center", va="top", fontsize=9.5
                )
                height_used = max(height_used, height + 0.5)
            ax.text(x, -0.1, "input side (edges, textures)", fontsize=8.5, va="bottom")
            ax.text(x + base_width, -0.1, "output side (object parts)", fontsize=8.5, va="bottom", ha="right")
            x += base_width + 0.35
            continue
        if layer.weights:
            trainable = _effective_trainable(layer)
            color, hatch = (TRAINABLE, None) if trainable else (FROZEN, "////")
            flags[layer.name] = trainable
        else:
            color, hatch = NO_WEIGHTS, None
        patch = Rectangle((x, 0.1), box_width, height - 0.2, facecolor=color, edgecolor=INK, hatch=hatch, linewidth=1.2)
        ax.add_patch(patch)
        if layer.weights:
            patches[layer.name] = patch
        label = layer.name if inner is not None else kind.replace("GlobalAveragePooling2D", "GlobalAverage\nPooling2D")
        ax.text(x + box_width / 2, 0.5, label, ha="center", va="center", fontsize=8, color=INK,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1})  # fmt: skip
        if patches and not head_started and any("/" in name for name in patches):
            head_started = True
            ax.text(x, -0.1, "new head →", fontsize=8.5, va="bottom")
        x += box_width + 0.15
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
    _blank(ax, (-0.1, x + 0.1), (-0.45, height_used + 0.5))
    ax.set_aspect("auto")
    return {"patches": patches, "trainable": flags, "zoomed": zoomed, "trainable_params": trainable_params, "ax": ax}


# --------------------------------------------------------------------------- chapter 06


def _class_index(value: int | str, class_names: Sequence[str]) -> int:
    if isinstance(value, str):
        if value not in class_names:
            raise ValueError(f"{value!r} is not one of the class names {list(class_names)}.")
        return list(class_names).index(value)
    if not 0 <= int(value) < len(class_names):
        raise ValueError(f"class index {value} is outside 0..{len(class_names) - 1}.")
    return int(value)


def confusion_matrix_guide(
    matrix: Any, class_names: Sequence[str], *, row: int | str, column: int | str, ax: Any = None
) -> dict:
    """A confusion matrix with one row and one column outlined and explained (recall and precision).

    ``matrix[i, j]`` counts images of true class i predicted as class j (as
    ``sklearn.metrics.confusion_matrix`` returns it). Returns the recall of the row's class and
    the precision of the column's class, computed from the matrix, and the two outlines.
    """
    from matplotlib.patches import Rectangle

    matrix = np.asarray(matrix)
    n = len(class_names)
    if matrix.shape != (n, n):
        raise ValueError(f"The matrix has shape {matrix.shape} but there are {n} class names; expected ({n}, {n}).")
    r, c = _class_index(row, class_names), _class_index(column, class_names)
    ax = _new_axes(ax, (9.5, 7.5))
    shade = matrix / max(matrix.max(), 1)
    import matplotlib as mpl

    cmap = mpl.colormaps["Greys"]
    colors = np.empty(matrix.shape, dtype=object)
    for i in range(n):
        for j in range(n):
            colors[i, j] = mpl.colors.to_hex(cmap(0.05 + 0.45 * shade[i, j]))
    draw_grid(ax, matrix, colors=colors, fontsize=9 if n > 6 else 11)
    row_patch = Rectangle((0, r), n, 1, fill=False, edgecolor=ORANGE, linewidth=4, zorder=8)
    column_patch = Rectangle((c, 0), 1, n, fill=False, edgecolor=BLUE, linewidth=4, linestyle="--", zorder=9)
    ax.add_patch(row_patch)
    ax.add_patch(column_patch)
    row_total, column_total = int(matrix[r].sum()), int(matrix[:, c].sum())
    recall = matrix[r, r] / row_total if row_total else 0.0
    precision = matrix[c, c] / column_total if column_total else 0.0
    ax.text(n + 0.3, r + 0.5,
            f"row '{class_names[r]}': all {row_total} images that ARE {class_names[r]},\n"
            f"spread over what the model said.\nrecall = {int(matrix[r, r])} / {row_total} = {recall:.2f}",
            va="center", fontsize=9.5, color=INK,
            bbox={"facecolor": "white", "edgecolor": ORANGE, "linewidth": 2})  # fmt: skip
    ax.text(c + 0.5, n + 0.35,
            f"column '{class_names[c]}': all {column_total} images the model CALLED {class_names[c]}.\n"
            f"precision = {int(matrix[c, c])} / {column_total} = {precision:.2f}",
            ha="center", va="top", fontsize=9.5, color=INK,
            bbox={"facecolor": "white", "edgecolor": BLUE, "linewidth": 2, "linestyle": "--"})  # fmt: skip
    for index, name in enumerate(class_names):
        ax.text(-0.15, index + 0.5, name, ha="right", va="center", fontsize=9)
        ax.text(index + 0.5, -0.15, name, ha="left", va="bottom", fontsize=9, rotation=45)
    ax.text(-0.15, -0.9, "true ↓  predicted →", ha="right", va="bottom", fontsize=9, style="italic")
    ax.text(
        n + 0.3, n - 0.5, "diagonal, top left to bottom right:\nthe right answers", va="center", fontsize=9, color=INK
    )
    _blank(ax, (-2.2, n + 6.5), (-1.8, n + 1.6))
    return {
        "recall": float(recall),
        "precision": float(precision),
        "row_patch": row_patch,
        "column_patch": column_patch,
        "ax": ax,
    }


def roc_thresholds(
    y_true: Any, scores: Any, thresholds: Sequence[float] = (0.3, 0.5, 0.7), *, ax: Any = None
) -> list[dict]:
    """A ROC curve with a few thresholds marked, each with its recall, precision and false-positive rate.

    ``y_true`` is 0/1, ``scores`` the model's score for class 1. Returns one dict per threshold.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    y_true, scores = np.asarray(y_true).ravel().astype(int), np.asarray(scores, float).ravel()
    if len(y_true) != len(scores):
        raise ValueError(f"y_true has {len(y_true)} entries but scores has {len(scores)}; pass one score per example.")
    if set(np.unique(y_true)) != {0, 1}:
        raise ValueError("roc_thresholds needs both classes in y_true, as 0 and 1.")
    fpr, tpr, _ = roc_curve(y_true, scores)
    ax = _new_axes(ax, (6.5, 5.5))
    ax.plot(fpr, tpr, color=BLUE, linewidth=2.5, label=f"ROC curve (AUC {roc_auc_score(y_true, scores):.3f})")
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", label="chance (AUC 0.5)")
    markers = "osD^v"
    points = []
    for index, threshold in enumerate(thresholds):
        flagged = scores >= threshold
        tp = int((flagged & (y_true == 1)).sum())
        fp = int((flagged & (y_true == 0)).sum())
        recall = tp / max(int((y_true == 1).sum()), 1)
        false_positive_rate = fp / max(int((y_true == 0).sum()), 1)
        precision = tp / (tp + fp) if tp + fp else 1.0
        color = WINDOW_COLORS[(index + 1) % len(WINDOW_COLORS)]
        ax.plot(false_positive_rate, recall, markers[index % len(markers)], markersize=11, color=color,
                markeredgecolor=INK, zorder=5,
                label=f"threshold {threshold:g}: recall {recall:.2f}, precision {precision:.2f}")  # fmt: skip
        ax.annotate(f"{threshold:g}", (false_positive_rate, recall), (8, -14), textcoords="offset points", fontsize=9)
        points.append(
            {
                "threshold": threshold,
                "recall": recall,
                "precision": precision,
                "false_positive_rate": false_positive_rate,
            }
        )
    ax.set_xlabel("false-positive rate (healthy flagged / all healthy)")
    ax.set_ylabel("true-positive rate = recall")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8.5)
    ax.set_title("lower threshold: more found, more false alarms", fontsize=11)
    return points


# --------------------------------------------------------------------------- chapter 07


DEPLOYMENT_FORMATS = (
    ("keras", ".keras file", "continue training,\nshare with Keras users", None),
    ("savedmodel", "SavedModel folder", "servers: TF Serving,\nVertex AI, TF.js", "model\n.export(dir)"),
    ("tflite", "TFLite / LiteRT", "phones, small devices;\nno TensorFlow needed", "TFLiteConverter"),
    (
        "tflite_int8",
        "TFLite, 8-bit weights",
        "the smallest file;\ncheck the accuracy",
        "TFLiteConverter\n+ Optimize\n.DEFAULT",
    ),
)


def deployment_paths(
    sizes: Mapping[str, Any], latencies_ms: Mapping[str, float] | None = None, *, ax: Any = None
) -> dict:
    """The ways out of Keras, ``.keras`` -> SavedModel -> TFLite/LiteRT, with each one's measured size and latency.

    ``sizes`` maps ``"keras"``, ``"savedmodel"``, ``"tflite"`` (and optionally
    ``"tflite_int8"``) to a path or a number of bytes; ``latencies_ms`` maps the same keys to
    milliseconds per image measured in your run. Returns the boxes and the text shown in each.
    """
    latencies_ms = dict(latencies_ms or {})
    known = {key for key, *_ in DEPLOYMENT_FORMATS}
    unknown = (set(sizes) | set(latencies_ms)) - known
    if unknown:
        raise ValueError(f"Unknown format(s) {sorted(unknown)}; use {sorted(known)}.")
    formats = [entry for entry in DEPLOYMENT_FORMATS if entry[0] in sizes]
    if not formats:
        raise ValueError("Pass the size of at least one format, e.g. sizes={'keras': model_path}.")
    ax = _new_axes(ax, (3.3 * len(formats) + 0.5, 3.6))
    width, gap = 2.5, 1.4
    boxes, texts = {}, {}
    for index, (key, title, purpose, tool) in enumerate(formats):
        x = index * (width + gap)
        size = sizes[key]
        size = size_on_disk(size) if isinstance(size, (str, Path)) else float(size)
        latency = latencies_ms.get(key)
        measured = f"{_human_bytes(size)}\n" + (
            f"{latency:.2f} ms per image" if latency is not None else "latency not timed"
        )
        texts[key] = f"{title}\n{measured}"
        color = [SKY, GREEN, ORANGE, YELLOW][index % 4]
        boxes[key] = _box(ax, x, 0, width, 1.35, f"{title}\n\n{measured}", color=color, fontsize=10)
        ax.text(x + width / 2, 1.5, purpose, ha="center", va="top", fontsize=9, color=INK)
        if index:
            _arrow(ax, (x - gap + 0.05, 0.67), (x - 0.05, 0.67))
            ax.text(x - gap / 2, 0.6, tool, ha="center", va="bottom", fontsize=8, family="monospace")
    ax.set_title("one model, several files: size and time per image from this run", fontsize=11)
    _blank(ax, (-0.2, len(formats) * (width + gap) - gap + 0.2), (-0.3, 2.2))
    return {"boxes": boxes, "texts": texts, "ax": ax}


# --------------------------------------------------------------------------- chapter 08


GRAD_CAM_STEPS = (
    ("feature\nmaps", "the layer's output A\n(h x w x channels)", "layer(x)"),
    ("gradients", "of the class score\nwith respect to A", "tape.gradient"),
    ("channel\nweights", "mean of each channel's\ngradients over h x w", "reduce_mean"),
    ("weighted\nsum", "of the maps:\none h x w map", "einsum"),
    ("ReLU", "keep only evidence\nfor the class", "relu"),
    ("upsample", "stretch onto\nthe photo", "overlay"),
)


def grad_cam_pipeline(ax: Any = None) -> dict:
    """Grad-CAM's six steps, from a layer's feature maps to a heatmap on the photo; returns the boxes and arrows.

    The feature maps are used twice: their gradients give the channel weights, and the maps
    themselves are what the weights add up (the dashed arrow).
    """
    ax = _new_axes(ax, (13, 3.1))
    width, gap = 1.55, 0.5
    boxes, arrows = _step_row(ax, GRAD_CAM_STEPS, width, gap, 0.9, first_colour=3, fontsize=10, note_y=1.6,
                              family="monospace")  # fmt: skip
    # The maps themselves feed the weighted sum: an arrow over the top from step 1 to step 4.
    start_x, end_x = width / 2, 3 * (width + gap) + width / 2
    ax.plot([start_x, start_x, end_x], [0, -0.35, -0.35], color=INK, linestyle="--", linewidth=1.3)
    arrows.append(_arrow(ax, (end_x, -0.35), (end_x, -0.02), linestyle="--"))
    ax.text((start_x + end_x) / 2, -0.4, "the same maps, weighted by the channel weights", ha="center", va="bottom",
            fontsize=8.5, color=INK, style="italic")  # fmt: skip
    _blank(ax, (-0.2, len(GRAD_CAM_STEPS) * (width + gap) - gap + 0.2), (-0.75, 2.1))
    return {"boxes": boxes, "arrows": arrows, "ax": ax}


def out_of_fold(k: int = 5, ax: Any = None) -> dict:
    """Out-of-fold predictions as k rounds over k folds: each round trains on k - 1 folds and predicts the other.

    Returns the cells (one row of k Rectangles per round), each cell's role ("train" or
    "predict") and the axes. The predicted folds are orange and hatched, the training folds sky blue.
    """
    from matplotlib.patches import Patch, Rectangle

    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ValueError(f"Out-of-fold predictions need a whole number of at least 2 folds; got k={k!r}.")
    ax = _new_axes(ax, (1.25 * k + 3.2, 0.62 * k + 1.5))
    cell_width, cell_height = 1.2, 0.5
    cells, roles = [], []
    for round_index in range(k):
        y = round_index * (cell_height + 0.12)
        row_cells, row_roles = [], []
        for fold in range(k):
            role = "predict" if fold == round_index else "train"
            cell = Rectangle(
                (fold * cell_width, y), cell_width, cell_height,
                facecolor=ORANGE if role == "predict" else SKY,
                edgecolor=INK, linewidth=1, hatch="///" if role == "predict" else None,
            )  # fmt: skip
            ax.add_patch(cell)
            label_box = (
                {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"} if role == "predict" else None
            )
            ax.text(fold * cell_width + cell_width / 2, y + cell_height / 2, role, ha="center", va="center",
                    fontsize=9, color=INK, bbox=label_box)  # fmt: skip
            row_cells.append(cell)
            row_roles.append(role)
        ax.text(-0.15, y + cell_height / 2, f"head {round_index + 1}", ha="right", va="center", fontsize=9.5, color=INK)
        cells.append(row_cells)
        roles.append(row_roles)
    for fold in range(k):
        ax.text(fold * cell_width + cell_width / 2, -0.12, f"fold {fold + 1}", ha="center", va="bottom", fontsize=9.5,
                color=INK)  # fmt: skip
    bottom = k * (cell_height + 0.12)
    ax.text(k * cell_width / 2, bottom + 0.05,
            "every image is predicted once, by the head that did not train on it", ha="center", va="top",
            fontsize=9.5, color=INK, style="italic")  # fmt: skip
    ax.legend(
        handles=[Patch(facecolor=SKY, edgecolor=INK, label="train the head"),
                 Patch(facecolor=ORANGE, edgecolor=INK, hatch="///", label="predict (out of fold)")],
        loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, frameon=False,
    )  # fmt: skip
    _blank(ax, (-1.3, k * cell_width + 0.1), (-0.55, bottom + 0.45))
    return {"cells": cells, "roles": roles, "ax": ax}
