"""Chapter 09: which method to use, and what to expect, for folders of different sizes and looks.

For each folder (the real tf_flowers photos at 10, 20, 100 and all photos per class, and any
other folders of real photos given with ``--folder NAME=DIR``), with the real ImageNet weights of
``MobileNet(alpha=0.25)`` (the chapter's backbone) at 224 px:

1. the chapter's own data checks (``check_photos``, ``report_problems``, ``report_classes``, run
   from its cells) on the whole folder: the problems by kind, the class warnings, and how many
   usable photos have a near-duplicate (embedding cosine similarity at or above ``--near``,
   the threshold ``bench_near_duplicates.py`` chose) elsewhere in the folder;
2. a held-out test set of 15% of each class's usable photos, drawn once (seeded) and never
   trained on; the sizes draw from the rest (each size contains the smaller ones), which is then
   split 70:15 into training and validation photos (stratified, seeded), the chapter's proportions;
3. for each size, two methods with the same budget of ``--steps`` optimizer steps (batch 32):
   - ``head``: the frozen base's features of every training photo computed once (no
     augmentation), then dropout + a Dense head trained on them (chapter 05's best);
   - ``fine_tune``: the same head trained for half the steps, then base + head with the
     augmentation in front, the top ``--fine-tune-layers`` layers of the base unfrozen
     (BatchNorm frozen, ``start_fine_tuning`` from chapter 05), learning rate 1e-4, for the other half;
4. test accuracy on the held-out photos with its 95% Wilson interval, validation accuracy, and
   the wall time of each method (features + head; or that + fine-tuning).

    python benchmarks/bench_chapter09.py --flowers DIR/datasets/flowers \
        --weights DIR/weights/mobilenet_2_5_224_tf_no_top.h5 \
        --folder food=/tmp/photos/food --folder grocery=/tmp/photos/grocery --json /tmp/ch09.json [--record]

``--record`` stores ``ch09.sizing.*`` in ``benchmarks/results.json``. Nothing derived from the
photos is written outside a temporary folder (and ``--json``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from helpers import course, models  # noqa: E402
from helpers.taught import start_fine_tuning  # noqa: E402
from tools.testing import ROOT, notebook_functions  # noqa: E402

capstone = notebook_functions(  # the chapter's own code, run from its cells
    ROOT / "solutions" / "09_your_own_classifier.ipynb",
    "check_photos",
    "report_problems",
    "report_classes",
    "load_photos",
)

WEIGHT_FILE = "mobilenet_2_5_224_tf_no_top.h5"
BATCH = 32


def wilson(right: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion right/n."""
    if n == 0:
        return 0.0, 1.0
    p = right / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def checks(folder: Path, image_size: int) -> tuple[object, dict]:
    """The chapter's checks on the whole folder: (photos table, what they reported)."""
    start = time.time()
    photos = capstone.check_photos(folder)
    seconds = time.time() - start
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        kinds = capstone.report_problems(photos, image_size)
        _, warnings = capstone.report_classes(photos)
    found = photos["problem"].dropna().map(lambda problem: problem.split(" (")[0])
    return photos, {
        "files": len(photos),
        "usable": int(photos["use"].sum()),
        "classes": int(photos["label"].nunique()),
        "problems": {kind: int((found == kind).sum()) for kind in kinds},
        "class_warnings": warnings,
        "check_seconds": round(seconds, 1),
    }


def split(usable, seed: int):
    """(held-out test, pool): 15% of each class held out; the pool shuffled (seeded)."""
    test = usable.groupby("label", group_keys=False).sample(frac=0.15, random_state=seed)
    pool = usable.drop(test.index).sample(frac=1.0, random_state=seed)
    return test, pool


def train_val(chosen, seed: int):
    from sklearn.model_selection import train_test_split

    return train_test_split(chosen, test_size=15 / 85, stratify=chosen["label"], random_state=seed)


