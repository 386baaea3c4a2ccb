"""Chapter 01 (Image classification and datasets): the three exercises."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from helpers.exercises.question import Question

FASHION_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _axes_with_images(grid: Any) -> list:
    """The Axes of ``grid`` (a Figure, an Axes, or any array/list of Axes) that show an image."""
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if isinstance(grid, Figure):
        axes = grid.axes
    elif isinstance(grid, Axes):
        axes = [grid]
    else:
        try:
            axes = list(np.asarray(grid, dtype=object).ravel())
        except TypeError:
            axes = []
    if not axes or not all(isinstance(ax, Axes) for ax in axes):
        Question.fail(
            f"The grid should be what your plotting code returned: a Figure or an array of Axes; got "
            f"{type(grid).__name__}. `plots.image_grid(...)` returns the array of Axes."
        )
    return [ax for ax in axes if ax.images]


# ---------------------------------------------------------------------------- q1
class FashionShapesAndGrid(Question):
    chapter, number = "ch01", 1
    title = "Fashion-MNIST: the shapes of the four arrays and a grid of the first 10 training images"
    answer_names = ("fashion_shapes", "fashion_grid")
    hints = [
        "Every NumPy array has a `.shape`; collect the four in the order fashion_x_train, fashion_y_train, "
        "fashion_x_test, fashion_y_test.",
        "Fashion-MNIST images are 28x28 grayscale: Keras gives them without a channel axis, and labels as one number each.",
        "For the grid, `plots.image_grid(images[:10], labels[:10], class_names)` titles each image with its class name.",
    ]
    correct_message = (
        "Right: 28x28 grayscale images without a channel axis, one integer label per image, and a grid you can read."
    )

    def _check(self, shapes: Any, grid: Any) -> None:
        self._check_shapes(shapes)
        self._check_grid(grid)

    def _check_shapes(self, shapes: Any) -> None:
        if isinstance(shapes, dict):
            shapes = tuple(shapes.values())
        if not isinstance(shapes, (tuple, list)) or len(shapes) != 4:
            self.fail(
                "fashion_shapes should hold four shapes, in the order train images, train labels, test images, "
                "test labels: (fashion_x_train.shape, fashion_y_train.shape, fashion_x_test.shape, fashion_y_test.shape)."
            )
        if not all(isinstance(s, tuple) for s in shapes):
            self.fail("Each entry should be a shape, i.e. a tuple like fashion_x_train.shape (not the array itself).")
        x_train, y_train, x_test, y_test = shapes
        for name, shape in (("fashion_x_train", x_train), ("fashion_x_test", x_test)):
            if len(shape) == 2 and shape[1] == 784:
                self.fail(f"{name} has shape {shape}: that is flattened. Keras returns images as (n, 28, 28).")
            if len(shape) == 4:
                self.fail(
                    f"{name} has shape {shape}: Keras returns Fashion-MNIST without a channel axis, (n, 28, 28). "
                    "(Adding one is a later step.)"
                )
            if len(shape) != 3 or shape[1:] != (28, 28):
                self.fail(f"{name} should have shape (number of images, 28, 28); you gave {shape}.")
        for name, shape in (("fashion_y_train", y_train), ("fashion_y_test", y_test)):
            if len(shape) != 1:
                self.fail(f"{name} should be one integer per image, shape (n,); you gave {shape}.")
        if x_train[0] != y_train[0] or x_test[0] != y_test[0]:
            self.fail(
                "The training images and labels (and the test images and labels) must have the same number of rows: "
                "one label per image."
            )
        if x_train[0] < x_test[0]:
            self.fail("Your training set is smaller than your test set: did you swap train and test?")

    def _check_grid(self, grid: Any) -> None:
        shown = _axes_with_images(grid)
        if len(shown) != 10:
            self.fail(f"The grid shows {len(shown)} images; show exactly the first 10 (x_train[:10]).")
        for ax in shown:
            size = np.asarray(ax.images[0].get_array()).shape[:2]
            if size != (28, 28):
                self.fail(f"One image in the grid is {size[0]}x{size[1]}; Fashion-MNIST images are 28x28.")
        titles = [ax.get_title() for ax in shown]
        if all(t.isdigit() for t in titles):
            self.fail("The titles are label numbers; pass the class names so that they read 'Sneaker', 'Bag', ...")
        unknown = [t for t in titles if t not in FASHION_NAMES]
        if unknown:
            self.fail(f"Title {unknown[0]!r} is not a Fashion-MNIST class name; title each image with its class name.")


# ---------------------------------------------------------------------------- q2
class Cifar10Counts(Question):
    chapter, number = "ch01", 2
    title = "CIFAR-10: images per class, as numbers and as a bar chart"
    answer_names = ("cifar_counts", "cifar_chart")
    hints = [
        "Keras gives CIFAR-10 labels with shape (n, 1): flatten them with `.ravel()` first.",
        "`np.bincount(labels, minlength=10)` counts how often each class index occurs.",
        "`plots.class_distribution(labels, class_names)` (or `ax.bar(class_names, counts)`) draws the chart.",
    ]
    correct_message = "Right."

    def _check(self, counts: Any, chart: Any, labels: Any = None) -> str:
        if labels is None:
            self.fail(
                "Pass the training labels too: ch01.q2.check(cifar_counts, cifar_chart, labels=cifar_train_labels)."
            )
        expected = np.bincount(np.asarray(labels).ravel(), minlength=10)
        counts = np.asarray(counts)
        if counts.ndim != 1 or len(counts) != 10:
            self.fail(f"cifar_counts should be 10 numbers, one per class; it has shape {counts.shape}.")
        if np.issubdtype(counts.dtype, np.floating) and counts.sum() <= 1.0001:
            self.fail("These look like fractions; count images (whole numbers) instead, e.g. with np.bincount.")
        if counts.sum() != expected.sum():
            self.fail(
                f"Your counts add up to {int(counts.sum()):,}, but there are {int(expected.sum()):,} training labels. "
                "Count all of cifar_train_labels (and not the test labels)."
            )
        if not np.array_equal(counts, expected):
            self.fail("The total is right but some classes are off: are the counts in class order 0..9?")
        bars = self._bars(chart)
        heights = np.array([bar.get_height() for bar in bars])
        if len(heights) != 10 or not np.allclose(heights, expected):
            self.fail(
                f"The chart has {len(heights)} bars with heights {heights.tolist()[:4]}...; draw one bar per class count."
            )
        ax = bars[0].axes
        labels_shown = {t.get_text() for t in ax.get_xticklabels()}
        if not set(CIFAR10_NAMES) <= labels_shown:
            self.fail("Label the bars with the class names (airplane, automobile, ...) so that the chart can be read.")
        if len(set(expected.tolist())) == 1:
            return f"Right: every class has {expected[0]:,} images, so this set is perfectly balanced."
        return (
            f"Right: your counts run from {expected.min():,} to {expected.max():,}. (The real CIFAR-10 training set is "
            "perfectly balanced, 5,000 images per class; these labels are not, so you are on a subset or a stand-in.)"
        )

    def _bars(self, chart: Any):
        from matplotlib.axes import Axes
        from matplotlib.container import BarContainer

        if isinstance(chart, Axes):
            containers = [c for c in chart.containers if isinstance(c, BarContainer)]
            if not containers:
                self.fail("That Axes has no bars on it: draw a bar chart (ax.bar or plots.class_distribution).")
            chart = containers[0]
        if not isinstance(chart, BarContainer):
            self.fail(
                f"cifar_chart should be the bars you drew (what ax.bar or plots.class_distribution returns), "
                f"got {type(chart).__name__}."
            )
        return list(chart)


# ---------------------------------------------------------------------------- q3
class LoadFolder128(Question):
    chapter, number = "ch01", 3
    title = "A class-folder loader at 128x128 that crops instead of squashing, normalised to [0, 1]"
    hints = [
        "Start from the loop of `load_image_folder` above: the same walk over the class folders skips hidden "
        "entries and non-image files, and its try/except reports bad files.",
        "The largest centred square of an image of size (w, h) has side s = min(w, h) and starts at "
        "left = (w - s) // 2, top = (h - s) // 2: image.crop((left, top, left + s, top + s)).",
        "Resize the square with .resize((128, 128)), stack the arrays, then .astype('float32') / 255.0.",
        "Return three things: images (n, 128, 128, 3) float32 in [0, 1], integer labels, and the class names.",
    ]
    correct_message = (
        "Right: your loader crops instead of squashing, skips hidden and broken files, and returns model-ready arrays."
    )

    def _check(self, answer: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            folder = _tiny_folder(Path(tmp))
            result = self.call(
                answer,
                folder,
                signature="load_folder_128(folder)",
                where="on a test folder with a broken JPEG, a text file and an .ipynb_checkpoints folder",
                explain=lambda exc: "Skip and report unreadable files instead of stopping.",
            )
        if result is None:
            self.fail("Your function returns nothing (None): finish it with `return images, labels, class_names`.")
        if not isinstance(result, tuple) or len(result) != 3:
            self.fail("Return three things: (images, labels, class_names).")
        images, labels, names = result
        images, labels = np.asarray(images), np.asarray(labels)
        if list(names) != ["cats", "dogs"]:
            self.fail(
                f"The class names should be the visible folder names in sorted order, ['cats', 'dogs']; got {list(names)}. "
                "Hidden folders like .ipynb_checkpoints are not classes."
            )
        if len(images) == GOOD_IMAGES + 1:
            self.fail(
                f"You loaded {len(images)} images, but one of them is a copy inside .ipynb_checkpoints: skip hidden folders."
            )
        if len(images) != GOOD_IMAGES:
            self.fail(
                f"The test folder has {GOOD_IMAGES} good images (and one broken one); you returned {len(images)}."
            )
        if images.shape != (GOOD_IMAGES, 128, 128, 3):
            self.fail(f"images should have shape (n, 128, 128, 3); got {images.shape}. Resize every image, keep RGB.")
        if images.dtype != np.float32:
            self.fail(f"images should be float32 (what Keras layers expect), not {images.dtype}.")
        if images.max() > 1.0 or images.min() < 0.0:
            self.fail(
                f"Pixel values run from {images.min():.0f} to {images.max():.0f}: normalise to [0, 1] (divide by 255)."
            )
        if images.max() < 0.5:
            self.fail("All pixels are dark (below 0.5): did you divide by 255 twice?")
        if sorted(labels.tolist()) != [0, 0, 1, 1, 1]:
            self.fail(f"labels should be 0 for the two cats and 1 for the three dogs; got {labels.tolist()}.")
        wide = [image for image in images if image[64, 64, 2] > 0.8 and image[64, 64, 0] < 0.2]  # blue centre
        if not wide:
            self.fail("The wide test image (red edges, blue centre) is missing or lost its colours.")
        if wide[0][64, 2, 0] > 0.5:
            self.fail(
                "The wide test image (300x100: red, blue, red) still shows red at its left edge: it was squashed. "
                "Crop the centred square (100x100, all blue) first, then resize it."
            )
        if wide[0][64, 2, 2] < 0.8:
            self.fail("The wide test image should be all blue after cropping its centred square; check the crop box.")


GOOD_IMAGES = 5


def _tiny_folder(root: Path) -> Path:
    """Two classes with good images (different sizes and modes, one wide), plus the usual traps."""
    from PIL import Image

    folder = root / "pets"
    for name in ("cats", "dogs", "cats/.ipynb_checkpoints"):
        (folder / name).mkdir(parents=True)
    Image.new("RGB", (60, 40), (250, 200, 10)).save(folder / "cats" / "a.jpg")
    Image.new("L", (30, 30), 240).save(folder / "cats" / "b.png")
    Image.new("RGBA", (200, 150), (20, 240, 20, 255)).save(folder / "dogs" / "c.png")
    Image.new("RGB", (128, 128), (230, 30, 30)).save(folder / "dogs" / "d.jpg")
    wide = Image.new("RGB", (300, 100), (255, 0, 0))
    wide.paste((0, 0, 255), (100, 0, 200, 100))
    wide.save(folder / "dogs" / "wide.png")
    Image.new("RGB", (10, 10)).save(folder / "cats" / ".ipynb_checkpoints" / "a-checkpoint.jpg")
    (folder / "dogs" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    (folder / "dogs" / "notes.txt").write_text("good dogs")
    return folder


q1 = FashionShapesAndGrid()
q2 = Cifar10Counts()
q3 = LoadFolder128()
