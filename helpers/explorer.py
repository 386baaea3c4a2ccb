"""The CNN Architecture Explorer: what every layer of a small CNN costs, before you build it.

``architecture_report(...)`` is the plain function: it returns a :class:`Report` that prints
as a text table (and shows in Jupyter as a block diagram above an HTML table) with each layer's output shape,
parameters, multiply-adds and activation memory, the totals, and the Keras code that
builds exactly that model. ``explorer(...)`` wraps the same report in ipywidgets controls.

The numbers come from Keras itself: the report builds the real model from the settings (in a
throwaway TensorFlow graph, so even a huge model allocates no weights) and reads each layer's
``output.shape`` and ``count_params()``. The model, block by block::

    Conv2D(filters, kernel_size, padding) [-> BatchNormalization] -> ReLU [-> pooling 2x2]

with the filter count multiplied by ``growth`` after each block, then
``GlobalAveragePooling2D`` or ``Flatten``, an optional ``Dense(dense_units, relu)`` and
``Dense(classes, softmax)``. With BatchNorm on, the convolution has no bias
(``use_bias=False``): BatchNorm's own shift makes it redundant.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field, fields

from helpers.conv import output_size
from helpers.course import human_bytes

BYTES_PER_VALUE = 4  # float32
POOLINGS = ("max", "average", "none")
HEADS = ("global", "flatten")
PADDINGS = ("same", "valid")


class ConfigError(ValueError):
    """A configuration that cannot be built (e.g. the feature map shrinks below 1x1)."""


@dataclass(frozen=True)
class Config:
    """Every choice the explorer offers; the defaults are a classic CIFAR-10 CNN."""

    image_size: int = 32
    channels: int = 3
    blocks: int = 3
    filters: int = 32
    growth: float = 2.0
    kernel_size: int = 3
    padding: str = "same"
    pooling: str = "max"
    batch_norm: bool = False
    head: str = "global"
    dense_units: int = 128
    classes: int = 10

    def __post_init__(self):
        for name in ("image_size", "channels", "blocks", "filters", "kernel_size", "classes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number of at least 1; got {value!r}.")
        if isinstance(self.dense_units, bool) or not isinstance(self.dense_units, int) or self.dense_units < 0:
            raise ConfigError(
                f"dense_units must be a whole number, 0 for no hidden Dense layer; got {self.dense_units!r}."
            )
        if not isinstance(self.growth, (int, float)) or isinstance(self.growth, bool) or self.growth <= 0:
            raise ConfigError(
                f"growth must be a positive number (1 keeps the filter count, 2 doubles it); got {self.growth!r}."
            )
        for name, allowed in (("padding", PADDINGS), ("pooling", POOLINGS), ("head", HEADS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {allowed}; got {getattr(self, name)!r}.")

    def block_filters(self) -> list[int]:
        """Filters of each conv block: ``filters * growth**i``, rounded."""
        return [max(1, round(self.filters * self.growth**i)) for i in range(self.blocks)]


@dataclass(frozen=True)
class Layer:
    """One row of the report."""

    name: str
    keras: str
    shape: tuple[int, ...]
    params: int
    trainable: int
    macs: int

    @property
    def activation_bytes(self) -> int:
        """Memory of this layer's output for one image (float32)."""
        return math.prod(self.shape) * BYTES_PER_VALUE


