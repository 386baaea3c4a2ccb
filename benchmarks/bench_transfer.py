"""Benchmark chapter 05 on the real tf_flowers photos: scratch vs feature extraction vs fine-tuning.

Runs ``solutions/05_transfer_learning.ipynb`` headless in FULL mode (no ``COURSE_SMOKE``),
offline, with ``COURSE_DATA_DIR`` pointing at a mirror that holds the real photos
(``DIR/datasets/flowers/<class>/*.jpg``, the 3,670 photos of ``flower_photos.tgz``) and the
ImageNet weights of the backbone at hand (``DIR/weights/<file>``, e.g.
``mobilenet_2_5_224_tf_no_top.h5`` for ``MobileNet(alpha=0.25, include_top=False)``). The
notebook picks EfficientNetB0 when its weights are in the mirror, else MobileNet (alpha 0.25),
and records which. It prints what the notebook recorded (``course.record_result``): best
validation accuracy, test accuracy (the seeded, stratified 15% held out) and training time
of each method, the backbone, and the time of the whole notebook, exercises included.

``--speed`` also times one forward pass of each backbone the chapter names (``weights=None``:
the time does not depend on the weights) at the chapter's image size, in one run, so that
the chapter can say how much slower EfficientNetB0 and ResNet50 are than the backbone at hand.

    python benchmarks/bench_transfer.py --mirror DIR [--speed] [--models-dir DIR] [--keep out.ipynb] [--record]

``--models-dir`` keeps the saved flower model (``ch05_flowers``) for chapters 07-09;
``--record`` writes the figures into ``benchmarks/results.json`` (then
``python benchmarks/report.py --requote`` updates the texts). Timings are wall-clock; the
``load`` field says how busy the machine was. Nothing derived from the photos is written
into the repository.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "05_transfer_learning.ipynb"
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from bench_chapter03 import read_results, run_notebook  # noqa: E402 - the benchmarks folder is put on the path above

METHODS = [  # (row label, key prefix the notebook records)
    ("from scratch", "scratch"),
    ("feature extraction, stored features", "cached"),
    ("feature extraction, augmented", "feature_extraction"),
    ("fine-tuning", "fine_tuning"),
]
SPEED_BACKBONES = [("MobileNet", {"alpha": 0.25}), ("EfficientNetB0", {}), ("ResNet50", {})]


def forward_speed(image_size: int, batch: int = 32, repeats: int = 5) -> dict[str, float]:
    """Median seconds per photo of one inference pass of each backbone, interleaved in one run."""
    import keras
    import numpy as np
    import tensorflow as tf

    images = np.random.default_rng(0).uniform(0, 255, (batch, image_size, image_size, 3)).astype("float32")
    calls = {}
    for name, kwargs in SPEED_BACKBONES:
        network = getattr(keras.applications, name)(
            weights=None, include_top=False, input_shape=(image_size, image_size, 3), **kwargs
        )
        calls[name] = tf.function(lambda x, network=network: network(x, training=False))
        calls[name](images)  # trace and warm up
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call(images).numpy()
            times[name].append((time.perf_counter() - start) / batch)
    return {name: statistics.median(values) for name, values in times.items()}


def table(results: dict[str, object]) -> str:
    lines = [
        f"backbone: {results.get('backbone', '?')}",
        "| method | best validation accuracy | test accuracy | training time |",
        "|---|---:|---:|---:|",
    ]
    for label, key in METHODS:
        val, test = results.get(f"{key}_val_accuracy"), results.get(f"{key}_test_accuracy")
        seconds = results.get(f"{key}_seconds")
        if key == "cached":
            seconds = float(results.get("cached_feature_seconds", 0)) + float(results.get("cached_head_seconds", 0))
        if key == "fine_tuning" and seconds is not None:
            seconds = float(seconds) + float(results.get("feature_extraction_seconds", 0))
        if val is None or test is None:
            lines.append(f"| {label} | not recorded | | |")
            continue
        lines.append(f"| {label} | {float(val):.1%} | {float(test):.1%} | {float(seconds or 0):.0f} s |")
    return "\n".join(lines)


def figures(results: dict[str, object], notebook_seconds: float, speed: dict[str, float] | None):
    """The figures for results.json: (values, units, formats)."""
    values: dict[str, object] = {"ch05.backbone": str(results.get("backbone", "?"))}
    units: dict[str, str] = {"ch05.backbone": ""}
    formats: dict[str, str] = {}
    for _, key in METHODS:
        for kind in ("val_accuracy", "test_accuracy"):
            if f"{key}_{kind}" in results:
                name = f"ch05.{key}.{kind}"
                values[name] = round(100 * float(results[f"{key}_{kind}"]), 1)
                units[name], formats[name] = "%", ".1f"
    if "kept_method" in results:  # the model chapter 05 keeps (best on validation), which chapter 07 deploys
        values["ch05.kept.method"], units["ch05.kept.method"] = str(results["kept_method"]), ""
        for kind in ("val_accuracy", "test_accuracy"):
            if f"kept_{kind}" in results:
                values[f"ch05.kept.{kind}"] = round(100 * float(results[f"kept_{kind}"]), 1)
                units[f"ch05.kept.{kind}"], formats[f"ch05.kept.{kind}"] = "%", ".1f"
    seconds = {
        "scratch": results.get("scratch_seconds"),
        "cached": (
            float(results["cached_feature_seconds"]) + float(results["cached_head_seconds"])
            if {"cached_feature_seconds", "cached_head_seconds"} <= set(results)
            else None
        ),
        "cached_head": results.get("cached_head_seconds"),
        "feature_extraction": results.get("feature_extraction_seconds"),
        "fine_tuning": results.get("fine_tuning_seconds"),
    }
    for key, value in seconds.items():
        if value is not None:
            values[f"ch05.{key}.seconds"] = round(float(value))
            units[f"ch05.{key}.seconds"] = "s"
    for key in ("fine_tuning_epochs", "train_photos", "val_photos", "test_photos"):
        if key in results:
            values[f"ch05.{key}"] = int(results[key])
            units[f"ch05.{key}"] = ""
    if results:  # a notebook run (not --speed-only)
        values["ch05.notebook_minutes"] = round(notebook_seconds / 60, 1)
        units["ch05.notebook_minutes"], formats["ch05.notebook_minutes"] = "min", ".1f"
    if speed:
        base = speed["MobileNet"]
        for name, seconds_per_photo in speed.items():
            key = f"ch05.speed.{name}_ms_per_photo"
            values[key], units[key], formats[key] = round(1000 * seconds_per_photo, 2), "ms", ".1f"
            if name != "MobileNet":
                key = f"ch05.speed.{name}_vs_mobilenet"
                values[key], units[key], formats[key] = round(seconds_per_photo / base, 1), "×", ".0f"
    return values, units, formats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, required=True, help="mirror with datasets/flowers and weights/")
    parser.add_argument("--models-dir", type=Path, help="COURSE_MODELS_DIR for the saved model (default: temporary)")
    parser.add_argument("--results", type=Path, help="COURSE_RESULTS file to write (default: a temporary file)")
    parser.add_argument("--keep", type=Path, help="also save the executed notebook here")
    parser.add_argument("--speed", action="store_true", help="also time each backbone's forward pass")
    parser.add_argument("--speed-only", action="store_true", help="only time the backbones (no notebook run)")
    parser.add_argument("--image-size", type=int, default=160, help="image size for --speed (the chapter's)")
    parser.add_argument("--record", action="store_true", help="write the figures into benchmarks/results.json")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds allowed per cell (default 7200)")
    args = parser.parse_args(argv)
    flowers = args.mirror / "datasets" / "flowers"
    if not args.speed_only and not flowers.is_dir():
        parser.error(f"{flowers} not found: the mirror needs the tf_flowers photos as datasets/flowers/<class>/*.jpg")

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    speed = None
    if args.speed or args.speed_only:
        from helpers import course

        course.quiet_tensorflow()
        speed = forward_speed(args.image_size)
        print(f"Forward pass at {args.image_size} px, weights=None, median per photo (load {load_before:.1f}):")
        for name, seconds in speed.items():
            print(f"  {name:<15} {1000 * seconds:7.1f} ms  ({seconds / speed['MobileNet']:.0f}x MobileNet alpha 0.25)")
    results: dict[str, object] = {}
    seconds = 0.0
    if not args.speed_only:
        results_path = args.results or Path(tempfile.mkdtemp(prefix="bench05_")) / "results.jsonl"
        results_path.unlink(missing_ok=True)
        env = {
            "COURSE_DATA_DIR": str(args.mirror),
            "COURSE_RESULTS": str(results_path),
            "COURSE_OFFLINE": "1",
            "COURSE_SMOKE": "0",
            "COURSE_MODELS_DIR": str(args.models_dir or tempfile.mkdtemp(prefix="bench05_models_")),
            "KERAS_HOME": tempfile.mkdtemp(prefix="bench05_keras_"),  # no Keras cache: the mirror is read
        }
        print(
            f"Running {NOTEBOOK.name} in full mode with the mirror {args.mirror} (load {load_before:.1f}) ...",
            flush=True,
        )
        seconds = run_notebook(NOTEBOOK, env, args.timeout, args.keep)
        results = read_results(results_path)
        print(f"\nWhole notebook: {seconds / 60:.1f} min; load average at the end {os.getloadavg()[0]:.1f}.")
        print(table(results))
        print(f"Recorded results: {results_path}")
        missing = [f"{key}_test_accuracy" for _, key in METHODS if f"{key}_test_accuracy" not in results]
        if missing:
            print(f"ERROR: the notebook did not record {missing}.", file=sys.stderr)
            return 1
    if args.record:
        import report

        values, units, formats = figures(results, seconds, speed) if results else ({}, {}, {})
        if not results and speed:
            values, units, formats = figures({}, 0.0, speed)
            for key in ("ch05.backbone", "ch05.notebook_minutes"):
                values.pop(key)
        how = (
            "chapter 05 notebook run whole in full mode (exercises included), offline, on the 3,670 real tf_flowers "
            "photos (stratified 70/15/15 split, seed 42) with the real ImageNet weights of the backbone named"
        )
        if speed and not results:
            how = f"median forward pass of 32 photos at {args.image_size} px, weights=None, backbones interleaved"
        report.record(
            values,
            script="benchmarks/bench_transfer.py",
            how=how,
            units=units,
            formats=formats,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
