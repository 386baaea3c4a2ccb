"""Filling an offline mirror: ``python -m helpers prefetch --to DIR [NAMES...]``.

Downloads the datasets (the same files and SHA-256 sums the Keras loaders use) and the weight
files the course loads (``helpers.offline.weights.WEIGHT_FILES``), turns the dataset archives
into the mirror layout (``DIR/datasets/<name>.npz`` uint8 arrays, ``DIR/datasets/flowers/<class>/``,
``DIR/weights/<file>.h5``), writes atomically and can be re-run safely.
"""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from helpers import course
from helpers.offline.downloads import DownloadError, disk_error, download, ensure_writable
from helpers.offline.mirror import FLOWERS_URL, class_root, load_npz
from helpers.offline.weights import WEIGHT_FILES, WEIGHT_HASHES
from helpers.standins import FLOWER_CLASSES


class Source(NamedTuple):
    """One file to download: where from, its published SHA-256 (or None), a local name."""

    url: str
    sha256: str | None
    filename: str


_KERAS_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SOURCES: dict[str, list[Source]] = {
    "mnist": [
        Source(
            f"{_KERAS_BASE}mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", "mnist.npz"
        )
    ],
    "fashion_mnist": [
        Source(f"{_KERAS_BASE}{f}", None, f)
        for f in (
            "train-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
        )
    ],
    "cifar10": [
        Source(
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
            "cifar-10-python.tar.gz",
        )
    ],
    "cifar100": [
        Source(
            "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
            "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
            "cifar-100-python.tar.gz",
        )
    ],
    "flowers": [Source(FLOWERS_URL, None, "flower_photos.tgz")],
}
"""Where ``prefetch`` gets each dataset: the same files (and SHA-256 sums) the Keras loaders use."""

PREFETCH_TIMEOUT = 30.0
"""Seconds without data before a prefetch download is given up (filling a mirror can wait longer)."""


def weight_files() -> dict[str, tuple[str, str | None]]:
    """Keras weight file name -> (URL, hash Keras checks or None): the files in ``WEIGHT_FILES``."""
    return {name: (url, WEIGHT_HASHES.get(name)) for name, url in WEIGHT_FILES.items()}


def prefetch(to: Path | str, wanted: list[str] | None = None, progress: bool = True) -> dict[str, str]:
    """Fill the mirror at ``to`` with datasets and weight files; returns name -> 'ok' or the error."""
    to = Path(to).expanduser()
    weights = weight_files()
    choices = [*SOURCES, *weights]
    wanted = list(wanted or choices)
    unknown = [name for name in wanted if name not in choices]
    if unknown:
        raise ValueError(f"Unknown name(s) {', '.join(unknown)}. Choose from: {', '.join(choices)}.")
    ensure_writable(to)
    outcome: dict[str, str] = {}
    for name in wanted:
        try:
            if name in SOURCES:
                path = _prefetch_dataset(name, to / "datasets", progress)
            else:
                path = _prefetch_weights(name, weights[name], to / "weights", progress)
            outcome[name] = "ok"
            print(f"[OK]   {name} -> {path}")
        except (DownloadError, ValueError, OSError) as exc:
            outcome[name] = str(exc)
            print(f"[FAIL] {name}: {exc}")
    return outcome


def _prefetch_weights(name: str, source: tuple[str, str | None], folder: Path, progress: bool) -> Path:
    url, file_hash = source
    return download(url, folder / name, file_hash, timeout=PREFETCH_TIMEOUT, description=name, progress=progress)


