"""Build an offline mirror ``DIR/datasets/cifar10.npz`` from the CIFAR-10 training JPEGs.

The archive holds the 50,000 CIFAR-10 *training* images as ``train/<class>/<n>.jpg``.
This script keeps 40,000 of them as ``x_train`` and holds out 10,000 (1,000 per class,
chosen with a fixed seed) as ``x_test``, with the dtypes and shapes
``keras.datasets.cifar10.load_data()`` returns (uint8 images, labels of shape (n, 1)).

    python benchmarks/cifar_mirror.py cifar10-train-jpg.tar.gz /tmp/mirror

The result is derived from the real data: never commit it.
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
HELD_OUT_PER_CLASS = 1000
SEED = 2024


def read_archive(archive: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All images of the archive as uint8 (n, 32, 32, 3), labels (n,), and member names (sorted)."""
    images, labels, names = [], [], []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 3 or parts[-2] not in CLASSES:
                continue
            if not parts[-1].lower().endswith((".jpg", ".jpeg", ".png")):
                continue
            data = tar.extractfile(member).read()
            with Image.open(io.BytesIO(data)) as img:
                array = np.asarray(img.convert("RGB"), dtype=np.uint8)
            if array.shape != (32, 32, 3):
                raise ValueError(f"{member.name}: expected a 32x32 RGB image, got shape {array.shape}.")
            images.append(array)
            labels.append(CLASSES.index(parts[-2]))
            names.append(member.name)
    if not images:
        raise ValueError(f"{archive} holds no train/<class>/*.jpg images; is it the CIFAR-10 JPEG archive?")
    order = np.argsort(np.array(names))  # tar order may vary; sort by path for a deterministic split
    return np.stack(images)[order], np.array(labels, dtype=np.uint8)[order], [names[i] for i in order]


def split(labels: np.ndarray, per_class: int = HELD_OUT_PER_CLASS, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held_out): ``per_class`` images of every class held out, both shuffled."""
    rng = np.random.default_rng(seed)
    held = []
    for c in range(len(CLASSES)):
        idx = np.flatnonzero(labels == c)
        if len(idx) < per_class:
            raise ValueError(f"class {CLASSES[c]} has only {len(idx)} images, need {per_class} to hold out.")
        held.append(rng.choice(idx, per_class, replace=False))
    held_out = np.concatenate(held)
    train = np.setdiff1d(np.arange(len(labels)), held_out)
    return rng.permutation(train), rng.permutation(held_out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="cifar10-train-jpg.tar.gz")
    parser.add_argument("mirror", type=Path, help="mirror folder; writes MIRROR/datasets/cifar10.npz")
    args = parser.parse_args(argv)
    if not args.archive.is_file():
        parser.error(f"archive {args.archive} not found")
    images, labels, _ = read_archive(args.archive)
    train, held_out = split(labels)
    target = args.mirror / "datasets"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target, suffix=".npz.part", delete=False) as tmp:
        np.savez(
            tmp,
            x_train=images[train],
            y_train=labels[train][:, None],
            x_test=images[held_out],
            y_test=labels[held_out][:, None],
        )
    Path(tmp.name).replace(target / "cifar10.npz")
    print(f"cifar10: {len(train)} train / {len(held_out)} held-out images -> {target / 'cifar10.npz'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
