"""Screen speed/accuracy ideas for chapter 03's classifier on VALIDATION data (never the test split).

The 50,000 real CIFAR-10 training images of the mirror are split with a seeded permutation
into 45,000 for training and 5,000 for validation; the 10,000 test images are not read.

    python benchmarks/tune_chapter03.py --mirror DIR time base b256 crop bf16 ...
    python benchmarks/tune_chapter03.py --mirror DIR train base --epochs 8 [--subset 10000] [--out runs.jsonl]
    python benchmarks/tune_chapter03.py --mirror DIR record --out runs.jsonl smooth b64 ...

``time`` measures seconds per training image of each configuration after a warm-up,
interleaved with the tutorial CNN (batch 32) in the same process, and prints each one's
cost as a multiple of the tutorial CNN's 10 epochs (``epochs x per-image time / (10 x
tutorial per-image time)``), so a loaded machine changes the ratios much less than the
times. ``train`` trains one configuration and prints its validation accuracy (with and
without test-time flip averaging) and training time, and appends them to ``--out``.
``record`` writes the newest such result of each named configuration into results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402  (benchmarks/report.py)

from helpers import course  # noqa: E402

tf = course.import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

BASE = dict(
    widths=(32, 64, 128, 256),
    batch=128,
    lr=4e-3,
    aug="translate",
    shift=0.125,  # RandomTranslation's fraction of the image size (0.125 = up to 4 pixels)
    policy="float32",
    smoothing=0.0,
    epochs=14,
    dropout=0.2,
    warmup=0.1,
    ema=False,
    val_every=1,
    small=0,  # progressive image sizes: the first small_epochs epochs at small x small pixels (0: off)
    small_epochs=0,
    jit=False,  # XLA compilation (Keras turns it off on CPUs by default, and for models with random layers)
)
CONFIGS = {
    "base": {},
    "b256": dict(batch=256, lr=8e-3),
    "b512": dict(batch=512, lr=1.2e-2),
    "crop": dict(aug="crop"),
    "flip": dict(aug="flip"),
    "bf16": dict(policy="mixed_bfloat16"),
    "narrow": dict(widths=(24, 48, 96, 192)),
    "wide_end": dict(widths=(32, 64, 128, 384)),
    "b256crop": dict(batch=256, lr=8e-3, aug="crop"),
    "smooth": dict(smoothing=0.1),
    "b64": dict(batch=64, lr=2.8e-3),
    "b64smooth": dict(batch=64, lr=2.8e-3, smoothing=0.1),
    "ema": dict(ema=True),
    "b64smooth_ema": dict(batch=64, lr=2.8e-3, smoothing=0.1, ema=True),
    # 10 epochs, the first 5 at 24 px (0.56x the pixels): about the cost of 8 epochs at 32 px
    "prog": dict(epochs=10, small=24, small_epochs=5),
    # the warm-up/decay shape: a longer warm-up (30% of the steps) to a higher peak, then the cosine
    "warm30": dict(warmup=0.3, lr=6e-3),
    # a cheaper first block: 16 filters at full resolution instead of 32 (the most memory-bound layer)
    "w16": dict(widths=(16, 64, 128, 256)),
    # the same, with lighter regularisation for a short run (train accuracy ~ validation accuracy at 8 epochs)
    "w16light": dict(widths=(16, 64, 128, 256), shift=0.0625, dropout=0.1),
    # cheaper still, the chapter's recipe: 48 filters in the second block and 192 in the last
    # (a quarter fewer multiply-adds than w16light)
    "w16n48e192light": dict(widths=(16, 48, 128, 192), shift=0.0625, dropout=0.1),
    # the chapter's recipe in bfloat16 (worth timing on CPUs with AVX-512 BF16 or AMX instructions)
    "w16n48e192light_bf16": dict(widths=(16, 48, 128, 192), shift=0.0625, dropout=0.1, policy="mixed_bfloat16"),
    # the chapter's recipe at batch 256 (learning rate scaled with the batch), and with 10 epochs
    "chapter_b256": dict(widths=(16, 48, 128, 192), shift=0.0625, dropout=0.1, epochs=11, batch=256, lr=8e-3),
    "chapter_noaug": dict(widths=(16, 48, 128, 192), shift=0.0625, dropout=0.1, epochs=11, aug="none"),
    "chapter_crop": dict(widths=(16, 48, 128, 192), dropout=0.1, epochs=11, aug="crop"),
    "chapter_e10": dict(widths=(16, 48, 128, 192), shift=0.0625, dropout=0.1, epochs=10),
    # XLA: Keras cannot compile the random augmentation layers, so it is timed against the same model without them
    "noaug": dict(aug="none"),
    "xla": dict(aug="none", jit=True),
}


def split(mirror: Path, seed: int = 0, n_val: int = 5000):
    data = np.load(mirror / "datasets" / "cifar10.npz")
    x, y = data["x_train"], data["y_train"]
    order = np.random.default_rng(seed).permutation(len(x))
    train, val = order[:-n_val], order[-n_val:]
    return (x[train], y[train]), (x[val], y[val])


def tutorial_cnn():
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            layers.Rescaling(1.0 / 255),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(10),
        ]
    )


def classifier(cfg):
    if cfg["aug"] == "translate":
        aug = [
            layers.RandomFlip("horizontal"),
            layers.RandomTranslation(cfg["shift"], cfg["shift"], fill_mode="reflect"),
        ]
    elif cfg["aug"] == "crop":
        aug = [layers.RandomFlip("horizontal"), layers.ZeroPadding2D(4), layers.RandomCrop(32, 32)]
    elif cfg["aug"] == "flip":
        aug = [layers.RandomFlip("horizontal")]
    else:
        aug = []
    inputs = keras.Input(shape=(None, None, 3) if cfg["small"] else (32, 32, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    for layer in aug:
        x = layer(x)
    for filters in cfg["widths"]:
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(cfg["dropout"])(x)
    outputs = layers.Dense(10, dtype="float32")(x)
    return keras.Model(inputs, outputs)


def compile_model(model, cfg, steps_per_epoch):
    total = cfg["epochs"] * steps_per_epoch
    warm = max(1, int(total * cfg["warmup"]))
    schedule = keras.optimizers.schedules.CosineDecay(0.0, total - warm, warmup_target=cfg["lr"], warmup_steps=warm)
    if cfg["smoothing"]:
        loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=cfg["smoothing"])
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, use_ema=cfg["ema"]),
        loss=loss,
        metrics=["accuracy"],
        jit_compile=cfg["jit"],
    )
    if cfg["jit"] and not model.jit_compile:
        raise SystemExit("Keras could not compile this model with XLA (it has layers XLA cannot run): drop them.")


def dataset(x, y, batch, shuffle, one_hot=False):
    ds = tf.data.Dataset.from_tensor_slices((x, keras.utils.to_categorical(y, 10) if one_hot else y)).cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=42)
    return ds.batch(batch).prefetch(tf.data.AUTOTUNE)


def per_image_seconds(model, x, y, batch, steps, one_hot=False):
    ds = dataset(x[: batch * (steps + 3)], y[: batch * (steps + 3)], batch, True, one_hot)
    it = iter(ds.repeat())
    for _ in range(3):
        model.train_on_batch(*next(it))
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        model.train_on_batch(*next(it))
    return (time.perf_counter() - start) / (steps * batch), (time.process_time() - cpu) / (steps * batch)


def cmd_time(args, names):
    (x, y), _ = split(args.mirror)
    tut = tutorial_cnn()
    tut.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rows = []
    for name in names:
        cfg = {**BASE, **CONFIGS[name]}
        keras.mixed_precision.set_global_policy(cfg["policy"])
        model = classifier(cfg)
        compile_model(model, cfg, len(x) // cfg["batch"])
        keras.mixed_precision.set_global_policy("float32")
        images = max(args.images, cfg["batch"] * 4)
        (w1, c1) = per_image_seconds(tut, x, y, 32, images // 32)
        (w, c) = per_image_seconds(model, x, y, cfg["batch"], images // cfg["batch"], cfg["smoothing"] > 0)
        (w2, c2) = per_image_seconds(tut, x, y, 32, images // 32)
        wall, cpu = w / ((w1 + w2) / 2), c / ((c1 + c2) / 2)
        rows.append((name, wall, cpu))
        print(
            f"{name:10} per-image cost x tutorial: wall {wall:.2f}, CPU {cpu:.2f}; {cfg['epochs']} epochs = "
            f"{cfg['epochs'] * cpu / 10:.2f}x tutorial 10 epochs (CPU); epoch {w * len(x):.0f} s wall, "
            f"{c * len(x):.0f} s CPU vs tutorial {(c1 + c2) / 2 * len(x):.0f} s CPU ({course_load()})",
            flush=True,
        )
    return rows


def record_costs(rows, args):
    """CPU cost per training image of each configuration, vs the tutorial CNN (and vs base when timed)."""
    cpu = {name: ratio for name, _, ratio in rows}
    prefix = f"ch03.ideas_{args.cpu}" if args.cpu else "ch03.ideas"
    values = {f"{prefix}.{name}.cpu_cost_vs_tutorial": round(ratio, 2) for name, ratio in cpu.items()}
    if "base" in cpu:
        values.update(
            {f"{prefix}.{n}.cpu_cost_vs_base": round(r / cpu["base"], 2) for n, r in cpu.items() if n != "base"}
        )
    # a bfloat16 variant against the same configuration in float32, when both were timed
    values.update(
        {
            f"{prefix}.{n}.cpu_cost_vs_float32": round(r / cpu[n.removesuffix("_bf16")], 2)
            for n, r in cpu.items()
            if n.endswith("_bf16") and n.removesuffix("_bf16") in cpu
        }
    )
    how = (
        f"tune_chapter03.py --images {args.images} time {' '.join(cpu)}: process CPU seconds per training image "
        "(train_on_batch after 3 warm-up steps) as a multiple of the tutorial CNN's (batch 32), timed just before "
        "and after in the same process"
    )
    report.record(
        values,
        script="benchmarks/tune_chapter03.py",
        how=how,
        units=dict.fromkeys(values, "×"),
        formats=dict.fromkeys(values, ".2f"),
    )


def course_load():
    return f"load {os.getloadavg()[0]:.1f}"


def tta_accuracy(model, x, y):
    logits = model.predict(x, batch_size=500, verbose=0) + model.predict(x[:, :, ::-1], batch_size=500, verbose=0)
    return float((logits.argmax(1) == y[:, 0]).mean())


def cmd_train(args, name):
    (x, y), (xv, yv) = split(args.mirror)
    if args.subset:
        x, y = x[: args.subset], y[: args.subset]
    cfg = {**BASE, **CONFIGS[name], **json.loads(args.set or "{}")}
    if args.epochs:
        cfg["epochs"] = args.epochs
    keras.utils.set_random_seed(42)
    keras.mixed_precision.set_global_policy(cfg["policy"])
    model = classifier(cfg)
    keras.mixed_precision.set_global_policy("float32")
    steps = -(-len(x) // cfg["batch"])
    compile_model(model, cfg, steps)
    one_hot = cfg["smoothing"] > 0
    start = time.perf_counter()
    train_ds, val_ds = dataset(x, y, cfg["batch"], True, one_hot), dataset(xv, yv, 500, False, one_hot)
    history, phase_seconds = {}, []
    phases = [(cfg["small_epochs"], cfg["small"]), (cfg["epochs"], 32)] if cfg["small"] else [(cfg["epochs"], 32)]
    done = 0
    for until, size in phases:
        if until <= done:
            continue
        ds = train_ds if size == 32 else train_ds.map(lambda im, lb, s=size: (tf.image.resize(im, (s, s)), lb))
        hist = model.fit(
            ds,
            initial_epoch=done,
            epochs=until,
            verbose=2,
            validation_data=val_ds,
            validation_freq=cfg["val_every"],
        )
        for key, values in hist.history.items():
            history.setdefault(key, []).extend(values)
        phase_seconds.append(round(time.perf_counter() - start - sum(phase_seconds), 1))
        done = until
    seconds = time.perf_counter() - start
    plain = float((model.predict(xv, batch_size=500, verbose=0).argmax(1) == yv[:, 0]).mean())
    flip = tta_accuracy(model, xv, yv)
    result = dict(
        name=name,
        cfg=cfg,
        train=len(x),
        val_accuracy=plain,
        val_accuracy_flip_tta=flip,
        train_seconds=seconds,
        phase_seconds=phase_seconds,
        load=course_load(),
        history=history,
    )
    print(json.dumps({k: v for k, v in result.items() if k != "history"}))
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(result, default=str) + "\n")


def cmd_record(args, names):
    """The newest --out result of each configuration in ``names`` -> results.json."""
    if not args.out or not Path(args.out).is_file():
        raise SystemExit(f"record needs --out FILE written by earlier `train` runs; {args.out!r} is not a file.")
    newest = {}
    for line in Path(args.out).read_text().splitlines():
        result = json.loads(line)
        newest[result["name"]] = result
    missing = [name for name in names if name not in newest]
    if missing:
        raise SystemExit(f"{args.out} has no train result for {', '.join(missing)}: run `train` for them first.")
    for name in names:
        result = newest[name]
        cfg, prefix = result["cfg"], f"ch03.ideas.{name}.e{result['cfg']['epochs']}"
        values = {
            f"{prefix}.val_accuracy": round(100 * result["val_accuracy"], 1),
            f"{prefix}.val_accuracy_flip": round(100 * result["val_accuracy_flip_tta"], 1),
            f"{prefix}.train_minutes": round(result["train_seconds"] / 60, 1),
        }
        changed = {k: v for k, v in cfg.items() if k not in BASE or json.loads(json.dumps(BASE[k])) != v}
        how = (
            f"tune_chapter03.py --epochs {cfg['epochs']} train {name} ({json.dumps(changed)} over the chapter's "
            f"classifier): trained on {result['train']:,} real CIFAR-10 training images, validated on 5,000 others "
            "(seeded split; the test split not read); last-epoch weights"
        )
        report.record(
            values,
            script="benchmarks/tune_chapter03.py",
            how=how,
            machine_load=f"{result['load']} on 2 CPUs at the end of training (the training's own two threads)",
            units={k: ("min" if k.endswith("minutes") else "%") for k in values},
            formats=dict.fromkeys(values, ".1f"),
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, required=True)
    parser.add_argument("--images", type=int, default=2048, help="images per timing (time)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--subset", type=int)
    parser.add_argument("--set", help="JSON overrides of the configuration, e.g. '{\"smoothing\": 0.1}'")
    parser.add_argument("--out", help="append the train result as a JSON line here")
    parser.add_argument("--record", action="store_true", help="time: write the CPU-cost ratios into results.json")
    parser.add_argument(
        "--cpu",
        type=report.cpu_name,
        help="time --record: a short name for this CPU (e.g. xeon), so its ratios go to ch03.ideas_NAME.* "
        "beside, not over, another CPU's",
    )
    parser.add_argument("command", choices=["time", "train", "record"])
    parser.add_argument("names", nargs="+", choices=sorted(CONFIGS))
    args = parser.parse_args(argv)
    course.setup(chapter="tune03", verbose=False)
    if args.command == "record":
        cmd_record(args, args.names)
    elif args.command == "time":
        rows = cmd_time(args, args.names)
        if args.record:
            record_costs(rows, args)
    else:
        for name in args.names:
            cmd_train(args, name)


if __name__ == "__main__":
    main()
