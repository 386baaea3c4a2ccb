"""Chapter 03's multi-worker run: real ``MultiWorkerMirroredStrategy`` training in separate processes.

Two commands (``python -m helpers.multiworker --help``):

``worker``
    One worker of a cluster: what each machine runs. ``TF_CONFIG`` names the cluster and
    this worker's place in it; :func:`helpers.course.strategy` turns that into a
    ``MultiWorkerMirroredStrategy`` (without ``TF_CONFIG`` it picks TPU, several GPUs or
    the default strategy, so the same script runs anywhere). The worker reads only its
    own shard of the training images, trains with a ``strategy.run`` loop (the chapter's
    ``GradientTape`` step; the gradients of all workers are summed before each update)
    and writes ``worker-<index>.json`` and its final weights to ``--out``.

``launch``
    Starts ``--workers`` worker processes on 127.0.0.1 (ports chosen at run time, one
    ``TF_CONFIG`` each), waits for them with a timeout, stops all of them as soon as one
    fails, and reports each worker's result. :func:`launch` does the same from Python.

Why not ``model.fit``: Keras 3's ``fit`` under ``MultiWorkerMirroredStrategy`` fails in
TensorFlow's own multi-worker tutorial since TensorFlow 2.16 (keras-team/keras#20585,
tensorflow/tensorflow#72388), so the workers use a custom loop with ``strategy.run``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers import course

FAIL_ENV = "COURSE_MULTIWORKER_FAIL"
"""Test hook: the worker with this index raises at start, to exercise the clean shutdown."""


# ------------------------------------------------------------------------ launching
@dataclass
class WorkerResult:
    """What one worker process reported (``ok`` False: ``error`` says why)."""

    index: int
    ok: bool
    returncode: int | None
    log: Path
    pid: int = 0
    report: dict = field(default_factory=dict)
    error: str = ""


@dataclass
class Run:
    """The outcome of :func:`launch`: one :class:`WorkerResult` per worker."""

    workers: list[WorkerResult]
    seconds: float
    error: str = ""
    out: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.error and all(w.ok for w in self.workers)

    def weights_identical(self) -> bool:
        """True when every worker ended with the same trainable weights (bit for bit)."""
        digests = {w.report.get("weights_sha256") for w in self.workers}
        return self.ok and len(digests) == 1 and None not in digests

    def rows(self) -> list[list[str]]:
        rows = []
        for w in self.workers:
            r = w.report
            if w.ok:
                rows.append(
                    [
                        str(w.index),
                        f"{r['strategy']} ({r['replicas_in_sync']} in sync)",
                        f"{r['examples']} ({r['shard']})",
                        f"{r['loss']:.3f}",
                        f"{r['accuracy']:.1%}",
                        f"{r['train_seconds']:.1f} s",
                        r["weights_sha256"][:12],
                    ]
                )
            else:
                rows.append([str(w.index), "FAILED", w.error, "", "", "", ""])
        return rows

    @property
    def cpu_seconds(self) -> float:
        """The CPU time all workers spent training, added up (independent of other load)."""
        return sum(w.report["train_cpu_seconds"] for w in self.workers)

    @property
    def training_seconds(self) -> float:
        """The training time of the slowest worker (start-up not included)."""
        return max(w.report["train_seconds"] for w in self.workers)

    def raise_if_failed(self) -> Run:
        """Raise ``RuntimeError`` with the reason when a worker failed; else return the run."""
        if not self.ok:
            raise RuntimeError(self.summary())
        return self

    HEADER = ["worker", "strategy", "images read (shard)", "last loss", "accuracy", "training", "weights"]

    def summary(self) -> str:
        if self.error:
            return f"FAILED: {self.error}"
        if not self.ok:
            failed = [w for w in self.workers if not w.ok and (w.returncode or 0) > 0]
            stopped = [str(w.index) for w in self.workers if not w.ok and w not in failed]
            reasons = "; ".join(f"worker {w.index}: {w.error.split(' (log: ')[0]}" for w in failed)
            also = f"; stopped worker(s) {', '.join(stopped)}" if stopped else ""
            return f"FAILED: {reasons or 'a worker failed'}{also} (logs in {self.out})."
        if len(self.workers) == 1:
            return f"1 process finished in {self.seconds:.0f} s (start-up included)."
        same = "identical on every worker" if self.weights_identical() else "DIFFERENT between workers"
        return f"{len(self.workers)} workers finished in {self.seconds:.0f} s; final weights {same}."

    def __str__(self) -> str:
        rows = [self.HEADER, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.HEADER))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        return "\n".join([*lines, self.summary()])

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.HEADER)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self.rows())
        colour = "#1a7f37" if self.ok and self.weights_identical() else "#b42318"
        return (
            f"<table><tr>{head}</tr>{body}</table>"
            f"<p style='color:{colour};font-weight:bold'>{html.escape(self.summary())}</p>"
        )

    __repr__ = __str__


def compare(workers: Run, alone: Run) -> str:
    """Compare a multi-worker run with the single-process run of the same steps."""
    workers.raise_if_failed(), alone.raise_if_failed()
    replicas = sorted({w.report["replicas_in_sync"] for w in workers.workers})
    if replicas != [len(workers.workers)] or not workers.weights_identical():
        raise RuntimeError(
            f"the {len(workers.workers)} workers did not train as one model (replicas in sync: {replicas}; "
            f"{workers.summary().rstrip('.')}): the timings would compare different computations."
            + (f" The worker logs in {workers.out} say what each one did." if workers.out else "")
        )
    report = workers.workers[0].report
    return (
        f"{report['steps_per_epoch']} steps of {report['global_batch']} images per epoch\n"
        f"  training time:  one process {alone.training_seconds:6.1f} s, "
        f"{len(workers.workers)} workers {workers.training_seconds:6.1f} s\n"
        f"  CPU time spent: one process {alone.cpu_seconds:6.1f} s, "
        f"{len(workers.workers)} workers {workers.cpu_seconds:6.1f} s "
        f"({workers.cpu_seconds / alone.cpu_seconds:.1f}x the computation)"
    )


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tf_config(cluster: list[str], index: int) -> str:
    """The ``TF_CONFIG`` of worker ``index``: the whole cluster, and which one of it this is."""
    return json.dumps({"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}})


def launch(
    workers: int = 2,
    *,
    epochs: int = 1,
    examples: int | None = None,
    batch_size: int = 64,
    model_config: Path | str | None = None,
    learning_rate: float = 2e-3,
    timeout: float = 600,
    out: Path | str | None = None,
) -> Run:
    """Train with ``workers`` processes on this machine and collect their reports.

    ``workers=1`` is the single-process run (no ``TF_CONFIG``, the default strategy) with
    the same global batch and steps, for comparison. ``batch_size`` is the global batch
    (split between the workers). ``model_config`` is a ``model.to_json()`` file; without it
    a small CNN in the chapter's style is trained. All processes are stopped when one
    fails or when ``timeout`` seconds have passed.
    """
    course._positive_int("workers", workers)
    out = Path(out) if out else Path(tempfile.mkdtemp(prefix="multiworker_"))
    out.mkdir(parents=True, exist_ok=True)
    cluster = [f"127.0.0.1:{free_port()}" for _ in range(workers)]
    command = [sys.executable, "-m", "helpers.multiworker", "worker", "--out", str(out)]
    command += ["--epochs", str(epochs), "--batch-size", str(batch_size), "--learning-rate", str(learning_rate)]
    if examples:
        command += ["--examples", str(examples)]
    if model_config:
        command += ["--model-config", str(model_config)]
    package_parent = str(Path(__file__).resolve().parent.parent)
    base_env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    base_env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH", "")) if p)
    started = time.perf_counter()
    processes: list[subprocess.Popen] = []
    logs = [out / f"worker-{i}.log" for i in range(workers)]
    try:
        for i in range(workers):
            env = dict(base_env, TF_CONFIG=tf_config(cluster, i)) if workers > 1 else base_env
            with open(logs[i], "wb") as log:
                processes.append(
                    subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                )
        error = _wait(processes, timeout)
    finally:
        _stop(processes)  # nothing outlives the launcher: not on failure, not on Ctrl-C
    results = [_result(i, p, logs[i], out) for i, p in enumerate(processes)]
    return Run(results, time.perf_counter() - started, error, out)


def _wait(processes: list[subprocess.Popen], timeout: float) -> str:
    """Wait until all exit; return '' or why we stopped waiting (a failure, the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = [p.poll() for p in processes]
        failed = [i for i, code in enumerate(codes) if code not in (None, 0)]
        if failed:
            return ""  # the worker results say which one failed and why
        if all(code == 0 for code in codes):
            return ""
        time.sleep(0.2)
    return f"timed out after {timeout:.0f} s; all workers were stopped"


def _stop(processes: list[subprocess.Popen], grace: float = 5.0) -> None:
    """Terminate every still-running worker (and anything it started), then kill stragglers."""
    running = [p for p in processes if p.poll() is None]
    for p in running:
        _signal_group(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in running:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(p, signal.SIGKILL)
            p.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.send_signal(sig)


def _result(index: int, process: subprocess.Popen, log: Path, out: Path) -> WorkerResult:
    report_file, returncode = out / f"worker-{index}.json", process.returncode
    if returncode == 0 and report_file.exists():
        return WorkerResult(index, True, returncode, log, process.pid, json.loads(report_file.read_text()))
    if returncode is None or returncode < 0:
        error = "stopped by the launcher (another worker failed, or the timeout)"
    else:
        error = _last_error(log) or f"exited with code {returncode}"
    return WorkerResult(index, False, returncode, log, process.pid, error=f"{error} (log: {log})")


def _last_error(log: Path) -> str:
    """The exception line of a Python traceback in ``log`` (not its whole tail)."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.replace(".", "").replace("_", "").isalnum() and (head.endswith("Error") or head.endswith("Exception")):
            return line[:300]
    return ""


# -------------------------------------------------------------------------- worker
def strategy_name(strategy) -> str:
    """``MultiWorkerMirroredStrategy`` for the strategy TensorFlow calls ``CollectiveAllReduceStrategy``."""
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "MultiWorkerMirroredStrategy"
    return type(strategy).__name__.lstrip("_")


def small_classifier(num_classes: int = 10, widths: tuple[int, ...] = (16, 32)):
    """A small CNN in the chapter's style (Conv-BatchNorm-ReLU-Pool blocks, pooled head)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in widths:
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes)(x)
    return keras.Model(inputs, outputs, name="small_classifier")


def worker(args: argparse.Namespace) -> int:
    """Train as one worker of the cluster in ``TF_CONFIG`` (or alone without it)."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    index = int(config.get("task", {}).get("index", 0))
    if os.environ.get(FAIL_ENV, "") == str(index):
        raise RuntimeError(f"worker {index} was told to fail ({FAIL_ENV}={index})")
    course.quiet_tensorflow()
    strategy = course.strategy()  # first: MultiWorkerMirroredStrategy must exist before any other TF op
    course.setup(chapter="03_building_cnns", verbose=False)
    import keras
    import numpy as np
    import tensorflow as tf

    from helpers import datasets

    workers = len(config.get("cluster", {}).get("worker", [])) or 1
    replicas = strategy.num_replicas_in_sync
    (x_train, y_train), _ = datasets.load("cifar10")
    n = min(args.examples or course.take(10_000), len(x_train))
    per_replica = args.batch_size // replicas
    if per_replica < 1:
        raise ValueError(
            f"--batch-size {args.batch_size} is smaller than the {replicas} replicas: use at least {replicas}."
        )
    steps = n // (per_replica * replicas)
    if steps < 1:
        raise ValueError(f"{n} images make no full global batch of {per_replica * replicas}: use more --examples.")
    images, labels = x_train[:n], y_train[:n].reshape(-1).astype("int32")

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        """This worker's input pipeline: only its own shard of the images."""
        ds = tf.data.Dataset.from_tensor_slices((np.arange(n, dtype="int32"), images, labels))
        ds = ds.shard(context.num_input_pipelines, context.input_pipeline_id)
        ds = ds.shuffle(4096, seed=42 + context.input_pipeline_id, reshuffle_each_iteration=True)
        return ds.repeat().batch(per_replica, drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    distributed = strategy.distribute_datasets_from_function(dataset_fn)
    with strategy.scope():  # variables created here are mirrored on every replica of every worker
        keras.utils.set_random_seed(42)  # the same starting weights everywhere
        if args.model_config:
            model = keras.models.model_from_json(Path(args.model_config).read_text())
        else:
            model = small_classifier()
        optimizer = keras.optimizers.Adam(learning_rate=args.learning_rate)
    global_batch = per_replica * replicas

    @tf.function
    def train_step(iterator):
        def step(ids, batch_images, batch_labels):
            with tf.GradientTape() as tape:
                logits = model(batch_images, training=True)
                per_example = keras.losses.sparse_categorical_crossentropy(batch_labels, logits, from_logits=True)
                # divide by the GLOBAL batch: summing the replicas' gradients then gives the mean
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))  # all-reduces the gradients
            correct = tf.reduce_sum(
                tf.cast(tf.argmax(logits, axis=1, output_type=tf.int32) == batch_labels, tf.float32)
            )
            return loss, correct, ids

        loss, correct, ids = strategy.run(step, args=next(iterator))
        total = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
        return total, strategy.reduce(tf.distribute.ReduceOp.SUM, correct, axis=None), ids

    iterator = iter(distributed)
    seen: list[np.ndarray] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    for epoch in range(args.epochs):
        correct_sum = 0.0
        for _ in range(steps):
            loss, correct, ids = train_step(iterator)
            correct_sum += float(correct)
            if epoch == 0:
                seen += [t.numpy() for t in strategy.experimental_local_results(ids)]
        print(f"worker {index}: epoch {epoch + 1}/{args.epochs}, loss {float(loss):.3f}", flush=True)
    train_seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    weights = [v.numpy() for v in model.trainable_variables]
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(w, dtype=np.float32).tobytes() for w in weights)).hexdigest()
    read = np.sort(np.concatenate(seen))
    out = Path(args.out)
    np.savez(out / f"worker-{index}-weights.npz", *weights)
    np.save(out / f"worker-{index}-indices.npy", read)
    report = {
        "index": index,
        "workers": workers,
        "strategy": strategy_name(strategy),
        "replicas_in_sync": replicas,
        "examples": int(read.size),
        "shard": f"images {read[0]}, {read[1] if read.size > 1 else ''}... of {n}",
        "steps_per_epoch": steps,
        "global_batch": global_batch,
        "loss": float(loss),
        "accuracy": correct_sum / (steps * global_batch),
        "train_seconds": round(train_seconds, 2),
        "train_cpu_seconds": round(cpu_seconds, 2),  # all of this process's threads
        "weights_sha256": digest,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }
    (out / f"worker-{index}.json").write_text(json.dumps(report, indent=1))
    print(f"worker {index}: done in {train_seconds:.1f} s", flush=True)
    return 0


