"""Chapter 02's explorer beyond its pinned cells: the costs of a tiny CNN worked out by hand, the
printed Keras code against the model the table describes, and the messages for choices that cannot
be built (the pooling one is pinned in the chapter itself)."""

from __future__ import annotations

import contextlib
import functools
import io
import re
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "02_convolution_from_scratch.ipynb"


@functools.cache
def architecture_report():
    from tools.testing import notebook_functions

    return notebook_functions(NOTEBOOK, "architecture_report").architecture_report


def report(**choices) -> str:
    """What ``architecture_report(**choices)`` prints."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        architecture_report()(**choices)
    return printed.getvalue()


def table(text: str) -> list[tuple[str, tuple[int, ...], int, int, int]]:
    """The report's rows as (layer, output shape, parameters, multiply-adds, bytes), the total last."""
    rows = []
    for line in text.splitlines()[1:]:
        if line.strip() == "" or line.startswith("model = "):
            break
        shape = re.search(r"\(([\d, ]*)\)", line)
        name = line.split()[0]
        numbers = line[shape.end() if shape else len(name) :].replace("B", "").split()
        dims = tuple(int(v) for v in shape.group(1).split(",") if v.strip()) if shape else ()
        rows.append((name, dims, *(int(n.replace(",", "")) for n in numbers)))
    return rows


def test_costs_of_a_tiny_cnn_worked_out_by_hand():
    text = report(image_size=8, channels=1, blocks=1, filters=2, kernel_size=3, dense_units=4, classes=3)
    assert table(text) == [
        # 8x8 positions x (3x3x1x2) kernel weights; (3x3x1 + 1) x 2 parameters; 8x8x2 float32 values
        ("Conv2D", (8, 8, 2), 20, 8 * 8 * 18, 8 * 8 * 2 * 4),
        ("MaxPooling2D", (4, 4, 2), 0, 0, 4 * 4 * 2 * 4),
        ("GlobalAveragePooling2D", (2,), 0, 0, 2 * 4),
        ("Dense", (4,), (2 + 1) * 4, 2 * 4, 4 * 4),
        ("Dense", (3,), (4 + 1) * 3, 4 * 3, 3 * 4),
        ("total", (), 20 + 12 + 15, 1152 + 8 + 12, 512 + 128 + 8 + 16 + 12),
    ]


@pytest.mark.parametrize(
    "choices",
    [
        {},
        {"image_size": 28, "channels": 1, "blocks": 2, "kernel_size": 5, "padding": "valid", "pooling": "average"},
        {"blocks": 2, "filters": 8, "kernel_size": 1, "pooling": "none", "head": "flatten", "dense_units": 0},
    ],
    ids=["defaults", "valid-average", "flatten-no-pooling"],
)
def test_the_printed_code_builds_the_model_the_table_describes(choices):
    text = report(**choices)
    namespace = {"keras": keras, "layers": keras.layers}
    exec(text[text.index("model = keras.Sequential(") :], namespace)  # noqa: S102 - the code the report printed
    model, rows = namespace["model"], table(text)
    assert [(type(layer).__name__, tuple(layer.output.shape[1:])) for layer in model.layers] == [
        row[:2] for row in rows[:-1]
    ]
    assert model.count_params() == rows[-1][2] == sum(row[2] for row in rows[:-1])


def test_the_flatten_head_explodes_but_still_builds():
    # no pooling: Flatten gives 32x32x128 = 131,072 numbers, so Dense(128) holds (131,072 + 1) x 128 weights
    rows = table(report(pooling="none", head="flatten"))
    assert rows[-3] == ("Dense", (128,), 16_777_344, 16_777_216, 128 * 4)


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        (
            {"image_size": 8, "blocks": 2, "kernel_size": 5, "padding": "valid"},  # 8 -> 4 -> pooled 2, then 5x5
            "block 2: the 2x2 feature map is smaller than the 5x5 kernel, so with padding='valid' it fits nowhere.",
        ),
        (
            {"image_size": 224, "blocks": 1, "pooling": "none", "head": "flatten"},  # 224 x 224 x 32 numbers
            "the head: a Dense layer on the 1,605,632 numbers that 'flatten' gives would hold more than 20 million",
        ),
        (
            {"head": "avg"},
            "pooling must be 'max', 'average' or 'none' and head 'global' or 'flatten'; got 'max', 'avg'.",
        ),
    ],
    ids=["kernel-larger-than-map", "huge-flatten-head", "unknown-head"],
)
def test_a_choice_that_cannot_be_built_says_where_and_why(choices, message):
    text = report(**choices)
    assert text.startswith(f"Cannot build this model: {message}")
    assert "total" not in text and "keras.Sequential" not in text  # a message, not a half-built report
