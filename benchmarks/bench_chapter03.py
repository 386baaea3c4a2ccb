"""Benchmark chapter 03 on real CIFAR-10 images: the tutorial CNN versus the chapter's classifier.

Runs ``solutions/03_building_cnns.ipynb`` headless in FULL mode (no ``COURSE_SMOKE``)
with ``COURSE_DATA_DIR`` pointing at a mirror built by ``benchmarks/cifar_mirror.py``
(50,000 training images, the official 10,000 test images) and ``COURSE_RESULTS``
set, then prints what the notebook recorded: test accuracy and training time of the
first CNN (the TensorFlow tutorial CNN) and of the chapter's main classifier, side by side.

    python benchmarks/cifar_mirror.py cifar10-train-jpg.tar.gz cifar10-test-jpg.tar.gz /tmp/mirror
    python benchmarks/bench_chapter03.py --mirror /tmp/mirror [--results results.jsonl] [--keep out.ipynb] [--record]

``--record`` writes the figures into ``benchmarks/results.json`` (then
``python benchmarks/report.py --requote`` updates the texts).

The training times are wall-clock times: on a machine shared with other programs they
are longer than on an idle one. The notebook also records the process CPU time of the
main model's training (``train_cpu_seconds``), which the load changes much less.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
NOTEBOOK = ROOT / "solutions" / "03_building_cnns.ipynb"
ROWS = [
    ("first CNN (TensorFlow tutorial)", "first_cnn_test_accuracy", "first_cnn_train_seconds"),
    ("chapter 03 classifier", "test_accuracy", "train_seconds"),
    ("chapter 03 classifier, flip-averaged", "test_accuracy_flip", "train_seconds"),
]


def run_notebook(notebook: Path, env: dict[str, str], timeout: int, keep: Path | None = None) -> float:
    """Execute ``notebook`` in a fresh kernel with ``env`` added to the environment; returns seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    start = time.perf_counter()
    try:
        NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
        ).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if keep is not None:
            nbformat.write(nb, keep)
    return time.perf_counter() - start


def read_results(path: Path) -> dict[str, object]:
    """The last value recorded under each name in a ``COURSE_RESULTS`` file."""
    values: dict[str, object] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                values[row["name"]] = row["value"]
    return values


def table(results: dict[str, object]) -> str:
    """A Markdown table: model, test accuracy, training minutes, accuracy points per training minute."""
    lines = [
        "| model | test accuracy | training time | accuracy points per training minute |",
        "|---|---|---|---|",
    ]
    for label, acc_key, time_key in ROWS:
        if acc_key not in results or time_key not in results:
            lines.append(f"| {label} | not recorded | | |")
            continue
        accuracy, seconds = float(results[acc_key]), float(results[time_key])
        lines.append(f"| {label} | {accuracy:.1%} | {seconds / 60:.1f} min | {100 * accuracy / (seconds / 60):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, required=True, help="mirror folder holding datasets/cifar10.npz")
    parser.add_argument("--results", type=Path, help="COURSE_RESULTS file to write (default: a temporary file)")
    parser.add_argument("--keep", type=Path, help="also save the executed notebook here")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell (default 3600)")
    parser.add_argument("--record", action="store_true", help="write the figures into benchmarks/results.json")
    parser.add_argument("--models", type=Path, help="COURSE_MODELS_DIR to save the classifier in (default: temporary)")
    args = parser.parse_args(argv)
    if not (args.mirror / "datasets" / "cifar10.npz").is_file():
        parser.error(f"{args.mirror}/datasets/cifar10.npz not found: build it with benchmarks/cifar_mirror.py")

    results_path = args.results or Path(tempfile.mkdtemp(prefix="bench03_")) / "results.jsonl"
    results_path.unlink(missing_ok=True)
    keras_home = tempfile.mkdtemp(prefix="bench03_keras_")  # no Keras cache: the mirror is what gets read
    env = {
        "COURSE_DATA_DIR": str(args.mirror),
        "COURSE_RESULTS": str(results_path),
        "COURSE_OFFLINE": "1",
        "COURSE_SMOKE": "0",
        "KERAS_HOME": keras_home,
        "COURSE_MODELS_DIR": str(args.models or Path(keras_home) / "models"),
    }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Running {NOTEBOOK.name} in full mode with the mirror {args.mirror} (load average {load:.1f}) ...", flush=True
    )
    seconds = run_notebook(NOTEBOOK, env, args.timeout, args.keep)
    results = read_results(results_path)
    print(f"\nWhole notebook: {seconds / 60:.1f} min; load average at the end {os.getloadavg()[0]:.1f}.")
    print(table(results))
    if "train_cpu_seconds" in results:
        print(f"\nMain model: {float(results['train_cpu_seconds']) / 60:.1f} CPU-minutes of training (all threads).")
    print(f"Recorded results: {results_path}")
    for key in ("test_accuracy", "train_seconds"):
        if key not in results:
            print(f"ERROR: the notebook did not record {key}.", file=sys.stderr)
            return 1
    if args.record:
        record(results, seconds, load_start=load)
    return 0


