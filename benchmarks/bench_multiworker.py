"""Two workers under MultiWorkerMirroredStrategy vs one process, on chapter 03's classifier.

    python benchmarks/bench_multiworker.py --mirror DIR [--examples 10000] [--epochs 1] [--record]

Builds chapter 03's classifier from the chapter's own code (``build_classifier`` in
``solutions/03_building_cnns.ipynb``), then trains it for the same number of steps with the
same global batch twice with ``helpers.multiworker.launch``: two worker processes on
127.0.0.1 (each reads half of the images) and one process alone. Prints both times;
``--record`` writes them into ``benchmarks/results.json`` (README: chapter 03 section).
On one machine the two workers share its cores and add an all-reduce per step, so they
are not expected to be faster; the script reports what they cost.
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
sys.path.insert(0, str(ROOT / "benchmarks"))
import report  # noqa: E402  (benchmarks/report.py)


def classifier_config(path: Path) -> Path:
    """Write chapter 03's classifier (built by the chapter's code) as ``model.to_json()``."""
    from helpers import course

    course.setup(verbose=False)
    import keras
    from keras import layers

    cells = json.loads((ROOT / "solutions" / "03_building_cnns.ipynb").read_text())["cells"]
    code = next("".join(c["source"]) for c in cells if "def build_classifier" in "".join(c["source"]))
    scope = {"keras": keras, "layers": layers}
    exec(code, scope)  # the chapter's own definition, not a copy
    path.write_text(scope["build_classifier"]().to_json())
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", help="COURSE_DATA_DIR with datasets/cifar10.npz (real CIFAR-10)")
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--record", action="store_true", help="write the figures into benchmarks/results.json")
    parser.add_argument(
        "--cpu",
        type=report.cpu_name,
        help="with --record: a short name for this CPU, so its figures go to ch03.multiworker_NAME.* beside another's",
    )
    args = parser.parse_args(argv)
    if args.mirror:
        os.environ["COURSE_DATA_DIR"] = args.mirror
        os.environ["COURSE_OFFLINE"] = "1"
    from helpers import multiworker

    work = Path(tempfile.mkdtemp(prefix="bench_multiworker_"))
    config = classifier_config(work / "classifier.json")
    runs = {}
    for workers in (1, 2):
        started = time.perf_counter()
        run = multiworker.launch(
            workers,
            epochs=args.epochs,
            examples=args.examples,
            batch_size=args.batch_size,
            model_config=config,
            timeout=args.timeout,
            out=work / f"workers-{workers}",
        )
        print(run, f"(wall {time.perf_counter() - started:.0f} s)\n", flush=True)
        if not run.ok:
            return 1
        runs[workers] = run
    one = runs[1].workers[0].report["train_seconds"]
    two = max(w.report["train_seconds"] for w in runs[2].workers)
    cpu_one, cpu_two = runs[1].cpu_seconds, runs[2].cpu_seconds
    prefix = f"ch03.multiworker_{args.cpu}" if args.cpu else "ch03.multiworker"
    values = {
        f"{prefix}.one_process_cpu_s": round(cpu_one),
        f"{prefix}.two_workers_cpu_s": round(cpu_two),
        f"{prefix}.cpu_ratio": round(cpu_two / cpu_one, 2),
        f"{prefix}.one_process_s": round(one, 1),
        f"{prefix}.two_workers_s": round(two, 1),
        f"{prefix}.slowdown": round(two / one, 2),
        f"{prefix}.one_process_wall_s": round(runs[1].seconds),
        f"{prefix}.two_workers_wall_s": round(runs[2].seconds),
    }
    print(json.dumps(values, indent=1))
    if args.record:
        how = (
            f"chapter 03's classifier, {args.examples} real CIFAR-10 images, {args.epochs} epoch(s), global batch "
            f"{args.batch_size}: two MultiWorkerMirroredStrategy workers on 127.0.0.1 vs one process, same steps"
        )
        report.record(
            values,
            script="benchmarks/bench_multiworker.py",
            how=how,
            machine_load=report.machine_load_note(),
            units={k: ("×" if k.endswith(("slowdown", "ratio")) else "s") for k in values},
            formats={k: (".1f" if k.endswith(("slowdown", "ratio")) else ".0f") for k in values},
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
