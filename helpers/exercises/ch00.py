"""Chapter 00 (Start here): the warm-up exercise."""

from __future__ import annotations

from helpers.exercises.question import ShapeQuestion


class BatchShape(ShapeQuestion):
    chapter, number = "ch00", 1
    title = "The shape of a batch of 16 colour images of 32x32 pixels"
    hints = [
        "Keras puts the batch first and the colour channels last: (batch, height, width, channels).",
        "An RGB image has 3 channels. How many images are in the batch?",
    ]
    correct_message = "(16, 32, 32, 3): batch, height, width, channels. This order is everywhere in the course."
    expected = (16, 32, 32, 3)
    example = "(2, 4, 4, 1)"
    mistakes = {
        (16, 3, 32, 32): "That is the channels-first order PyTorch uses. Keras (and this course) puts channels last: "
        "(batch, height, width, channels).",
    }

    def diagnose(self, shape):
        if len(shape) == 3:
            self.fail(
                f"{shape} has 3 numbers: that is one image. A batch adds a dimension in front for the number of images."
            )
        if len(shape) != 4:
            self.fail(f"{shape} has {len(shape)} dimensions; a batch of colour images has 4.")
        if shape[0] != 16:
            self.fail(f"The first number is the batch size: there are 16 images, not {shape[0]}.")
        if shape[-1] == 1:
            self.fail("The last number is the channel count: a colour (RGB) image has 3 channels, not 1 (grayscale).")
        self.fail(f"{shape} is not it: check height and width (32 each) and the 3 colour channels.")


q1 = BatchShape()
