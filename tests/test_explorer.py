"""The explorer: its report, built from the real Keras model, against the code it shows and by hand."""

from __future__ import annotations

import random
from html import escape as html_escape

import pytest

from helpers import explorer
from helpers.course import import_tensorflow

import_tensorflow()
import keras  # noqa: E402


def build(report: explorer.Report) -> keras.Model:
    namespace: dict = {}
    exec(report.code.replace("model.summary()", ""), namespace)
    return namespace["model"]


def random_configs(n: int, seed: int = 0) -> list[explorer.Config]:
    rng = random.Random(seed)
    configs = []
    while len(configs) < n:
        config = explorer.Config(
            image_size=rng.choice([8, 16, 28, 32, 33, 64]),
            channels=rng.choice([1, 3]),
            blocks=rng.randint(1, 4),
            filters=rng.choice([4, 8, 16]),
            growth=rng.choice([1.0, 1.5, 2.0]),
            kernel_size=rng.choice([1, 3, 5]),
            padding=rng.choice(explorer.PADDINGS),
            pooling=rng.choice(explorer.POOLINGS),
            batch_norm=rng.random() < 0.5,
            head=rng.choice(explorer.HEADS),
            dense_units=rng.choice([0, 16, 64]),
            classes=rng.choice([2, 10, 100]),
        )
        if explorer.analyse(config).ok:
            configs.append(config)
    return configs


@pytest.mark.parametrize("config", [explorer.Config(), *random_configs(8)], ids=lambda c: "cfg")
def test_generated_code_builds_the_model_the_report_describes(config):
    report = explorer.analyse(config)
    model = build(report)
    assert model.count_params() == report.total_params
    trainable = sum(int(v.numpy().size) for v in model.trainable_weights)
    assert trainable == report.trainable_params
    # Every layer's output shape and parameter count, in order.
    keras_rows = [(tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]
    ours = [(row.shape, row.params) for row in report.layers[1:]]
    assert keras_rows == ours


def test_default_config_numbers():
    report = explorer.architecture_report()
    # Conv 3->32: 896, 32->64: 18,496, 64->128: 73,856, Dense 128->128: 16,512, 128->10: 1,290.
    assert report.total_params == 896 + 18_496 + 73_856 + 16_512 + 1_290
    assert [row.shape for row in report.layers[:3]] == [(32, 32, 3), (32, 32, 32), (16, 16, 32)]
    assert report.layers[1].macs == 32 * 32 * 3 * 3 * 3 * 32
    assert report.layers[0].activation_bytes == 32 * 32 * 3 * 4
    assert "Total parameters: 111,050" in report.to_text()
    assert "keras.Input(shape=(32, 32, 3))" in report.code


def test_a_huge_flatten_head_is_counted_without_allocating_its_weights():
    report = explorer.architecture_report(
        image_size=256, blocks=1, filters=128, pooling="none", head="flatten", dense_units=512
    )
    dense = report.layers[-2]
    assert dense.shape == (512,) and dense.params == 256 * 256 * 128 * 512 + 512  # 4.3 billion: 17 GB if allocated
    assert "Total parameters: 4,294,976,522" in report.totals_line()


def test_text_and_html_show_the_same_rows():
    report = explorer.architecture_report(blocks=2)
    text, page = report.to_text(), report.to_html()
    for row in report.layers:
        assert row.name in text and html_escape(row.name) in page
        assert str(row.shape) in text
    assert "293 KB" in explorer.architecture_report().totals_line()  # 300,040 bytes of activations per image


def test_batch_norm_counts_non_trainable_statistics():
    report = explorer.architecture_report(blocks=1, batch_norm=True, dense_units=0)
    bn = [row for row in report.layers if row.keras == "BatchNormalization"][0]
    assert (bn.params, bn.trainable) == (4 * 32, 2 * 32)
    assert report.total_params - report.trainable_params == 2 * 32


@pytest.mark.parametrize(
    ("choices", "fragment"),
    [
        ({"image_size": 8, "blocks": 4}, "before the 2x2 pooling"),
        ({"image_size": 8, "blocks": 2, "padding": "valid", "kernel_size": 5}, "padding='valid'"),
        ({"classes": 0}, "classes must be a whole number"),
        ({"pooling": "min"}, "pooling must be one of"),
        ({"growth": -1.0}, "growth must be a positive"),
    ],
)
def test_impossible_configs_give_a_message_not_a_traceback(choices, fragment):
    report = explorer.architecture_report(**choices)
    assert not report.ok
    assert fragment in report.error
    assert "Cannot build this model" in report.to_text()
    assert "Cannot build this model" in report.to_html()
    assert report.code == ""


def test_unknown_choice_is_a_type_error():
    with pytest.raises(TypeError, match="unknown choice"):
        explorer.architecture_report(layers=3)


def test_widget_updates_when_a_control_changes():
    box = explorer.explorer()
    assert "Total parameters: 111,050" in box.output.value
    box.controls["blocks"].value = 4
    expected = explorer.architecture_report(blocks=4).totals_line()
    assert expected.split("|")[0].strip() in box.output.value
    box.controls["image_size"].value = 8
    assert "Cannot build this model" in box.output.value
    box.controls["pooling"].value = "none"
    assert "Cannot build" not in box.output.value


def test_html_escapes_and_shows_code():
    page = explorer.architecture_report(batch_norm=True).to_html()
    assert "explorer-code" in page and "BatchNormalization()" in page
    assert "&quot;same&quot;" in page  # the code is escaped, so it shows literally


def test_block_diagram_has_one_block_per_layer_sized_by_shape():
    import re

    report = explorer.architecture_report(blocks=2, batch_norm=True)
    svg = report.to_svg()
    shapes = re.findall(r'<rect class="block"[^>]*data-shape="([^"]+)"', svg)
    assert len(shapes) == len(report.layers) and f'data-layers="{len(report.layers)}"' in svg
    assert shapes[:3] == ["32×32×3", "32×32×32", "32×32×32"] and shapes[-1] == "10"
    heights = [float(h) for h in re.findall(r'<rect class="block"[^>]*height="([\d.]+)"', svg)]
    pooled = [i for i, layer in enumerate(report.layers) if layer.keras == "Pooling"]
    assert heights[pooled[0]] == heights[0] / 2  # a 2x2 pooling halves the block's height
    assert svg in report.to_html()  # Jupyter shows the diagram above the table
    more = explorer.architecture_report(blocks=3, batch_norm=True).to_svg()
    assert more.count('class="block"') == svg.count('class="block"') + 4  # conv, bn, relu, pool
    assert explorer.architecture_report(image_size=8, blocks=4).to_svg() == ""


def test_widget_diagram_follows_the_controls():
    box = explorer.explorer()
    before = box.output.value.count('class="block"')
    box.controls["pooling"].value = "none"
    assert box.output.value.count('class="block"') == before - 3


def test_without_a_widget_front_end_the_box_still_shows_the_report():
    box = explorer.explorer(blocks=2)
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # widget front ends draw the controls
    assert bundle["text/html"] == box.output.value and 'class="explorer-diagram"' in bundle["text/html"]
    box.controls["blocks"].value = 3
    assert box._repr_mimebundle_()["text/html"] == explorer.architecture_report(blocks=3).to_html()
