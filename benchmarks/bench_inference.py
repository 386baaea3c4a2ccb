"""Inference speed on this CPU: a MobileNetV2 224x224 classifier, the model of a typical app.

    python benchmarks/bench_inference.py [--runs 50] [--batches 1 8 32] [--json results.json]

Measures, after a warm-up:

1. single-image latency of the model alone, three ways: ``model.predict_on_batch``, a direct
   call ``model(x, training=False)``, and the exported TFLite (LiteRT) file;
2. single-image latency end to end, file on disk -> top-3 list, through
   chapter 07's ``make_predictor`` (read, resize, predict, sort), and the same with the
   TFLite file in place of the Keras model;
3. batch throughput (images per second) with ``predict_on_batch`` for several batch sizes.

The model is ``keras.applications.MobileNetV2(weights=None)``: random weights have exactly the
same cost as the ImageNet ones, and need no download. The goal is at most 50 ms per image end
to end; the exit status is 1 when the median misses it. Timings are medians (and 90th
percentiles) of ``--runs`` calls; on a shared machine, run it when it is otherwise idle.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import report  # noqa: E402  (benchmarks/report.py, beside this script)

from helpers import course, inference, taught  # noqa: E402
from helpers.taught import compare_predictions  # noqa: E402
from tools.testing import notebook_functions  # noqa: E402

GOAL_MS = 50.0
SIZE = 224


def timed(function, runs: int, warmup: int = 3) -> dict[str, float]:
    """Median and 90th-percentile milliseconds of ``runs`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"median_ms": statistics.median(times), "p90_ms": times[min(len(times) - 1, int(0.9 * len(times)))]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="timed calls per measurement (default 50)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32], help="batch sizes for throughput")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--record", action="store_true", help="write the single-image figures into benchmarks/results.json"
    )
    args = parser.parse_args(argv)

    tf = course.import_tensorflow()
    import keras
    from PIL import Image
    from sklearn.datasets import load_sample_image

    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(
        weights=None, input_shape=(SIZE, SIZE, 3), classes=1000, classifier_activation=None
    )  # logits, like the chapter's models
    class_names = [f"class_{i}" for i in range(1000)]
    preprocess = keras.applications.mobilenet_v2.preprocess_input

    work = Path(tempfile.mkdtemp(prefix="bench_inference_"))
    photo = work / "china.jpg"
    Image.fromarray(load_sample_image("china.jpg")).save(photo)  # a real 640x427 JPEG
    image = preprocess(inference.load_image(photo, SIZE))[None]

    results: dict[str, dict] = {}
    results["model.predict_on_batch (1 image)"] = timed(lambda: model.predict_on_batch(image), args.runs)
    # Calling the model directly runs eagerly, one operation at a time: slow, so fewer runs.
    results["model(x, training=False), eager (1 image)"] = timed(
        lambda: model(image, training=False), max(5, args.runs // 5), warmup=1
    )

    saved = work / "saved_model"
    model.export(saved, verbose=False)  # chapter 07's SavedModel export, then its three converter lines
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
    tflite_path = work / "mobilenet_v2.tflite"
    tflite_path.write_bytes(converter.convert())
    interpreter = inference.tflite_interpreter(tflite_path)
    agreement = compare_predictions(model.predict_on_batch(image), taught.tflite_predict(interpreter, image), atol=1e-4)
    results["TFLite / LiteRT interpreter (1 image)"] = timed(
        lambda: taught.tflite_predict(interpreter, image), args.runs
    )

    chapter_07 = notebook_functions(
        Path(__file__).resolve().parent.parent / "solutions" / "07_inference.ipynb", "make_predictor"
    )
    predict = chapter_07.make_predictor(model, class_names, SIZE, top=3, preprocess=preprocess)
    results["end to end: file -> top 3 (make_predictor)"] = timed(lambda: predict(photo), args.runs)

    def predict_lite(path):
        pixels = preprocess(inference.load_image(path, SIZE))[None]
        return taught.top_k(taught.tflite_predict(interpreter, pixels)[0], class_names, 3)

    results["end to end: file -> top 3 (TFLite)"] = timed(lambda: predict_lite(photo), args.runs)

    throughput = {}
    for batch_size in args.batches:
        batch = np.repeat(image, batch_size, axis=0)
        runs = max(5, args.runs // batch_size)
        stats = timed(lambda b=batch: model.predict_on_batch(b), runs, warmup=2)
        throughput[batch_size] = batch_size / (stats["median_ms"] / 1000)

    end_to_end = min(
        results["end to end: file -> top 3 (make_predictor)"]["median_ms"],
        results["end to end: file -> top 3 (TFLite)"]["median_ms"],
    )
    meta = {
        "model": f"MobileNetV2 {SIZE}x{SIZE}, 1000 classes, weights=None ({model.count_params():,} parameters)",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "cpu": f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores",
        "runs": args.runs,
        "tflite_kb": round(tflite_path.stat().st_size / 1024),
        "tflite_agreement": agreement,
    }
    print(f"# Inference benchmark: {meta['model']}")
    print(
        f"TensorFlow {meta['tensorflow']}, Keras {meta['keras']}, {meta['cpu']}; median of {args.runs} runs after warm-up\n"
    )
    print("| single image | median (ms) | 90th percentile (ms) |")
    print("|---|---:|---:|")
    for name, stats in results.items():
        print(f"| {name} | {stats['median_ms']:.1f} | {stats['p90_ms']:.1f} |")
    print("\n| batch size | images per second |")
    print("|---:|---:|")
    for batch_size, rate in throughput.items():
        print(f"| {batch_size} | {rate:,.0f} |")
    print(
        f"\nTFLite file: {meta['tflite_kb']} KB; agrees with Keras: {agreement['agree']} "
        f"(max |difference| {agreement['max_abs_difference']:.2g}, same top-1 {agreement['same_top1']:.0%})"
    )
    verdict = "meets" if end_to_end <= GOAL_MS else "MISSES"
    print(f"Best end to end {end_to_end:.1f} ms per image: {verdict} the goal of <= {GOAL_MS:.0f} ms.")
    print(
        f"Load average while measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
        f"(above {os.cpu_count()} means other work shared the CPU)"
    )

    if args.json:
        args.json.write_text(
            json.dumps({"meta": meta, "single_image": results, "throughput_images_per_s": throughput}, indent=1)
        )
    if args.record:
        onednn = "no_onednn" if os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0" else "onednn"
        names = ("keras_predict_on_batch", "keras_eager", "tflite", "end_to_end_keras", "end_to_end_tflite")
        values = {f"inference.{key}.{onednn}": stats["median_ms"] for key, stats in zip(names, results.values())}
        how = f"MobileNetV2 {SIZE}x{SIZE}, weights=None, --runs {args.runs}, median single-image latency"
        how += ", TF_ENABLE_ONEDNN_OPTS=0" if onednn == "no_onednn" else ", oneDNN on (default)"
        report.record(values, script="benchmarks/bench_inference.py", how=how, machine_load=report.machine_load_note())
    return 0 if end_to_end <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
