"""Chapter 01 (Image classification and datasets): the three exercises."""

import contextlib
import io
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from helpers.exercises.question import Question, as_array, require_images


def model_ready(question: Question, images: np.ndarray, shape: tuple, name: str) -> None:
    """Fail unless ``images`` has ``shape``, dtype float32 and pixels in [0, 1] (what q1 and q3 both ask)."""
    require_images(question, images, shape, name)
    if images.max() > 1.0:  # raw pixels, or standardised ones (negative too)
        question.fail(f"The pixels of {name} run from {images.min():.3g} to {images.max():.3g}: divide by 255.")
    if 0 < images.max() <= 1 / 255 + 1e-6:
        question.fail(f"The pixels of {name} run up to only {images.max():.4f}: you divided by 255 twice.")


class ModelReady(Question):
    chapter, number = "ch01", 1

    def _check(self, ready: Any, raw: Any = None) -> None:
        if raw is None:
            self.fail("Pass the raw images too: ch01.q1.check(fashion_ready, raw=fashion_x_train).")
        ready, raw = as_array(self, ready, "fashion_ready"), np.asarray(raw)
        model_ready(self, ready, (len(raw), 28, 28, 1), "fashion_ready")
        got, pixels = ready[:200].ravel(), raw[:200].ravel()  # the first 200 images are enough to compare
        wrong = np.flatnonzero(~np.isclose(got, pixels.astype(np.float32) / 255.0, atol=1e-6))
        if len(wrong):  # the fallback: one pixel that is off, with the value it should have
            self.fail(
                f"fashion_ready should be fashion_x_train / 255, in order: where a raw pixel is {pixels[wrong[0]]:g}, "
                f"expect {pixels[wrong[0]] / 255:.4f}; yours is {got[wrong[0]]:.4f}. (Give raw= the untouched images.)"
            )


class BalancedSubset(Question):
    chapter, number = "ch01", 2

    def _check(self, answer: Any) -> None:
        rng = np.random.default_rng(4)
        ten = rng.permutation(np.repeat(np.arange(10), rng.integers(30, 60, size=10))).reshape(-1, 1)
        twelve = rng.permutation(np.repeat(np.arange(12), 8))  # flat, as MNIST's; CIFAR-100 has 100 classes, not 10
        for labels, per_class, n_classes in ((ten, 5, 10), (ten, 30, 10), (twelve, 8, 12)):  # 8: just enough
            at = f"on {labels.shape} labels, {min(np.bincount(labels.ravel()))} in the smallest class, {per_class=}"
            got = self.call(answer, labels.copy(), per_class, signature="balanced_subset(labels, per_class)", where=at)
            if np.asarray(got).dtype.kind not in "iu":  # a mask of True/False, None (no `return`), floats
                self.fail(f"Return the positions as whole numbers (a mask: np.flatnonzero(mask)); yours: {got!r:.60}.")
            counts = np.bincount(labels.ravel()[np.ravel(got)], minlength=n_classes)  # an IndexError for non-indices
            if np.ndim(got) != 1 or len(np.unique(got)) < np.size(got) or not (counts == per_class).all():
                self.fail(  # wrong counts per class, and the fallback for any other mistake in the result
                    f"With per_class={per_class}, expected one flat array of {n_classes * per_class} different "
                    f"positions, {per_class} of each of the {n_classes} classes in labels (np.unique); yours has shape "
                    f"{np.shape(got)}, {len(np.unique(got))} different numbers, and picks {counts.tolist()} per class."
                )
        short = np.repeat(np.arange(10), [6] * 7 + [3] + [6] * 2).reshape(-1, 1)  # class 7 has 3 images
        said = "returned a smaller subset"
        try:
            answer(short, 4)
        except Exception as error:  # the learner's code may raise anything
            if isinstance(error, ValueError) and re.search(r"\b7\b", str(error)):
                return
            said = f"raised {type(error).__name__}: {error}"
        self.fail(f"Class 7 has only 3 images and per_class is 4: raise a ValueError that names class 7; yours {said}.")


class LoadFolder128(Question):
    chapter, number = "ch01", 3

    def _check(self, answer: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            with contextlib.redirect_stdout(io.StringIO()) as report, warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                images, labels, names = self.call(
                    answer,
                    _tiny_folder(Path(tmp)),
                    signature="load_folder_128(folder)",
                    where="on a test folder with RGB, L and RGBA images, a broken JPEG, a text file, a hidden folder",
                    explain={"file": "Skip and report bad files.", "shape": "Resize to 128x128 and .convert('RGB')."},
                )
        images, labels = np.asarray(images), np.asarray(labels)
        if list(names) != ["cats", "dogs"]:
            self.fail(f"The class names should be ['cats', 'dogs']; got {list(names)}. Hidden folders are not classes.")
        if sorted(labels.tolist()) != [0, 0, 1] or len(images) != 3:
            self.fail(  # the fallback for what was loaded
                "Expected 3 images with labels [0, 0, 1] (2 in cats/, 1 in dogs/; skip the broken JPEG, the text file "
                f"and the hidden .ipynb_checkpoints): yours are {len(images)}, labels {sorted(labels.tolist())}."
            )
        model_ready(self, images, (3, 128, 128, 3), "images")
        edges = [image[64, 2] for image in images if image[64, 64, 2] > 0.8 and image[64, 64, 0] < 0.2]  # blue centre
        if edges and edges[0][0] > 0.5:
            self.fail("The wide test image (red, blue, red) still has red at its left edge: squashed, not cropped.")
        if not edges or edges[0][2] < 0.8:  # the fallback for the crop
            self.fail(
                "The wide test image (300x100: red, blue, red) should come out all blue, its centred square; none of "
                "yours is. For a (w, h) image, s = min(w, h), left = (w - s) // 2 and top = (h - s) // 2."
            )
        if "broken.jpg" not in report.getvalue() + " ".join(str(w.message) for w in caught):
            self.fail("broken.jpg was skipped without a word: print (or warn) its name so that its owner can fix it.")


def _tiny_folder(root: Path) -> Path:
    """Two classes with good images (different sizes and modes, one wide), plus the usual traps (hidden folders too)."""
    folder = root / "pets"
    for name in ("cats/.ipynb_checkpoints", "dogs", ".ipynb_checkpoints"):
        (folder / name).mkdir(parents=True)
    Image.new("RGB", (60, 40), (250, 200, 10)).save(folder / "cats" / "a.jpg")
    Image.new("L", (30, 30), 240).save(folder / "cats" / "b.png")
    wide = Image.new("RGBA", (300, 100), (255, 0, 0, 255))
    wide.paste((0, 0, 255, 255), (100, 0, 200, 100))
    wide.save(folder / "dogs" / "wide.png")
    Image.new("RGB", (10, 10)).save(folder / "cats" / ".ipynb_checkpoints" / "a-checkpoint.jpg")
    (folder / "dogs" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    (folder / "dogs" / "notes.txt").write_text("good dogs")
    return folder


q1 = ModelReady()
q2 = BalancedSubset()
q3 = LoadFolder128()
