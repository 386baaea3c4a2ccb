"""Chapter 01 (Image classification and datasets): the three exercises."""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from helpers.exercises.question import Question, as_array, require_images


def model_ready(question: Question, images: np.ndarray, shape: tuple, name: str) -> None:
    """Fail unless ``images`` has ``shape``, dtype float32 and pixels in [0, 1] (what q1 and q3 both ask)."""
    if np.issubdtype(images.dtype, np.integer) and images.max() > 1:
        question.fail(
            f"{name} still holds whole-number pixels ({images.dtype}, 0 to {images.max()}): convert and scale them, "
            ".astype('float32') / 255.0."
        )
    require_images(question, images, shape, name)
    if images.max() > 1.0 or images.min() < 0.0:
        question.fail(f"The pixels of {name} run from {images.min():.0f} to {images.max():.0f}: divide by 255.")
    if 0 < images.max() <= 1 / 255 + 1e-6:
        question.fail(f"The pixels of {name} run up to only {images.max():.4f}: you divided by 255 twice.")


# ---------------------------------------------------------------------------- q1
class ModelReady(Question):
    chapter, number = "ch01", 1

    def _check(self, ready: Any, raw: Any = None) -> None:
        if raw is None:
            self.fail("Pass the raw images too: ch01.q1.check(fashion_ready, raw=fashion_x_train).")
        ready, raw, n = as_array(self, ready, "fashion_ready"), np.asarray(raw), len(raw)
        if raw.ndim != 3 or raw.max() <= 1:
            self.fail(
                f"raw= should be the untouched fashion_x_train (n, 28, 28), pixels 0 to 255; it has shape {raw.shape} "
                f"and values up to {raw.max():g}. Did you change fashion_x_train itself? Load it again with the cell above."
            )
        model_ready(self, ready, (n, 28, 28, 1), "fashion_ready")
        sample = np.random.default_rng(1).choice(n, size=min(n, 200), replace=False)
        got, expected = ready[sample], raw[sample].astype(np.float32)[..., np.newaxis] / 255.0
        if not np.allclose(got, expected, atol=1e-6):
            scale = float(np.sum(got * expected) / max(float(np.sum(expected**2)), 1e-12))
            if not np.isclose(scale, 1.0, atol=1e-4) and np.allclose(got, scale * expected, atol=1e-5):
                self.fail(
                    f"Your pixels are the original ones divided by {255 / scale:.4g}: divide by 255, the largest "
                    "value a uint8 pixel can hold, so that white becomes exactly 1.0."
                )
            self.fail(
                "The values are not the original pixels / 255 in the original order: divide every image by the same "
                "255 and keep the images in their order."
            )


# ---------------------------------------------------------------------------- q2
class BalancedSubset(Question):
    chapter, number = "ch01", 2

    def _check(self, answer: Any) -> None:
        rng = np.random.default_rng(4)
        ten = rng.permutation(np.repeat(np.arange(10), rng.integers(30, 60, size=10))).reshape(-1, 1)
        twelve = rng.permutation(np.repeat(np.arange(12), 8)).reshape(-1, 1)  # CIFAR-100 has 100 classes, not 10
        for labels, per_class in ((ten, 5), (ten, 30), (twelve, 5)):
            n_classes = len(np.unique(labels))
            got = self.call(answer, labels.copy(), per_class, signature="balanced_subset(labels, per_class)")
            got = as_array(self, got, "The result of balanced_subset")
            if got.dtype == bool:
                self.fail("You returned a mask of True/False; return the indices: np.flatnonzero(mask).")
            if got.ndim != 1 or not np.issubdtype(got.dtype, np.integer):
                self.fail(
                    f"Return one flat array of whole-number indices; yours has shape {got.shape} and dtype {got.dtype}."
                )
            if len(np.unique(got)) < len(got):
                self.fail("Some indices repeat: pick each image once (no sampling with replacement, no class numbers).")
            if got.min(initial=0) < 0 or got.max(initial=0) >= len(labels):
                self.fail(f"Your indices run from {got.min()} to {got.max()}; there are only {len(labels)} labels.")
            counts = np.bincount(labels.ravel()[got], minlength=n_classes)
            if not (counts == per_class).all():
                c = int(np.argmax(counts != per_class))
                many = (
                    f" These labels have {n_classes} classes: take the classes from the labels (np.unique), not range(10)."
                    if c >= 10
                    else ""
                )
                self.fail(
                    f"With per_class={per_class}, class {c} has {counts[c]} images in your subset: take {per_class} of each.{many}"
                )
        short = np.repeat(np.arange(10), [6] * 7 + [3] + [6] * 2).reshape(-1, 1)  # class 7 has 3 images
        try:
            answer(short, 4)
        except ValueError as error:
            if not re.search(r"(?<!\d)7(?!\d)", str(error)):
                self.fail(f"Your ValueError says {str(error)!r}: name the class that is short (class 7 here).")
            return
        except Exception as error:
            self.fail(f"A class with too few images raised {type(error).__name__}; raise a ValueError that names it.")
        self.fail("Class 7 has only 3 images and per_class is 4: raise a ValueError naming it, not a smaller subset.")


