"""Run the chapters of ``solutions/`` in full mode, in order, and print each one's time.

Every chapter runs headless in a fresh kernel with its exercises (the solutions fill them
in), on the offline mirror ``--mirror DIR`` (``COURSE_DATA_DIR``, ``COURSE_OFFLINE=1``),
sharing one models folder (``COURSE_MODELS_DIR``, a new temporary folder unless
``--models DIR``), so that chapters 06 and 07 find the models 03 and 05 saved, as a
learner's would. It prints a table of wall-clock minutes per chapter and the total. What
each chapter records with ``course.record_result`` goes to ``RESULTS/NN.jsonl``
(``--results RESULTS``, default a new temporary folder), for the chapters' own benchmark
scripts to read (e.g. ``bench_chapters.py --recorded RESULTS/06.jsonl``).

    python benchmarks/run_chapters.py --mirror /work/mirror [--chapters 00 01 03] [--models DIR] [--record]
    python benchmarks/run_chapters.py --figures-from RESULTS --keep KEPT   # record an earlier run's figures
    python benchmarks/run_chapters.py --cells KEPT [--min-seconds 15]      # where a kept run's minutes went

``--record`` writes ``chapters.NN.minutes`` into ``benchmarks/results.json``, and then what the
chapters measured, through each chapter's own benchmark script (03: ``bench_chapter03``, 04:
``bench_chapter04``, 05: ``bench_transfer``, 06 and 07: ``bench_chapters``; 10: ``chapter10_figures`` here), so that one run of
the course gives every figure the README and the notebooks quote. With ``--keep``, the run also
lists its slowest cells (``--cells`` lists them again later from the kept notebooks). The times are wall-clock times: on a shared machine they are
longer than on an idle one (the load average is printed and recorded with them).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_chapter03 import run_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"


def chapters(selected: list[str] | None) -> list[Path]:
    notebooks = sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    if selected:
        notebooks = [nb for nb in notebooks if nb.name[:2] in selected]
        missing = set(selected) - {nb.name[:2] for nb in notebooks}
        if missing:
            raise SystemExit(f"No chapter {sorted(missing)} in {SOLUTIONS}.")
    return notebooks


def _cell_label(source: str) -> str:
    """The line of a cell that says where its time goes: its first ``fit(`` or ``launch(`` call, else its first code line."""
    code = [line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    if not code:
        return "(comments only)"
    line = next((line for line in code if "fit(" in line or "launch(" in line), code[0])
    return line if len(line) <= 70 else line[:67] + "..."


def slow_cells(notebook: Path, min_seconds: float = 15.0) -> list[dict]:
    """Cells of an executed notebook that ran at least ``min_seconds``, from their execution timestamps.

    nbclient stores when each cell started and finished (``metadata.execution``); cells without
    those timestamps (not run, or run by another tool) are left out. Sorted as in the notebook.
    """
    import json
    from datetime import datetime

    try:
        cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise SystemExit(f"{notebook} is not a notebook file ({error!r}): pass the --keep folder of a run.") from None
    found = []
    for index, cell in enumerate(cells):
        stamps = cell.get("metadata", {}).get("execution", {})
        if cell.get("cell_type") != "code" or not {"iopub.execute_input", "shell.execute_reply"} <= set(stamps):
            continue
        started, ended = (datetime.fromisoformat(stamps[k].replace("Z", "+00:00"))
                          for k in ("iopub.execute_input", "shell.execute_reply"))  # fmt: skip
        seconds = (ended - started).total_seconds()
        if seconds >= min_seconds:
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            found.append(
                {"chapter": Path(notebook).name[:2], "cell": index, "seconds": seconds, "label": _cell_label(source)}
            )
    return found


def cells_table(kept: Path, min_seconds: float = 15.0) -> str:
    """A Markdown table of the slow cells of every executed notebook in ``kept``, with their share of the total."""
    notebooks = sorted(Path(kept).glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise SystemExit(f"No executed chapter notebooks (NN_*.ipynb) in {kept}: pass the --keep folder of a run.")
    rows = [row for notebook in notebooks for row in slow_cells(notebook, min_seconds)]
    every = sum(row["seconds"] for notebook in notebooks for row in slow_cells(notebook, 0.0))
    lines = ["| chapter | cell | seconds | what it runs |", "|---|---:|---:|---|"]
    lines += [f"| {r['chapter']} | {r['cell']} | {r['seconds']:.0f} | `{r['label']}` |" for r in rows]
    slow = sum(row["seconds"] for row in rows)
    share = f" ({slow / every:.0%} of all {every / 60:.1f} min of cell time)" if every else ""
    lines.append(f"\n{len(rows)} cells of at least {min_seconds:g} s: {slow / 60:.1f} min{share}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, help="the offline mirror (COURSE_DATA_DIR)")
    parser.add_argument("--chapters", nargs="+", help="two-digit chapter numbers (default: 00 to 10)")
    parser.add_argument("--models", type=Path, help="models folder to share (default: a new temporary one)")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds allowed per cell (default 7200)")
    parser.add_argument("--keep", type=Path, help="save each executed notebook in this folder")
    parser.add_argument("--results", type=Path, help="folder for each chapter's COURSE_RESULTS file NN.jsonl")
    parser.add_argument("--record", action="store_true", help="write the times into benchmarks/results.json")
    parser.add_argument(
        "--figures-from", type=Path, help="do not run: record the chapters' figures from this --results folder"
    )
    parser.add_argument("--load", default=None, help="with --figures-from: how busy the machine was during that run")
    parser.add_argument(
        "--cells", type=Path, help="do not run: list the slowest cells of the notebooks kept in this folder"
    )
    parser.add_argument("--min-seconds", type=float, default=15.0, help="with --cells or --keep: list cells this slow")
    args = parser.parse_args(argv)
    if args.cells:
        print(cells_table(args.cells, args.min_seconds))
        return 0
    if args.figures_from:
        return record_figures(args.figures_from, args.keep, args.load or "not noted")
    if args.mirror is None:
        parser.error("--mirror DIR is needed to run the chapters")
    if not (args.mirror / "datasets").is_dir():
        parser.error(f"{args.mirror} is not an offline mirror (no datasets/ in it): see python -m helpers prefetch")
    selected = args.chapters or [*COURSE, *OPTIONAL]
    models = args.models or Path(tempfile.mkdtemp(prefix="run_chapters_models_"))
    env = {
        "COURSE_DATA_DIR": str(args.mirror),
        "COURSE_OFFLINE": "1",
        "COURSE_SMOKE": "0",
        "COURSE_MODELS_DIR": str(models),
        "COURSE_STRICT_CHECKS": "1",
        "KERAS_HOME": tempfile.mkdtemp(prefix="run_chapters_keras_"),
    }
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    results = args.results or Path(tempfile.mkdtemp(prefix="run_chapters_results_"))
    results.mkdir(parents=True, exist_ok=True)
    print(
        f"Models folder: {models}; results in {results}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    minutes: dict[str, float] = {}
    failed = []
    for notebook in chapters(selected):
        start_load = os.getloadavg()[0]
        env["COURSE_RESULTS"] = str(results / f"{notebook.name[:2]}.jsonl")
        Path(env["COURSE_RESULTS"]).unlink(missing_ok=True)
        start = time.perf_counter()
        try:
            run_notebook(notebook, env, args.timeout, args.keep / notebook.name if args.keep else None)
        except Exception as exc:  # report and go on: the later chapters still tell something
            failed.append(notebook.name)
            print(f"{notebook.name}: FAILED after {(time.perf_counter() - start) / 60:.1f} min: {str(exc)[-800:]}")
            continue
        minutes[notebook.name[:2]] = (time.perf_counter() - start) / 60
        print(
            f"{notebook.name}: {minutes[notebook.name[:2]]:.1f} min "
            f"(load average {start_load:.1f} -> {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    print("\n| chapter | minutes (wall clock) |\n|---|---:|")
    for number, value in minutes.items():
        print(f"| {number} | {value:.1f} |")
    print(f"| total | {sum(minutes.values()):.1f} |")
    if args.keep and minutes:
        print("\nThe slowest cells:\n" + cells_table(args.keep, args.min_seconds))
    if args.record and minutes:
        import report

        values = {f"chapters.{number}.minutes": round(value, 1) for number, value in minutes.items()}
        if set(COURSE) <= set(minutes):
            values["chapters.total_minutes"] = round(sum(minutes.values()), 1)
        units = dict.fromkeys(values, "min")
        formats = dict.fromkeys(values, ".1f")
        how = (
            "solutions/NN notebook run headless in full mode with its exercises on the offline mirror, "
            "chapters in order sharing one models folder (benchmarks/run_chapters.py)"
        )
        load = f"load average {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs"
        report.record(
            values, script="benchmarks/run_chapters.py", how=how, machine_load=load, units=units, formats=formats
        )
        record_figures(results, args.keep, load)
    return 1 if failed else 0


COURSE = tuple(f"{n:02d}" for n in range(10))
"""The chapters every learner takes; ``chapters.total_minutes`` is their sum."""
OPTIONAL = ("10",)
"""Optional chapters: run by default, timed, but not part of the total."""

# What chapter 10 records (``course.record_result`` name) -> its figure in results.json: key, unit, format, scale.
CHAPTER10 = {
    "first_block_mac_share": ("ch10.first_block.mac_share", "%", ".0f", 100),
    "first_block_time_share": ("ch10.first_block.time_share", "%", ".0f", 100),
    "cache_penalty": ("ch10.cache_penalty", "×", ".1f", 1),
    "parallel_map_speedup": ("ch10.parallel_map_speedup", "×", ".0f", 1),
    "batched_map_speedup": ("ch10.batched_map_speedup", "×", ".0f", 1),
    "bfloat16_speedup": ("ch10.bfloat16_speedup", "×", ".1f", 1),
    "xla_speedup": ("ch10.xla_speedup", "×", ".1f", 1),
    "two_workers_train_seconds": ("ch10.two_workers.train_seconds", "s", ".0f", 1),
    "mirrored_train_seconds": ("ch10.mirrored.train_seconds", "s", ".0f", 1),
}


def chapter10_figures(results: dict) -> dict[str, float]:
    """Chapter 10's recorded results as results.json figures (those it recorded)."""
    return {
        key: round(float(results[name]) * scale, 2) for name, (key, _, _, scale) in CHAPTER10.items() if name in results
    }


def record_figures(results: Path, kept: Path | None, load: str) -> int:
    """Record what chapters 03-09 measured (``RESULTS/NN.jsonl``) with each chapter's benchmark script."""
    import json

    import bench_chapter04
    import bench_chapter08
    import bench_chapters
    import bench_transfer
    import report
    from bench_chapter03 import read_results
    from bench_chapter03 import record as record_03

    found = {path.stem: path for path in sorted(Path(results).glob("[0-9][0-9].jsonl"))}
    if not found:
        raise SystemExit(
            f"No chapter results (NN.jsonl) in {results}: pass the --results folder of a run_chapters run."
        )
    recorded = json.loads(report.RESULTS.read_text(encoding="utf-8"))
    missing = [n for n in found if f"chapters.{n}.minutes" not in recorded]
    if missing:  # the notebook times come from the run's --record; without them no minutes would be right
        raise SystemExit(f"results.json has no chapters.NN.minutes for {missing}: record that run with --record first.")
    seconds = {n: 60 * recorded[f"chapters.{n}.minutes"]["value"] for n in found}
    early = {}  # chapters 01 and 02: the digits models and the small CIFAR-10 CNN of the feature maps
    if "01" in found:
        results_01 = read_results(found["01"])
        for kind in ("binary", "multiclass", "multilabel"):
            if f"digits_{kind}_accuracy" in results_01:
                early[f"ch01.digits.{kind}_accuracy"] = round(100 * float(results_01[f"digits_{kind}_accuracy"]), 1)
    if "02" in found and "cifar_cnn_val_accuracy" in (results_02 := read_results(found["02"])):
        early["ch02.cifar_cnn_val_accuracy"] = round(100 * float(results_02["cifar_cnn_val_accuracy"]), 1)
    if early:
        how = (
            "chapter notebook run whole in full mode on the offline mirror (benchmarks/run_chapters.py): chapter 01's "
            "three models on scikit-learn's 8x8 digits, chapter 02's small CNN on CIFAR-10 (2 epochs)"
        )
        report.record(
            early, script="benchmarks/run_chapters.py", how=how, machine_load=load,
            units=dict.fromkeys(early, "%"), formats=dict.fromkeys(early, ".1f"),
        )  # fmt: skip
    if "03" in found:
        record_03(read_results(found["03"]), seconds["03"], load_start=load)
    if "04" in found and (values := bench_chapter04.figures(read_results(found["04"]), seconds["04"])):
        bench_chapter04.record(values, load)
    if "05" in found:
        values, units, formats = bench_transfer.figures(read_results(found["05"]), seconds["05"], None)
        how = (
            "chapter 05 notebook run whole in full mode (exercises included), offline, on the 3,670 real tf_flowers "
            "photos (stratified 70/15/15 split, seed 42) with the real ImageNet weights of the backbone named "
            "(benchmarks/run_chapters.py)"
        )
        report.record(
            values, script="benchmarks/bench_transfer.py", how=how, machine_load=load, units=units, formats=formats
        )
    for number in ("06", "07"):
        if number not in found:
            continue
        rows = [json.loads(line) for line in found[number].read_text().splitlines() if line.strip()]
        notebook = next(iter(sorted(kept.glob(f"{number}_*.ipynb"))), None) if kept else None
        text = notebook.read_text(encoding="utf-8") if notebook else ""
        models_line = next((line.strip(' "\\n,') for line in text.splitlines() if "saved model" in line.lower()), "")
        name = notebook.stem if notebook else number
        values, units, formats = bench_chapters.figures_of(name, rows, seconds[number], models_line)
        how = f"notebook run whole in full mode on the real data of the offline mirror (benchmarks/run_chapters.py); {models_line or 'the model the chapter trained itself'}"
        report.record(
            values, script="benchmarks/bench_chapters.py", how=how, machine_load=load, units=units, formats=formats
        )
    if "08" in found:
        values = bench_chapter08.figures(read_results(found["08"]), seconds["08"] / 60)
        report.record(
            values, script="benchmarks/bench_chapter08.py", how=bench_chapter08.HOW, machine_load=load,
            units={k: bench_chapter08.unit_of(k) for k in values}, formats={k: bench_chapter08.format_of(k) for k in values},
        )  # fmt: skip
    if "09" in found and "test_accuracy" in (results_09 := read_results(found["09"])):
        how = "chapter 09 notebook run whole in full mode on the flower photos, 100 per class (benchmarks/run_chapters.py)"
        report.record(
            {"ch09.notebook.test_accuracy": round(100 * float(results_09["test_accuracy"]), 1)},
            script="benchmarks/run_chapters.py", how=how, machine_load=load,
            units={"ch09.notebook.test_accuracy": "%"}, formats={"ch09.notebook.test_accuracy": ".0f"},
        )  # fmt: skip
    if "10" in found and (values := chapter10_figures(read_results(found["10"]))):
        results_10 = read_results(found["10"])
        how = (
            "chapter 10 notebook run whole in full mode on 10,000 real CIFAR-10 training images "
            f"(bfloat16 instructions: {results_10.get('has_bfloat16')}; both workers' weights identical: "
            f"{results_10.get('same_weights')}) (benchmarks/run_chapters.py)"
        )
        figures = {key: (unit, fmt) for key, unit, fmt, _ in CHAPTER10.values()}
        report.record(
            values, script="benchmarks/run_chapters.py", how=how, machine_load=load,
            units={k: figures[k][0] for k in values}, formats={k: figures[k][1] for k in values},
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
