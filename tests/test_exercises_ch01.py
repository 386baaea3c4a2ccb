"""Each chapter-01 check accepts a right answer and explains typical wrong ones."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import plots
from helpers.exercises import ch01
from tools.testing import ROOT, notebook_functions

CHAPTER_01 = notebook_functions(ROOT / "solutions" / "01_datasets.ipynb", "load_image_folder")  # the taught loader

FASHION = ch01.FASHION_NAMES
RIGHT_SHAPES = ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))


def fashion_grid(n=10, size=28, names=FASHION):
    images = np.zeros((n, size, size), np.uint8)
    return plots.image_grid(images, np.arange(n) % 10, names)


def assert_verdict(question, answer, status, fragment="", **kwargs):
    """``answer`` is one answer, or a tuple of the parts of a several-part question."""
    if question.answer_names and isinstance(answer, tuple):
        *parts, labels = answer if question is ch01.q2 else (*answer, None)
        if question is ch01.q2:
            kwargs["labels"] = labels
        verdict = question.verdict(*parts, **kwargs)
    else:
        verdict = question.verdict(answer, **kwargs)
    assert verdict.status == status, verdict.message
    assert fragment in verdict.message
    return verdict


# ----------------------------------------------------------------------------- q1
def test_q1_right_answer_and_not_attempted():
    assert_verdict(ch01.q1, (RIGHT_SHAPES, fashion_grid()), "correct", "28x28")
    assert_verdict(ch01.q1, (..., ...), "not attempted")
    assert_verdict(ch01.q1, (RIGHT_SHAPES, ...), "incorrect", "Fill in fashion_grid")


def test_q1_smoke_sized_data_is_fine():
    assert_verdict(ch01.q1, (((2000, 28, 28), (2000,), (500, 28, 28), (500,)), fashion_grid()), "correct")


@pytest.mark.parametrize(
    ("shapes", "fragment"),
    [
        (((60000, 28, 28, 1), (60000,), (10000, 28, 28, 1), (10000,)), "without a channel axis"),
        (((60000, 784), (60000,), (10000, 784), (10000,)), "flattened"),
        (((10000, 28, 28), (10000,), (60000, 28, 28), (60000,)), "swap train and test"),
        (((60000, 28, 28), (60000, 1), (10000, 28, 28), (10000,)), "one integer per image"),
        (((60000, 28, 28), (60000,)), "four shapes"),
    ],
)
def test_q1_typical_wrong_shapes(shapes, fragment):
    assert_verdict(ch01.q1, (shapes, fashion_grid()), "incorrect", fragment)


def test_q1_typical_wrong_grids():
    assert_verdict(ch01.q1, (RIGHT_SHAPES, fashion_grid(n=9)), "incorrect", "shows 9 images")
    assert_verdict(ch01.q1, (RIGHT_SHAPES, fashion_grid(names=None)), "incorrect", "label numbers")
    assert_verdict(ch01.q1, (RIGHT_SHAPES, fashion_grid(size=32)), "incorrect", "28x28")
    assert_verdict(ch01.q1, (RIGHT_SHAPES, "a picture"), "incorrect", "array of Axes")


# ----------------------------------------------------------------------------- q2
def cifar_labels():
    return np.repeat(np.arange(10), [5, 5, 5, 5, 5, 5, 5, 5, 5, 6]).reshape(-1, 1)


def test_q2_right_answers_with_helper_or_plain_matplotlib():
    labels = cifar_labels()
    counts = np.bincount(labels.ravel(), minlength=10)
    bars = plots.class_distribution(labels, ch01.CIFAR10_NAMES)
    assert_verdict(ch01.q2, (counts, bars, labels), "correct", "real CIFAR-10 training set is perfectly balanced")
    balanced = np.repeat(np.arange(10), 5)
    balanced_bars = plots.class_distribution(balanced, ch01.CIFAR10_NAMES)
    assert_verdict(ch01.q2, (np.full(10, 5), balanced_bars, balanced), "correct", "every class has 5 images")
    _, ax = plt.subplots()
    ax.bar(ch01.CIFAR10_NAMES, counts)
    assert_verdict(ch01.q2, (counts.tolist(), ax, labels), "correct")
    assert_verdict(ch01.q2, (..., ..., labels), "not attempted")


def test_q2_typical_wrong_answers():
    labels = cifar_labels()
    counts = np.bincount(labels.ravel(), minlength=10)
    bars = plots.class_distribution(labels, ch01.CIFAR10_NAMES)
    assert_verdict(ch01.q2, (counts / counts.sum(), bars, labels), "incorrect", "fractions")
    assert_verdict(ch01.q2, (counts[:9], bars, labels), "incorrect", "10 numbers")
    assert_verdict(ch01.q2, (counts * 2, bars, labels), "incorrect", "add up to")
    assert_verdict(ch01.q2, (counts[::-1], bars, labels), "incorrect", "class order")
    unnamed = plots.class_distribution(labels)
    assert_verdict(ch01.q2, (counts, unnamed, labels), "incorrect", "class names")
    assert_verdict(ch01.q2, (counts, plt.subplots()[1], labels), "incorrect", "no bars")
    assert_verdict(ch01.q2, (counts, bars, None), "incorrect", "Pass the training labels")


# ----------------------------------------------------------------------------- q3
def reference_loader(folder):
    """The solution of the notebook, written differently: ImageOps.fit crops the centre and resizes."""
    from pathlib import Path

    from PIL import Image, ImageOps

    folder = Path(folder)
    names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    images, labels = [], []
    for label, name in enumerate(names):
        for path in sorted((folder / name).iterdir()):
            if path.name.startswith(".") or path.suffix.lower() not in {".jpg", ".png"}:
                continue
            try:
                with Image.open(path) as image:
                    images.append(np.asarray(ImageOps.fit(image.convert("RGB"), (128, 128)), dtype=np.float32) / 255)
            except OSError as error:
                print("skipped", path.name, error)
                continue
            labels.append(label)
    return np.stack(images), np.array(labels), names


def squashing_loader(folder):
    images, labels, class_names = CHAPTER_01.load_image_folder(folder, image_size=(128, 128))
    return images.astype("float32") / 255.0, labels, class_names


def test_q3_right_answer(capsys):
    assert_verdict(ch01.q3, reference_loader, "correct", "skips hidden")
    assert "broken.jpg" in capsys.readouterr().out  # the loader reported the bad file
    assert_verdict(ch01.q3, ..., "not attempted")


def test_q3_typical_wrong_answers():
    def not_normalised(folder):
        images, labels, names = reference_loader(folder)
        return images * 255, labels, names

    def wrong_size(folder):
        images, labels, names = reference_loader(folder)
        return images[:, :64, :64], labels, names

    def crashes_on_bad_files(folder):
        from pathlib import Path

        from PIL import Image

        for path in sorted(Path(folder).rglob("*.jpg")):
            Image.open(path).load()

    def walks_everything(folder):
        import os
        from pathlib import Path

        from PIL import Image, ImageOps

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

    assert_verdict(ch01.q3, squashing_loader, "incorrect", "squashed")
    assert_verdict(ch01.q3, not_normalised, "incorrect", "normalise")
    assert_verdict(ch01.q3, wrong_size, "incorrect", "(n, 128, 128, 3)")
    assert_verdict(ch01.q3, crashes_on_bad_files, "incorrect", "raised")
    assert_verdict(ch01.q3, walks_everything, "incorrect", ".ipynb_checkpoints")
    assert_verdict(ch01.q3, 42, "incorrect", "function itself")
    assert_verdict(ch01.q3, lambda: None, "incorrect", "load_folder_128(folder)")
    assert_verdict(ch01.q3, lambda folder: None, "incorrect", "returns nothing")
