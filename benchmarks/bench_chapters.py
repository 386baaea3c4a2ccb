"""Run chapter notebooks whole in full mode on real data and record what they measure.

Each notebook runs in a fresh kernel (nbclient) with ``COURSE_SMOKE`` unset, the offline mirror
``--data-dir`` as ``COURSE_DATA_DIR`` and ``--models-dir`` as ``COURSE_MODELS_DIR`` (where
chapters 03 and 05 left their models; an empty folder measures the fallback path, where the
chapter trains its own short model). Every ``course.record_result`` of the run is collected
through ``COURSE_RESULTS``, together with the notebook's wall time, and printed; with
``--record`` the figures go to ``benchmarks/results.json`` under ``chNN.<path>.<name>``, where
``<path>`` says which model the chapter used (``saved`` or ``fallback``).

    python benchmarks/bench_chapters.py 06_evaluation 07_inference \\
        --data-dir /work/mirror --models-dir ~/.course/models --record

The executed notebooks are written to ``--out`` (default: a temporary folder) for reading.
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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

UNITS = {"accuracy": "%", "latency": "ms", "ms": "ms", "throughput": "images/s", "seconds": "s", "minutes": "min"}


def run_notebook(name: str, data_dir: Path, models_dir: Path, out: Path) -> tuple[list[dict], float, str]:
    """Execute solutions/<name>.ipynb in full mode; return its recorded results, wall seconds and the models line."""
    import nbformat
    from nbclient import NotebookClient

    results = out / f"{name}.jsonl"
    results.unlink(missing_ok=True)
    env = {"COURSE_DATA_DIR": str(data_dir), "COURSE_MODELS_DIR": str(models_dir), "COURSE_RESULTS": str(results)}
    env.update(COURSE_OFFLINE="1", TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="agg")
    saved = {key: os.environ.get(key) for key in [*env, "COURSE_SMOKE"]}
    os.environ.update(env)
    os.environ.pop("COURSE_SMOKE", None)
    notebook = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(
            notebook, timeout=7200, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
        ).execute()
    finally:
        seconds = time.perf_counter() - start
        nbformat.write(notebook, out / f"{name}.ipynb")
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    text = "\n".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    models_line = next((line for line in text.splitlines() if "saved model" in line.lower()), "")
    rows = [json.loads(line) for line in results.read_text().splitlines()] if results.is_file() else []
    return rows, seconds, models_line


def figures_of(name: str, rows: list[dict], seconds: float | None, models_line: str) -> tuple[dict, dict, dict]:
    """results.json entries (``chNN.<recorded name>``): values, units and formats."""
    chapter = f"ch{name[:2]}"
    values, units, formats = {}, {}, {}
    if seconds is not None:
        path = "saved_model" if models_line.startswith("Using the saved model") else "own_model"
        key = f"{chapter}.notebook_minutes.{path}"
        values[key], units[key], formats[key] = round(seconds / 60, 1), "min", ".1f"
    for row in rows:
        key, value = f"{chapter}.{row['name']}", row["value"]
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        unit = next((u for word, u in UNITS.items() if word in row["name"]), "")
        if unit == "%":
            value = round(100 * value, 1)
            formats[key] = ".1f"
        values[key], units[key] = value, unit
    return values, units, formats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", help="chapter names, e.g. 06_evaluation 07_inference")
    parser.add_argument("--data-dir", type=Path, required=True, help="the offline mirror (COURSE_DATA_DIR)")
    parser.add_argument("--models-dir", type=Path, required=True, help="the models folder (COURSE_MODELS_DIR)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the executed notebooks")
    parser.add_argument("--record", action="store_true", help="write the figures to benchmarks/results.json")
    parser.add_argument(
        "--recorded",
        type=Path,
        default=None,
        help="do not run: take the results of an earlier full run of ONE notebook from this COURSE_RESULTS file",
    )
    parser.add_argument(
        "--recorded-load",
        default="a heavily loaded shared machine (load average about 30 on 2 CPUs)",
        help="with --recorded: how loaded the machine was during that run (goes into results.json)",
    )
    args = parser.parse_args(argv)
    import report  # benchmarks/report.py, beside this script

    out = args.out or Path(tempfile.mkdtemp(prefix="bench_chapters_"))
    out.mkdir(parents=True, exist_ok=True)
    for name in args.notebooks:
        load_before = report.machine_load_note()
        if args.recorded is not None:
            rows = [json.loads(line) for line in args.recorded.read_text().splitlines() if line.strip()]
            rows = [row for row in rows if row.get("chapter") == name and row.get("mode") != "smoke"]
            seconds, models_line = None, ""
        else:
            rows, seconds, models_line = run_notebook(name, args.data_dir, args.models_dir.expanduser(), out)
        values, units, formats = figures_of(name, rows, seconds, models_line)
        took = f"{seconds / 60:.1f} min" if seconds is not None else "earlier run"
        print(f"{name}: {took}; {models_line or 'no saved model used'}")
        for key, value in values.items():
            print(f"  {key:50} {value} {units.get(key, '')}")
        if args.record:
            how = (
                f"notebook run whole in full mode on the real data of the offline mirror; "
                f"{models_line or 'see the figure names: quick_/fallback_ = the model the chapter trained itself'}"
            )
            load = f"{load_before} at the start, {report.machine_load_note()} at the end"
            if args.recorded is not None:
                load = f"{args.recorded_load}; recorded {load_before}"
            report.record(
                values, script="benchmarks/bench_chapters.py", how=how, machine_load=load, units=units, formats=formats
            )
    print(f"executed notebooks in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
