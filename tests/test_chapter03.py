"""Chapter 03 beyond its cells: what the text says of its gradient-descent drawings, callbacks' files,
and the strategies of ``course.strategy()`` on two logical CPUs (chapter 10 teaches them).

That re-running the chapter's training cells gives the same numbers is checked right after
nbval runs the chapter, in the same kernel (``conftest.ReRunTrainingCells``).
"""

from __future__ import annotations

import functools
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


# ------------------------------------------------------------------ how a network learns: what the text says of its drawings
@functools.cache
def chapter_functions():
    from tools.testing import notebook_functions

    return notebook_functions(NOTEBOOK, "descend", "gradient_2d", "optimizer_path")


def test_gradient_descent_on_the_bowl_creeps_settles_or_leaves_the_picture():
    chapter = chapter_functions()
    start = [-4.5, 2.0]
    too_small, good, too_large = (
        chapter.descend(chapter.gradient_2d, start, rate, steps=20) for rate in (0.01, 0.08, 0.104)
    )
    assert too_small[-1][0] < -2.5  # still far along the flat direction
    assert np.linalg.norm(good[-1]) < 0.5 and np.any(np.diff(np.sign(good[:, 1])) != 0)  # zigzags, then settles
    assert abs(too_large[-1][1]) > 3 > abs(too_large[1][1])  # the steps across the valley grow out of the picture


def test_momentum_and_adam_reach_the_centre_where_sgd_creeps():
    chapter = chapter_functions()
    sgd = chapter.optimizer_path(keras.optimizers.SGD(0.01))
    momentum = chapter.optimizer_path(keras.optimizers.SGD(0.01, momentum=0.9))
    adam = chapter.optimizer_path(keras.optimizers.Adam(0.3))
    assert sgd[-1][0] < -2.0 and len(sgd) == 31
    assert np.linalg.norm(momentum[-1]) < np.linalg.norm(sgd[-1]) and momentum[:, 0].max() > 0  # overshoots
    first_step = np.abs(adam[1] - adam[0])
    np.testing.assert_allclose(first_step, [0.3, 0.3], rtol=1e-3)  # the same step along both directions
    assert np.linalg.norm(adam[-1]) < np.linalg.norm(sgd[-1])
