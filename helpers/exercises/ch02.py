"""Chapter 02 (Convolution from scratch): an output shape, a CNN under a parameter budget, max pooling in NumPy."""

from __future__ import annotations

import numpy as np

from helpers.exercises.question import Question, ShapeQuestion, as_array, first_mismatch, require_model, walk_layers


class ShapeAfterConvPool(ShapeQuestion):
    chapter, number = "ch02", 1
    expected = (112, 112, 64)
    allow_none = True
    mistakes = {
        (224, 224, 64): "That is the shape after the convolution only. MaxPooling2D(2) then halves height and width.",
        (64, 112, 112): "That is channels-first order. Keras puts channels last: (height, width, channels).",
    }

    def normalise(self, shape):
        return shape[1:] if len(shape) == 4 and shape[0] in (None, 1) else shape

    def diagnose(self, shape):
        if len(shape) != 3:
            self.fail(f"{shape} has {len(shape)} numbers; give (height, width, channels) of one image.")
        if shape[:2] in ((111, 111), (222, 222)):
            self.fail(
                f"{shape[0]}x{shape[1]} is what padding='valid' would give (224 - 3 + 1 = 222). With padding='same' "
                "the convolution keeps 224x224."
            )
        if shape[2] == 3:
            self.fail(
                "The channel count after Conv2D is the number of filters (64), not the 3 input colour channels: "
                "each filter produces one output channel."
            )
        if shape[:2] == (56, 56):
            self.fail("56 = 224 / 4: pooling 2x2 halves each side once (224 -> 112), it does not divide it by 4.")
        self.fail(f"{shape} is not it. Follow the shape layer by layer: (224, 224, 3) -> Conv2D -> MaxPooling2D.")


class SmallCNN(Question):
    chapter, number = "ch02", 2
    BUDGET = 10_000

    def _check(self, answer):
        import keras

        model = require_model(self, answer, name="build_small_cnn")
        try:
            input_shape = tuple(model.inputs[0].shape[1:])
        except (AttributeError, IndexError, TypeError, ValueError):
            self.fail("Your model has no input yet: start it with keras.Input(shape=(28, 28, 1)).")
        if input_shape != (28, 28, 1):
            self.fail(f"The input shape is {input_shape}: grayscale 28x28 images are (28, 28, 1).")
        layers = walk_layers(model)
        convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
        if len(convs) < 2:
            self.fail(
                f"Your model has {len(convs)} Conv2D layer(s); use at least two, so later filters combine earlier ones."
            )
        maps = [layer for layer in layers if len(layer.output.shape) == 4]
        side = max(maps[-1].output.shape[1:3])
        if side > 7:
            self.fail(f"The last feature maps are {side} pixels wide; pool until they are at most 7x7 (28 / 4).")
        probe = np.random.default_rng(2).random((4, 28, 28, 1), dtype=np.float32)
        out = keras.ops.convert_to_numpy(model(probe, training=False))
        if out.ndim == 4:
            self.fail(
                f"For 4 images the model outputs shape {out.shape}: a Dense layer on feature maps works on each "
                "position separately. Put Flatten() or GlobalAveragePooling2D() before it, so that each image "
                "gives one vector."
            )
        if out.shape != (4, 10):
            self.fail(
                f"For 4 images the model outputs shape {out.shape}; it should give 10 numbers per image, (4, 10)."
            )
        if not np.allclose(out.sum(axis=1), 1, atol=1e-4) or out.min() < 0:
            self.fail(
                "The 10 outputs are not probabilities that add up to 1: end with Dense(10, activation='softmax')."
            )
        total = model.count_params()
        if total > self.BUDGET:
            biggest = max(layers, key=lambda layer: layer.count_params() if not hasattr(layer, "layers") else 0)
            where = (
                "it sees every pixel of every feature map: pool more, or use GlobalAveragePooling2D"
                if isinstance(biggest, keras.layers.Dense)
                else "use fewer filters"
            )
            self.fail(
                f"{total:,} parameters, over the budget of {self.BUDGET:,}. {biggest.name} alone holds "
                f"{biggest.count_params():,}: {where}."
            )
        return f"Within budget: {total:,} parameters, {len(convs)} convolutions, {side}x{side} maps before the head."


def reference_max_pool(feature_map, size):
    """What ``max_pool`` should return: non-overlapping size x size windows, leftover rows and columns dropped."""
    rows, cols = (np.shape(feature_map)[0] // size) * size, (np.shape(feature_map)[1] // size) * size
    windows = np.asarray(feature_map, dtype=np.float64)[:rows, :cols].reshape(rows // size, size, cols // size, size)
    return windows.max(axis=(1, 3))


class MaxPool(Question):
    chapter, number = "ch02", 3
    CASES = ((4, 4, 2), (5, 7, 2), (6, 9, 3), (3, 3, 3), (7, 4, 3))

    def _check(self, answer):
        rng = np.random.default_rng(3)
        for height, width, size in self.CASES:
            grid = rng.integers(-18, 19, size=(height, width)) / 2  # feature maps hold fractions, negatives too
            where = f"(a {height}x{width} map, size={size})"
            got = self.call(answer, grid.copy(), size, signature="max_pool(feature_map, size)", where=where)
            if got is None:
                self.fail("Your function returned None: did you forget `return output` at the end?")
            got, expected = (
                as_array(self, got, "The output of max_pool").astype(np.float64),
                reference_max_pool(grid, size),
            )
            if got.shape == (height - size + 1, width - size + 1) != expected.shape:
                self.fail(
                    f"Output shape {got.shape} {where}: your windows overlap. They jump by their size (stride = size)."
                )
            if got.shape == (-(-height // size), -(-width // size)) != expected.shape:
                self.fail(
                    f"Output shape {got.shape} {where}: MaxPooling2D drops the leftover rows and columns, {expected.shape}."
                )
            if got.shape != expected.shape:
                self.fail(f"Output shape {got.shape} {where}; expected (H // size, W // size) = {expected.shape}.")
            if first_mismatch(got, expected) is None:
                continue
            mean = grid[: expected.shape[0] * size, : expected.shape[1] * size]
            mean = mean.reshape(expected.shape[0], size, expected.shape[1], size).mean(axis=(1, 3))
            if np.allclose(got, mean):
                self.fail(f"That is average pooling {where}: keep the largest value of each window, .max().")
            if np.allclose(got, np.maximum(expected, 0)):
                self.fail(
                    f"Where every value of a window is negative you have 0 {where}: start each window's maximum "
                    "from its own values (window.max()), not from 0."
                )
            if np.allclose(got, np.trunc(expected)):
                self.fail(
                    f"Your output holds whole numbers only {where}: the maps hold fractions like 3.5. Make the "
                    "output array float, np.zeros((rows, cols)), not dtype=int."
                )
            wrong = first_mismatch(got, expected)
            self.fail(
                f"At output position {wrong} {where} you have {got[wrong]:g}; the largest value of that window is {expected[wrong]:g}."
            )


q1 = ShapeAfterConvPool()
q2 = SmallCNN()
q3 = MaxPool()