@dataclass
class Report:
    """Per-layer costs, totals and Keras code of one configuration (or why it cannot work)."""

    config: Config | None
    layers: list[Layer] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable for layer in self.layers)

    @property
    def code(self) -> str:
        return keras_code(self.config) if self.ok else ""

    def totals_line(self) -> str:
        """One line with the totals (what the browser test reads)."""
        if not self.ok:
            return "Cannot build this model."
        macs = sum(layer.macs for layer in self.layers)
        memory = sum(layer.activation_bytes for layer in self.layers)  # all outputs, input included
        return (
            f"Total parameters: {self.total_params:,} (trainable {self.trainable_params:,}) | "
            f"multiply-adds: {human(macs)} | activation memory per image: {human_bytes(memory)}"
        )

    def table(self):
        """One row per layer: output shape, parameters, multiply-adds and memory per image (a DataFrame)."""
        import pandas as pd

        rows = [(str(r.shape), f"{r.params:,}", human(r.macs), human_bytes(r.activation_bytes)) for r in self.layers]
        return pd.DataFrame(
            rows,
            index=pd.Index([r.name for r in self.layers], name="layer"),
            columns=["output shape", "params", "multiply-adds", "memory / image"],
        )

    def to_text(self) -> str:
        """The report as a plain-text table plus the Keras code."""
        if not self.ok:
            return f"Cannot build this model: {self.error}"
        return f"{self.table().to_string()}\n\n{self.totals_line()}\n\nKeras code:\n{self.code}"

    def to_svg(self) -> str:
        """The network as a block diagram (SVG), one block per layer (see :func:`block_diagram_svg`)."""
        return block_diagram_svg(self.layers) if self.ok else ""

    def to_html(self) -> str:
        """The block diagram, then the report as an HTML table with the code in a copyable block."""
        if not self.ok:
            return (
                '<div class="explorer-error" style="border-left:6px solid #d55e00;padding:6px 12px">'
                f"<b>Cannot build this model.</b> {html.escape(self.error)}</div>"
            )
        return (
            f"{self.to_svg()}{self.table().to_html(classes='explorer-table')}"
            f'<p class="explorer-totals"><b>{html.escape(self.totals_line())}</b></p>'
            f'<p>Keras code (select and copy):</p><pre class="explorer-code">{html.escape(self.code)}</pre>'
        )

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()


# Okabe-Ito colours (colour-blind safe), the same as helpers.figures, and each kind's short label.
_BLOCK_LOOKS = {
    "keras.Input": ("#FFFFFF", "input"),
    "Conv2D": ("#56B4E9", "conv"),
    "BatchNormalization": ("#E5E5E5", "bn"),
    "Activation": ("#E5E5E5", "relu"),
    "Pooling": ("#009E73", "pool"),
    "GlobalAveragePooling2D": ("#CC79A7", "global pool"),
    "Flatten": ("#CC79A7", "flatten"),
    "Dense": ("#E69F00", "dense"),
}


def block_diagram_svg(layers: list[Layer], max_height: int = 120) -> str:
    """An SVG drawing of ``layers`` left to right; each block carries its layer's name and shape as data.

    A feature map of H x W x C is drawn H tall (relative to the input) and wider the more
    channels it has (log scale); a vector of N values is a thin bar, taller the larger N.
    """
    spatial = [layer.shape[0] for layer in layers if len(layer.shape) == 3]
    units = [layer.shape[0] for layer in layers if len(layer.shape) == 1]
    top_size, top_units = max(spatial, default=1), max(units, default=2)
    blocks, x = [], 10
    for layer in layers:
        if len(layer.shape) == 3:
            height = max(4.0, max_height * layer.shape[0] / top_size)
            width = 6 + 5 * math.log2(layer.shape[2] + 1)
        else:
            height = max(4.0, max_height * math.log2(layer.shape[0] + 1) / math.log2(top_units + 1))
            width = 8.0
        size = "×".join(str(v) for v in layer.shape)
        slot = max(width + 14, 58)
        left, top = x + (slot - width) / 2, 10 + (max_height - height) / 2
        color, short = _BLOCK_LOOKS.get(layer.keras, ("#FFFFFF", layer.keras))
        short = "output" if layer.name.startswith("output") else short
        name = html.escape(layer.name.split(" ")[0])
        blocks.append(
            f'<rect class="block" x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="{color}" stroke="#222222" stroke-width="1" data-name="{name}" data-shape="{size}">'
            f"<title>{html.escape(layer.name)}: {size}</title></rect>"
            f'<text x="{x + slot / 2:.1f}" y="{max_height + 26}" font-size="10" text-anchor="middle" '
            f'fill="#222222">{size}</text>'
            f'<text x="{x + slot / 2:.1f}" y="{max_height + 39}" font-size="9" text-anchor="middle" '
            f'fill="#555555">{html.escape(short)}</text>'
        )
        x += slot
    width, height = x + 10, max_height + 48
    return (
        f'<div style="overflow-x:auto"><svg class="explorer-diagram" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width:.0f}" height="{height}" data-layers="{len(layers)}" role="img" '
        f'aria-label="block diagram of {len(layers)} layers" font-family="sans-serif" style="background:#ffffff;border-radius:4px">'
        f"{''.join(blocks)}</svg></div>"
    )