# ---------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.multiworker", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("worker", "launch"):
        p = sub.add_parser(name, help="one worker (uses TF_CONFIG)" if name == "worker" else "start workers here")
        p.add_argument("--out", default=None, help="folder for the reports, weights and logs")
        p.add_argument("--epochs", type=int, default=1)
        p.add_argument("--examples", type=int, default=None, help="training images in all (default 10,000; smoke 256)")
        p.add_argument("--batch-size", type=int, default=64, help="global batch, split between the workers")
        p.add_argument("--learning-rate", type=float, default=2e-3)
        p.add_argument("--model-config", default=None, help="a model.to_json() file (default: a small CNN)")
        if name == "launch":
            p.add_argument("--workers", type=int, default=2)
            p.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    if args.command == "worker":
        if not args.out:
            parser.error("worker needs --out (a folder for its report)")
        Path(args.out).mkdir(parents=True, exist_ok=True)
        code = worker(args)
        sys.stdout.flush()
        os._exit(code)  # skip interpreter teardown: collective-ops threads can hang it
    run = launch(
        args.workers,
        epochs=args.epochs,
        examples=args.examples,
        batch_size=args.batch_size,
        model_config=args.model_config,
        learning_rate=args.learning_rate,
        timeout=args.timeout,
        out=args.out,
    )
    print(run)
    return 0 if run.ok else 1


if __name__ == "__main__":
    sys.exit(main())
