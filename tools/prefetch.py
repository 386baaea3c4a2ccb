"""Filling an offline mirror for a classroom (for instructors; not in the learner's package).

    python -m helpers prefetch --to DIR [NAMES...]     # from a copy of the course repository
    python tools/prefetch.py --to DIR [NAMES...]       # the same

Runs the Keras loaders themselves (``keras.datasets.<name>.load_data()``,
``keras.utils.get_file`` for tf_flowers and the weight files ``keras.applications`` loads,
with the hashes Keras checks), so Keras downloads, verifies and unpacks into its own cache;
``prefetch`` then copies the result into the mirror layout (``DIR/datasets/<name>.npz``
uint8 arrays, ``DIR/datasets/flowers/<class>/``, ``DIR/weights/<file>.h5``), each file
written atomically (temp file + rename). Re-running skips what is already complete.
Notebooks read the mirror through ``helpers.offline`` (``COURSE_DATA_DIR=DIR``).
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `helpers` and `tools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from helpers import course  # noqa: E402
from helpers.offline import (  # noqa: E402
    FLOWERS_URL,
    WEIGHT_HASHES,
    class_root,
    is_unavailable,
    load_npz,
    reason,
    socket_timeout,
)
from helpers.standins import FLOWER_CLASSES  # noqa: E402

DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100", "flowers")
"""The datasets ``prefetch`` offers: the four ``keras.datasets`` the course loads, and tf_flowers."""

_KERAS_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"

WEIGHT_FILES: dict[str, str] = {
    # MobileNet(alpha=0.25, include_top=False): the smoke-mode and benchmark backbone.
    "mobilenet_2_5_224_tf_no_top.h5": _KERAS_APPS + "mobilenet/mobilenet_2_5_224_tf_no_top.h5",
    # MobileNetV2(include_top=False): the light alternative chapter 05 invites you to try.
    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5": (
        _KERAS_APPS + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    ),
    # EfficientNetB0(include_top=False): the complete pipeline of chapter 05.
    "efficientnetb0_notop.h5": "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
}
"""Weight file name (as Keras caches it) -> the URL ``keras.applications`` downloads it from.

Only the files the course loads (the backbone table and exercise 1 build VGG16, InceptionV3
and friends with ``weights=None``); ``helpers.models.pretrained`` finds any file Keras asks
for in ``DIR/weights/`` (``tests/test_models.py`` checks these names against Keras)."""

PREFETCH_TIMEOUT = 30.0
"""Seconds without data before a prefetch download is given up (filling a mirror can wait longer)."""


class PrefetchError(RuntimeError):
    """Something ``prefetch`` cannot do; the message says why and what to do."""


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` if needed and make sure files can be written there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PrefetchError(
            f"Cannot write to {folder} ({exc.strerror or exc}). Choose a folder you own (e.g. --to ~/course-data) "
            "or fix its permissions."
        ) from None


def disk_error(exc: OSError, target: Path) -> PrefetchError | None:
    """A clear message for a full disk or a write-protected target (None for other errors)."""
    if exc.errno == errno.ENOSPC:
        try:
            free = f"{shutil.disk_usage(target.parent).free / 1e6:,.0f} MB free"
        except OSError:
            free = "free space unknown"
        return PrefetchError(
            f"The disk is full while writing {target} ({free}). Free some space or pass a folder on a bigger "
            "disk with --to, then re-run: nothing half-written was kept."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PrefetchError(f"Cannot write {target} ({exc.strerror}). Choose a folder you own.")
    return None


def prefetch(to: Path | str, wanted: list[str] | None = None) -> dict[str, str]:
    """Fill the mirror at ``to`` with datasets and weight files; returns name -> 'ok' or the error."""
    to = Path(to).expanduser()
    choices = [*DATASETS, *WEIGHT_FILES]
    wanted = list(wanted or choices)
    unknown = [name for name in wanted if name not in choices]
    if unknown:
        raise ValueError(f"Unknown name(s) {', '.join(unknown)}. Choose from: {', '.join(choices)}.")
    ensure_writable(to)
    outcome: dict[str, str] = {}
    for name in wanted:
        try:
            if name == "flowers":
                path = _prefetch_flowers(to / "datasets" / "flowers")
            elif name in DATASETS:
                path = _prefetch_arrays(name, to / "datasets" / f"{name}.npz")
            else:
                path = _prefetch_weights(name, to / "weights" / name)
            outcome[name] = "ok"
            print(f"[OK]   {name} -> {path}")
        except Exception as exc:
            if not (isinstance(exc, PrefetchError) or is_unavailable(exc)):  # a bug: let it show
                raise
            outcome[name] = str(exc) if isinstance(exc, PrefetchError) else reason(exc)
            print(f"[FAIL] {name}: {outcome[name]}")
    return outcome


def _keras(fetch: Callable[[], object]) -> object:
    """Run a Keras download (loader or ``get_file``) with the prefetch timeout."""
    with socket_timeout(PREFETCH_TIMEOUT):
        return fetch()


def _atomic(final: Path, write: Callable[[Path], object]) -> Path:
    """``course.write_atomic``, with a full disk or a write-protected folder said in the course's words."""
    try:
        return course.write_atomic(final, write)
    except OSError as exc:
        raise disk_error(exc, final) or exc from None


