"""One model flows through the course: chapter 06 evaluates the classifier chapter 03 saved
(and trains nothing) when a usable one is in the models folder."""

from __future__ import annotations

from pathlib import Path

import keras
import nbformat
import pytest
from nbclient import NotebookClient

from helpers import datasets, model_store

ROOT = Path(__file__).resolve().parent.parent
NO_TRAINING = """
import keras

def _no_training(self, *args, **kwargs):
    raise AssertionError("this notebook was meant to use the saved model, not to train")

keras.Model.fit = _no_training
"""


def _tiny_cifar_model() -> keras.Model:
    """A CIFAR-10-shaped model that outputs logits, like chapter 03's classifier."""
    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x), name="tiny_ch03")


def _run_until(path: Path, last_id: str, extra_cells: list[str], first_cell: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    ids = [cell.get("id") for cell in notebook.cells]
    cells = notebook.cells[: ids.index(last_id) + 1]
    setup = next(i for i, cell in enumerate(cells) if "course.setup(" in cell.source)
    cells.insert(setup + 1, nbformat.v4.new_code_cell(first_cell))
    cells.extend(nbformat.v4.new_code_cell(source) for source in extra_cells)
    notebook.cells = cells
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    return notebook


def _text(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )


@pytest.mark.parametrize("folder", ["solutions"])
def test_chapter_06_evaluates_the_saved_chapter_03_model(tmp_path, monkeypatch, folder):
    """A tiny pre-saved 'chapter 03' model is used: no training, softmax applied to its logits."""
    monkeypatch.setenv(model_store.ENV, str(tmp_path))
    model_store.save(
        _tiny_cifar_model(),
        "ch03_cifar10",
        class_names=datasets.class_names("cifar10"),
        image_size=(32, 32),
        history={"accuracy": [0.2, 0.3], "val_accuracy": [0.2, 0.25], "loss": [2.2, 2.0], "val_loss": [2.2, 2.1]},
        real_data=False,  # the suite runs offline, on the stand-in CIFAR-10
    )
    check = """
assert saved is not None and model is saved.model and model.name == "tiny_ch03", model.name
assert abs(probabilities.sum(axis=1) - 1).max() < 1e-5  # the logits went through a softmax
print("evaluated:", model.name)
"""
    # The chapter up to its test-set predictions, with model.fit made to fail if anything trains.
    notebook = _run_until(ROOT / folder / "06_evaluation.ipynb", "cell-023", [check], NO_TRAINING)
    text = _text(notebook)
    assert f"Using the saved model {tmp_path / 'ch03_cifar10.keras'}" in text
    assert "nothing to train" in text
    assert "evaluated: tiny_ch03" in text
    assert "Epoch 1/" not in text
