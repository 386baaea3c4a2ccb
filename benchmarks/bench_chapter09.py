"""Chapter 09: what to expect from your own classifier with 20, 100 or 500 photos per class.

Runs chapter 09's recipe on the real tf_flowers photos with the real ImageNet weights of
``MobileNet(alpha=0.25)`` (the chapter's backbone), for several folder sizes:

1. the chapter's data checks (its ``check_photos``) on the whole folder;
2. a fixed test set of ``--test-per-class`` photos per class, never trained on;
3. for each size N: N photos per class from the rest (each size contains the smaller ones),
   the chapter's seeded stratified split (70% train / 15% validation / 15% test), feature
   extraction, then fine-tuning, exactly as the notebook does them;
4. accuracy on the fixed test set (precise) and on the chapter's own small test split
   (what the learner sees), with training times.

    COURSE_RESULTS=/tmp/results.jsonl python benchmarks/bench_chapter09.py \
        --flowers DIR/datasets/flowers --weights DIR/weights/mobilenet_2_5_224_tf_no_top.h5

Every figure goes to ``course.record_result`` (chapter ``09_your_own_classifier``). Nothing
derived from the photos is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import course, models  # noqa: E402
from tools.testing import ROOT, notebook_functions  # noqa: E402

capstone = notebook_functions(  # the chapter's own code, run from its cells
    ROOT / "solutions" / "09_your_own_classifier.ipynb",
    "check_photos",
    "report_problems",
    "stratified_split",
    "load_photos",
    "build_classifier",
)

WEIGHT_FILE = "mobilenet_2_5_224_tf_no_top.h5"


def fixed_test_set(photos, per_class: int, seed: int):
    """``per_class`` usable photos of every class, chosen once; the rest is the pool the sizes come from."""
    usable = photos[photos["use"]]
    test = usable.groupby("label", group_keys=False).sample(n=per_class, random_state=seed)
    pool = usable.drop(test.index).sample(frac=1.0, random_state=seed)
    return test.sort_values("path"), pool


def run_size(args, pool, x_test, y_test, class_names, per_class: int, seed: int, loaded: dict) -> dict:
    import keras
    import numpy as np

    folder = pool.groupby("label", group_keys=False).head(per_class)  # the first N of each class in pool order
    train, val, own_test = capstone.stratified_split(folder, seed=seed)

    def arrays(table):
        return np.stack([loaded[p] for p in table["path"]]), table["label"].map(class_names.index).to_numpy()

    (x_train, y_train), (x_val, y_val), (x_own, y_own) = arrays(train), arrays(val), arrays(own_test)
    keras.utils.set_random_seed(seed)
    base = models.pretrained("MobileNet", alpha=0.25, include_top=False, input_shape=(args.size, args.size, 3))
    if not models.weights_source(base).startswith("mirror"):
        raise RuntimeError(f"Expected the ImageNet weights from the mirror, got: {models.weights_source(base)}")
    augmentation = keras.Sequential(
        [keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1), keras.layers.RandomZoom(0.1)]
    )
    classifier = capstone.build_classifier(base, models.preprocess_for("MobileNet"), len(class_names), args.size)
    model = keras.Sequential([keras.Input(shape=(args.size, args.size, 3)), augmentation, classifier])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )

    def stop():
        return keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)

    def accuracy(x, y):
        return float(np.mean(np.argmax(classifier.predict(x, batch_size=64, verbose=0), axis=1) == y))

    row = {"per_class": per_class, "seed": seed, "train": len(train), "val": len(val), "own_test": len(own_test)}

    def phase(prefix, epochs):
        """Train for up to ``epochs`` (early stopping) and record time, epochs and both test accuracies."""
        start = time.time()
        history = model.fit(
            x_train,
            y_train,
            validation_data=(x_val, y_val),
            epochs=epochs,
            batch_size=args.batch_size,
            callbacks=[stop()],
            verbose=0,
        )
        row[f"{prefix}_seconds"] = round(time.time() - start, 1)
        row[f"{prefix}_epochs"] = len(history.epoch)
        row[f"{prefix}_test_accuracy"] = accuracy(x_test, y_test)
        row[f"{prefix}_own_test_accuracy"] = accuracy(x_own, y_own)

    phase("feature", args.epochs)
    models.start_fine_tuning(model, base, n_layers=args.fine_tune_layers, learning_rate=1e-4)
    phase("fine_tune", args.fine_tune_epochs)
    row["load_average"] = round(os.getloadavg()[0], 1)
    keras.backend.clear_session()
    return row


def record(rows: list[dict]) -> None:
    """Put the mean test accuracies per folder size into benchmarks/results.json (see benchmarks/report.py)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import report

    values, units, formats = {}, {}, {}
    for per_class in sorted({row["per_class"] for row in rows}):
        runs = [row for row in rows if row["per_class"] == per_class]
        for phase in ("feature", "fine_tune"):
            key = f"ch09.{per_class}.{phase}_test_accuracy"
            values[key] = round(100 * sum(r[f"{phase}_test_accuracy"] for r in runs) / len(runs), 1)
            units[key], formats[key] = "%", ".0f"
        values[f"ch09.{per_class}.runs"] = len(runs)
        units[f"ch09.{per_class}.runs"] = ""
    report.record(
        values,
        script="benchmarks/bench_chapter09.py",
        how="chapter 09 recipe (MobileNet alpha=0.25 ImageNet weights, 224 px) on the real tf_flowers photos; "
        "accuracy on a fixed held-out set of 100 photos per class",
        machine_load=report.machine_load_note(),
        units=units,
        formats=formats,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flowers", type=Path, required=True, help="the tf_flowers folder: <class>/*.jpg")
    parser.add_argument("--weights", type=Path, required=True, help=f"the Keras ImageNet weight file {WEIGHT_FILE}")
    parser.add_argument("--per-class", type=int, nargs="+", default=[20, 100, 500])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=15, help="feature-extraction epochs (at most; early stopping)")
    parser.add_argument("--fine-tune-epochs", type=int, default=10)
    parser.add_argument("--fine-tune-layers", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument("--record", action="store_true", help="store the accuracies in benchmarks/results.json")
    args = parser.parse_args(argv)
    for path in (args.flowers, args.weights):
        if not path.exists():
            parser.error(f"{path} does not exist (see benchmarks/README.md for where to get it).")

    course.setup(chapter="09_your_own_classifier", verbose=True)
    import numpy as np

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ch09-") as tmp:
        work = Path(tmp)
        (work / "mirror" / "weights").mkdir(parents=True)
        shutil.copyfile(args.weights, work / "mirror" / "weights" / WEIGHT_FILE)
        os.environ.update(COURSE_DATA_DIR=str(work / "mirror"), COURSE_OFFLINE="1")
        os.environ["KERAS_HOME"] = str(work / "keras-home")
        start = time.time()
        photos = capstone.check_photos(args.flowers)
        check_seconds = time.time() - start
        problems = capstone.report_problems(photos, args.size)
        class_names = sorted(photos["label"].dropna().unique())
        for seed in args.seeds:
            test, pool = fixed_test_set(photos, args.test_per_class, seed)
            needed = list(test["path"]) + list(
                pool.groupby("label", group_keys=False).head(max(args.per_class))["path"]
            )
            start = time.time()
            loaded = dict(zip(needed, capstone.load_photos(needed, args.size)))
            load_seconds = time.time() - start
            print(
                f"checks {check_seconds:.0f} s for {len(photos)} files; loaded {len(needed)} photos in {load_seconds:.0f} s"
            )
            x_test = np.stack([loaded[p] for p in test["path"]])
            y_test = test["label"].map(class_names.index).to_numpy()
            for per_class in args.per_class:
                row = run_size(args, pool, x_test, y_test, class_names, per_class, seed, loaded)
                row["photos_per_second_loading"] = round(len(needed) / load_seconds, 1)
                rows.append(row)
                print(json.dumps(row))
                tag = f"bench_chapter09/{per_class}_per_class_seed{seed}"
                for key, value in row.items():
                    course.record_result(f"{tag}/{key}", value)
    course.record_result("bench_chapter09/check_seconds_3670_files", round(check_seconds, 1))
    course.record_result("bench_chapter09/problems", problems)
    if args.record:
        record(rows)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "check_seconds": check_seconds, "problems": problems}, indent=1))
    print(f"\nTotal {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