def human(n: int) -> str:
    """``1234567`` -> ``'1.23M'``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)


def _layer_code(config: Config) -> list[tuple[int, str, str]]:
    """``(block, row name, Keras code)`` of every layer after the input; the code is what builds it."""
    k, pad, lines = config.kernel_size, config.padding, []
    for block, filters in enumerate(config.block_filters(), start=1):
        conv = f"block{block}_conv ({k}x{k}, {filters})"
        if config.batch_norm:  # BatchNorm's own shift makes the convolution's bias redundant
            lines += [
                (block, conv, f'layers.Conv2D({filters}, {k}, padding="{pad}", use_bias=False)'),
                (block, f"block{block}_bn", "layers.BatchNormalization()"),
                (block, f"block{block}_relu", 'layers.Activation("relu")'),
            ]
        else:
            lines.append((block, conv, f'layers.Conv2D({filters}, {k}, padding="{pad}", activation="relu")'))
        if config.pooling != "none":
            pool = "MaxPooling2D" if config.pooling == "max" else "AveragePooling2D"
            lines.append((block, f"block{block}_{config.pooling}pool", f"layers.{pool}(2)"))
    if config.head == "global":
        lines.append((0, "global_average_pool", "layers.GlobalAveragePooling2D()"))
    else:
        lines.append((0, "flatten", "layers.Flatten()"))
    if config.dense_units:
        lines.append(
            (0, f"dense ({config.dense_units}, relu)", f'layers.Dense({config.dense_units}, activation="relu")')
        )
    lines.append((0, f"output ({config.classes}, softmax)", f'layers.Dense({config.classes}, activation="softmax")'))
    return lines


def _too_small(config: Config, block: int, kind: str, size: tuple[int, ...]) -> str:
    """Why the layer of ``kind`` in ``block`` cannot run on a feature map of ``size``."""
    height, width = size[:2]
    if kind == "Conv2D":
        k = config.kernel_size
        left = output_size(height, k, 1, config.padding)
        return (
            f"block {block}: a {k}x{k} convolution with padding='{config.padding}' on a {height}x{width} feature "
            f"map would leave {left}x{left}. Use fewer blocks, a smaller kernel, a larger image or padding='same'."
        )
    return (
        f"block {block}: the feature map is {height}x{width} before the 2x2 pooling, which would "
        "leave 0x0. Use fewer blocks, a larger image, padding='same' or no pooling."
    )


def _build_layers(config: Config) -> list[Layer]:
    """Build the model in Keras, layer by layer, and read each layer's shape and parameters.

    In a throwaway graph nothing is computed and no weight is allocated, so a flatten head
    with billions of parameters costs nothing; a size that drops below 1 is a ConfigError.
    """
    import keras
    import tensorflow as tf

    size = (config.image_size, config.image_size, config.channels)
    rows = [Layer("input", "keras.Input", size, 0, 0, 0)]
    with tf.Graph().as_default():
        x = keras.Input(shape=size)
        for block, name, code in _layer_code(config):
            layer = eval(code, {"layers": keras.layers})  # the very line the report shows
            kind = "Pooling" if type(layer).__name__ in ("MaxPooling2D", "AveragePooling2D") else type(layer).__name__
            before = tuple(x.shape[1:])
            try:
                x = layer(x)
            except ValueError:  # Keras: "Computed output size would be zero or negative"
                raise ConfigError(_too_small(config, block, kind, before)) from None
            shape = tuple(int(v) for v in x.shape[1:])
            if min(shape) < 1:  # older Keras releases (3.13) return the empty shape instead of refusing
                raise ConfigError(_too_small(config, block, kind, before))
            kernel = getattr(layer, "kernel", None)  # multiply-adds: one per kernel weight per output position
            macs = math.prod(shape[:-1]) * math.prod(kernel.shape) if kernel is not None else 0
            trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
            rows.append(Layer(name, kind, shape, layer.count_params(), trainable, macs))
    return rows


def keras_code(config: Config) -> str:
    """Python code that builds exactly the model the report describes."""
    shape = f"({config.image_size}, {config.image_size}, {config.channels})"
    body = [f"        {code}," for *_, code in _layer_code(config)]
    return "\n".join(
        ["import keras", "from keras import layers", "", "model = keras.Sequential(", "    ["]
        + [f"        keras.Input(shape={shape}),", *body]
        + ["    ],", '    name="explorer_cnn",', ")", "model.summary()"]
    )


def analyse(config: Config) -> Report:
    """The report of one :class:`Config`; an impossible model gives a report with ``error`` set."""
    try:
        return Report(config, _build_layers(config))
    except ConfigError as exc:
        return Report(config, error=str(exc))


def architecture_report(**choices) -> Report:
    """The explorer without widgets: ``architecture_report(blocks=4, batch_norm=True)``."""
    unknown = set(choices) - {f.name for f in fields(Config)}
    if unknown:
        raise TypeError(f"unknown choice(s) {sorted(unknown)}; the choices are {[f.name for f in fields(Config)]}.")
    try:
        config = Config(**choices)
    except ConfigError as exc:
        return Report(None, error=str(exc))
    return analyse(config)


def _explorer_box_class(w):
    """A VBox that also carries the report as HTML, for front ends without widgets (static viewers)."""

    class ExplorerBox(w.VBox):
        def _repr_mimebundle_(self, **kwargs):
            parent = getattr(super(), "_repr_mimebundle_", None)
            if parent is not None:  # ipywidgets 8
                bundle = parent(**kwargs)
            else:  # ipywidgets 7 builds the same bundle inside _ipython_display_
                view = {"version_major": 2, "version_minor": 0, "model_id": self._model_id}
                bundle = {"text/plain": repr(self), "application/vnd.jupyter.widget-view+json": view}
            if isinstance(bundle, dict) and getattr(self, "output", None) is not None:
                bundle["text/html"] = self.output.value
            return bundle

        if hasattr(w.Widget, "_ipython_display_"):  # ipywidgets 7 displays widgets through this method

            def _ipython_display_(self, **kwargs):
                from IPython.display import display

                display(self._repr_mimebundle_(), raw=True)

    return ExplorerBox


def explorer(**defaults):
    """The interactive explorer: ipywidgets controls on the left, the live report below."""
    import ipywidgets as w

    start = asdict(Config(**defaults))
    style = {"description_width": "110px"}
    layout = w.Layout(width="340px")
    controls = {
        "image_size": w.IntSlider(value=start["image_size"], min=8, max=256, step=8, description="image size"),
        "channels": w.Dropdown(options=[1, 3], value=start["channels"], description="channels"),
        "blocks": w.IntSlider(value=start["blocks"], min=1, max=8, description="conv blocks"),
        "filters": w.Dropdown(
            options=sorted({8, 16, 32, 64, 128, start["filters"]}), value=start["filters"], description="first filters"
        ),
        "growth": w.Dropdown(
            options=sorted({1.0, 1.5, 2.0, float(start["growth"])}),
            value=float(start["growth"]),
            description="filter growth",
        ),
        "kernel_size": w.Dropdown(
            options=sorted({1, 3, 5, 7, start["kernel_size"]}), value=start["kernel_size"], description="kernel size"
        ),
        "padding": w.ToggleButtons(options=list(PADDINGS), value=start["padding"], description="padding"),
        "pooling": w.ToggleButtons(options=list(POOLINGS), value=start["pooling"], description="pooling"),
        "batch_norm": w.Checkbox(value=start["batch_norm"], description="BatchNorm", indent=True),
        "head": w.ToggleButtons(
            options=[("global pool", "global"), ("flatten", "flatten")], value=start["head"], description="head"
        ),
        "dense_units": w.Dropdown(
            options=sorted({0, 64, 128, 256, 512, start["dense_units"]}),
            value=start["dense_units"],
            description="dense units",
        ),
        "classes": w.BoundedIntText(value=start["classes"], min=1, max=100_000, description="classes"),
    }
    for control in controls.values():
        control.style = style
        if not isinstance(control, w.ToggleButtons):
            control.layout = layout
    for name in ("padding", "pooling", "head"):
        controls[name].style = {**style, "button_width": "96px"}
    output = w.HTML()

    def refresh(_change=None):
        output.value = architecture_report(**{name: c.value for name, c in controls.items()}).to_html()

    for control in controls.values():
        control.observe(refresh, names="value")
    refresh()
    names = list(controls)
    left = w.VBox([controls[n] for n in names[:6]])
    right = w.VBox([controls[n] for n in names[6:]])
    box = _explorer_box_class(w)([w.HBox([left, right]), output])
    box.controls, box.output = controls, output  # handy for tests and curious readers
    return box
