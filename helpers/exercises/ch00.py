"""Chapter 00 (Start here): the warm-up exercise, a batch of images as one NumPy array."""

import numpy as np

from helpers.exercises.question import Question, as_array, require_images

SHAPE = (6, 28, 28, 1)  # six grayscale images of 28x28 pixels, channels last
WHITE_PIXEL = (2, 10, 20, 0)  # the third image, row 10, column 20


class GrayscaleBatch(Question):
    chapter, number = "ch00", 1

    def _check(self, batch):
        batch = as_array(self, batch, "batch")
        require_images(self, batch, SHAPE, "batch")
        white = [tuple(int(i) for i in index) for index in np.argwhere(batch != 0)]
        if not white:
            self.fail("Every pixel is still black (0): set the pixel in row 10, column 20 of the third image to 1.0.")
        if white in ([(3, 10, 20, 0)], [(2, 9, 19, 0)], [(3, 9, 19, 0)]):  # the fourth image, or row 9, column 19
            self.fail(
                f"You lit up batch[{', '.join(map(str, white[0]))}]. Python counts from 0: the third image is "
                "batch[2], and row 10 and column 20 are already indices, to use as they are: batch[2, 10, 20, 0]."
            )
        if white == [(2, 20, 10, 0)]:
            self.fail("Row and column are swapped: the row (height) comes first, batch[2, 10, 20, 0].")
        if white != [WHITE_PIXEL] or batch[WHITE_PIXEL] != 1.0:
            self.fail(
                f"{len(white)} pixel(s) of your batch are not black, the first at {white[0]} with value "
                f"{batch[white[0]]}; the exercise asks for exactly one, 1.0 at {WHITE_PIXEL}."
            )


q1 = GrayscaleBatch()
