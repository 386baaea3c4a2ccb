"""Chapter 00 (Start here): the warm-up exercise, a batch of images as one NumPy array."""

from __future__ import annotations

import numpy as np

from helpers.exercises.question import Question, as_array, require_images

SHAPE = (6, 28, 28, 1)  # six grayscale images of 28x28 pixels, channels last
WHITE_PIXEL = (2, 10, 20, 0)  # the third image, row 10, column 20


class GrayscaleBatch(Question):
    chapter, number = "ch00", 1

    def _check(self, batch):
        if isinstance(batch, (list, tuple)) and np.ndim(batch) == 4:
            self.fail("batch is a Python list of lists: make it one NumPy array, np.zeros(shape, dtype='float32').")
        batch = as_array(self, batch, "batch")
        require_images(self, batch, SHAPE, "batch")
        white = [tuple(int(i) for i in index) for index in np.argwhere(batch != 0)]
        if not white:
            self.fail("Every pixel is still black (0): set the pixel in row 10, column 20 of the third image to 1.0.")
        if white == [(3, 10, 20, 0)]:
            self.fail("You lit up the fourth image, batch[3]: Python counts from 0, so the third image is batch[2].")
        if white in ([(2, 9, 19, 0)], [(3, 9, 19, 0)]):
            self.fail(
                "Row 10 and column 20 are already indices, counted from 0 like every NumPy index: use 10 and 20 "
                "as they are. Only 'the third image' is a count, and the third image is index 2."
            )
        if white == [(2, 20, 10, 0)]:
            self.fail("Row and column are swapped: the row (height) comes first, batch[2, 10, 20, 0].")
        if len(white) > 1:
            self.fail(f"{len(white)} pixels are not black; only one should be white. Did you set a whole row or image?")
        if white != [WHITE_PIXEL] or batch[WHITE_PIXEL] != 1.0:
            self.fail(
                f"The lit pixel is at {white[0]} with value {batch[white[0]]}; the exercise asks for 1.0 at {WHITE_PIXEL}."
            )


q1 = GrayscaleBatch()
