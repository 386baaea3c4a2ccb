"""Tests of helpers.figures and tools/draw_figures.py: each figure draws without warnings and shows what it
claims to show, and the diagrams stored in the chapters are what the tool draws today."""

from __future__ import annotations

import base64
import re
import warnings

import matplotlib as mpl
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from helpers import figures
from helpers.course import import_tensorflow
from tools import draw_figures

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

EDGE_IMAGE, EDGE_FILTER = draw_figures.EDGE_IMAGE, draw_figures.EDGE_FILTER  # chapter 02's image and filter


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    """A figure that warns (overridden colours, missing glyphs, tight layout) fails its test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="keras|tensorflow|numpy")
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy keyword")
        yield
        plt.gcf().canvas.draw()  # rendering is where glyph warnings appear


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def hex_of(patch, attribute="facecolor") -> str:
    getter = patch.get_facecolor if attribute == "facecolor" else patch.get_edgecolor
    return mpl.colors.to_hex(getter(), keep_alpha=False).lower()


def test_prefetch_schedules_overlap_reading_and_training():
    schedules = draw_figures.prefetch_schedules(batches=4, read_time=1.0, train_time=1.5)
    without, with_prefetch = schedules["without"], schedules["with"]
    assert without["total"] == 4 * (1.0 + 1.5)  # every read waits for the previous training step
    assert with_prefetch["total"] == 1.0 + 4 * 1.5  # only the first read is not hidden behind training
    assert with_prefetch["read"][1][0] < with_prefetch["train"][0][0] + 1.5  # batch 2 is read during training 1
    slow_reads = draw_figures.prefetch_schedules(batches=3, read_time=2.0, train_time=1.0)["with"]
    assert slow_reads["total"] == 3 * 2.0 + 1.0  # reading is the bottleneck: the model waits for each batch


def test_convolution_step_shows_window_products_and_sum():
    ax_in, ax_k, ax_p, ax_out = figures.convolution_step(EDGE_IMAGE, EDGE_FILTER, (0, 1))
    highlighted = [p for p in ax_in.patches if hex_of(p) == figures.SKY.lower()]
    assert len(highlighted) == 9  # the 3x3 window
    assert "columns 1-3" in ax_in.get_title() and "sum = 30" in ax_p.get_title()
    assert texts(ax_k) == ["1", "0", "-1"] * 3
    assert texts(ax_p) == ["10", "0", "0"] * 3  # window x kernel, and no "-0"
    # Output cells done so far: (0, 0) and (0, 1); the other 14 are still empty.
    assert texts(ax_out) == ["0", "30"]
    assert ax_out.get_title() == "output[0, 1] = 30"


def test_convolution_step_rejects_positions_outside_the_output():
    with pytest.raises(ValueError, match="outside the 4x4 output"):
        figures.convolution_step(EDGE_IMAGE, EDGE_FILTER, (4, 0))
    with pytest.raises(ValueError, match="2-D image"):
        figures.convolution_step(EDGE_IMAGE[None], EDGE_FILTER, (0, 0))


# A 4x5 crop at stride 1 (a 2x3 output: rows and columns cannot be swapped unnoticed) keeps
# the frames few; each one is drawn and encoded as a PNG.
@pytest.mark.parametrize(
    ("image", "stride", "positions"), [(EDGE_IMAGE[:4, :5], 1, 6), (EDGE_IMAGE, 2, 4)], ids=["stride-1", "stride-2"]
)
def test_animation_is_javascript_html_with_one_frame_per_output_position(image, stride, positions):
    animation = figures.convolution_animation(image, EDGE_FILTER, stride=stride)
    page = animation.to_jshtml()
    frames = re.findall(r'frames\[(\d+)\] = "data:image/png;base64,', page)
    assert [int(i) for i in frames] == list(range(positions))
    assert "<script" in page and "jupyter-widgets" not in page and "ipywidgets" not in page
    assert len(page) < mpl.rcParams["animation.embed_limit"] * 2**20
    assert not plt.get_fignums()  # closed: no still copy under the animation


@pytest.mark.parametrize(("padding", "stride"), [("valid", 1), ("same", 1), ("valid", 2), ("same", 2)])
def test_padding_diagram_numbers_are_what_keras_computes(padding, stride):
    padded, mask, output = draw_figures.padded_output(EDGE_IMAGE, EDGE_FILTER, padding, stride)
    layer = layers.Conv2D(1, 3, strides=stride, padding=padding, use_bias=False)
    layer.build((None, 6, 6, 1))
    layer.set_weights([EDGE_FILTER.reshape(3, 3, 1, 1)])
    np.testing.assert_allclose(output, layer(EDGE_IMAGE.reshape(1, 6, 6, 1)).numpy()[0, :, :, 0])
    assert mask.sum() == padded.size - 36 and not padded[mask].any()  # the padding cells are the added zeros
    if (padding, stride) == ("same", 2):  # the odd one goes after: bottom and right only
        assert mask[-1].all() and mask[:, -1].all() and not mask[:6, :6].any()


def _measured_receptive_field(stack) -> int:
    """How many input pixels change the output's first unit, found with a gradient."""
    import tensorflow as tf

    model = keras.Sequential([keras.Input((32, 32, 1))])
    for name, kernel, stride in stack:
        if name == "conv":
            model.add(layers.Conv2D(1, kernel, strides=stride, kernel_initializer="ones"))
        else:
            model.add(layers.AveragePooling2D(kernel, strides=stride))
    image = tf.ones((1, 32, 32, 1))
    with tf.GradientTape() as tape:
        tape.watch(image)
        first = model(image)[0, 0, 0, 0]
    touched = np.flatnonzero(tape.gradient(first, image).numpy()[0, :, 0, 0])
    return int(touched.max() - touched.min() + 1)


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ([("conv", 3, 1)] * 3, [3, 5, 7]),
        ([("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1), ("conv", 3, 1)], [3, 4, 8, 12]),
    ],
)
def test_receptive_field_diagram_sizes_match_a_gradient(stack, expected):
    sizes = draw_figures.receptive_field_sizes(stack)
    assert sizes == expected
    assert sizes[-1] == _measured_receptive_field(stack)


def test_the_typical_curves_show_both_regimes():
    """Chapter 03's textbook shape: the validation loss is lowest inside the run and rises after it, while the
    training loss falls all the way, so the diagram has an underfitting and an overfitting side."""
    train, val = draw_figures.schematic_losses()
    best = int(np.argmin(val))
    assert 3 <= best <= len(val) - 5
    assert np.all(np.diff(train) < 0) and np.all(np.diff(val[best:]) > 0)


def transfer_model():
    base = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            layers.Conv2D(4, 3, name="c1"),
            layers.BatchNormalization(name="bn1"),
            layers.ReLU(name="relu1"),
            layers.Conv2D(4, 3, name="c2"),
            layers.BatchNormalization(name="bn2"),
        ],
        name="base",
    )
    inputs = keras.Input((8, 8, 3))
    x = base(inputs, training=False)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(2, name="head")(x)
    return keras.Model(inputs, outputs, name="transfer"), base


