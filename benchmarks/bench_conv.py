"""Time the NumPy convolutions of chapter 02 against ``tf.nn.conv2d``.

The ladder: the readable loop (chapter 02's ``conv2d_loop``) on one small image, the
vectorised im2col version (``conv2d``, one patch matrix per image), the same
with the whole batch as one patch matrix (``conv2d_one_matrix``), and ``tf.nn.conv2d`` on a batch of
8 images of 64x64x16 with 32 filters of 3x3, padding 'same'. Prints a Markdown table and
checks the goal: vectorised NumPy within 2x of TensorFlow (must be within 4x).

    python benchmarks/bench_conv.py [--repeats 50] [--rounds 3] [--json out.json] [--record]

Exit status 1 when NumPy is more than 4x slower than TensorFlow. Timings are the best
and the median of ``--repeats`` runs after one warm-up; with ``--rounds N`` the whole
comparison is repeated N times (the goal must hold in every round) and the table shows the
last round. ``--record`` writes the figures into ``benchmarks/results.json``. Run it on an
otherwise idle machine. TensorFlow runs with the course's settings (``course.quiet_tensorflow``), oneDNN
included unless TF_ENABLE_ONEDNN_OPTS=0 is set.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import report  # noqa: E402  (benchmarks/report.py, beside this script)

from helpers.course import import_tensorflow  # noqa: E402
from tools.testing import ROOT, notebook_functions  # noqa: E402

CHAPTER_02 = notebook_functions(
    ROOT / "solutions" / "02_convolution_from_scratch.ipynb", "conv2d_loop", "conv2d", "conv2d_one_matrix"
)

GOAL, LIMIT = 2.0, 4.0
BATCH, SIZE, CHANNELS, FILTERS, KERNEL = 8, 64, 16, 32, 3
SMALL = 16


def timings(function, repeats: int) -> tuple[float, float]:
    """Best and median seconds of ``repeats`` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(
        f"{i['internal_api']} {i.get('version')} {i.get('architecture')} x{i['num_threads']}" for i in info
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed runs per measurement (default 50)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole comparison N times (default 1)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--record", action="store_true", help="write the figures into benchmarks/results.json")
    args = parser.parse_args(argv)

    tf = import_tensorflow()
    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH, SIZE, SIZE, CHANNELS)).astype(np.float32)
    kernels = rng.standard_normal((KERNEL, KERNEL, CHANNELS, FILTERS)).astype(np.float32)
    small = images[:1, :SMALL, :SMALL]
    images_tf, kernels_tf = tf.constant(images), tf.constant(kernels)

    expected = tf.nn.conv2d(images_tf, kernels_tf, 1, "SAME").numpy()
    error = float(np.abs(CHAPTER_02.conv2d(images, kernels, 1, "same") - expected).max())
    one_matrix_error = float(np.abs(CHAPTER_02.conv2d_one_matrix(images, kernels) - expected).max())
    small_error = float(
        np.abs(CHAPTER_02.conv2d_loop(small, kernels, 1, "same") - CHAPTER_02.conv2d(small, kernels, 1, "same")).max()
    )

    loop_repeats = max(1, args.repeats // 10)
    ratios = []
    for round_ in range(args.rounds):
        rows = {
            "loop, 1x16x16x16": timings(lambda: CHAPTER_02.conv2d_loop(small, kernels, 1, "same"), loop_repeats),
            "vectorised NumPy, 1x16x16x16": timings(lambda: CHAPTER_02.conv2d(small, kernels, 1, "same"), args.repeats),
            "vectorised NumPy, 8x64x64x16": timings(
                lambda: CHAPTER_02.conv2d(images, kernels, 1, "same"), args.repeats
            ),
            "NumPy, whole batch as one matrix, 8x64x64x16": timings(
                lambda: CHAPTER_02.conv2d_one_matrix(images, kernels), args.repeats
            ),
            "tf.nn.conv2d, 8x64x64x16": timings(
                lambda: tf.nn.conv2d(images_tf, kernels_tf, 1, "SAME").numpy(), args.repeats
            ),
        }
        ratios.append(rows["vectorised NumPy, 8x64x64x16"][1] / rows["tf.nn.conv2d, 8x64x64x16"][1])
        if args.rounds > 1:
            print(f"round {round_ + 1}: NumPy / TensorFlow medians {ratios[-1]:.2f}x", flush=True)
    ratio_best = rows["vectorised NumPy, 8x64x64x16"][0] / rows["tf.nn.conv2d, 8x64x64x16"][0]
    ratio_median = rows["vectorised NumPy, 8x64x64x16"][1] / rows["tf.nn.conv2d, 8x64x64x16"][1]
    loop_batch_estimate = rows["loop, 1x16x16x16"][0] * (BATCH * SIZE * SIZE) / (SMALL * SMALL)

    print(f"# conv2d ladder: {FILTERS} filters of {KERNEL}x{KERNEL}, padding 'same'")
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, TensorFlow {tf.__version__}, "
        f"{os.cpu_count()} CPUs, BLAS: {blas()}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
        f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS')}"
    )
    print()
    print("| implementation, input | best | median |")
    print("|---|---:|---:|")
    for name, (best, median) in rows.items():
        print(f"| {name} | {best * 1000:.2f} ms | {median * 1000:.2f} ms |")
    print(f"| loop, 8x64x64x16 (estimated from the small input) | {loop_batch_estimate:.1f} s | |")
    print()
    print(f"max |NumPy - TF| on the batch: {error:.2e}; loop vs vectorised on the small input: {small_error:.2e}")
    worst = max(ratios)
    verdict = "goal met" if worst <= GOAL else ("within the limit" if worst <= LIMIT else "TOO SLOW")
    print(
        f"NumPy / TensorFlow: {ratio_best:.2f}x (best), {ratio_median:.2f}x (median); medians over "
        f"{args.rounds} round(s): {', '.join(f'{r:.2f}x' for r in ratios)}: {verdict} (goal <= {GOAL}x, limit <= {LIMIT}x)"
    )
    print(f"Load average: {report.machine_load_note()}")

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows_ms": {name: [best * 1000, median * 1000] for name, (best, median) in rows.items()},
                    "ratio_best": ratio_best,
                    "ratio_median": ratio_median,
                    "max_abs_error": error,
                    "blas": blas(),
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    if args.record:
        ms = {name: (best * 1000, median * 1000) for name, (best, median) in rows.items()}
        values = {
            "conv.loop_small.best": ms["loop, 1x16x16x16"][0],
            "conv.loop_small.median": ms["loop, 1x16x16x16"][1],
            "conv.loop_full_estimate": loop_batch_estimate,
            "conv.numpy.best": ms["vectorised NumPy, 8x64x64x16"][0],
            "conv.numpy.median": ms["vectorised NumPy, 8x64x64x16"][1],
            "conv.one_matrix.median": ms["NumPy, whole batch as one matrix, 8x64x64x16"][1],
            "conv.one_matrix_vs_per_image": ms["NumPy, whole batch as one matrix, 8x64x64x16"][1]
            / ms["vectorised NumPy, 8x64x64x16"][1],
            "conv.tf.best": ms["tf.nn.conv2d, 8x64x64x16"][0],
            "conv.tf.median": ms["tf.nn.conv2d, 8x64x64x16"][1],
            "conv.ratio_median_low": min(ratios),
            "conv.ratio_median_high": max(ratios),
            "conv.rounds": args.rounds,
            "conv.rounds_within_goal": sum(ratio <= GOAL for ratio in ratios),
        }
        how = (
            f"best and median of {args.repeats} runs after a warm-up, {args.rounds} round(s); 8x64x64x16 input, "
            "32 filters 3x3, 'same'; the loop on 1x16x16x16 (full input estimated from it)"
        )
        report.record(
            values,
            script="benchmarks/bench_conv.py",
            how=how,
            units={
                "conv.ratio_median_low": "×",
                "conv.ratio_median_high": "×",
                "conv.rounds": "",
                "conv.rounds_within_goal": "",
                "conv.one_matrix.median": "ms",
                "conv.one_matrix_vs_per_image": "×",
            },
            formats={
                "conv.ratio_median_low": ".2f",
                "conv.ratio_median_high": ".2f",
                "conv.one_matrix.median": ".1f",
                "conv.one_matrix_vs_per_image": ".2f",
            },
        )
    return 0 if worst <= LIMIT and max(error, one_matrix_error) < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
