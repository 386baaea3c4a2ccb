"""Authoring: draw the course's fixed diagrams and store them in the chapters as images.

    python tools/draw_figures.py --write   # redraw every diagram into its markdown cell in solutions/
    python tools/draw_figures.py --check   # exit 1 if a stored diagram differs from a fresh drawing

A fixed diagram shows an idea with the course's own numbers (the seven steps of a project,
padding and stride on chapter 02's edge image, the typical shape of training curves, the
export paths, out-of-fold rounds); no learner data goes in, so the learner's notebook needs
no code to draw it. Each one is a PNG attachment of a markdown cell
(``![alt](attachment:NAME.png)``): nbformat's own way of putting an image in a notebook,
which JupyterLab, Colab and Kaggle show offline, and which ``tools/notebooks.py`` copies into
the learner notebooks with the rest of the cell. Run ``tools/notebooks.py --write`` after
``--write`` here. Figures of the learner's own data are drawn in the chapters' cells, or by
``helpers.plots`` (image grids, training curves) and ``helpers.figures`` (chapter 02's
convolution, whose colours and grid cells these diagrams use too). Not part of the
``helpers`` package that learners install.
"""

from __future__ import annotations

import argparse
import base64
import io
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `helpers` and `tools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DPI = 72  # small files (about 20-70 KB) that still read well at the notebook's width

# Chapter 02's worked examples, as its cells define them.
EDGE_IMAGE = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=float)
EDGE_FILTER = np.array([[1, 0, -1]] * 3, dtype=float)
POOL_GRID = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [7, 2, 9, 8], [1, 0, 3, 4]], dtype=float)


def _axes(figsize: tuple[float, float], *args, **kwargs):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(*args, figsize=figsize, **kwargs)
    fig.patch.set_facecolor("white")
    return fig, axes


def box(ax, x: float, y: float, width: float, height: float, text: str, *, color: str = "white", fontsize=10, **kw):
    """A rounded box with centred text; returns the patch."""
    from matplotlib.patches import FancyBboxPatch

    from helpers.figures import INK

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


def arrow(ax, start: tuple[float, float], end: tuple[float, float], **kw):
    """An arrow from ``start`` to ``end`` in the ink colour; ``kw`` go to ``FancyArrowPatch``. Returns the patch."""
    from matplotlib.patches import FancyArrowPatch

    from helpers.figures import INK

    return ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color=INK, linewidth=1.3, **kw)
    )


# --------------------------------------------------------------------------- step rows


PIPELINE_STEPS = (
    ("collect", "images + labels", "01"),
    ("preprocess", "resize, scale,\nbatch", "01, 04"),
    ("build", "stack layers", "02, 03, 05"),
    ("compile", "optimizer, loss,\nmetrics", "03"),
    ("train", "model.fit", "03, 05"),
    ("evaluate", "unseen test\nimages", "06, 08"),
    ("deploy", "save, export,\npredict", "07"),
)

GRAD_CAM_STEPS = (
    ("feature\nmaps", "the layer's output A\n(h x w x channels)", "to_feature_maps"),
    ("gradients", "of the class score\nwith respect to A", "tape.gradient"),
    ("channel\nweights", "mean of each channel's\ngradients over h x w", "reduce_mean"),
    ("weighted\nsum", "of the maps:\none h x w map", "einsum"),
    ("ReLU", "keep only evidence\nfor the class", "relu"),
    ("upsample", "stretch onto\nthe photo", "overlay"),
)


def step_row(ax, steps, width, gap, height, *, first_colour, fontsize, note_y, **note_style):
    """Numbered boxes in a row joined by arrows, each (name, detail, note) with its detail above the box and
    its note at ``note_y`` (below the box when negative); the first ``first_colour`` boxes in sky blue, the
    rest orange. Returns the boxes and the arrows."""
    from helpers.figures import INK, ORANGE, SKY

    boxes, arrows = [], []
    for index, (name, detail, note) in enumerate(steps):
        x = index * (width + gap)
        colour = SKY if index < first_colour else ORANGE
        boxes.append(box(ax, x, 0, width, height, f"{index + 1}. {name}", color=colour, fontsize=fontsize))
        ax.text(x + width / 2, height + 0.15, detail, ha="center", va="top", fontsize=fontsize - 1.75, color=INK)
        ax.text(x + width / 2, note_y, note, ha="center", va="bottom" if note_y < 0 else "top", fontsize=8.5,
                color=INK, **note_style)  # fmt: skip
        if index:
            arrows.append(arrow(ax, (x - gap + 0.03, height / 2), (x - 0.03, height / 2)))
    return boxes, arrows


def pipeline():
    """The seven steps of every project, with the chapters that teach each, and the loop back from evaluation."""
    from helpers.figures import INK, blank

    fig, ax = _axes((13, 2.8))
    width, gap = 1.45, 0.45
    steps = [(name, detail, f"ch. {chapters}") for name, detail, chapters in PIPELINE_STEPS]
    step_row(ax, steps, width, gap, 1.1, first_colour=4, fontsize=11, note_y=-0.12, style="italic")
    evaluate_x = 5 * (width + gap) + width / 2
    build_x = 2 * (width + gap) + width / 2
    arrow(ax, (evaluate_x, 1.95), (build_x, 1.95), linestyle="--")
    for x in (evaluate_x, build_x):
        ax.plot([x, x], [1.72, 1.95], color=INK, linestyle="--", linewidth=1.3)
    ax.text((evaluate_x + build_x) / 2, 2.02, "not good enough? change the model or the data and go again",
            ha="center", va="top", fontsize=9, color=INK)  # fmt: skip
    blank(ax, (-0.2, 7 * (width + gap) - gap + 0.2), (-0.55, 2.35))
    return fig


def grad_cam_pipeline():
    """Grad-CAM's six steps; the feature maps are used twice (their gradients, and the maps themselves)."""
    from helpers.figures import INK, blank

    fig, ax = _axes((13, 3.1))
    width, gap = 1.55, 0.5
    step_row(ax, GRAD_CAM_STEPS, width, gap, 0.9, first_colour=3, fontsize=10, note_y=1.6, family="monospace")
    start_x, end_x = width / 2, 3 * (width + gap) + width / 2
    ax.plot([start_x, start_x, end_x], [0, -0.35, -0.35], color=INK, linestyle="--", linewidth=1.3)
    arrow(ax, (end_x, -0.35), (end_x, -0.02), linestyle="--")
    ax.text((start_x + end_x) / 2, -0.4, "the same maps, weighted by the channel weights", ha="center", va="bottom",
            fontsize=8.5, color=INK, style="italic")  # fmt: skip
    blank(ax, (-0.2, len(GRAD_CAM_STEPS) * (width + gap) - gap + 0.2), (-0.75, 2.1))
    return fig


# --------------------------------------------------------------------------- timelines and folds


def prefetch_schedules(batches: int, read_time: float, train_time: float) -> dict[str, dict]:
    """Reading and training ``batches`` batches without and with prefetch: (start, duration) pairs and the total.

    Without prefetch batch k+1 is read only after the model has trained on batch k; with
    prefetch (a buffer of one batch) it is read while the model trains.
    """
    schedules = {}
    for name, overlap in (("without", False), ("with", True)):
        read, train = [], []
        for k in range(batches):
            if overlap:  # read k starts once read k-1 is done and batch k-1 has gone to the model
                start = max(read[-1][0] + read_time, train[-1][0]) if k else 0.0
            else:
                start = train[-1][0] + train_time if k else 0.0
            read.append((start, read_time))
            train.append((max(start + read_time, train[-1][0] + train_time if k else 0.0), train_time))
        schedules[name] = {"read": read, "train": train, "total": train[-1][0] + train_time}
    return schedules


def prefetch_timeline(batches: int = 4, read_time: float = 1.0, train_time: float = 1.5):
    """Four batches read and trained on, without and with ``prefetch``; waiting is hatched."""
    from helpers.figures import GREY, INK, ORANGE, SKY

    schedules = prefetch_schedules(batches, read_time, train_time)
    fig, ax = _axes((11, 3.8))
    lanes = {("without", "read"): 0, ("without", "train"): 1, ("with", "read"): 3.2, ("with", "train"): 4.2}
    titles = {
        "without": "without prefetch: reading and training take turns, so each waits for the other",
        "with": "with .prefetch(tf.data.AUTOTUNE): the next batch is read while the model trains",
    }
    for (name, step), y in lanes.items():
        busy, total = schedules[name][step], schedules[name]["total"]
        ends = [0.0] + [start + duration for start, duration in busy]
        starts = [start for start, _ in busy] + [total]
        waits = [(end, start - end) for end, start in zip(ends, starts) if start > end]
        ax.broken_barh(waits, (y - 0.35, 0.7), facecolors="white", edgecolors=GREY, hatch="///", linewidth=0.8)
        ax.broken_barh(busy, (y - 0.35, 0.7), facecolors=SKY if step == "read" else ORANGE, edgecolors=INK,
                       linewidth=1.2)  # fmt: skip
        for index, (start, duration) in enumerate(busy):
            ax.text(start + duration / 2, y, f"{step} {index + 1}", ha="center", va="center", fontsize=9, color=INK)
    for name, top in (("without", -0.75), ("with", 2.45)):
        ax.text(0, top, titles[name], ha="left", va="bottom", fontsize=10, color=INK, weight="bold")
        end = schedules[name]["total"]
        y0, y1 = lanes[(name, "read")] - 0.45, lanes[(name, "train")] + 0.45
        ax.plot([end, end], [y0, y1], color=INK, linestyle="--", linewidth=1.2)
        ax.text(end + 0.1, (y0 + y1) / 2, f"done after\n{end:g} time units", ha="left", va="center", fontsize=9,
                color=INK)  # fmt: skip
    ax.set_yticks(list(lanes.values()), ["input pipeline", "model"] * 2, fontsize=9)
    ax.set_ylim(5.0, -1.1)
    ax.set_xlim(0, schedules["without"]["total"] * 1.2)
    ax.set_xlabel("time (hatched: waiting)")
    ax.tick_params(axis="x", labelbottom=False, bottom=False)
    ax.grid(False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return fig


def out_of_fold(k: int = 5):
    """k rounds over k folds: each head trains on k - 1 folds (sky blue) and predicts the other (orange, hatched)."""
    from matplotlib.patches import Patch, Rectangle

    from helpers.figures import INK, ORANGE, SKY, blank

    fig, ax = _axes((1.25 * k + 3.2, 0.62 * k + 1.5))
    cell_width, cell_height = 1.2, 0.5
    for round_index in range(k):
        y = round_index * (cell_height + 0.12)
        for fold in range(k):
            predict = fold == round_index
            ax.add_patch(Rectangle((fold * cell_width, y), cell_width, cell_height, facecolor=ORANGE if predict else SKY,
                                   edgecolor=INK, linewidth=1, hatch="///" if predict else None))  # fmt: skip
            label_box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"} if predict else None
            ax.text(fold * cell_width + cell_width / 2, y + cell_height / 2, "predict" if predict else "train",
                    ha="center", va="center", fontsize=9, color=INK, bbox=label_box)  # fmt: skip
        ax.text(-0.15, y + cell_height / 2, f"head {round_index + 1}", ha="right", va="center", fontsize=9.5, color=INK)
    for fold in range(k):
        ax.text(fold * cell_width + cell_width / 2, -0.12, f"fold {fold + 1}", ha="center", va="bottom", fontsize=9.5,
                color=INK)  # fmt: skip
    bottom = k * (cell_height + 0.12)
    ax.text(k * cell_width / 2, bottom + 0.05, "every image is predicted once, by the head that did not train on it",
            ha="center", va="top", fontsize=9.5, color=INK, style="italic")  # fmt: skip
    ax.legend(
        handles=[Patch(facecolor=SKY, edgecolor=INK, label="train the head"),
                 Patch(facecolor=ORANGE, edgecolor=INK, hatch="///", label="predict (out of fold)")],
        loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, frameon=False,
    )  # fmt: skip
    blank(ax, (-1.3, k * cell_width + 0.1), (-0.55, bottom + 0.45))
    return fig


# --------------------------------------------------------------------------- training curves, export paths


def schematic_losses(epochs: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Textbook-shaped training and validation losses: both fall, then the validation loss turns upwards."""
    epoch = np.arange(1, epochs + 1)
    train = 0.35 + 1.8 * np.exp(-epoch / 5)
    val = 0.75 + 1.45 * np.exp(-epoch / 5) + 0.0009 * np.maximum(0, epoch - 8) ** 2.2
    return train, val


def fitting_regimes(epochs: int = 30):
    """The typical shape of a training run: underfitting until the lowest validation loss, overfitting after it."""
    from helpers.figures import BLUE, INK, SKY, VERMILLION

    train, val = schematic_losses(epochs)
    epoch = np.arange(1, epochs + 1)
    best = int(val.argmin()) + 1
    top = float(max(train.max(), val.max())) * 1.05
    fig, ax = _axes((7, 4))
    ax.plot(epoch, train, color=BLUE, linewidth=2.5, label="training loss")
    ax.plot(epoch, val, color=VERMILLION, linewidth=2.5, linestyle="--", label="validation loss")
    ax.axvspan(0.5, best, color=SKY, alpha=0.2)
    ax.axvspan(best, epochs + 0.5, facecolor=VERMILLION, alpha=0.12, hatch="\\\\", edgecolor=VERMILLION)
    for x, text in (((0.5 + best) / 2, "underfitting:\nboth still fall,\ntrain longer"),
                    ((best + epochs + 0.5) / 2, "overfitting:\ntraining falls,\nvalidation rises")):  # fmt: skip
        ax.text(x, top * 0.97, text, ha="center", va="top", fontsize=9)
    ax.axvline(best, color=INK, linewidth=1.2)
    ax.annotate(f"lowest validation loss:\nepoch {best}, stop here", (best, val[best - 1]), (best + 0.3, 0.04 * top),
                ha="left", va="bottom", fontsize=9, arrowprops={"arrowstyle": "->", "color": INK})  # fmt: skip
    ax.annotate("", (epochs, train[-1]), (epochs, val[-1]), arrowprops={"arrowstyle": "<->", "color": INK})
    ax.text(epochs - 0.2, (train[-1] + val[-1]) / 2, "gap", ha="right", va="center", fontsize=9)
    ax.set(xlabel="epoch", ylabel="loss", xlim=(0.5, epochs + 0.5), ylim=(0, top), title="the typical shape")
    ax.legend(loc="lower left", fontsize=9)
    return fig


EXPORT_PATHS = (  # (file, what it is for, the call that makes it, made from, column, row)
    (".keras file", "continue training,\nshare with Keras users", None, None, 0, 0),
    ("SavedModel folder", "servers: TF Serving,\nVertex AI, TF.js", "model\n.export(dir)", 0, 1, 0),
    ("TFLite / LiteRT", "phones, small devices;\nno TensorFlow needed", "TFLiteConverter", 1, 2, 0),
    ("TFLite, 8-bit weights", "the smallest file;\ncheck the accuracy", "TFLiteConverter\n+ Optimize.DEFAULT", 1, 2, 1),
)


def export_paths():
    """The ways out of Keras: ``.keras`` -> SavedModel -> TFLite, and from the SavedModel the 8-bit TFLite file."""
    from helpers.figures import GREEN, INK, ORANGE, SKY, YELLOW, blank

    fig, ax = _axes((11, 3.6))
    width, gap, height, row_step = 2.5, 1.9, 0.9, 1.75
    for title, purpose, call, source, column, row in EXPORT_PATHS:
        x, y = column * (width + gap), row * row_step
        box(ax, x, y, width, height, title, color=(SKY, GREEN, ORANGE, YELLOW)[column + row], fontsize=11)
        above = row == 0  # what it is for: above the top row, below the bottom one
        ax.text(x + width / 2, y - 0.15 if above else y + height + 0.15, purpose, ha="center",
                va="bottom" if above else "top", fontsize=9.5, color=INK)  # fmt: skip
        if source is None:
            continue
        start_x = source * (width + gap) + (width if row == 0 else width / 2)
        if row:  # down from the source's bottom, then across
            ax.plot([start_x, start_x], [height, y + height / 2], color=INK, linewidth=1.3)
        arrow(ax, (start_x + 0.05 * (row == 0), y + height / 2), (x - 0.05, y + height / 2))
        ax.text((start_x + x) / 2, y + height / 2 - 0.08, call, ha="center", va="bottom", fontsize=8,
                family="monospace")  # fmt: skip
    blank(ax, (-0.2, 3 * (width + gap) - gap + 0.2), (-0.8, row_step + height + 0.75))
    return fig


# --------------------------------------------------------------------------- chapter 02's grids


def convolution_steps(positions=((0, 0), (0, 1), (0, 2))):
    """Chapter 02's edge filter on its edge image, one row per output position."""
    import matplotlib.pyplot as plt

    from helpers import figures

    out_w = EDGE_IMAGE.shape[1] - EDGE_FILTER.shape[1] + 1
    ratios = [EDGE_IMAGE.shape[1], EDGE_FILTER.shape[1], EDGE_FILTER.shape[1], out_w]
    fig, grid = plt.subplots(len(positions), 4, figsize=(13, 3.2 * len(positions)), squeeze=False,
                             gridspec_kw={"width_ratios": ratios})  # fmt: skip
    fig.patch.set_facecolor("white")
    for position, row in zip(positions, grid):
        figures.convolution_step(EDGE_IMAGE, EDGE_FILTER, position, axes=row)
    return fig


def padded_output(image, kernel, padding: str, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The input padded as Keras pads it (with chapter 02's own ``same_padding``), the padding cells, and the output."""
    from helpers.taught import output_size, same_padding

    pads = [same_padding(n, k, stride) if padding == "same" else (0, 0) for n, k in zip(image.shape, kernel.shape)]
    padded = np.pad(image, pads)
    mask = np.pad(np.zeros(image.shape, bool), pads, constant_values=True)
    out_h, out_w = (output_size(n, k, stride, padding) for n, k in zip(image.shape, kernel.shape))
    kh, kw = kernel.shape
    output = np.array([[(padded[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel).sum()
                        for j in range(out_w)] for i in range(out_h)])  # fmt: skip
    return padded, mask, output


def padding_and_stride(settings=(("valid", 1), ("same", 1), ("valid", 2), ("same", 2))):
    """The edge image under each (padding, stride): padded input, the first two windows, and the output."""
    from matplotlib.patches import Rectangle

    from helpers.figures import BLUE, INK, LIGHT_GREY, ORANGE, SKY, blank, draw_grid

    n, k = EDGE_IMAGE.shape[0], EDGE_FILTER.shape[0]
    fig, axes = _axes((13, 4.4 * ((len(settings) + 1) // 2)), (len(settings) + 1) // 2, 2)
    for ax, (padding, stride) in zip(axes.ravel(), settings):
        padded, mask, output = padded_output(EDGE_IMAGE, EDGE_FILTER, padding, stride)
        out_h, out_w = output.shape
        draw_grid(ax, padded, colors=np.where(mask, LIGHT_GREY, "white").astype(object), hatch=mask, fontsize=8)
        ax.add_patch(Rectangle((0, 0), k, k, fill=False, edgecolor=ORANGE, linewidth=3.5, zorder=6))
        ax.add_patch(Rectangle((stride, 0), k, k, fill=False, edgecolor=BLUE, linewidth=3, linestyle="--", zorder=7))
        x_out = padded.shape[1] + 1.5
        out_colors = np.full(output.shape, SKY, dtype=object)
        out_colors[0, :2] = ORANGE, LIGHT_GREY
        draw_grid(ax, output, origin=(x_out, 0), colors=out_colors, fontsize=8)
        ax.annotate("", (x_out - 0.1, out_h / 2), (padded.shape[1] + 0.1, out_h / 2),
                    arrowprops={"arrowstyle": "-|>", "color": INK, "linewidth": 1.3})  # fmt: skip
        formula = f"⌊({n} − {k}) / {stride}⌋ + 1 = {out_h}" if padding == "valid" else f"⌈{n} / {stride}⌉ = {out_h}"
        ax.set_title(f"padding={padding!r}, strides={stride}: {n}×{n} → {out_h}×{out_w}\n{formula}", fontsize=11)
        blank(ax, (-0.2, x_out + out_w + 0.2), (-0.2, max(padded.shape[0], out_h) + 0.2))
    return fig


def pooling(size: int = 2):
    """Max and average pooling of chapter 02's 4×4 grid, each window in its own colour, its maximum outlined."""
    from helpers.figures import WINDOW_COLORS, blank, draw_grid

    grid = POOL_GRID
    out_h, out_w = grid.shape[0] // size, grid.shape[1] // size
    windows = grid.reshape(out_h, size, out_w, size).transpose(0, 2, 1, 3)
    window_colors = np.array(WINDOW_COLORS[: out_h * out_w], dtype=object).reshape(out_h, out_w)
    input_colors = np.repeat(np.repeat(window_colors, size, axis=0), size, axis=1)
    strongest = []
    for i in range(out_h):
        for j in range(out_w):
            r, c = np.unravel_index(np.argmax(windows[i, j]), (size, size))
            strongest.append((i * size + int(r), j * size + int(c)))
    fig, axes = _axes((11, 3.6), 1, 3, gridspec_kw={"width_ratios": [grid.shape[1], out_w, out_w]})
    draw_grid(axes[0], grid, colors=input_colors, highlight=strongest, fontsize=12)
    axes[0].set_title(f"input {grid.shape[0]}×{grid.shape[1]}, {out_h * out_w} windows of {size}×{size}")
    for ax, values, title in ((axes[1], windows.max(axis=(2, 3)), f"MaxPooling2D({size})\nlargest of each window"),
                              (axes[2], windows.mean(axis=(2, 3)), f"AveragePooling2D({size})\nmean of each window")):  # fmt: skip
        draw_grid(ax, values, colors=window_colors, fontsize=12)
        ax.set_title(title)
    for ax, (h, w) in zip(axes, [grid.shape, (out_h, out_w), (out_h, out_w)]):
        blank(ax, (-0.1, w + 0.1), (-0.1, h + 0.1))
    return fig


def receptive_field_sizes(layers) -> list[int]:
    """How many input pixels across one unit sees after each ``(name, kernel, stride)`` layer: each layer adds
    ``(kernel - 1) x jump``, where the jump is the product of the strides below it."""
    sizes, jump, size = [], 1, 1
    for _, kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
        sizes.append(size)
    return sizes


def _receptive_field(ax, layers, title: str) -> None:
    from matplotlib.patches import Patch, Rectangle

    from helpers.figures import GREY, INK, WINDOW_COLORS, blank, draw_grid

    sizes = receptive_field_sizes(layers)

    def down(low: int, high: int, levels) -> tuple[int, int]:  # a span of units at one layer -> input pixels
        for level in levels:
            _, kernel, stride = layers[level]
            low, high = low * stride, high * stride + kernel - 1
        return low, high

    side = sizes[-1] + 2
    draw_grid(ax, np.zeros((side, side)), text=False)
    handles = []
    for depth, ((name, kernel, stride), size) in enumerate(zip(layers, sizes)):
        low, high = down(0, 0, range(len(layers) - 1, depth, -1))  # the units that feed the top unit
        low = down((low + high) // 2, (low + high) // 2, range(depth, -1, -1))[0]  # the middle one's view
        color, inset = WINDOW_COLORS[depth % len(WINDOW_COLORS)], 0.07 * (len(layers) - depth)
        ax.add_patch(Rectangle((1 + low + inset, 1 + low + inset), size - 2 * inset, size - 2 * inset, facecolor=color,
                               edgecolor=INK, linewidth=1.5, zorder=5 + len(layers) - depth))  # fmt: skip
        handles.append(Patch(facecolor=color, edgecolor=INK,
                             label=f"after layer {depth + 1} ({name} {kernel}×{kernel}, stride {stride}): {size}×{size}"))  # fmt: skip
    ax.vlines(range(side + 1), 0, side, color=GREY, linewidth=0.6, zorder=20)
    ax.hlines(range(side + 1), 0, side, color=GREY, linewidth=0.6, zorder=20)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=9, frameon=False)
    ax.set_title(title, fontsize=11)
    blank(ax, (-0.1, side + 0.1), (-0.1, side + 0.1))


def receptive_field():
    """Three 3×3 convolutions, and the same with 2×2 pooling after the first: nested squares on the input."""
    fig, axes = _axes((12, 6.5), 1, 2)
    _receptive_field(axes[0], [("conv", 3, 1)] * 3, "three 3×3 convolutions")
    _receptive_field(axes[1], [("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1), ("conv", 3, 1)],
                     "with 2×2 pooling after the first")  # fmt: skip
    return fig


# --------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Diagram:
    name: str  # the attachment's file name, without .png
    notebook: str  # in solutions/
    cell: str  # the id of the markdown cell that shows it
    alt: str  # what the figure shows, for readers who cannot see it
    draw: Callable


DIAGRAMS = (
    Diagram("pipeline", "01_datasets.ipynb", "5010cbc3",
            "Seven boxes joined by arrows: collect, preprocess, build, compile, train, evaluate, deploy, with the "
            "chapters that teach each; a dashed arrow leads back from evaluate to build.", pipeline),
    Diagram("prefetch_timeline", "01_datasets.ipynb", "ch01-prefetch-timeline",
            "Two timelines of four batches. Without prefetch, reading and training take turns and finish after 10 "
            "time units; with prefetch, the next batch is read during training and all finishes after 7.", prefetch_timeline),
    Diagram("convolution_steps", "02_convolution_from_scratch.ipynb", "a95f82ab",
            "Three rows, one per output position along the top row: the 3×3 window on the 6×6 edge image, the "
            "kernel, the nine products with their sum, and the output filling up: 0, then 30, then 30.", convolution_steps),
    Diagram("padding_and_stride", "02_convolution_from_scratch.ipynb", "96485a3c",
            "Four panels for the 6×6 edge image: valid padding with stride 1 gives 4×4, same padding 6×6, valid "
            "with stride 2 gives 2×2 and same with stride 2 gives 3×3; hatched cells are the added zeros.", padding_and_stride),
    Diagram("pooling", "02_convolution_from_scratch.ipynb", "cf48e612",
            "A 4×4 grid in four coloured 2×2 windows with each maximum outlined; max pooling gives 6, 5, 7, 9 and "
            "average pooling 3.5, 2, 2.5, 6.", pooling),
    Diagram("receptive_field", "02_convolution_from_scratch.ipynb", "d86d60f5",
            "Nested squares on an input grid: three 3×3 convolutions see 3×3, 5×5 and 7×7 pixels; with 2×2 pooling "
            "after the first they see 3×3, 4×4, 8×8 and 12×12.", receptive_field),
    Diagram("grad_cam_pipeline", "08_look_inside.ipynb", "ch08-gradcam-diagram",
            "Six boxes: feature maps, gradients, channel weights, weighted sum, ReLU, upsample, each with its call; "
            "a dashed arrow takes the feature maps straight to the weighted sum.", grad_cam_pipeline),
    Diagram("out_of_fold", "08_look_inside.ipynb", "cell-034",
            "A 5×5 grid of folds: each of five heads trains on four folds and predicts the fifth, so every fold is "
            "predicted exactly once.", out_of_fold),
    Diagram("fitting_regimes", "03_building_cnns.ipynb", "1db0be6b",
            "Training and validation loss over 30 epochs: both fall at first (underfitting); after a vertical line "
            "at the lowest validation loss, validation loss rises while training loss falls (overfitting).",
            fitting_regimes),
    Diagram("export_paths", "07_inference.ipynb", "e318bf90",
            "Four boxes joined by arrows: a .keras file, a SavedModel folder made by model.export, and from it two "
            "TFLite files made by TFLiteConverter, one with 8-bit weights; each says what it is for (Keras, servers, "
            "phones, the smallest file).", export_paths),
)  # fmt: skip


def render(diagram: Diagram) -> bytes:
    """The diagram as PNG bytes, drawn in the course's plot style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.course import plot_style

    plot_style()
    fig = diagram.draw()
    buffer = io.BytesIO()
    software = {"Software": f"matplotlib {matplotlib.__version__}"}  # pixels are compared on the same release only
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata=software)
    plt.close(fig)
    return buffer.getvalue()


def image_line(diagram: Diagram) -> str:
    return f"![{diagram.alt}](attachment:{diagram.name}.png)"


def _cell(nb, diagram: Diagram):
    for cell in nb.cells:
        if cell.get("id") == diagram.cell:
            if cell.cell_type != "markdown":
                raise ValueError(
                    f"{diagram.notebook} cell {diagram.cell} should be a markdown cell for {diagram.name}."
                )
            return cell
    raise ValueError(f"{diagram.notebook} has no cell {diagram.cell!r} to show {diagram.name}.")


def stored(diagram: Diagram, root: Path = ROOT) -> bytes | None:
    """The PNG stored for ``diagram`` in its notebook, or None."""
    import nbformat

    cell = _cell(nbformat.read(root / "solutions" / diagram.notebook, as_version=4), diagram)
    data = cell.get("attachments", {}).get(f"{diagram.name}.png", {}).get("image/png")
    return base64.b64decode(data) if data else None


def write(root: Path = ROOT) -> list[str]:
    """Draw every diagram into its cell: the image line (replaced, or added at the end) and the attachment."""
    import nbformat

    done = []
    for notebook in sorted({d.notebook for d in DIAGRAMS}):
        path = root / "solutions" / notebook
        nb = nbformat.read(path, as_version=4)
        for diagram in (d for d in DIAGRAMS if d.notebook == notebook):
            cell = _cell(nb, diagram)
            pattern = re.compile(rf"^!\[[^\]]*\]\(attachment:{re.escape(diagram.name)}\.png\)$", re.MULTILINE)
            line = image_line(diagram)
            if pattern.search(cell.source):
                cell.source = pattern.sub(lambda _, line=line: line, cell.source)
            else:
                cell.source = (cell.source.rstrip() + "\n\n" + line).lstrip()
            cell.setdefault("attachments", {})[f"{diagram.name}.png"] = {
                "image/png": base64.b64encode(render(diagram)).decode("ascii")
            }
            done.append(diagram.name)
        path.write_text(nbformat.writes(nb, version=4) + "\n", encoding="utf-8")
    return done


def drawn_with(png: bytes) -> str:
    """The matplotlib that drew a stored diagram (from the PNG's Software text), e.g. ``'matplotlib 3.11.2'``."""
    from PIL import Image

    return Image.open(io.BytesIO(png)).info.get("Software", "an unknown matplotlib")


def stale(root: Path = ROOT, tolerance: float = 2.0) -> list[str]:
    """The diagrams whose stored image differs from a fresh drawing by more than ``tolerance`` (RMS, 0-255).

    Only diagrams drawn by this matplotlib release are compared: another release moves text by a pixel or two.
    """
    import tempfile

    import matplotlib
    from matplotlib.testing.compare import compare_images

    problems = []
    with tempfile.TemporaryDirectory() as folder:
        for diagram in DIAGRAMS:
            old = stored(diagram, root)
            if old is None:
                problems.append(f"{diagram.notebook}: no image {diagram.name}.png in cell {diagram.cell}")
                continue
            if drawn_with(old) != f"matplotlib {matplotlib.__version__}":
                continue
            expected, actual = Path(folder) / f"{diagram.name}-stored.png", Path(folder) / f"{diagram.name}.png"
            expected.write_bytes(old)
            actual.write_bytes(render(diagram))
            try:
                difference = compare_images(str(expected), str(actual), tol=tolerance)
            except Exception as error:  # a different image size
                difference = str(error)
            if difference:
                problems.append(f"{diagram.notebook}: {diagram.name}.png is stale ({difference.splitlines()[0]})")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="redraw every diagram into solutions/")
    group.add_argument("--check", action="store_true", help="exit 1 if a stored diagram is stale")
    args = parser.parse_args(argv)
    if args.write:
        print("drew", ", ".join(write()), "- now run tools/notebooks.py --write")
        return 0
    import matplotlib

    problems = stale()
    other = sorted({drawn_with(stored(d)) for d in DIAGRAMS if stored(d)} - {f"matplotlib {matplotlib.__version__}"})
    print("\n".join(problems) or f"all {len(DIAGRAMS)} diagrams are fresh.")
    if other:
        print(
            f"Not compared: the diagrams drawn with {', '.join(other)} (this is matplotlib {matplotlib.__version__})."
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