def _prefetch_dataset(name: str, folder: Path, progress: bool) -> Path:
    ensure_writable(folder)
    final = folder / name if name == "flowers" else folder / f"{name}.npz"
    if name == "flowers" and final.is_dir() and class_root(final, FLOWER_CLASSES) == final:
        return final
    if name != "flowers" and final.is_file():
        try:
            load_npz(final)
            return final
        except (ValueError, OSError):
            pass  # damaged: fetch again
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder))
    try:
        files = [
            download(src.url, work / src.filename, src.sha256, PREFETCH_TIMEOUT, f"{name}: {src.filename}", progress)
            for src in SOURCES[name]
        ]
        if name == "flowers":
            _unpack_flowers(files[0], work, final)
        else:
            _save_npz_atomic(final, *_parse_arrays(name, files))
    except OSError as exc:
        raise disk_error(exc, final) or exc from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _parse_arrays(name: str, files: list[Path]):
    """Turn the downloaded source files into ``(x_train, y_train), (x_test, y_test)`` like Keras."""
    if name == "mnist":
        return load_npz(files[0])
    if name == "fashion_mnist":
        arrays = []
        for path in files:
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
            arrays.append(np.frombuffer(raw, np.uint8, offset=8 if "labels" in path.name else 16))
        y_train, x_train, y_test, x_test = arrays
        return (x_train.reshape(len(y_train), 28, 28), y_train), (x_test.reshape(len(y_test), 28, 28), y_test)
    members, label_key = (
        ([f"data_batch_{i}" for i in range(1, 6)], "labels") if name == "cifar10" else (["train"], "fine_labels")
    )
    with tarfile.open(files[0], "r:gz") as tar:
        by_base = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}

        def batch(member: str):
            if member not in by_base:
                raise ValueError(f"{files[0].name} has no {member!r}: not a {name} archive.")
            try:
                record = _NumpyOnlyUnpickler(tar.extractfile(by_base[member]), encoding="bytes").load()
            except pickle.UnpicklingError as exc:
                raise ValueError(f"{files[0].name}/{member} is not a genuine {name} batch: {exc}.") from None
            record = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in record.items()}
            data = np.asarray(record["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            return data, np.asarray(record[label_key])

        train = [batch(m) for m in members]
        x_test, y_test = batch("test_batch" if name == "cifar10" else "test")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    label_dtype = np.uint8 if name == "cifar10" else np.int64  # what the Keras loaders return
    return (x_train, y_train.astype(label_dtype).reshape(-1, 1)), (x_test, y_test.astype(label_dtype).reshape(-1, 1))


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickle the CIFAR batches, which hold only dicts, lists and NumPy arrays."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how Python 3 pickles bytes with protocol 2
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset archive")


def _save_npz_atomic(path: Path, train, test) -> None:
    """Write the mirror file (temp file + rename) so a crash never leaves half a file."""
    (x_train, y_train), (x_test, y_test) = train, test
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".npz.part")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _unpack_flowers(archive: Path, work: Path, final: Path) -> None:
    """Extract the flowers archive safely and move its class folders into ``final`` atomically."""
    unpacked = work / "unpacked"
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(unpacked, filter="data")
        else:  # Python < 3.11.4: refuse absolute paths and .. ourselves
            for member in tar.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise ValueError(f"{archive.name}: unsafe path {member.name!r} in the archive.")
            tar.extractall(unpacked)
    root = class_root(unpacked, FLOWER_CLASSES)
    if root is None:
        raise ValueError(f"{archive.name} does not hold the class folders {', '.join(FLOWER_CLASSES)}.")
    if final.exists():
        shutil.rmtree(final)
    root.rename(final)


def prefetch_main(to: Path, wanted: list[str]) -> int:
    """CLI entry for ``python -m helpers prefetch --to DIR [NAMES]``; exit code 0 when all worked."""
    if course.offline():
        print("prefetch downloads, but COURSE_OFFLINE=1 is set: unset it and re-run.", file=sys.stderr)
        return 2
    try:
        outcome = prefetch(to, wanted)
    except (ValueError, DownloadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [name for name, status in outcome.items() if status != "ok"]
    if failed:
        print(f"{len(failed)} of {len(outcome)} failed ({', '.join(failed)}); re-run the same command to retry.")
        return 1
    print(f"Mirror ready: set COURSE_DATA_DIR={Path(to).expanduser().resolve()} to use it offline.")
    return 0
