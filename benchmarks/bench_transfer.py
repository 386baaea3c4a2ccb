"""Calibrate chapter 05: from scratch vs feature extraction vs fine-tuning, with REAL ImageNet weights.

The development machine has no network, so the chapter's offline run uses random backbone
weights (and says so). This benchmark measures the real gain instead: it puts the real
``MobileNet(alpha=0.25, include_top=False)`` ImageNet weights into a temporary offline mirror
(``DIR/weights/mobilenet_2_5_224_tf_no_top.h5``, the exact file name Keras uses), so that
``helpers.models.pretrained`` loads them the way a learner's notebook would; it builds a small
class-folder dataset from real CIFAR-10 JPEGs (a few classes, a few hundred images, upscaled
by ``image_dataset_from_directory``); then it trains, on the same images and with the
chapter's recipe:

- ``scratch``: a small CNN trained from random initialisation;
- ``feature_extraction``: the frozen pretrained backbone + a new head;
- ``fine_tuning``: then the top layers unfrozen (BatchNorm frozen), 10x lower learning rate;
- ``random_backbone``: feature extraction with a randomly initialised backbone (what an
  offline learner without weights sees: the control that shows the gain comes from ImageNet).

Every number goes to ``course.record_result`` (set ``COURSE_RESULTS=FILE`` to keep them).

    COURSE_RESULTS=/tmp/results.jsonl python benchmarks/bench_transfer.py \
        --cifar cifar10-train-jpg.tar.gz --weights mobilenet_2_5_224_tf_no_top.h5

The data and weights are real but not the project's: nothing derived from them is written
outside a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import course, models  # noqa: E402

WEIGHT_FILE = "mobilenet_2_5_224_tf_no_top.h5"
DEFAULT_CLASSES = ["airplane", "automobile", "bird", "cat", "deer"]


def extract_subset(archive: Path, target: Path, classes: list[str], per_class: int) -> None:
    """Copy the first ``per_class`` JPEGs (sorted by name) of each class into ``target/<class>/``."""
    wanted: dict[str, list[tarfile.TarInfo]] = {c: [] for c in classes}
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.lower().endswith(".jpg")]
        for member in sorted(members, key=lambda m: m.name):
            parts = Path(member.name).parts
            if len(parts) >= 2 and parts[-2] in wanted and len(wanted[parts[-2]]) < per_class:
                wanted[parts[-2]].append(member)
        for name, chosen in wanted.items():
            if len(chosen) < per_class:
                raise ValueError(f"{archive} has only {len(chosen)} images of class {name!r}; asked for {per_class}.")
            (target / name).mkdir(parents=True, exist_ok=True)
            for member in chosen:
                with tar.extractfile(member) as src, open(target / name / Path(member.name).name, "wb") as dst:
                    shutil.copyfileobj(src, dst)


def load_folder(folder: Path, image_size: int, batch_size: int, seed: int):
    """Training and validation datasets (80/20, seeded) as the chapter builds them."""
    import keras
    import tensorflow as tf

    train_ds, val_ds = keras.utils.image_dataset_from_directory(
        folder,
        validation_split=0.2,
        subset="both",
        seed=seed,
        image_size=(image_size, image_size),
        batch_size=batch_size,
        verbose=False,
    )
    train_ds = train_ds.cache().shuffle(64, seed=seed).prefetch(tf.data.AUTOTUNE)
    return train_ds, val_ds.cache().prefetch(tf.data.AUTOTUNE)


def augmentation(seed: int):
    import keras

    return keras.Sequential(
        [keras.layers.RandomFlip("horizontal", seed=seed), keras.layers.RandomRotation(0.1, seed=seed)],
        name="augmentation",
    )


def scratch_model(image_size: int, num_classes: int, seed: int):
    """The chapter's small CNN, trained from random weights."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = augmentation(seed)(inputs)
    x = layers.Rescaling(1.0 / 255)(x)
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes)(x)
    return keras.Model(inputs, outputs, name="scratch_cnn")


def transfer_model(base, preprocess_input, image_size: int, num_classes: int, seed: int):
    """The chapter's feature extractor: augmentation, preprocessing, frozen base in inference mode, new head."""
    import keras
    from keras import layers

    base.trainable = False
    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = augmentation(seed)(inputs)
    x = preprocess_input(x)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes)(x)
    return keras.Model(inputs, outputs, name="transfer")


