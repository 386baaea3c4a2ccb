"""Chapter 02 (Convolution from scratch): an output shape, a CNN under a parameter budget, overlapping max pooling in NumPy."""

from __future__ import annotations

import numpy as np

from helpers.exercises.question import Question, as_array, explain_difference, require_model, walk_layers


class ShapeAfterConvPool(Question):
    chapter, number = "ch02", 1
    MISTAKES = {
        (224, 224, 64): "That is the shape after the convolution only. MaxPooling2D(2) then halves height and width.",
        (64, 112, 112): "That is channels-first order. Keras puts channels last: (height, width, channels).",
    }

    def _check(self, answer):
        if not isinstance(answer, (tuple, list)) or any(
            isinstance(v, bool) or not (v is None or isinstance(v, (int, np.integer))) for v in answer
        ):
            self.fail(f"Give the shape as a tuple of whole numbers, like (28, 28, 16); you gave {answer!r}.")
        shape = tuple(None if v is None else int(v) for v in answer)
        shape = shape[1:] if len(shape) == 4 and shape[0] in (None, 1) else shape  # a leading batch axis is fine
        if shape == (112, 112, 64):
            return None
        if shape in self.MISTAKES:
            self.fail(self.MISTAKES[shape])
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


def pool(feature_map, size, stride, reduce=np.max):
    """What ``max_pool`` should return (with the default): size x size windows ``stride`` apart, leftovers dropped."""
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(feature_map, dtype=np.float64), (size, size))
    return reduce(windows[::stride, ::stride], axis=(2, 3))


class MaxPool(Question):
    chapter, number = "ch02", 3
    MISTAKES = (  # what a typical mistake returns, and its lesson: a template of {where}, {got} and {expected}
        (lambda grid, size, stride: pool(grid, size, size),
         "Output shape {got.shape} {where}: your windows jump by their size. Here they move `stride` pixels, so "
         "neighbouring windows overlap: window (i, j) starts at row i*stride and column j*stride."),
        (lambda grid, size, stride: pool(grid, stride, size),
         "Output shape {got.shape} {where}: size and stride changed places. Each window is size x size and the "
         "next one starts stride pixels further."),
        (lambda grid, size, stride: pool(grid, size, stride, reduce=np.mean),
         "That is average pooling {where}: keep the largest value of each window, .max()."),
        (lambda grid, size, stride: np.maximum(pool(grid, size, stride), 0),
         "Where every value of a window is negative you have 0 {where}: start each window's maximum from its own "
         "values (window.max()), not from 0."),
        (lambda grid, size, stride: np.trunc(pool(grid, size, stride)),
         "Your output holds whole numbers only {where}: the maps hold fractions like 3.5. Make the output array "
         "float, np.zeros((rows, cols)), not dtype=int."),
    )  # fmt: skip
    SHAPE = (
        "Output shape {got.shape} {where}; expected {expected.shape}: (H - size) // stride + 1 rows and as many "
        "columns by the same rule, the chapter's output_size with padding='valid' (leftover rows and columns are "
        "dropped)."
    )
    MISMATCH = "At output position {at} {where} you have {mine:g}; the largest value of that window is {right:g}."

    def _check(self, max_pool):
        rng = np.random.default_rng(3)  # feature maps hold fractions, negatives too
        cases = ((4, 4, 2, 2), (5, 7, 2, 2), (7, 7, 3, 2), (6, 9, 3, 3), (5, 6, 2, 1), (8, 5, 3, 2))
        for height, width, size, stride in cases:
            grid = rng.integers(-18, 19, size=(height, width)) / 2
            where = f"on a {height}x{width} map with size={size}, stride={stride}"
            got = self.call(
                max_pool, grid.copy(), size, stride, signature="max_pool(feature_map, size, stride)", where=where
            )
            if got is None:
                self.fail(f"Your function returned None {where}: did you forget the `return` line at the end?")
            got, expected = as_array(self, got, "What your function returns"), pool(grid, size, stride)
            fields = {"where": where, "got": got, "expected": expected}
            mistakes = {message.format(**fields): wrong(grid, size, stride) for wrong, message in self.MISTAKES}
            if got.shape != expected.shape:
                explain_difference(self, got, expected, mistakes, self.SHAPE.format(**fields))
            at = divmod(int(np.argmax(~np.isclose(got, expected))), got.shape[1])  # the first position that differs
            mismatch = self.MISMATCH.format(**fields, at=at, mine=got[at], right=expected[at])
            explain_difference(self, got, expected, mistakes, mismatch)


q1 = ShapeAfterConvPool()
q2 = SmallCNN()
q3 = MaxPool()