def shown(ax) -> dict[int, tuple[str, str, bool]]:
    """What each stripe of a transfer_setup panel shows: layer position -> (state, colour, hatched)."""
    stripes = {}
    for bars in ax.containers:
        state = bars.get_label().split(" (")[0]
        for bar in bars:
            stripes[round(bar.get_x() + bar.get_width() / 2)] = (state, hex_of(bar), bool(bar.get_hatch()))
    return stripes


def states(axes) -> dict[str, str]:
    """Layer name -> state, read from the enlarged panel, whose ticks are the layers' names."""
    stripes = shown(axes[1])
    ticks = zip(axes[1].get_xticks(), axes[1].get_xticklabels())
    return {label.get_text(): stripes[round(x)][0] for x, label in ticks}


def check_colours(axes, model):
    for ax in axes:
        for state, colour, hatched in shown(ax).values():
            assert colour == figures.LAYER_LOOKS[state][0].lower(), state
            assert hatched == (state == "frozen")  # frozen is hatched as well
    trainable_params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert f"{trainable_params:,} of" in axes[0].get_title()


def test_transfer_setup_colours_follow_trainable_flags_before_and_after_unfreezing():
    model, base = transfer_model()
    base.trainable = False
    before = figures.transfer_setup(model)
    frozen = {"c1": "frozen", "bn1": "frozen", "relu1": "no weights", "c2": "frozen", "bn2": "frozen"}
    assert states(before) == {**frozen, "gap": "no weights", "head": "trainable"}
    assert len(shown(before[0])) == 7  # the whole model in the upper panel too
    check_colours(before, model)
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name == "c2"  # unfreeze the top convolution, BatchNorm stays frozen
    after = figures.transfer_setup(model)
    assert states(after) == {**frozen, "c2": "trainable", "gap": "no weights", "head": "trainable"}
    check_colours(after, model)


