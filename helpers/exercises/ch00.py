"""Chapter 00 (Start here): the warm-up exercise."""

from __future__ import annotations

from helpers.exercises.question import Question


class BatchShape(Question):
    chapter, number = "ch00", 1
    title = "The shape of a batch of 16 colour images of 32x32 pixels"
    hints = [
        "Keras puts the batch first and the colour channels last: (batch, height, width, channels).",
        "An RGB image has 3 channels. How many images are in the batch?",
    ]
    correct_message = "(16, 32, 32, 3): batch, height, width, channels. This order is everywhere in the course."

    def _check(self, answer):
        if not isinstance(answer, (tuple, list)):
            self.fail(f"Give the shape as a tuple of whole numbers, like (2, 4, 4, 1); you gave a {type(answer).__name__}.")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in answer):
            self.fail(f"Every entry of a shape is a whole number; {tuple(answer)!r} has something else in it.")
        answer = tuple(answer)
        if answer == (16, 32, 32, 3):
            return None
        if len(answer) == 3:
            self.fail(
                f"{answer} has 3 numbers: that is one image. A batch adds a dimension in front for the number of images."
            )
        if len(answer) != 4:
            self.fail(f"{answer} has {len(answer)} dimensions; a batch of colour images has 4.")
        if answer == (16, 3, 32, 32):
            self.fail(
                "That is the channels-first order PyTorch uses. Keras (and this course) puts channels last: "
                "(batch, height, width, channels)."
            )
        if answer[0] != 16:
            self.fail(f"The first number is the batch size: there are 16 images, not {answer[0]}.")
        if answer[-1] == 1:
            self.fail("The last number is the channel count: a colour (RGB) image has 3 channels, not 1 (grayscale).")
        self.fail(f"{answer} is not it: check height and width (32 each) and the 3 colour channels.")


q1 = BatchShape()
