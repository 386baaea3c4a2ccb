"""Chapter 03 beyond its cells: what the text says of its gradient-descent drawings, and callbacks' files.

That re-running the chapter's training cells gives the same numbers is checked right after
nbval runs the chapter, in the same kernel (``conftest.ReRunTrainingCells``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "03_building_cnns.ipynb"
# Keras 3.15 with NumPy 2 warns inside ModelCheckpoint/evaluate; not something these tests check.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


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
