"""Chapter 03 beyond its cells: strategies on two logical CPUs, callbacks' files, reproducibility.

The last test runs the chapter in smoke + offline mode, runs its training cells again in the
same kernel, and compares what the two passes record.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from packaging.version import Version

from helpers import course

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "03_building_cnns.ipynb"
# Keras 3.15 with NumPy 2 warns inside ModelCheckpoint/evaluate; not something these tests check.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

TWO_CPUS = textwrap.dedent(
    """
    import json
    from helpers import course
    course.setup(chapter="test", cpu_devices=2, verbose=False)  # the CPU as two logical devices
    import tensorflow as tf
    import keras
    import numpy as np

    default = course.strategy()
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    mirrored = tf.distribute.MirroredStrategy(devices)
    x = np.random.default_rng(0).normal(size=(64, 8, 8, 3)).astype("float32")
    y = np.arange(64) % 4
    losses = {}
    for name, strategy in [("default", default), ("mirrored", mirrored)]:
        keras.utils.set_random_seed(1)
        with strategy.scope():
            model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                                      keras.layers.Dense(4)])
            model.compile(optimizer=keras.optimizers.SGD(0.1),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        losses[name] = history.history["loss"]
    print(json.dumps({
        "logical_cpus": len(devices),
        "default_type": type(default).__name__,
        "default_replicas": default.num_replicas_in_sync,
        "mirrored_replicas": mirrored.num_replicas_in_sync,
        "losses": losses,
    }))
    """
)


def test_strategy_and_mirrored_training_on_two_logical_cpus():
    """Also the test of ``course.setup(cpu_devices=2)``: one TensorFlow process for both."""
    run = subprocess.run([sys.executable, "-c", TWO_CPUS], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["logical_cpus"] == 2
    # No TPU and no GPU here: course.strategy() falls back to the default (one-device) strategy...
    assert report["default_type"] == "_DefaultDistributionStrategy"
    assert report["default_replicas"] == 1
    # ...while MirroredStrategy over the two logical CPUs trains with two replicas, to the same losses.
    assert report["mirrored_replicas"] == 2
    if Version(keras.__version__) < Version("3.10"):
        pytest.xfail("Keras < 3.10: fit under MirroredStrategy gives other losses (README, Supported versions)")
    np.testing.assert_allclose(report["losses"]["mirrored"], report["losses"]["default"], rtol=1e-4)
    assert report["losses"]["mirrored"][1] < report["losses"]["mirrored"][0]


def test_strategy_picks_mirrored_with_several_gpus(monkeypatch):
    made = []

    class FakeMirrored:
        def __init__(self, *args, **kwargs):
            made.append((args, kwargs))

    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind=None: ["gpu0", "gpu1"] if kind == "GPU" else [])
    monkeypatch.setattr(tf.distribute, "MirroredStrategy", FakeMirrored)
    assert isinstance(course.strategy(), FakeMirrored)
    assert made == [((), {})]


def test_strategy_default_with_one_gpu(monkeypatch):
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind=None: ["gpu0"] if kind == "GPU" else [])
    assert course.strategy() is tf.distribute.get_strategy()


def tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((6, 6, 3)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    return model


def tiny_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 6, 6, 3)).astype("float32"), rng.integers(0, 3, 32)


def test_tensorboard_writes_event_files(tmp_path):
    x, y = tiny_data()
    tiny_model().fit(
        x,
        y,
        validation_data=(x, y),
        epochs=2,
        verbose=0,
        callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path / "logs")],
    )
    events = sorted(p.relative_to(tmp_path / "logs").parent.as_posix() for p in (tmp_path / "logs").rglob("*tfevents*"))
    assert events == ["train", "validation"]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(tmp_path / "logs" / "validation"))
    accumulator.Reload()
    tags = accumulator.Tags()["tensors"] + accumulator.Tags()["scalars"]
    assert any("accuracy" in tag for tag in tags), tags


def test_model_checkpoint_writes_a_loadable_keras_file(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    path = tmp_path / "best.keras"
    history = model.fit(
        x,
        y,
        validation_data=(x, y),
        epochs=3,
        verbose=0,
        callbacks=[keras.callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True)],
    )
    assert path.is_file()
    loaded = keras.models.load_model(path)
    _, accuracy = loaded.evaluate(x, y, verbose=0)
    assert accuracy == pytest.approx(max(history.history["val_accuracy"]))


# --------------------------------------------------------------- the chapter itself
MAIN_RESULT = 'course.record_result("test_accuracy_flip"'
FIRST_TRAINING = "first_cnn = keras.Sequential("


def run_and_rerun(first: Path, second: Path) -> None:
    """Run the chapter in smoke + offline mode up to the main classifier's test accuracy, then,
    in the same kernel, run its cells again from the first seeded training on, as a learner who
    re-runs them would: the first pass records into ``first``, the second into ``second``.
    (nbval runs the whole chapter already.)"""
    import nbformat
    from nbclient import NotebookClient

    from helpers.notebooks import kernel_environment

    nb = nbformat.read(NOTEBOOK, as_version=4)
    last = next(i for i, cell in enumerate(nb.cells) if MAIN_RESULT in cell.source)
    start = next(i for i, cell in enumerate(nb.cells) if FIRST_TRAINING in cell.source)
    again = [nbformat.from_dict(dict(cell)) for cell in nb.cells[start : last + 1]]
    switch = nbformat.v4.new_code_cell(f"import os\n\nos.environ['COURSE_RESULTS'] = {str(second)!r}")
    nb.cells = [*nb.cells[: last + 1], switch, *again]
    with kernel_environment(results=first, models_dir=first.parent / "models"):
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
        ).execute()


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """What both trainings record, run once and re-run in the same kernel, up to the main
    classifier's test accuracy. (The two-worker cells run in nbval's pass over the chapter;
    ``multiworker.compare`` refuses workers that did not train one model, and
    tests/test_multiworker.py checks the cluster itself.)"""
    folder = tmp_path_factory.mktemp("runs")
    first, second = folder / "first.jsonl", folder / "second.jsonl"
    run_and_rerun(first, second)
    return [[json.loads(line) for line in path.read_text().splitlines()] for path in (first, second)]


def test_a_rerun_records_identical_metrics(two_runs):
    first, second = two_runs
    first = first[len(first) - len(second) :]  # what the first pass recorded from the first training on
    names = [row["name"] for row in first]
    for required in ("test_accuracy", "train_seconds", "first_cnn_test_accuracy", "test_accuracy_flip"):
        assert required in names
    assert [r["name"] for r in second] == names
    metrics = [{r["name"]: r["value"] for r in rows if not r["name"].endswith("_seconds")} for rows in (first, second)]
    assert metrics[0] == metrics[1]