# ---------------------------------------------------------------------------- q3
class LoadFolder128(Question):
    chapter, number = "ch01", 3

    def _check(self, answer: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            folder = _tiny_folder(Path(tmp))
            report = io.StringIO()
            with contextlib.redirect_stdout(report), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = self.call(
                    answer,
                    folder,
                    signature="load_folder_128(folder)",
                    where="on a test folder with a broken JPEG, a text file and an .ipynb_checkpoints folder",
                    explain=LOADER_ERRORS,
                )
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            got = "nothing (None)" if result is None else f"a {type(result).__name__}"
            self.fail(
                f"Finish your function with `return images, labels, class_names`, three things; it returns {got}."
            )
        images, labels, names = result
        images, labels = np.asarray(images), np.asarray(labels)
        if list(names) != ["cats", "dogs"]:
            self.fail(
                f"The class names should be the visible folder names in sorted order, ['cats', 'dogs']; got {list(names)}. "
                "Hidden folders like .ipynb_checkpoints are not classes."
            )
        if len(images) != GOOD_IMAGES:
            self.fail(
                f"The test folder has {GOOD_IMAGES} good images, one broken one and a copy inside .ipynb_checkpoints (a "
                f"hidden folder: skip it); you returned {len(images)}."
            )
        model_ready(self, images, (GOOD_IMAGES, 128, 128, 3), "images")
        if sorted(labels.tolist()) != [0, 0, 1, 1, 1]:
            self.fail(f"labels should be 0 for the two cats and 1 for the three dogs; got {labels.tolist()}.")
        wide = [image for image in images if image[64, 64, 2] > 0.8 and image[64, 64, 0] < 0.2]  # blue centre
        if not wide:
            pure_red = [image for image in images if image[64, 64, 0] > 0.95 and image[64, 64, 1:].max() < 0.06]
            if pure_red:  # only the wide PNG is pure red: its left end
                self.fail(
                    "The wide test image (300x100: red, blue, red) came out all red: your square was cut from its "
                    "left end, not its centre. Start it at left = (w - s) // 2, top = (h - s) // 2."
                )
            if any((image.max(axis=-1) == 0).mean() > 0.25 for image in images):
                self.fail(
                    "Some of your images are partly black: the crop box runs outside the image. For a (w, h) image, "
                    "left = (w - s) // 2 comes from the width and top = (h - s) // 2 from the height."
                )
            self.fail("The wide test image (red edges, blue centre) is missing or lost its colours.")
        if wide[0][64, 2, 0] > 0.5:
            self.fail(
                "The wide test image (300x100: red, blue, red) still shows red at its left edge: it was squashed. "
                "Crop the centred square (100x100, all blue) first, then resize it."
            )
        if wide[0][64, 2, 2] < 0.8:
            self.fail("The wide test image should be all blue after cropping its centred square; check the crop box.")
        said = report.getvalue() + " ".join(str(w.message) for w in caught)
        if "broken.jpg" not in said:
            self.fail("broken.jpg was skipped without a word: print (or warn) its name so that its owner can fix it.")


GOOD_IMAGES = 5


_NOT_STACKED = (
    "The images did not stack into one array: they have different shapes. A grayscale (L) image has one "
    "channel and an RGBA one four: convert('RGB') every image, and resize each to 128x128, before stacking."
)
LOADER_ERRORS = {  # a hint for an exception of the learner's loader, by a piece of its message ("" matches any)
    "same shape": _NOT_STACKED,
    "broadcast": _NOT_STACKED,
    "": "Skip and report unreadable files instead of stopping.",
}


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


q1 = ModelReady()
q2 = BalancedSubset()
q3 = LoadFolder128()
