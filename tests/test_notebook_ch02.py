"""Chapter 02's pinned outputs are really checked.

nbval compares a ``# NBVAL_CHECK_OUTPUT`` cell only with outputs stored in the notebook,
and the course commits notebooks without outputs, so nbval alone would accept anything.
This test runs the chapter's cheap cells (everything except training, timing and plots)
in one namespace and compares what every pinned cell prints with the text below.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "solutions" / "02_convolution_from_scratch.ipynb"
MARK = "# NBVAL_CHECK_OUTPUT"
SKIP = ("best_time", "datasets.load", "cifar_cnn", "feature_model", "np.hypot", "most_active", "ch02.", "plt.subplots")

# First code line of each pinned cell -> what it must print.
EXPECTED = {
    "dense = keras.Sequential([keras.Input(shape=(224 * 224 * 3,)), layers.Dense(64)])": (
        "Dense(64) on the flattened image:  9,633,856 parameters\n"
        "Conv2D(64, 3) on the image:            1,792 parameters\n"
    ),
    "small_cnn = keras.Sequential(": (
        "Conv2D         -> (26, 26, 16)\n"
        "MaxPooling2D   -> (13, 13, 16)\n"
        "Conv2D         -> (11, 11, 32)\n"
        "MaxPooling2D   -> (5, 5, 32)\n"
        "Flatten        -> (800,)\n"
        "Dense          -> (10,)\n"
    ),
    "image = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=np.float32)": (
        "[[10. 10. 10.  0.  0.  0.]\n"
        " [10. 10. 10.  0.  0.  0.]\n"
        " [10. 10. 10.  0.  0.  0.]\n"
        " [10. 10. 10.  0.  0.  0.]\n"
        " [10. 10. 10.  0.  0.  0.]\n"
        " [10. 10. 10.  0.  0.  0.]]\n"
        "[[ 1.  0. -1.]\n"
        " [ 1.  0. -1.]\n"
        " [ 1.  0. -1.]]\n"
    ),
    "patch = image[0:3, 0:3]": (
        "patch at (0, 0):\n"
        " [[10. 10. 10.]\n"
        " [10. 10. 10.]\n"
        " [10. 10. 10.]]\n"
        "output at (0, 0): 0.0\n"
        "output at (0, 1): 30.0\n"
    ),
    "by_hand = np.zeros((4, 4), dtype=np.float32)": (
        "[[ 0. 30. 30.  0.]\n [ 0. 30. 30.  0.]\n [ 0. 30. 30.  0.]\n [ 0. 30. 30.  0.]]\n"
    ),
    "edge_layer = layers.Conv2D(filters=1, kernel_size=3, use_bias=False)": (
        "[[ 0. 30. 30.  0.]\n [ 0. 30. 30.  0.]\n [ 0. 30. 30.  0.]\n [ 0. 30. 30.  0.]]\nSame as by hand: True\n"
    ),
    "shifted_image = np.roll(image, 1, axis=1)": (
        "[[-30.   0.  30.  30.]\n [-30.   0.  30.  30.]\n [-30.   0.  30.  30.]\n [-30.   0.  30.  30.]]\n"
    ),
    "print(f\"{'layer':<42} {'formula':>8} {'Keras':>8}\")": (
        "layer                                       formula    Keras\n"
        "Conv2D(8, 3, strides=1, padding='valid'):        30       30\n"
        "Conv2D(8, 3, strides=1, padding='same'):         32       32\n"
        "Conv2D(8, 5, strides=1, padding='valid'):        28       28\n"
        "Conv2D(8, 3, strides=2, padding='valid'):        15       15\n"
        "Conv2D(8, 3, strides=2, padding='same'):         16       16\n"
        "Conv2D(8, 4, strides=3, padding='same'):         11       11\n"
        "'same' padding for n=32, k=4, s=3 (before, after): (1, 1)\n"
    ),
    "def conv_params(kernel_size, in_channels, filters):": (
        "Conv2D(32, 3) on 3 channels: formula     896  Keras     896\n"
        "Conv2D(64, 3) on 32 channels: formula  18,496  Keras  18,496\n"
        "Conv2D(128, 5) on 64 channels: formula 204,928  Keras 204,928\n"
        "Conv2D(32, 1) on 128 channels: formula   4,128  Keras   4,128\n"
    ),
    "grid = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [7, 2, 9, 8], [1, 0, 3, 4]], dtype=np.float32)": (
        "input:\n"
        " [[1. 3. 2. 1.]\n"
        " [4. 6. 5. 0.]\n"
        " [7. 2. 9. 8.]\n"
        " [1. 0. 3. 4.]]\n"
        "MaxPooling2D(2):\n"
        " [[6. 5.]\n"
        " [7. 9.]]\n"
        "AveragePooling2D(2):\n"
        " [[3.5 2. ]\n"
        " [2.5 6. ]]\n"
    ),
    "from helpers.conv import avg_pool2d, max_pool2d": ("[[6. 5.]\n [7. 9.]]\n[[3.5 2. ]\n [2.5 6. ]]\n"),
    "rng = np.random.default_rng(0)": (
        "(2, 7, 7, 3)   * (3, 3, 3, 4)  stride=1      valid -> (2, 5, 5, 4)  loop ok: True  vectorised ok: True\n"
        "(2, 7, 7, 3)   * (3, 3, 3, 4)  stride=1      same  -> (2, 7, 7, 4)  loop ok: True  vectorised ok: True\n"
        "(1, 8, 9, 2)   * (3, 2, 2, 5)  stride=2      valid -> (1, 3, 4, 5)  loop ok: True  vectorised ok: True\n"
        "(1, 8, 9, 2)   * (3, 2, 2, 5)  stride=2      same  -> (1, 4, 5, 5)  loop ok: True  vectorised ok: True\n"
        "(3, 10, 6, 1)  * (5, 5, 1, 2)  stride=(2, 1) same  -> (3, 5, 6, 2)  loop ok: True  vectorised ok: True\n"
        "(1, 5, 5, 4)   * (1, 1, 4, 3)  stride=1      valid -> (1, 5, 5, 3)  loop ok: True  vectorised ok: True\n"
    ),
    "print(architecture_report(image_size=32, channels=3, blocks=3, filters=32, growth=2.0, dense_units=128, classes=10))": (
        "layer                           output shape      params   mult-adds     memory\n"
        "-------------------------------------------------------------------------------\n"
        "input                            (32, 32, 3)           0           0   12.0 KiB\n"
        "block1_conv (3x3, 32)           (32, 32, 32)         896     884.74K  128.0 KiB\n"
        "block1_maxpool                  (16, 16, 32)           0           0   32.0 KiB\n"
        "block2_conv (3x3, 64)           (16, 16, 64)      18,496       4.72M   64.0 KiB\n"
        "block2_maxpool                    (8, 8, 64)           0           0   16.0 KiB\n"
        "block3_conv (3x3, 128)           (8, 8, 128)      73,856       4.72M   32.0 KiB\n"
        "block3_maxpool                   (4, 4, 128)           0           0    8.0 KiB\n"
        "global_average_pool                   (128,)           0           0      512 B\n"
        "dense (128, relu)                     (128,)      16,512      16.38K      512 B\n"
        "output (10, softmax)                   (10,)       1,290       1.28K       40 B\n"
        "-------------------------------------------------------------------------------\n"
        "Total parameters: 111,050 (trainable 111,050) | multiply-adds: 10.34M | activation memory per image: 293.0 KiB\n"
        "\n"
        "Keras code:\n"
        "import keras\n"
        "from keras import layers\n"
        "\n"
        "model = keras.Sequential(\n"
        "    [\n"
        "        keras.Input(shape=(32, 32, 3)),\n"
        '        layers.Conv2D(32, 3, padding="same", activation="relu"),\n'
        "        layers.MaxPooling2D(2),\n"
        '        layers.Conv2D(64, 3, padding="same", activation="relu"),\n'
        "        layers.MaxPooling2D(2),\n"
        '        layers.Conv2D(128, 3, padding="same", activation="relu"),\n'
        "        layers.MaxPooling2D(2),\n"
        "        layers.GlobalAveragePooling2D(),\n"
        '        layers.Dense(128, activation="relu"),\n'
        '        layers.Dense(10, activation="softmax"),\n'
        "    ],\n"
        '    name="explorer_cnn",\n'
        ")\n"
        "model.summary()\n"
    ),
    "print(architecture_report(image_size=8, blocks=4))": (
        "Cannot build this model: block 4: the feature map is 1x1 before the 2x2 pooling, which would leave 0x0. Use fewer blocks, a larger image, padding='same' or no pooling.\n"
    ),
}


@pytest.fixture(scope="module")
def pinned_outputs() -> dict[str, str]:
    import matplotlib

    matplotlib.use("agg")
    namespace: dict = {"__name__": "__main__"}
    found: dict[str, str] = {}
    for cell in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or any(marker in source for marker in SKIP):
            continue
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(source, f"{NOTEBOOK.name} cell", "exec"), namespace)
        if source.startswith(MARK):
            found[source.splitlines()[1]] = printed.getvalue()
    return found


def test_every_pinned_cell_is_known(pinned_outputs):
    assert set(pinned_outputs) == set(EXPECTED)


@pytest.mark.parametrize("first_line", list(EXPECTED))
def test_pinned_cell_prints_the_expected_text(pinned_outputs, first_line):
    assert pinned_outputs[first_line] == EXPECTED[first_line]