def _prefetch_arrays(name: str, final: Path) -> Path:
    if final.is_file():
        try:
            load_npz(final)
            return final
        except (ValueError, OSError):
            pass  # damaged: fetch again
    import keras

    (x_train, y_train), (x_test, y_test) = _keras(getattr(keras.datasets, name).load_data)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)

    return _atomic(final, write)


def _prefetch_flowers(final: Path) -> Path:
    if final.is_dir() and class_root(final, FLOWER_CLASSES) == final:
        return final
    import keras

    path = Path(_keras(lambda: keras.utils.get_file("flower_photos", origin=FLOWERS_URL, extract=True)))
    root = class_root(path if path.is_dir() else path.parent, FLOWER_CLASSES)
    if root is None:
        raise PrefetchError(f"Keras unpacked tf_flowers to {path}, but it holds no class folders {FLOWER_CLASSES}.")
    shutil.rmtree(final, ignore_errors=True)  # an incomplete copy from an earlier run
    return _atomic(final, lambda tmp: shutil.copytree(root, tmp))


def hash_matches(path: Path | str, expected: str | None) -> bool:
    """True when ``expected`` is None or equals the file's MD5 (32 digits) / SHA-256 (64)."""
    if not expected:
        return True
    digest = hashlib.md5(usedforsecurity=False) if len(expected) == 32 else hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == expected.lower()


def _prefetch_weights(name: str, final: Path) -> Path:
    file_hash = WEIGHT_HASHES.get(name)
    if final.is_file() and hash_matches(final, file_hash):
        return final
    import keras

    cached = _keras(lambda: keras.utils.get_file(name, WEIGHT_FILES[name], cache_subdir="models", file_hash=file_hash))
    return _atomic(final, lambda tmp: shutil.copyfile(cached, tmp))


def prefetch_main(to: Path, wanted: list[str]) -> int:
    """``--to DIR [NAMES]``: fill the mirror and say what happened; exit code 0 when all worked."""
    if course.offline():
        print("prefetch downloads, but COURSE_OFFLINE=1 is set: unset it and re-run.", file=sys.stderr)
        return 2
    try:
        outcome = prefetch(to, wanted)
    except (ValueError, PrefetchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [name for name, status in outcome.items() if status != "ok"]
    if failed:
        print(f"{len(failed)} of {len(outcome)} failed ({', '.join(failed)}); re-run the same command to retry.")
        return 1
    print(f"Mirror ready: set COURSE_DATA_DIR={Path(to).expanduser().resolve()} to use it offline.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers prefetch", description="Download datasets and weights into an offline mirror."
    )
    parser.add_argument("--to", required=True, help="mirror folder (use it later as COURSE_DATA_DIR)")
    parser.add_argument("names", nargs="*", help="what to fetch (default: everything the course uses)")
    args = parser.parse_args(argv)
    return prefetch_main(Path(args.to), args.names)


if __name__ == "__main__":
    sys.exit(main())
