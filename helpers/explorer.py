"""The CNN Architecture Explorer: what every layer of a small CNN costs, before you build it.

``architecture_report(...)`` is the plain function: it returns a :class:`Report` that prints
as a text table (and shows in Jupyter as a block diagram above an HTML table) with each layer's output shape,
parameters, multiply-adds and activation memory, the totals, and the Keras code that
builds exactly that model. ``explorer(...)`` wraps the same report in ipywidgets controls.

The model it describes, block by block::

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
        count = 1
        for size in self.shape:
            count *= size
        return count * BYTES_PER_VALUE


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
    def total_macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def activation_bytes(self) -> int:
        """Memory of all layer outputs (input included) for one image, float32."""
        return sum(layer.activation_bytes for layer in self.layers)

    @property
    def code(self) -> str:
        return keras_code(self.config) if self.ok else ""

    def totals_line(self) -> str:
        """One line with the totals (what the browser test reads)."""
        if not self.ok:
            return "Cannot build this model."
        return (
            f"Total parameters: {self.total_params:,} (trainable {self.trainable_params:,}) | "
            f"multiply-adds: {human(self.total_macs)} | activation memory per image: {human_bytes(self.activation_bytes)}"
        )

    def to_text(self) -> str:
        """The report as a plain-text table plus the Keras code."""
        if not self.ok:
            return f"Cannot build this model: {self.error}"
        header = f"{'layer':<28}{'output shape':>16}{'params':>12}{'mult-adds':>12}{'memory':>11}"
        rows = [header, "-" * len(header)]
        for layer in self.layers:
            rows.append(
                f"{layer.name:<28}{_shape(layer.shape):>16}{layer.params:>12,}{human(layer.macs):>12}"
                f"{human_bytes(layer.activation_bytes):>11}"
            )
        rows += ["-" * len(header), self.totals_line(), "", "Keras code:", self.code]
        return "\n".join(rows)

    def to_svg(self) -> str:
        """The network as a block diagram (SVG): one block per layer, sized by its output shape.

        A feature map of H x W x C is drawn H tall (relative to the input) and wider the more
        channels it has (log scale); a vector of N values is a thin bar, taller the larger N.
        """
        if not self.ok:
            return ""
        return block_diagram_svg(self.layers)

    def to_html(self) -> str:
        """The block diagram, then the report as an HTML table with the code in a copyable block."""
        if not self.ok:
            return (
                '<div class="explorer-error" style="border-left:6px solid #d55e00;padding:6px 12px">'
                f"<b>Cannot build this model.</b> {html.escape(self.error)}</div>"
            )
        left, right = '<td style="text-align:left;padding:1px 10px">', '<td style="text-align:right;padding:1px 10px">'
        cells = "".join(
            f"<tr>{left}{html.escape(layer.name)}</td>{right}{_shape(layer.shape)}</td>{right}{layer.params:,}</td>"
            f"{right}{human(layer.macs)}</td>{right}{human_bytes(layer.activation_bytes)}</td></tr>"
            for layer in self.layers
        )
        headers = "".join(
            f'<th style="text-align:{"left" if i == 0 else "right"};padding:1px 10px">{title}</th>'
            for i, title in enumerate(("layer", "output shape", "params", "multiply-adds", "memory / image"))
        )
        return (
            f"{self.to_svg()}"
            f'<table class="explorer-table"><thead><tr>{headers}</tr></thead><tbody>{cells}</tbody></table>'
            f'<p class="explorer-totals"><b>{html.escape(self.totals_line())}</b></p>'
            f'<p>Keras code (select and copy):</p><pre class="explorer-code">{html.escape(self.code)}</pre>'
        )

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()


# Okabe-Ito colours (colour-blind safe), the same as helpers.figures.
_BLOCK_COLORS = {
    "keras.Input": "#FFFFFF",
    "Conv2D": "#56B4E9",
    "BatchNormalization": "#E5E5E5",
    "Activation": "#E5E5E5",
    "Pooling": "#009E73",
    "GlobalAveragePooling2D": "#CC79A7",
    "Flatten": "#CC79A7",
    "Dense": "#E69F00",
}


def block_diagram_svg(layers: list[Layer], max_height: int = 120) -> str:
    """An SVG drawing of ``layers`` left to right; each block carries its layer's name and shape as data."""
    spatial = [layer.shape[0] for layer in layers if len(layer.shape) == 3]
    units = [layer.shape[0] for layer in layers if len(layer.shape) == 1]
    top_size, top_units = max(spatial, default=1), max(units, default=2)
    blocks, x = [], 10
    for layer in layers:
        if len(layer.shape) == 3:
            height = max(4.0, max_height * layer.shape[0] / top_size)
            width = 6 + 5 * math.log2(layer.shape[2] + 1)
            size = "×".join(str(v) for v in layer.shape)
        else:
            height = max(4.0, max_height * math.log2(layer.shape[0] + 1) / math.log2(top_units + 1))
            width = 8.0
            size = str(layer.shape[0])
        slot = max(width + 14, 58)
        left, top = x + (slot - width) / 2, 10 + (max_height - height) / 2
        color = _BLOCK_COLORS.get(layer.keras, "#FFFFFF")
        name = html.escape(layer.name.split(" ")[0])
        blocks.append(
            f'<rect class="block" x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="{color}" stroke="#222222" stroke-width="1" data-name="{name}" data-shape="{size}">'
            f"<title>{html.escape(layer.name)}: {size}</title></rect>"
            f'<text x="{x + slot / 2:.1f}" y="{max_height + 26}" font-size="10" text-anchor="middle" '
            f'fill="#222222">{size}</text>'
            f'<text x="{x + slot / 2:.1f}" y="{max_height + 39}" font-size="9" text-anchor="middle" '
            f'fill="#555555">{html.escape(_short_name(layer))}</text>'
        )
        x += slot
    width, height = x + 10, max_height + 48
    return (
        f'<div style="overflow-x:auto"><svg class="explorer-diagram" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width:.0f}" height="{height}" data-layers="{len(layers)}" role="img" '
        f'aria-label="block diagram of {len(layers)} layers" font-family="sans-serif" style="background:#ffffff;border-radius:4px">'
        f"{''.join(blocks)}</svg></div>"
    )


