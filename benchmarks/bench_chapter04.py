"""Benchmark chapter 04 on real CIFAR-10 images: training with and without augmentation.

Runs ``solutions/04_data_augmentation.ipynb`` headless in FULL mode with ``COURSE_DATA_DIR``
pointing at a mirror built by ``benchmarks/cifar_mirror.py`` and prints what the notebook
recorded: final training and validation accuracy (and the gap) of the small CNN trained on
2,500 images without augmentation, with flip + shift, and with the strong five-layer pipeline.

    python benchmarks/bench_chapter04.py --mirror /tmp/mirror [--keep out.ipynb] [--record]

``--record`` writes the figures into ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_chapter03 import read_results, run_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "04_data_augmentation.ipynb"
RUNS = {"none": "without", "flip_shift": "flip_and_shift", "all_five": "strong"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, required=True, help="mirror folder holding datasets/cifar10.npz")
    parser.add_argument("--keep", type=Path, help="also save the executed notebook here")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell (default 3600)")
    parser.add_argument("--record", action="store_true", help="write the figures into benchmarks/results.json")
    args = parser.parse_args(argv)
    if not (args.mirror / "datasets" / "cifar10.npz").is_file():
        parser.error(f"{args.mirror}/datasets/cifar10.npz not found: build it with benchmarks/cifar_mirror.py")
    work = Path(tempfile.mkdtemp(prefix="bench04_"))
    env = {
        "COURSE_DATA_DIR": str(args.mirror),
        "COURSE_RESULTS": str(work / "results.jsonl"),
        "COURSE_OFFLINE": "1",
        "COURSE_SMOKE": "0",
        "COURSE_MODELS_DIR": str(work / "models"),
        "KERAS_HOME": str(work / "keras"),
    }
    load = os.getloadavg()[0]
    print(f"Running {NOTEBOOK.name} in full mode (load average {load:.1f}) ...", flush=True)
    seconds = run_notebook(NOTEBOOK, env, args.timeout, args.keep)
    results = read_results(work / "results.jsonl")
    print(f"\nWhole notebook: {seconds / 60:.1f} min; load average at the end {os.getloadavg()[0]:.1f}.")
    values = figures(results, seconds)
    if values is None:
        return 1
    if args.record:
        record(values, load)
    return 0


def figures(results: dict[str, object], seconds: float) -> dict[str, float] | None:
    """Print the table and return the figures for results.json (None when a run is missing)."""
    print("| run | training accuracy | validation accuracy | gap | training time |\n|---|---:|---:|---:|---:|")
    values: dict[str, float] = {"ch04.notebook_minutes": round(seconds / 60, 1)}
    for key, name in RUNS.items():
        if f"val_accuracy_{name}" not in results:
            print(f"ERROR: the notebook did not record val_accuracy_{name}.", file=sys.stderr)
            return None
        train, val = 100 * float(results[f"train_accuracy_{name}"]), 100 * float(results[f"val_accuracy_{name}"])
        minutes = float(results[f"train_seconds_{name}"]) / 60
        print(f"| {name} | {train:.1f}% | {val:.1f}% | {train - val:.1f} | {minutes:.1f} min |")
        values.update(
            {
                f"ch04.{key}.train_accuracy": round(train, 1),
                f"ch04.{key}.val_accuracy": round(val, 1),
                f"ch04.{key}.gap": round(train - val, 1),
                f"ch04.{key}.train_minutes": round(minutes, 2),
            }
        )
    for where in ("model", "pipeline"):
        if f"epoch_seconds_{where}" in results:
            values[f"ch04.epoch_seconds_in_{where}"] = float(results[f"epoch_seconds_{where}"])
    if "augmentation_epochs" in results:
        values["ch04.epochs"] = int(results["augmentation_epochs"])
    if "augmentation_train_images" in results:
        values["ch04.train_images"] = int(results["augmentation_train_images"])
    return values


def record(values: dict[str, float], load: float | str) -> None:
    """Write the figures into results.json under the ``ch04.`` keys the README quotes."""
    import report

    images = values.get("ch04.train_images")
    how = (
        "chapter 04 notebook run whole in full mode on real CIFAR-10: the small CNN "
        f"trained on {f'{images:,}' if images else 'the chapter'} images, validated on 5,000 others (seeded permutation), "
        "last-epoch accuracies"
    )
    new = {key: value for key, value in values.items() if key.endswith(("train_minutes", "_in_model", "_in_pipeline"))}
    report.record(
        values,
        script="benchmarks/bench_chapter04.py",
        how=how,
        machine_load=load
        if isinstance(load, str)
        else f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs",
        units={
            **dict.fromkeys(new, "min"),
            "ch04.epoch_seconds_in_model": "s",
            "ch04.epoch_seconds_in_pipeline": "s",
            "ch04.notebook_minutes": "min",
        },
        formats={**dict.fromkeys(new, ".1f"), "ch04.notebook_minutes": ".0f"},
    )


if __name__ == "__main__":
    sys.exit(main())
