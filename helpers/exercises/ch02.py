"""Chapter 02 (Convolution from scratch): an output shape, a CNN under a parameter budget, overlapping max pooling in NumPy."""

import numpy as np

from helpers.exercises.question import Question, as_array, explain_difference, require_model, walk_layers


class ShapeAfterConvPool(Question):
    chapter, number = "ch02", 1
    MISTAKES = {
        (224, 224, 64): "That is the shape after the convolution only. MaxPooling2D(2) then halves height and width.",
        (111, 111, 64): "That is what padding='valid' gives (224 - 3 + 1 = 222, pooled to 111); 'same' keeps 224x224.",
        (112, 112, 3): "After Conv2D the channels are its 64 filters, not the 3 input colours: one channel per filter.",
    }

    def _check(self, answer):
        shape = tuple(np.atleast_1d(answer))  # one number too
        shape = shape[1:] if len(shape) == 4 and shape[0] in (None, 1) else shape  # a leading batch axis is fine
        if shape != (112, 112, 64):
            self.fail(
                self.MISTAKES.get(shape)
                or f"You gave {answer!r}: follow (224, 224, 3) through each layer to (height, width, channels)."
            )


class SmallCNN(Question):
    chapter, number = "ch02", 2
    BUDGET = 10_000

    def _check(self, answer):
        model = require_model(self, answer, name="build_small_cnn")
        if getattr(model, "input_shape", (None, 28, 28, 1))[1:] != (28, 28, 1):  # no keras.Input: the call builds it
            self.fail(f"The input shape is {model.input_shape[1:]}: grayscale 28x28 images are (28, 28, 1).")
        probe = np.random.default_rng(2).random((4, 28, 28, 1), dtype=np.float32)
        out = as_array(self, model(probe, training=False), "What your model outputs")
        if out.shape != (4, 10):
            why = "A Dense layer on feature maps acts per position: put Flatten() or GlobalAveragePooling2D() before it"
            why = why if out.ndim > 2 else "End with Dense(10, activation='softmax'): one probability per class"
            self.fail(f"For 4 images the model outputs shape {out.shape}, not (4, 10). {why}.")
        if not np.allclose(out.sum(axis=1), 1, atol=1e-4) or out.min() < 0:
            self.fail("The 10 outputs are not probabilities adding up to 1: end with Dense(10, activation='softmax').")
        layers = walk_layers(model)
        convs = walk_layers(model, "Conv2D")
        maps = [probe.shape, *(layer.output.shape for layer in layers if len(layer.output.shape) == 4)]
        side = max(maps[-1][1:3])
        need = ["use at least two Conv2D layers, so later filters combine earlier ones"] * (len(convs) < 2)
        need += ["pool the feature maps down to at most 7x7 (28 / 4) before the head"] * (side > 7)
        if need:
            self.fail(
                f"Your model has {len(convs)} Conv2D layer(s) and its last feature maps are {side}x{side}: "
                f"{' and '.join(need)}."
            )
        total = model.count_params()
        if total > self.BUDGET:
            biggest = max(layers, key=lambda layer: layer.count_params() if not hasattr(layer, "layers") else 0)
            dense = "it sees every pixel of every feature map: pool more, or use GlobalAveragePooling2D"
            self.fail(
                f"{total:,} parameters, over the budget of {self.BUDGET:,}. {biggest.name} alone holds "
                f"{biggest.count_params():,}: {'use fewer filters' if biggest in convs else dense}."
            )
        return f"Within budget: {total:,} parameters, {len(convs)} convolutions, {side}x{side} maps before the head."


def pool(feature_map, size, stride):
    """What ``max_pool`` should return: the largest value of size x size windows ``stride`` apart, leftovers dropped."""
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(feature_map, dtype=np.float64), (size, size))
    return windows[::stride, ::stride].max(axis=(2, 3))


class MaxPool(Question):
    chapter, number = "ch02", 3

    def _check(self, max_pool):
        rng = np.random.default_rng(3)  # feature maps hold fractions, negatives too
        cases = ((4, 4, 2, 2), (5, 7, 2, 2), (7, 7, 3, 2), (6, 9, 3, 3), (5, 6, 2, 1), (8, 5, 3, 2))
        for height, width, size, stride in cases:
            grid = rng.integers(-18, 19, size=(height, width)) / 2
            where = f"on a {height}x{width} map with size={size}, stride={stride}"
            expected = pool(grid, size, stride)  # before the call, which might change grid
            got = self.call(max_pool, grid, size, stride, signature="max_pool(feature_map, size, stride)", where=where)
            got = as_array(self, got, "What your function returns")
            mistakes = {
                f"Output shape {got.shape} {where}: your windows jump by their size. They move `stride` pixels, "
                "so they overlap: window (i, j) starts at row i*stride.": pool(grid, size, size),
                f"Output shape {got.shape} {where}: size and stride changed places.": pool(grid, stride, size),
            }
            otherwise = (
                f"{where.capitalize()}, max_pool should give {expected.tolist()}; yours gives {got.tolist()}. Check "
                "the output size, (H - size) // stride + 1 rows (columns alike), then each window's maximum, as floats."
            )
            explain_difference(self, got, expected, mistakes, otherwise)


q1 = ShapeAfterConvPool()
q2 = SmallCNN()
q3 = MaxPool()
