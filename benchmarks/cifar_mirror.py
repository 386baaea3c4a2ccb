"""Build an offline mirror ``DIR/datasets/cifar10.npz`` from the CIFAR-10 JPEG archives.

The layout is the one ``keras.datasets.cifar10.load_data()`` gives a learner: the 50,000
training images as ``x_train`` and the official 10,000 test images as ``x_test`` (uint8
images, labels of shape (n, 1)). The archives hold ``train/<class>/<n>.jpg`` and
``test/<class>/<n>.jpg``, sorted by class; each split is shuffled once with a fixed seed,
as the original arrays are not sorted by class either.

    python benchmarks/cifar_mirror.py cifar10-train-jpg.tar.gz cifar10-test-jpg.tar.gz /tmp/mirror

Settings are chosen on validation images carved from ``x_train`` (the chapters do that
themselves); ``x_test`` gives final figures only. The result is derived from the real data:
never commit it.
"""

from __future__ import annotations

import argparse
import io
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
SEED = 2024


def read_archive(archive: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``split/<class>/*.jpg`` images of an archive as uint8 (n, 32, 32, 3) and labels (n,), sorted by path."""
    images, labels, names = [], [], []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 3 or parts[-3] != split or parts[-2] not in CLASSES:
                continue
            if not parts[-1].lower().endswith((".jpg", ".jpeg", ".png")):
                continue
            with Image.open(io.BytesIO(tar.extractfile(member).read())) as img:
                array = np.asarray(img.convert("RGB"), dtype=np.uint8)
            if array.shape != (32, 32, 3):
                raise ValueError(f"{member.name}: expected a 32x32 RGB image, got shape {array.shape}.")
            images.append(array)
            labels.append(CLASSES.index(parts[-2]))
            names.append(member.name)
    if not images:
        raise ValueError(f"{archive} holds no {split}/<class>/*.jpg images; is it the CIFAR-10 JPEG archive?")
    order = np.argsort(np.array(names))  # tar order may vary; sort by path before the seeded shuffle
    return np.stack(images)[order], np.array(labels, dtype=np.uint8)[order]


def shuffled(images: np.ndarray, labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays in one seeded random order."""
    order = np.random.default_rng(seed).permutation(len(labels))
    return images[order], labels[order]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_archive", type=Path, help="cifar10-train-jpg.tar.gz")
    parser.add_argument("test_archive", type=Path, help="cifar10-test-jpg.tar.gz")
    parser.add_argument("mirror", type=Path, help="mirror folder; writes MIRROR/datasets/cifar10.npz")
    args = parser.parse_args(argv)
    for archive in (args.train_archive, args.test_archive):
        if not archive.is_file():
            parser.error(f"archive {archive} not found")
    x_train, y_train = shuffled(*read_archive(args.train_archive, "train"), SEED)
    x_test, y_test = shuffled(*read_archive(args.test_archive, "test"), SEED + 1)
    target = args.mirror / "datasets"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target, suffix=".npz.part", delete=False) as tmp:
        np.savez(tmp, x_train=x_train, y_train=y_train[:, None], x_test=x_test, y_test=y_test[:, None])
    Path(tmp.name).replace(target / "cifar10.npz")
    print(f"cifar10: {len(y_train)} train / {len(y_test)} test images -> {target / 'cifar10.npz'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