def record(results: dict[str, object], notebook_seconds: float, load_start: float | str) -> None:
    """Write the run's figures into results.json under the ``ch03.`` keys the README quotes."""
    import report

    values: dict[str, float] = {"ch03.notebook_minutes": round(notebook_seconds / 60)}
    for model, acc_key, time_key in (
        ("tutorial_cnn", "first_cnn_test_accuracy", "first_cnn_train_seconds"),
        ("classifier", "test_accuracy", "train_seconds"),
    ):
        accuracy, minutes = 100 * float(results[acc_key]), float(results[time_key]) / 60
        values[f"ch03.{model}.test_accuracy"] = round(accuracy, 1)
        values[f"ch03.{model}.train_minutes"] = round(minutes, 2)
        values[f"ch03.{model}.points_per_minute"] = round(accuracy / minutes, 1)
    for name, key in (
        ("test_top3_accuracy", "top3_accuracy"),
        ("test_accuracy_flip", "test_accuracy_flip"),
        ("val_accuracy", "val_accuracy"),
        ("val_accuracy_flip", "val_accuracy_flip"),
    ):
        if name in results:
            values[f"ch03.classifier.{key}"] = round(100 * float(results[name]), 1)
    for name in ("epochs", "first_cnn_epochs"):
        if name in results:
            values["ch03.classifier.epochs" if name == "epochs" else "ch03.tutorial_cnn.epochs"] = int(results[name])
    for split in ("val", "test"):
        plain, flip = f"ch03.classifier.{split}_accuracy", f"ch03.classifier.{split}_accuracy_flip"
        if plain in values and flip in values:
            values[f"ch03.classifier.{split}_flip_gain"] = round(values[flip] - values[plain], 1)
    ratio = float(results["train_seconds"]) / float(results["first_cnn_train_seconds"])
    values["ch03.classifier.time_ratio"] = round(ratio, 2)
    if "train_cpu_seconds" in results and "first_cnn_train_cpu_seconds" in results:
        # processor time: what both trainings cost, whatever else the machine was doing meanwhile
        cpu_ratio = float(results["train_cpu_seconds"]) / float(results["first_cnn_train_cpu_seconds"])
        values["ch03.classifier.cpu_time_ratio"] = round(cpu_ratio, 2)
    for name, key in (("callbacks_val_accuracy", "callbacks"), ("gradient_tape_val_accuracy", "gradient_tape")):
        if name in results:  # the 10,000-image runs of the callbacks and custom-loop sections
            values[f"ch03.{key}.val_accuracy"] = round(100 * float(results[name]), 1)
    how = (
        "chapter 03 notebook run whole in full mode on real CIFAR-10 (50,000 train of which 5,000 for validation, the official 10,000 test) by "
        "bench_chapter03.py --mirror DIR; times are wall-clock training times in the same run"
    )
    load = load_start  # a note about an earlier run, or the load average when this run started
    if not isinstance(load_start, str):
        load = (
            f"load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs"
        )
    percent = ("test_accuracy_flip", "val_accuracy", "val_accuracy_flip")
    report.record(
        values,
        script="benchmarks/bench_chapter03.py",
        how=how,
        machine_load=load,
        units={
            **{f"ch03.classifier.{key}": "%" for key in percent},
            "ch03.classifier.val_flip_gain": "points",
            "ch03.classifier.cpu_time_ratio": "×",
            "ch03.classifier.test_flip_gain": "points",
            "ch03.callbacks.val_accuracy": "%",
            "ch03.gradient_tape.val_accuracy": "%",
        },
        formats={f"ch03.classifier.{key}": ".1f" for key in (*percent, "val_flip_gain", "test_flip_gain")}
        | {
            "ch03.classifier.time_ratio": ".2f",
            "ch03.classifier.cpu_time_ratio": ".2f",
            "ch03.callbacks.val_accuracy": ".0f",
            "ch03.gradient_tape.val_accuracy": ".0f",
        },
    )


if __name__ == "__main__":
    sys.exit(main())