def compile_model(model, learning_rate: float):
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def fit(model, train_ds, val_ds, epochs: int, initial_epoch: int = 0, patience: int | None = None):
    """Train; returns (best validation accuracy, seconds)."""
    import keras

    callbacks = []
    if patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=patience, restore_best_weights=True)
        )
    start = time.time()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=initial_epoch + epochs,
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        verbose=0,
    )
    return max(history.history["val_accuracy"]), time.time() - start


def run(args: argparse.Namespace, work: Path, per_class: int, seed: int) -> dict[str, float]:
    import keras

    folder = work / f"cifar-{per_class}"
    extract_subset(args.cifar, folder, args.classes, per_class)
    train_ds, val_ds = load_folder(folder, args.size, args.batch_size, seed)
    n_train = sum(int(y.shape[0]) for _, y in train_ds)
    n_classes = len(args.classes)
    results: dict[str, float] = {}
    seconds: dict[str, float] = {}
    tag = f"{per_class}_per_class_seed{seed}"

    keras.utils.set_random_seed(seed)
    model = compile_model(scratch_model(args.size, n_classes, seed), 1e-3)
    results["scratch"], seconds["scratch"] = fit(model, train_ds, val_ds, args.epochs + args.fine_tune_epochs)

    keras.utils.set_random_seed(seed)
    base = models.pretrained("MobileNet", alpha=0.25, include_top=False, input_shape=(args.size, args.size, 3))
    source = models.weights_source(base)
    if not source.startswith("mirror"):
        raise RuntimeError(f"Expected the ImageNet weights from the mirror, got: {source}")
    model = compile_model(transfer_model(base, models.preprocess_for("MobileNet"), args.size, n_classes, seed), 1e-3)
    results["feature_extraction"], seconds["feature_extraction"] = fit(model, train_ds, val_ds, args.epochs)
    models.start_fine_tuning(model, base, n_layers=args.fine_tune_layers, learning_rate=1e-4)
    results["fine_tuning"], seconds["fine_tuning"] = fit(
        model, train_ds, val_ds, args.fine_tune_epochs, initial_epoch=args.epochs, patience=3
    )
    results["fine_tuning"] = max(results["fine_tuning"], results["feature_extraction"])

    keras.utils.set_random_seed(seed)
    base = models.pretrained(
        "MobileNet", alpha=0.25, include_top=False, input_shape=(args.size, args.size, 3), weights=None
    )
    model = compile_model(transfer_model(base, models.preprocess_for("MobileNet"), args.size, n_classes, seed), 1e-3)
    results["random_backbone"], seconds["random_backbone"] = fit(model, train_ds, val_ds, args.epochs)

    for name, value in results.items():
        course.record_result(f"bench_transfer/{tag}/{name}_val_accuracy", round(value, 4))
        course.record_result(f"bench_transfer/{tag}/{name}_seconds", round(seconds[name], 1))
    course.record_result(f"bench_transfer/{tag}/train_images", n_train)
    print(f"\n{per_class} images per class ({n_train} for training), {args.size}px, seed {seed}")
    for name, value in results.items():
        print(f"  {name:<20} best val accuracy {value:6.1%}   ({seconds[name]:5.0f} s)")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cifar", type=Path, required=True, help="CIFAR-10 training JPEGs, train/<class>/*.jpg in a .tar.gz"
    )
    parser.add_argument("--weights", type=Path, required=True, help=f"the Keras ImageNet weight file {WEIGHT_FILE}")
    parser.add_argument("--classes", nargs="+", default=DEFAULT_CLASSES)
    parser.add_argument("--per-class", type=int, nargs="+", default=[100], help="images per class (80%% train)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--size", type=int, default=96, help="input size in pixels (CIFAR's 32 px are upscaled)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=10, help="feature-extraction epochs")
    parser.add_argument("--fine-tune-epochs", type=int, default=10)
    parser.add_argument("--fine-tune-layers", type=int, default=30)
    args = parser.parse_args(argv)
    for path in (args.cifar, args.weights):
        if not path.is_file():
            parser.error(f"{path} does not exist (see benchmarks/README.md for where to get it).")

    course.setup(chapter="05_transfer_learning", verbose=True)
    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as tmp:
        work = Path(tmp)
        (work / "mirror" / "weights").mkdir(parents=True)
        shutil.copyfile(args.weights, work / "mirror" / "weights" / WEIGHT_FILE)
        os.environ.update(COURSE_DATA_DIR=str(work / "mirror"), COURSE_OFFLINE="1")
        os.environ["KERAS_HOME"] = str(work / "keras-home")  # no stray cached copy can take part
        start = time.time()
        for per_class in args.per_class:
            for seed in args.seeds:
                run(args, work, per_class, seed)
    print(f"\nTotal {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