def _short_name(layer: Layer) -> str:
    return {
        "keras.Input": "input",
        "Conv2D": "conv",
        "BatchNormalization": "bn",
        "Activation": "relu",
        "Pooling": "pool",
        "GlobalAveragePooling2D": "global pool",
        "Flatten": "flatten",
        "Dense": "output" if layer.name.startswith("output") else "dense",
    }.get(layer.keras, layer.keras)


def human(n: int) -> str:
    """``1234567`` -> ``'1.23M'``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def _conv_size(size: int, kernel: int, padding: str) -> int:
    return size if padding == "same" else size - kernel + 1


def _build_layers(config: Config) -> list[Layer]:
    """Walk the model layer by layer; raise ConfigError where a size drops below 1."""
    height = width = config.image_size
    channels = config.channels
    k = config.kernel_size
    layers = [Layer("input", "keras.Input", (height, width, channels), 0, 0, 0)]
    for block, filters in enumerate(config.block_filters(), start=1):
        new = _conv_size(height, k, config.padding)
        if new < 1:
            raise ConfigError(
                f"block {block}: a {k}x{k} convolution with padding='valid' on a {height}x{width} feature map "
                f"would leave {new}x{new}. Use fewer blocks, a smaller kernel, a larger image or padding='same'."
            )
        height = width = new
        bias = 0 if config.batch_norm else filters
        weights = k * k * channels * filters
        layers.append(
            Layer(
                f"block{block}_conv ({k}x{k}, {filters})",
                "Conv2D",
                (height, width, filters),
                weights + bias,
                weights + bias,
                height * width * k * k * channels * filters,
            )
        )
        channels = filters
        if config.batch_norm:
            layers.append(
                Layer(
                    f"block{block}_bn", "BatchNormalization", (height, width, channels), 4 * channels, 2 * channels, 0
                )
            )
            layers.append(Layer(f"block{block}_relu", "Activation", (height, width, channels), 0, 0, 0))
        if config.pooling != "none":
            new = height // 2
            if new < 1:
                raise ConfigError(
                    f"block {block}: the feature map is {height}x{width} before the 2x2 pooling, which would "
                    "leave 0x0. Use fewer blocks, a larger image, padding='same' or no pooling."
                )
            height = width = new
            layers.append(Layer(f"block{block}_{config.pooling}pool", "Pooling", (height, width, channels), 0, 0, 0))
    if config.head == "global":
        layers.append(Layer("global_average_pool", "GlobalAveragePooling2D", (channels,), 0, 0, 0))
        features = channels
    else:
        features = height * width * channels
        layers.append(Layer("flatten", "Flatten", (features,), 0, 0, 0))
    if config.dense_units:
        params = features * config.dense_units + config.dense_units
        layers.append(
            Layer(
                f"dense ({config.dense_units}, relu)",
                "Dense",
                (config.dense_units,),
                params,
                params,
                features * config.dense_units,
            )
        )
        features = config.dense_units
    params = features * config.classes + config.classes
    layers.append(
        Layer(
            f"output ({config.classes}, softmax)", "Dense", (config.classes,), params, params, features * config.classes
        )
    )
    return layers


def keras_code(config: Config) -> str:
    """Python code that builds exactly the model the report describes."""
    k, pad = config.kernel_size, config.padding
    lines = [
        "import keras",
        "from keras import layers",
        "",
        "model = keras.Sequential(",
        "    [",
        f"        keras.Input(shape=({config.image_size}, {config.image_size}, {config.channels})),",
    ]
    for filters in config.block_filters():
        if config.batch_norm:
            lines += [
                f'        layers.Conv2D({filters}, {k}, padding="{pad}", use_bias=False),',
                "        layers.BatchNormalization(),",
                '        layers.Activation("relu"),',
            ]
        else:
            lines.append(f'        layers.Conv2D({filters}, {k}, padding="{pad}", activation="relu"),')
        if config.pooling == "max":
            lines.append("        layers.MaxPooling2D(2),")
        elif config.pooling == "average":
            lines.append("        layers.AveragePooling2D(2),")
    lines.append("        layers.GlobalAveragePooling2D()," if config.head == "global" else "        layers.Flatten(),")
    if config.dense_units:
        lines.append(f'        layers.Dense({config.dense_units}, activation="relu"),')
    lines += [
        f'        layers.Dense({config.classes}, activation="softmax"),',
        "    ],",
        '    name="explorer_cnn",',
        ")",
        "model.summary()",
    ]
    return "\n".join(lines)


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
