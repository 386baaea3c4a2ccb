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

``--record`` writes ``chapters.NN.minutes`` and ``chapters.total_minutes`` into
``benchmarks/results.json``. The times are wall-clock times: on a shared machine they are
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, required=True, help="the offline mirror (COURSE_DATA_DIR)")
    parser.add_argument("--chapters", nargs="+", help="two-digit chapter numbers (default: 00 to 07)")
    parser.add_argument("--models", type=Path, help="models folder to share (default: a new temporary one)")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds allowed per cell (default 7200)")
    parser.add_argument("--keep", type=Path, help="save each executed notebook in this folder")
    parser.add_argument("--results", type=Path, help="folder for each chapter's COURSE_RESULTS file NN.jsonl")
    parser.add_argument("--record", action="store_true", help="write the times into benchmarks/results.json")
    args = parser.parse_args(argv)
    selected = args.chapters or [f"{n:02d}" for n in range(8)]
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
    if args.record and minutes:
        import report

        values = {f"chapters.{number}.minutes": round(value, 1) for number, value in minutes.items()}
        units = dict.fromkeys(values, "min")
        formats = dict.fromkeys(values, ".1f")
        how = (
            "solutions/NN notebook run headless in full mode with its exercises on the offline mirror, "
            "chapters in order sharing one models folder (benchmarks/run_chapters.py)"
        )
        load = f"load average {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs (shared machine)"
        report.record(
            values, script="benchmarks/run_chapters.py", how=how, machine_load=load, units=units, formats=formats
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