def test_transfer_setup_a_frozen_base_freezes_its_layers():
    model, base = transfer_model()
    base.trainable = False
    base.layers[-1].trainable = True  # the classic slip: unfreezing layers of a base that is still frozen
    assert states(figures.transfer_setup(model))["bn2"] == "frozen"


def test_functions_draw_into_given_axes():
    fig, axes = plt.subplots(1, 4)
    assert figures.convolution_step(EDGE_IMAGE, EDGE_FILTER, (1, 1), axes=axes) == list(axes)
    assert len(plt.get_fignums()) == 1


def test_transfer_setup_enlarges_the_last_layers():
    base = keras.Sequential([keras.Input((2,))] + [layers.Dense(2, name=f"d{i}") for i in range(60)], name="long_base")
    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.Dense(1, name="head")(base(inputs)), name="long")
    for layer in base.layers:
        layer.trainable = layer.name in {"d58", "d59"}
    axes = figures.transfer_setup(model, last=10)
    assert len(shown(axes[0])) == 61
    trainable = {"d58", "d59", "head"}
    assert states(axes) == {
        name: "trainable" if name in trainable else "frozen" for name in [f"d{i}" for i in range(51, 60)] + ["head"]
    }
    check_colours(axes, model)
    assert axes[1].get_title() == "the last 10 layers, enlarged"


def test_the_chapters_diagrams_are_fresh_small_and_described():
    """Each stored diagram is what tools/draw_figures.py draws today (pixels, small tolerance)."""
    import matplotlib

    drawn = {draw_figures.drawn_with(draw_figures.stored(d)) for d in draw_figures.DIAGRAMS}
    if drawn != {f"matplotlib {matplotlib.__version__}"}:
        pytest.skip(f"the diagrams were drawn with {sorted(drawn)}; pixels are compared on that release only")
    assert draw_figures.stale() == [], "run `python tools/draw_figures.py --write`, then `tools/notebooks.py --write`"
    for diagram in draw_figures.DIAGRAMS:
        assert 10_000 < len(draw_figures.stored(diagram)) < 80_000, diagram.name
        learner = nbformat.read(draw_figures.ROOT / "notebooks" / diagram.notebook, as_version=4)
        cell = next(c for c in learner.cells if c.get("id") == diagram.cell)  # the learner copy shows it too
        assert base64.b64decode(cell.attachments[f"{diagram.name}.png"]["image/png"]) == draw_figures.stored(diagram)
        assert draw_figures.image_line(diagram) in cell.source
        assert len(diagram.alt.split()) >= 12, f"{diagram.name}: say in the alt text what the figure shows"


def test_a_stale_diagram_is_found_and_rewritten(tmp_path, monkeypatch):
    import shutil

    (tmp_path / "solutions").mkdir()
    shutil.copy(draw_figures.ROOT / "solutions" / "08_look_inside.ipynb", tmp_path / "solutions")
    folds = next(d for d in draw_figures.DIAGRAMS if d.name == "out_of_fold")
    monkeypatch.setattr(draw_figures, "DIAGRAMS", (folds,))
    assert draw_figures.stale(tmp_path) == []
    four_folds = draw_figures.Diagram(**{**folds.__dict__, "draw": lambda: draw_figures.out_of_fold(4)})
    monkeypatch.setattr(draw_figures, "DIAGRAMS", (four_folds,))
    assert draw_figures.write(tmp_path) == ["out_of_fold"]  # the drawing changed: five folds became four
    import matplotlib

    assert draw_figures.drawn_with(draw_figures.stored(four_folds, tmp_path)) == f"matplotlib {matplotlib.__version__}"
    monkeypatch.setattr(draw_figures, "DIAGRAMS", (folds,))
    assert "out_of_fold.png is stale" in draw_figures.stale(tmp_path)[0]
    draw_figures.write(tmp_path)
    assert draw_figures.stale(tmp_path) == []
    assert draw_figures.image_line(folds) in (tmp_path / "solutions" / "08_look_inside.ipynb").read_text()
