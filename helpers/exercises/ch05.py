"""Chapter 05 (Transfer learning): find the preprocessing bug from what reaches the model."""

import numpy as np

from helpers.exercises.question import Question

TABLE = "'0-255', '0-1', '-1 to 1' or 'mean subtracted'"
OTHERWISE = f"compare its smallest and largest values with the table: {TABLE}."


def batches() -> dict[str, np.ndarray]:
    """One batch of made-up photos per range, plus a dark and a bright batch, as the check's test cases."""
    rng = np.random.default_rng(5)
    photos = rng.uniform(0, 255, (4, 8, 8, 3)).astype("float32")
    dark, bright = photos * 0.25, 150 + photos * 0.4
    mean = np.array([103.939, 116.779, 123.68], "float32")  # the ImageNet mean, BGR
    return {
        "0-255": photos,
        "0-255 (dark photos)": dark,
        "0-1": photos / 255,
        "0-1 (bright photos)": bright / 255,
        "-1 to 1": photos / 127.5 - 1,
        "-1 to 1 (dark photos)": dark / 127.5 - 1,
        "mean subtracted": photos[..., ::-1] - mean,
        "mean subtracted (dark photos)": dark[..., ::-1] - mean,
    }


class PixelRange(Question):
    chapter, number = "ch05", 1

    def _check(self, pixel_range):
        for name, batch in batches().items():
            truth = name.split(" (")[0]
            got = self.call(pixel_range, batch.copy(), signature="pixel_range(batch)", where=f"on a {name} batch")
            if got != truth:  # the lessons: {what the batch is: {what was answered: the lesson}}
                lessons = self.words["lessons"]  # not a word of the table (None: no `return`; a misspelling): say so
                lesson = lessons[truth].get(got, OTHERWISE) if got in lessons else f"return exactly one of {TABLE}."
                self.fail(f"A {name} batch (values {batch.min():.1f} to {batch.max():.1f}) is not {got!r}: {lesson}")


q1 = PixelRange()
