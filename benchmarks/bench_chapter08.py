"""Benchmark chapter 08 on the real flower photos and real CIFAR-10: every measured figure of the chapter.

Runs ``solutions/08_look_inside.ipynb`` headless in FULL mode with ``COURSE_DATA_DIR``
pointing at a mirror that holds ``datasets/flowers/``, ``datasets/cifar10.npz`` and
``weights/mobilenet_2_5_224_tf_no_top.h5``, and ``COURSE_RESULTS`` set; then prints what the
notebook recorded: cleaning before/after, the class-imbalance table, calibration before/after
temperature scaling and the learning-rate range test.

    python benchmarks/bench_chapter08.py --mirror DIR [--models DIR] [--keep out.ipynb] [--record]
    python benchmarks/bench_chapter08.py --from-results results.jsonl --minutes 25 --record

``--models`` is the course models folder to use (``COURSE_MODELS_DIR``): with chapter 03's
and chapter 05's saved models in it, the notebook uses them, else it trains short stand-ins.
``--from-results`` records an earlier run's ``COURSE_RESULTS`` file instead of running again.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
NOTEBOOK = ROOT / "solutions" / "08_look_inside.ipynb"
METHODS = {
    "nothing": "nothing",
    "class_weight": "class_weight",
    "oversampling": "oversampling",
    "threshold moving": "threshold",
}


def figures(results: dict, notebook_minutes: float | None) -> dict[str, float]:
    """The ``ch08.`` figures of results.json from one run's recorded results (the parts it recorded)."""
    values: dict[str, float] = {}
    if notebook_minutes is not None:
        values["ch08.notebook_minutes"] = round(notebook_minutes, 1)
    for name in ("head_test_accuracy", "cifar_test_accuracy"):
        if name in results:
            values[f"ch08.{name}"] = round(100 * float(results[name]), 1)
    for row in results.get("cleaning_table", []):
        name = "cleaned" if row["training data"] == "cleaned" else "labelled"
        values[f"ch08.cleaning.{name}.photos"] = int(row["photos"])
        values[f"ch08.cleaning.{name}.accuracy"] = round(100 * row["test accuracy (mean)"], 1)
        values[f"ch08.cleaning.{name}.min"] = round(100 * row["min"], 1)
        values[f"ch08.cleaning.{name}.max"] = round(100 * row["max"], 1)
    for row in results.get("imbalance_table", []):
        method = METHODS[row["index"]]
        for column, key in (
            ("accuracy", "accuracy"),
            ("balanced accuracy", "balanced_accuracy"),
            ("macro F1", "macro_f1"),
            ("roses recall", "rare_recall"),
            ("roses precision", "rare_precision"),
        ):
            values[f"ch08.imbalance.{method}.{key}"] = round(100 * row[column], 1)
    if "rare_kept" in results:
        kept, total = results["rare_kept"]
        values["ch08.imbalance.rare_kept"], values["ch08.imbalance.rare_total"] = int(kept), int(total)
    if "temperature" in results:
        values["ch08.temperature"] = round(float(results["temperature"]), 2)
    for row in results.get("calibration_table", []):
        when = "before" if row["index"] == "before" else "after"
        values[f"ch08.calibration.{when}.ece"] = round(row["ECE"], 3)
        values[f"ch08.calibration.{when}.nll"] = round(row["NLL"], 3)
        values[f"ch08.calibration.{when}.accuracy"] = round(100 * row["accuracy"], 1)
    if "lr_suggested" in results:
        values["ch08.lr.suggested"] = float(results["lr_suggested"])
        values["ch08.lr.minimum_over_10"] = float(results["lr_minimum_over_10"])
    return values


HOW = (
    "chapter 08 notebook run whole in full mode: the 3,670 real tf_flowers photos (seeded stratified 60/20/20 "
    "split, heads on cached MobileNet alpha=0.25 features, real ImageNet weights), real CIFAR-10 as "
    "keras.datasets.cifar10.load_data() gives it (chapter 03's seeded 45,000 / 5,000 split of the 50,000 training "
    "images; the official 10,000 test images), with chapter 03's saved classifier"
)
UNITS = {"accuracy": "%", "recall": "%", "precision": "%", "f1": "%", "minutes": "min"}


def unit_of(key: str) -> str:
    last = key.rsplit(".", 1)[-1]
    if last in ("min", "max") or "accuracy" in last or last.endswith(("recall", "precision", "f1")):
        return "%"
    return "min" if last.endswith("minutes") else ""


def format_of(key: str) -> str:
    last = key.rsplit(".", 1)[-1]
    if key.startswith("ch08.lr."):
        return ".1e"
    if last in ("ece", "nll"):
        return ".3f"
    if key == "ch08.temperature":
        return ".2f"
    return ".1f" if unit_of(key) == "%" else ".0f"


def main(argv: list[str] | None = None) -> int:
    from bench_chapter03 import read_results, run_notebook

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mirror", type=Path, help="mirror folder with datasets/flowers, datasets/cifar10.npz, weights/"
    )
    parser.add_argument("--models", type=Path, help="COURSE_MODELS_DIR for the run (default: a temporary folder)")
    parser.add_argument("--keep", type=Path, help="also save the executed notebook here")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell (default 3600)")
    parser.add_argument("--from-results", type=Path, help="record this COURSE_RESULTS file instead of running")
    parser.add_argument(
        "--minutes", type=float, help="with --from-results: how long that whole run took, if it was whole"
    )
    parser.add_argument("--load", default=None, help="with --from-results: the machine's load during that run")
    parser.add_argument("--record", action="store_true", help="write the figures into benchmarks/results.json")
    args = parser.parse_args(argv)

    if args.from_results:
        results, minutes, load = read_results(args.from_results), args.minutes, args.load or "not recorded"
    else:
        if args.mirror is None or not (args.mirror / "datasets" / "flowers").is_dir():
            parser.error("--mirror DIR with datasets/flowers/ (python -m helpers prefetch --to DIR) is required")
        results_path = Path(tempfile.mkdtemp(prefix="bench08_")) / "results.jsonl"
        env = {
            "COURSE_DATA_DIR": str(args.mirror),
            "COURSE_RESULTS": str(results_path),
            "COURSE_MODELS_DIR": str(args.models or Path(tempfile.mkdtemp(prefix="bench08_models_"))),
            "COURSE_OFFLINE": "1",
            "COURSE_SMOKE": "0",
            "KERAS_HOME": tempfile.mkdtemp(prefix="bench08_keras_"),
        }
        load = f"load average {os.getloadavg()[0]:.1f} at the start" if hasattr(os, "getloadavg") else "unknown"
        print(f"Running {NOTEBOOK.name} in full mode with the mirror {args.mirror} ({load}) ...", flush=True)
        minutes = run_notebook(NOTEBOOK, env, args.timeout, args.keep) / 60
        results = read_results(results_path)
    values = figures(results, minutes)
    for key, value in sorted(values.items()):
        print(f"{key:<45} {value}")
    if args.record:
        import report

        how = HOW
        report.record(
            values,
            script="benchmarks/bench_chapter08.py",
            how=how,
            machine_load=str(load),
            units={key: unit_of(key) for key in values},
            formats={key: format_of(key) for key in values},
        )
        print("Recorded in benchmarks/results.json; run `python benchmarks/report.py --requote` for the texts.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