def build_base(size: int):
    base = models.pretrained("MobileNet", alpha=0.25, include_top=False, input_shape=(size, size, 3))
    if not models.weights_source(base).startswith(("mirror", "Keras cache")):
        raise RuntimeError(f"Expected the ImageNet weights from the mirror, got: {models.weights_source(base)}")
    return base


def features(base, x, preprocess):
    import keras
    import numpy as np

    pooled = keras.Sequential(
        [keras.Input(x.shape[1:]), keras.layers.Lambda(preprocess), base, keras.layers.GlobalAveragePooling2D()]
    )
    return np.asarray(pooled.predict(x, batch_size=64, verbose=0))


def head_model(n_features: int, n_classes: int):
    import keras

    return keras.Sequential(
        [keras.Input((n_features,)), keras.layers.Dropout(0.2), keras.layers.Dense(n_classes)], name="head"
    )


def fit_steps(model, x, y, steps: int, seed: int) -> None:
    """Exactly ``steps`` optimizer steps of batch 32 over shuffled passes through (x, y)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(x)) for _ in range(math.ceil(steps * BATCH / len(x)) + 1)])

    def batches():
        for step in range(steps):
            chosen = np.sort(order[step * BATCH : (step + 1) * BATCH])
            yield x[chosen], y[chosen]

    model.fit(batches(), steps_per_epoch=steps, epochs=1, verbose=0)


def compile_(model, learning_rate: float):
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def accuracy(model, x, y) -> tuple[int, int]:
    import numpy as np

    return int(np.sum(np.argmax(model.predict(x, batch_size=64, verbose=0), axis=1) == y)), len(y)


def run(args, name, per_class, chosen, test, images, class_names, seed) -> dict:
    """Both methods on one folder size: test accuracy with interval, validation accuracy, wall time."""
    import keras
    import numpy as np

    train, val = train_val(chosen, seed)

    def arrays(table):
        return np.stack([images[p] for p in table["path"]]), table["label"].map(class_names.index).to_numpy()

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = arrays(train), arrays(val), arrays(test)
    row = {
        "folder": name,
        "per_class": per_class,
        "seed": seed,
        "train": len(train),
        "val": len(val),
        "test": len(test),
        "steps": args.steps,
        "classes": len(class_names),
    }
    keras.utils.set_random_seed(seed)
    preprocess = models.preprocess_for("MobileNet")
    base = build_base(args.size)
    start = time.time()
    f_train = features(base, x_train, preprocess)
    feature_seconds = time.time() - start
    f_val, f_test = features(base, x_val, preprocess), features(base, x_test, preprocess)

    def report(prefix, model, xv, xt, seconds):
        right, n = accuracy(model, xt, y_test)
        low, high = wilson(right, n)
        row[f"{prefix}_test_accuracy"] = right / n
        row[f"{prefix}_test_low"], row[f"{prefix}_test_high"] = low, high
        row[f"{prefix}_val_accuracy"] = accuracy(model, xv, y_val)[0] / len(y_val)
        row[f"{prefix}_seconds"] = round(seconds, 1)

    # the stored-features head: all the steps on the stored features
    head = head_model(f_train.shape[1], len(class_names))
    compile_(head, 1e-3)
    start = time.time()
    fit_steps(head, f_train, y_train, args.steps, seed)
    report("head", head, f_val, f_test, feature_seconds + time.time() - start)

    # fine-tuning: the same head for half the steps, then base + head fine-tuned for the other half
    keras.utils.set_random_seed(seed)
    head = head_model(f_train.shape[1], len(class_names))
    compile_(head, 1e-3)
    start = time.time()
    fit_steps(head, f_train, y_train, args.steps // 2, seed)
    half_seconds = time.time() - start
    inputs = keras.Input((args.size, args.size, 3))
    x = base(keras.layers.Lambda(preprocess)(inputs), training=False)
    classifier = keras.Model(inputs, head(keras.layers.GlobalAveragePooling2D()(x)))
    augmentation = keras.Sequential(
        [keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1), keras.layers.RandomZoom(0.1)]
    )
    model = keras.Sequential([keras.Input((args.size, args.size, 3)), augmentation, classifier])
    compile_(model, 1e-4)
    start_fine_tuning(model, base, n_layers=args.fine_tune_layers, learning_rate=1e-4)
    start = time.time()
    fit_steps(model, x_train, y_train, args.steps - args.steps // 2, seed)
    report("fine_tune", classifier, x_val, x_test, feature_seconds + half_seconds + time.time() - start)
    row["load_average"] = round(os.getloadavg()[0], 1)
    keras.backend.clear_session()
    return row


def near_duplicates(base_size: int, usable, images, thresholds) -> dict:
    """For each cosine threshold: how many usable photos have another at or above it (any class), and the
    largest group when photos are joined through such pairs (single linkage, as a split that keeps groups
    on one side would join them)."""
    import numpy as np
    from bench_near_duplicates import threshold_counts

    base = build_base(base_size)
    x = np.stack([images[p] for p in usable["path"]])
    preprocess = models.preprocess_for("MobileNet")
    f = np.concatenate([features(base, x[i : i + 512], preprocess) for i in range(0, len(x), 512)])
    f /= np.linalg.norm(f, axis=1, keepdims=True)
    return threshold_counts(f, thresholds)


def folder_runs(args, name, folder, sizes, rows, reported) -> None:
    import numpy as np

    photos, found = checks(folder, args.size)
    usable = photos[photos["use"]].reset_index(drop=True)
    class_names = sorted(usable["label"].unique())
    start = time.time()
    loaded = capstone.load_photos(list(usable["path"]), args.size)
    found["load_seconds"] = round(time.time() - start, 1)
    images = dict(zip(usable["path"], loaded))
    found["near_duplicates"] = near_duplicates(
        args.size, usable, images, sorted({0.88, 0.9, 0.91, 0.92, 0.94, args.near})
    )
    found["near_threshold"] = args.near
    reported[name] = found
    print(name, json.dumps(found), flush=True)
    for seed in args.seeds:
        test, pool = split(usable, seed)
        for per_class in sizes:
            chosen = pool if per_class == "all" else pool.groupby("label", group_keys=False).head(per_class)
            row = run(args, name, per_class, chosen, test, images, class_names, seed)
            rows.append(row)
            print(json.dumps(row), flush=True)
    del images, loaded
    np.zeros(1)


def record(rows: list[dict], reported: dict, args) -> None:
    """The sizing table into benchmarks/results.json (see benchmarks/report.py)."""
    import report

    values, units, formats = {}, {}, {}

    def put(key, value, unit, fmt=""):
        values[key], units[key] = value, unit
        if fmt:
            formats[key] = fmt

    for row in rows:
        if row["seed"] != args.seeds[0]:
            continue
        tag = f"ch09.sizing.{row['folder']}" + ("" if row["folder"] != "flowers" else f"_{row['per_class']}")
        put(f"{tag}.train_photos", row["train"], "", ",")
        put(f"{tag}.test_photos", row["test"], "", ",")
        put(f"{tag}.classes", row["classes"], "")
        for method in ("head", "fine_tune"):
            put(f"{tag}.{method}.test_accuracy", round(100 * row[f"{method}_test_accuracy"], 1), "%", ".0f")
            put(f"{tag}.{method}.test_low", round(100 * row[f"{method}_test_low"], 1), "%", ".0f")
            put(f"{tag}.{method}.test_high", round(100 * row[f"{method}_test_high"], 1), "%", ".0f")
            put(f"{tag}.{method}.minutes", round(row[f"{method}_seconds"] / 60, 2), "min", ".1f")
    for name, found in reported.items():
        put(f"ch09.sizing.{name}.checked_files", found["files"], "", ",")
        put(f"ch09.sizing.{name}.usable_photos", found["usable"], "", ",")
        put(f"ch09.sizing.{name}.problem_files", sum(found["problems"].values()), "", ",")
        for kind, count in found["problems"].items():
            put(f"ch09.sizing.{name}.problems.{kind.replace(' ', '_')}", count, "", ",")
        put(f"ch09.sizing.{name}.class_warnings", len(found["class_warnings"]), "")
        for threshold, near in found["near_duplicates"].items():
            tag = f"ch09.sizing.{name}.near_{threshold.replace('.', '')}"
            put(f"{tag}.photos", near["photos_with_a_near_duplicate"], "", ",")
            put(f"{tag}.largest_group", near["largest_group"], "", ",")
    put("ch09.sizing.steps", args.steps, "")
    report.record(
        values,
        script="benchmarks/bench_chapter09.py",
        how=f"MobileNet alpha=0.25 ImageNet weights, {args.size} px; stored-features head vs fine-tuning "
        f"(top {args.fine_tune_layers} layers, lr 1e-4) at the same {args.steps} optimizer steps of batch {BATCH}; "
        "accuracy on 15% of each class held out (95% Wilson interval); training/validation 70:15 of the rest; "
        "wall times include computing the stored features; seed " + str(args.seeds[0]),
        machine_load=report.machine_load_note() + " (shared with other engineers' work: times are inflated)",
        units=units,
        formats=formats,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flowers", type=Path, required=True, help="the tf_flowers folder: <class>/*.jpg")
    parser.add_argument("--weights", type=Path, required=True, help=f"the Keras ImageNet weight file {WEIGHT_FILE}")
    parser.add_argument("--folder", action="append", default=[], help="NAME=DIR: another folder of class folders")
    parser.add_argument("--per-class", nargs="+", default=["10", "20", "100", "all"], help="sizes for the flowers")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--steps", type=int, default=400, help="optimizer steps of batch 32 for each method")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--fine-tune-layers", type=int, default=20)
    parser.add_argument("--near", type=float, default=0.92, help="near-duplicate cosine threshold (recorded)")
    parser.add_argument("--only", nargs="+", help="run only these folders (flowers and/or NAMEs)")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument("--record", action="store_true", help="store the figures in benchmarks/results.json")
    parser.add_argument(
        "--from-json", type=Path, help="record the rows of an earlier run's --json file instead of running"
    )
    args = parser.parse_args(argv)
    if args.from_json:
        earlier = json.loads(args.from_json.read_text())
        record(earlier["rows"], earlier["checks"], args)
        return 0
    folders = {"flowers": args.flowers}
    for item in args.folder:
        name, _, path = item.partition("=")
        folders[name] = Path(path)
    if args.only:
        folders = {k: v for k, v in folders.items() if k in args.only}
    for path in [args.weights, *folders.values()]:
        if not path.exists():
            parser.error(f"{path} does not exist (see benchmarks/README.md for where to get it).")

    course.setup(chapter="09_your_own_classifier", verbose=True)
    rows, reported = [], {}
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-ch09-") as tmp:
        work = Path(tmp)
        (work / "mirror" / "weights").mkdir(parents=True)
        shutil.copyfile(args.weights, work / "mirror" / "weights" / WEIGHT_FILE)
        os.environ.update(COURSE_DATA_DIR=str(work / "mirror"), COURSE_OFFLINE="1")
        os.environ["KERAS_HOME"] = str(work / "keras-home")
        for name, folder in folders.items():
            sizes = [s if s == "all" else int(s) for s in args.per_class] if name == "flowers" else ["all"]
            folder_runs(args, name, folder, sizes, rows, reported)
            if args.json:
                args.json.write_text(json.dumps({"rows": rows, "checks": reported}, indent=1))
    for row in rows:
        for key, value in row.items():
            course.record_result(f"bench_chapter09/{row['folder']}_{row['per_class']}_seed{row['seed']}/{key}", value)
    if args.record:
        record(rows, reported, args)
    print(f"\nTotal {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
