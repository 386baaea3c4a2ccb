"""Chapter 02 (Convolution from scratch): output shapes, a 3-block CNN, convolve2d in NumPy."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from helpers.exercises.question import (
    Question,
    ShapeQuestion,
    as_array,
    first_mismatch,
    require_model,
    walk_layers,
)


class ShapeAfterConvPool(ShapeQuestion):
    chapter, number = "ch02", 1
    title = "Output shape of Conv2D(64, 3, padding='same') + MaxPooling2D(2) on a 224x224x3 image"
    hints = [
        "Work one layer at a time. With padding='same' and stride 1, a convolution keeps height and width.",
        "The number of channels after Conv2D is its number of filters, whatever the input had.",
        "MaxPooling2D(2) halves height and width (stride = pool size) and keeps the channels.",
    ]
    correct_message = (
        "(112, 112, 64): 'same' keeps 224x224, the 64 filters give 64 channels, and 2x2 pooling halves 224 to 112."
    )
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


class ThreeBlockCNN(Question):
    chapter, number = "ch02", 2
    title = "A 3-block CNN (32 -> 64 -> 128 filters) for 32x32x3 images and 10 classes"
    hints = [
        "Start with keras.Input(shape=(32, 32, 3)); each block is Conv2D(filters, 3, padding='same', "
        "activation='relu') followed by MaxPooling2D(2).",
        "After the three blocks, GlobalAveragePooling2D() (or Flatten()) turns the feature maps into a vector.",
        "End with Dense(10, activation='softmax'): one probability per class.",
    ]
    correct_message = "A classic CNN: 3 blocks with growing filters, pooling in between, and a softmax over 10 classes."

    def _check(self, answer):
        import keras

        answer = require_model(self, answer, name="build_cnn")
        try:
            input_shape = tuple(answer.inputs[0].shape)
        except (AttributeError, IndexError, ValueError):
            self.fail("Your model has no input yet: start it with keras.Input(shape=(32, 32, 3)).")
        if input_shape[1:] != (32, 32, 3):
            self.fail(f"The model's input shape is {input_shape[1:]}; CIFAR-10 images are (32, 32, 3).")
        output_shape = tuple(answer.outputs[0].shape)
        if output_shape[1:] != (10,):
            self.fail(f"The model outputs shape {output_shape[1:]}; with 10 classes the last layer needs 10 units.")
        layers = walk_layers(answer)
        convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
        filters = [layer.filters for layer in convs]
        blocks = [f for i, f in enumerate(filters) if i == 0 or f != filters[i - 1]]
        if blocks != [32, 64, 128]:
            self.fail(
                f"The Conv2D filter counts are {filters}; the exercise asks for three blocks with 32, then 64, "
                "then 128 filters, in that order."
            )
        pools = [
            layer
            for layer in layers
            if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D))
            or (isinstance(layer, keras.layers.Conv2D) and max(layer.strides) > 1)
        ]
        if len(pools) < 2:
            self.fail(
                "The feature maps never shrink: add MaxPooling2D(2) after each block so that later layers see "
                "a wider part of the image (and the head stays small)."
            )
        last = layers[-1]
        activation = getattr(getattr(last, "activation", None), "__name__", "")
        if activation != "softmax":
            self.fail(
                f"The last layer's activation is {activation or 'missing'!r}: use activation='softmax' so the "
                "10 outputs are class probabilities that add up to 1."
            )
        return f"{self.correct_message} It has {answer.count_params():,} parameters."


def reference_convolve2d(image, kernel):
    """What ``convolve2d`` should return: valid cross-correlation, as in every CNN layer."""
    windows = sliding_window_view(np.asarray(image, dtype=np.float64), np.shape(kernel))
    return np.einsum("ijkl,kl->ij", windows, np.asarray(kernel, dtype=np.float64))


class Convolve2D(Question):
    chapter, number = "ch02", 3
    title = "convolve2d(image, kernel) in NumPy with 'valid' padding"
    hints = [
        "The output has (H - kh + 1) rows and (W - kw + 1) columns: the kernel must fit completely in the image.",
        "For each output position (i, j), take the patch image[i:i+kh, j:j+kw], multiply it element-wise by the "
        "kernel and sum: np.sum(patch * kernel).",
        "Do not flip the kernel: deep-learning 'convolution' is really cross-correlation.",
    ]
    correct_message = "Your convolve2d matches the reference on every test image, non-square kernels included."

    CASES = ((5, 7, 3, 3), (6, 6, 2, 4), (4, 9, 3, 1), (3, 3, 3, 3), (6, 5, 1, 1))

    def _check(self, answer):
        self.require_callable(answer, "convolve2d")
        rng = np.random.default_rng(2)
        for height, width, kh, kw in self.CASES:
            image = rng.integers(-4, 5, size=(height, width)).astype(np.float64)
            kernel = rng.integers(-3, 4, size=(kh, kw)).astype(np.float64)
            expected = reference_convolve2d(image, kernel)
            got = self.call(
                answer,
                image.copy(),
                kernel.copy(),
                signature="convolve2d(image, kernel)",
                where=f"image {image.shape}, kernel {kernel.shape}",
            )
            if got is None:
                self.fail("Your function returned None: did you forget `return output` at the end?")
            got = as_array(self, got, "The output of convolve2d").astype(np.float64)
            self._compare(got, expected, image, kernel)
        return None

    def _compare(self, got, expected, image, kernel):
        where = f"(image {image.shape}, kernel {kernel.shape})"
        if got.shape != expected.shape:
            (height, width), (kh, kw) = image.shape, kernel.shape
            if got.shape == image.shape:
                self.fail(
                    f"The output has the input's shape {got.shape}: that is 'same' padding. With 'valid' padding "
                    f"it is (H - kh + 1, W - kw + 1) = {expected.shape} {where}."
                )
            if got.shape == (height + kh - 1, width + kw - 1):
                self.fail(
                    f"The output shape {got.shape} is a 'full' convolution. 'valid' keeps only positions where "
                    f"the whole kernel fits: {expected.shape} {where}."
                )
            if got.shape in ((height - kh, width - kw), (height - kh - 1, width - kw - 1)):
                self.fail(
                    f"The output shape {got.shape} is one off: there are H - kh + 1 = {expected.shape[0]} rows "
                    f"and W - kw + 1 = {expected.shape[1]} columns {where}. Check your range() limits."
                )
            if got.shape == expected.shape[::-1]:
                self.fail(
                    f"The output shape {got.shape} has rows and columns swapped; expected {expected.shape} "
                    f"{where}. Rows go with the kernel height kh, columns with kw."
                )
            self.fail(f"The output shape is {got.shape}; expected (H - kh + 1, W - kw + 1) = {expected.shape} {where}.")
        if first_mismatch(got, expected) is None:
            return
        if np.allclose(got, reference_convolve2d(image, kernel[::-1, ::-1]), atol=1e-6):
            self.fail(
                "Your function flips the kernel: that is the mathematical convolution (what scipy.signal.convolve2d "
                "does). CNN layers compute cross-correlation: multiply each patch by the kernel as it is, unflipped."
            )
        if (
            np.allclose(got, reference_convolve2d(image.T, kernel.T).T, atol=1e-6)
            and kernel.shape[0] == kernel.shape[1]
        ):
            self.fail("The values are transposed: index the image as image[row, column], i.e. image[i:i+kh, j:j+kw].")
        wrong = first_mismatch(got, expected)
        self.fail(
            f"The shape is right but some values are not {where}: at output position {wrong} "
            f"you have {got[wrong]:g}, expected {expected[wrong]:g}. Each value is "
            "np.sum(image[i:i+kh, j:j+kw] * kernel)."
        )


q1 = ShapeAfterConvPool()
q2 = ThreeBlockCNN()
q3 = Convolve2D()
