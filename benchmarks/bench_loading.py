"""Benchmark: loading a folder of JPEGs by hand (PIL loop) vs tf.data, with and without cache/prefetch.

Usage::

    python benchmarks/bench_loading.py PATH/TO/cifar10-train-jpg.tar.gz [--per-class N]

The archive holds ``train/<class>/<n>.jpg`` (the CIFAR-10 training images as JPEGs). The
script unpacks it into a temporary folder, then reads every image twice (first pass: cold
pipeline; second pass: warm) with

1. the hand-written loop of chapter 01 (its ``load_image_folder``: PIL, one
   file after another, into one NumPy array);
2. ``keras.utils.image_dataset_from_directory`` as it comes (parallel decoding, batches);
3. the same followed by ``.cache().prefetch(tf.data.AUTOTUNE)``.

and prints a Markdown table of images per second. The temporary folder is removed at the end.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import report  # noqa: E402  (benchmarks/report.py, beside this script)

from helpers import course  # noqa: E402


def unpack(archive: Path, target: Path, per_class: int | None) -> Path:
    """Extract the archive (optionally only ``per_class`` images per class); return the class-folder root."""
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        if per_class is not None:
            kept: dict[str, int] = {}
            chosen = []
            for member in members:
                label = Path(member.name).parent.name
                if kept.get(label, 0) < per_class:
                    kept[label] = kept.get(label, 0) + 1
                    chosen.append(member)
            members = chosen
        tar.extractall(target, members=members, filter="data")
    roots = {Path(m.name).parts[0] for m in members}
    return target / roots.pop() if len(roots) == 1 else target


def timed_passes(read_all, passes: int = 2) -> list[tuple[float, int]]:
    """Run ``read_all()`` (which returns the number of images read) ``passes`` times; (seconds, images)."""
    results = []
    for _ in range(passes):
        start = time.perf_counter()
        count = read_all()
        results.append((time.perf_counter() - start, count))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path, help="cifar10-train-jpg.tar.gz (train/<class>/<n>.jpg)")
    parser.add_argument("--per-class", type=int, default=None, help="use only N images per class (default: all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--record", action="store_true", help="write the figures into benchmarks/results.json")
    args = parser.parse_args(argv)

    course.quiet_tensorflow()
    tf = course.import_tensorflow()
    import keras

    from tools.testing import ROOT, notebook_functions

    load_image_folder = notebook_functions(
        ROOT / "solutions" / "01_datasets.ipynb", "load_image_folder"
    ).load_image_folder

    workdir = Path(tempfile.mkdtemp(prefix="bench-loading-"))
    try:
        start = time.perf_counter()
        root = unpack(args.archive, workdir, args.per_class)
        print(f"Unpacked into {root} in {time.perf_counter() - start:.1f} s", flush=True)
        size = (32, 32)

        def hand_loop() -> int:
            images, _, _ = load_image_folder(root, image_size=size)
            return len(images)

        def make_ds():
            return keras.utils.image_dataset_from_directory(
                root, image_size=size, batch_size=args.batch_size, seed=42, verbose=False
            )

        def iterate(ds) -> int:
            return sum(int(labels.shape[0]) for _, labels in ds)

        plain = make_ds()
        cached = make_ds().cache().prefetch(tf.data.AUTOTUNE)
        rows = [
            ("hand PIL loop (load_image_folder)", timed_passes(hand_loop)),
            ("image_dataset_from_directory", timed_passes(lambda: iterate(plain))),
            ("image_dataset_from_directory + cache() + prefetch()", timed_passes(lambda: iterate(cached))),
        ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    baseline = rows[0][1][1][1] / rows[0][1][1][0]
    print()
    print("| pipeline | 1st pass (images/s) | 2nd pass (images/s) | 2nd pass vs hand loop |")
    print("|---|---:|---:|---:|")
    for name, passes in rows:
        first, second = (count / seconds for seconds, count in passes)
        print(f"| {name} | {first:,.0f} | {second:,.0f} | {second / baseline:.1f}x |")
    images = rows[0][1][0][1]
    print(f"\n{images:,} JPEG images of 32x32 pixels, batch size {args.batch_size}, {course.summary_line()}")
    if args.record:
        keys = ("hand_loop", "image_dataset_from_directory", "cache_prefetch")
        values = {}
        for key, (_, passes) in zip(keys, rows):
            first, second = (count / seconds for seconds, count in passes)
            values.update({f"loading.{key}.first_pass": round(first), f"loading.{key}.second_pass": round(second)})
            values[f"loading.{key}.speedup"] = round(second / baseline)
        how = f"{images:,} CIFAR-10 training JPEGs in class folders, images per second over a whole pass"
        report.record(values, script="benchmarks/bench_loading.py", how=how, machine_load=report.machine_load_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
