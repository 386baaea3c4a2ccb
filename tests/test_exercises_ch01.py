"""Each chapter-01 check accepts a right answer and explains typical wrong ones."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from helpers.exercises import ch01
from tools.testing import ROOT, notebook_functions

CHAPTER_01 = notebook_functions(ROOT / "solutions" / "01_datasets.ipynb", "load_image_folder")  # the taught loader

RAW = np.random.default_rng(0).integers(0, 256, (300, 28, 28), dtype=np.uint8)
RAW[0, 0, 0] = 255


def assert_verdict(question, answer, status, fragment="", **kwargs):
    verdict = question.verdict(answer, **kwargs)
    assert verdict.status == status, verdict.message
    assert fragment in verdict.message, verdict.message
    return verdict


# ----------------------------------------------------------------------------- q1
def test_q1_right_answer_and_not_attempted():
    assert_verdict(ch01.q1, np.expand_dims(RAW, -1).astype("float32") / 255, "correct", "float32", raw=RAW)
    assert_verdict(ch01.q1, ..., "not attempted", raw=RAW)
    assert_verdict(ch01.q1, RAW[..., None] / 255, "incorrect", "raw=fashion_x_train")


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: RAW.astype("float32") / 255, "without a channel axis"),
        (lambda: RAW[:, None].astype("float32") / 255, "channels last"),
        (lambda: RAW.reshape(300, 784).astype("float32") / 255, "unflattened"),
        (lambda: RAW[:100, ..., None].astype("float32") / 255, "expected (300, 28, 28, 1)"),
        (lambda: RAW[..., None] / 255.0, "float64"),
        (lambda: RAW[..., None] // 255, "uint8 whole numbers"),
        (lambda: RAW[..., None].astype("float32"), "divide by 255"),
        (lambda: RAW[..., None].astype("float32") / 255 / 255, "divided by 255 twice"),
        (  # the fallback names the first pixel that is off
            lambda: RAW[::-1, ..., None].astype("float32") / 255,
            f"where a raw pixel is 255, expect 1.0000; yours is {RAW[-1, 0, 0] / 255:.4f}",
        ),
        (lambda: RAW[..., None].astype("float32") / 256, "where a raw pixel is 255, expect 1.0000; yours is 0.9961"),
        (lambda: RAW[..., None].astype("float16") / 255, "float16. Keras works in float32"),
        (lambda: RAW[..., None], "fashion_ready holds uint8 whole numbers"),
        (  # standardised instead of scaled: the range, negative part included
            lambda: ((RAW[..., None] - 127.5) / 127.5 * 2).astype("float32"),
            "run from -2 to 2: divide by 255",
        ),
    ],
)
def test_q1_typical_wrong_answers(make, fragment):
    assert_verdict(ch01.q1, make(), "incorrect", fragment, raw=RAW)


def test_q1_raw_must_be_the_untouched_images():
    ready = RAW[..., None].astype("float32") / 255
    assert_verdict(ch01.q1, ready, "incorrect", "raw pixel is 1, expect 0.0039; yours is 1.0000", raw=ready)
    assert_verdict(ch01.q1, ready, "incorrect", "Give raw= the untouched images", raw=RAW / 255)


# ----------------------------------------------------------------------------- q2
def first_of_each(labels, per_class):
    """A right answer: the first per_class positions of every class."""
    labels = np.asarray(labels).ravel()
    kept = []
    for c in np.unique(labels):
        positions = np.flatnonzero(labels == c)
        if len(positions) < per_class:
            raise ValueError(f"class {c} has only {len(positions)} images")
        kept.append(positions[:per_class])
    return np.concatenate(kept)


def random_of_each(labels, per_class):
    """Another right answer: a seeded random choice in every class, in any order."""
    counts = np.bincount(labels.ravel())
    if counts.min() < per_class:
        raise ValueError(f"class {int(counts.argmin())} is short")
    rng = np.random.default_rng(0)
    picked = [rng.choice(np.flatnonzero(labels.ravel() == c), per_class, replace=False) for c in np.unique(labels)]
    return np.concatenate(picked)


def test_q2_right_answers():
    assert_verdict(ch01.q2, first_of_each, "correct", "clear error")
    assert_verdict(ch01.q2, random_of_each, "correct")
    assert_verdict(ch01.q2, ..., "not attempted")


def silent_when_short(labels, per_class):
    labels = np.asarray(labels).ravel()
    return np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)])


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda labels, per_class: np.isin(np.arange(len(labels)), first_of_each(labels, per_class)), "mask"),
        (lambda labels, per_class: np.stack(np.split(first_of_each(labels, per_class), 10)), "shape (10, 5)"),
        (lambda labels, per_class: np.repeat(np.arange(10), per_class), "50 different positions, 5 of each of the 10 "),
        (lambda labels, per_class: np.repeat(np.arange(10), per_class), "(50,), 10 different numbers"),
        (lambda labels, per_class: np.arange(10 * per_class), "(50,), 50 different numbers, and picks ["),
        (lambda labels, per_class: first_of_each(labels, per_class) + 1000, "IndexError: index 10"),
        (silent_when_short, "names class 7; yours returned a smaller subset"),
        (
            lambda labels, per_class: first_of_each(labels, max(per_class, 5)) if per_class != 4 else 1 / 0,
            "yours raised ZeroDivisionError",
        ),
        (lambda labels: None, "balanced_subset(labels, per_class)"),
        (lambda labels, per_class: None, "whole numbers (a mask: np.flatnonzero(mask)); yours: None."),
        (lambda labels, per_class: first_of_each(labels, per_class) * 1.0, "whole numbers"),
    ],
)
def test_q2_typical_wrong_answers(answer, fragment):
    assert_verdict(ch01.q2, answer, "incorrect", fragment)


def test_q2_error_must_name_the_short_class():
    def vague(labels, per_class):
        if per_class == 4:
            raise ValueError("not enough images")
        return first_of_each(labels, per_class)

    def counts_the_labels(labels, per_class):  # "57" is not class 7
        if per_class == 4:
            raise ValueError(f"not enough images among the {len(labels)} labels")
        return first_of_each(labels, per_class)

    assert_verdict(ch01.q2, vague, "incorrect", "yours raised ValueError: not enough images")
    assert_verdict(ch01.q2, counts_the_labels, "incorrect", "among the 57 labels")


def test_q2_a_class_with_exactly_per_class_images_is_enough():
    def raises_at_equal(labels, per_class):  # <= where < belongs
        counts = np.bincount(np.ravel(labels))
        if counts.min() <= per_class:
            raise ValueError(f"class {int(counts.argmin())} is too small")
        return first_of_each(labels, per_class)

    assert_verdict(
        ch01.q2,
        raises_at_equal,
        "incorrect",
        "raised ValueError: class 0 is too small (on (96,) labels, 8 in the smallest class, per_class=8)",
    )


def test_q2_flat_labels_too():
    def columns_only(labels, per_class):  # CIFAR's (n, 1) labels only; MNIST's are flat
        return first_of_each(labels[:, 0], per_class)

    assert_verdict(ch01.q2, columns_only, "incorrect", "raised IndexError: too many indices for array")
    assert_verdict(ch01.q2, columns_only, "incorrect", "(on (96,) labels, 8 in the smallest class, per_class=8)")


def test_q2_classes_come_from_the_labels():
    def ten_classes(labels, per_class):
        labels = np.asarray(labels).ravel()
        kept = []
        for c in range(10):
            positions = np.flatnonzero(labels == c)
            if len(positions) < per_class:
                raise ValueError(f"class {c} has only {len(positions)} images")
            kept.append(positions[:per_class])
        return np.concatenate(kept)

    assert_verdict(ch01.q2, ten_classes, "incorrect", "8 of each of the 12 classes")
    assert_verdict(ch01.q2, ten_classes, "incorrect", "picks [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 0, 0] per class")


# ----------------------------------------------------------------------------- q3
def loader(square=lambda image: ImageOps.fit(image, (128, 128)), rgb=True):
    """A right answer, the notebook's written differently (ImageOps.fit crops the centred square and resizes it),
    or the same with another ``square`` crop or without convert('RGB')."""

    def load(folder):
        folder = Path(folder)
        names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        images, labels = [], []
        for label, name in enumerate(names):
            for path in sorted((folder / name).iterdir()):
                if path.name.startswith(".") or path.suffix.lower() not in {".jpg", ".png"}:
                    continue
                try:
                    with Image.open(path) as image:
                        images.append(np.asarray(square(image.convert("RGB") if rgb else image), np.float32) / 255)
                except OSError as error:
                    print("skipped", path.name, error)
                    continue
                labels.append(label)
        return np.stack(images), np.array(labels), names

    return load


def boxed(box):
    """A square crop whose top-left corner is ``box(width, height, side)``, resized to 128x128."""

    def square(image):
        side = min(image.size)
        left, top = box(image.width, image.height, side)
        return image.crop((left, top, left + side, top + side)).resize((128, 128))

    return square


reference_loader = loader()


def squashing_loader(folder):
    images, labels, class_names = CHAPTER_01.load_image_folder(folder, image_size=(128, 128))
    return images.astype("float32") / 255.0, labels, class_names


def test_q3_right_answer():
    assert_verdict(ch01.q3, reference_loader, "correct", "skips hidden")
    assert_verdict(ch01.q3, ..., "not attempted")


def test_q3_typical_wrong_answers():
    def not_normalised(folder):
        images, labels, names = reference_loader(folder)
        return images * 255, labels, names

    def wrong_size(folder):
        images, labels, names = reference_loader(folder)
        return images[:, :64, :64], labels, names

    def crashes_on_bad_files(folder):
        for path in sorted(Path(folder).rglob("*.jpg")):
            Image.open(path).load()

    def walks_everything(folder):
        import os

        images, labels = [], []
        names = sorted(d for d in os.listdir(folder) if not d.startswith("."))
        for label, name in enumerate(names):
            for root, _, files in os.walk(Path(folder) / name):
                for f in files:
                    try:
                        image = ImageOps.fit(Image.open(Path(root) / f).convert("RGB"), (128, 128))
                    except OSError:
                        continue
                    images.append(np.asarray(image, np.float32) / 255)
                    labels.append(label)
        return np.stack(images), np.array(labels), names

    def hidden_classes(folder):
        images, labels, _ = reference_loader(folder)
        return images, labels, sorted(path.name for path in Path(folder).iterdir() if path.is_dir())

    def silent(folder):
        with contextlib.redirect_stdout(io.StringIO()):
            return reference_loader(folder)

    assert_verdict(ch01.q3, silent, "incorrect", "broken.jpg was skipped without a word")
    assert_verdict(ch01.q3, squashing_loader, "incorrect", "squashed")
    assert_verdict(ch01.q3, not_normalised, "incorrect", "divide by 255")
    assert_verdict(ch01.q3, wrong_size, "incorrect", "expected (3, 128, 128, 3)")
    assert_verdict(ch01.q3, crashes_on_bad_files, "incorrect", "Skip and report bad files.")
    no_resize = "all input arrays must have the same shape (on a test folder"
    assert_verdict(ch01.q3, loader(square=lambda image: image), "incorrect", no_resize)
    assert_verdict(ch01.q3, loader(square=lambda image: image), "incorrect", "Resize to 128x128 and .convert('RGB')")
    assert_verdict(ch01.q3, walks_everything, "incorrect", "yours are 4, labels [0, 0, 0, 1]")
    assert_verdict(ch01.q3, hidden_classes, "incorrect", "got ['.ipynb_checkpoints', 'cats', 'dogs']")
    assert_verdict(ch01.q3, 42, "incorrect", "function itself")
    assert_verdict(ch01.q3, lambda: None, "incorrect", "load_folder_128(folder)")
    assert_verdict(
        ch01.q3, lambda folder: None, "incorrect", "NoneType object). Does your function end with a `return`"
    )


def test_q3_crop_and_mode_mistakes():
    centred = loader(boxed(lambda w, h, s: ((w - s) // 2, (h - s) // 2)))
    assert_verdict(ch01.q3, centred, "correct")
    assert_verdict(ch01.q3, lambda folder: list(centred(folder)), "correct")  # a list of the three is fine
    assert_verdict(ch01.q3, loader(boxed(lambda w, h, s: (0, 0))), "incorrect", "none of yours is")
    swapped = loader(boxed(lambda w, h, s: ((h - s) // 2, (w - s) // 2)))
    assert_verdict(ch01.q3, swapped, "incorrect", "none of yours is")
    assert_verdict(ch01.q3, loader(rgb=False), "incorrect", "same shape (on a test folder with RGB, L and RGBA images")
    assert_verdict(ch01.q3, loader(rgb=False), "incorrect", "hidden folder)\nResize to 128x128 and .convert('RGB').")

    def uint8_loader(folder):
        images, labels, names = centred(folder)
        return (images * 255).round().astype(np.uint8), labels, names

    assert_verdict(ch01.q3, uint8_loader, "incorrect", "images holds uint8 whole numbers")
