"""Inference: copies of the pieces chapter 07 writes, and the plumbing around them.

Chapter 07 writes ``top_k``, ``make_predictor``, ``predict_folder`` and ``tflite_predict`` in
its cells; the functions here are exactly that code (``tests/test_inference.py`` checks that
they stay identical), so later chapters and the benchmarks can reuse them. The plumbing:
``load_image`` reads any file a learner may have (through ``helpers.images.read_image``) as
the float32 array a model expects, ``export_saved_model`` / ``export_tflite`` write the
exports quietly, ``tflite_interpreter`` opens a ``.tflite`` file with whichever LiteRT
package is installed, and ``compare_predictions`` says how closely two models agree.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from helpers.evaluation import to_probabilities
from helpers.images import list_images, read_image

Size = int | tuple[int, int]


# ------------------------------------------------------------------ one image
def _size(size: Size) -> tuple[int, int]:
    """``size`` as (height, width); an int means a square."""
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in size)
    ):
        raise ValueError(f"size should be a positive int or (height, width), like 224 or (224, 224); got {size!r}.")
    return int(size[0]), int(size[1])


def load_image(path: Path | str, size: Size, preprocess: Callable | None = None) -> np.ndarray:
    """Read an image file as a float32 array of shape (height, width, 3), ready for a model.

    Pixels stay in 0..255 (put ``keras.layers.Rescaling`` or the backbone's preprocessing
    in the model), unless ``preprocess`` is given, e.g. ``lambda x: x / 255.0`` or
    ``keras.applications.mobilenet_v2.preprocess_input``. Raises ``ValueError`` naming
    the file for anything that is not a readable image.
    """
    height, width = _size(size)
    pixels = read_image(path)
    if pixels.shape[:2] != (height, width):
        # reducing_gap: shrink huge photos in cheap steps first, then resample properly.
        pixels = np.asarray(
            Image.fromarray(pixels).resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0)
        )
    image = pixels.astype(np.float32)
    if preprocess is not None:
        image = np.asarray(preprocess(image), dtype=np.float32)
    return image


def top_k(probabilities, class_names, top=3):
    """The `top` classes of one row of probabilities as [{"class", "confidence"}, ...], most likely first."""
    best = np.argsort(-probabilities, kind="stable")[:top]  # highest first; equal scores keep the class order
    return [{"class": class_names[i], "confidence": float(probabilities[i])} for i in best]


def make_predictor(model, class_names, image_size, top=3, preprocess=None):
    """Return predict(path): the top classes of one image file as
    [{"class": name, "confidence": probability}, ...], most likely first."""
    class_names = list(class_names)
    n_outputs = model.output_shape[-1]
    if n_outputs != len(class_names):
        raise ValueError(
            f"The model has {n_outputs} outputs but {len(class_names)} class names were given; "
            "pass the class names of the dataset the model was trained on, in label order."
        )

    def predict(path):
        image = load_image(path, image_size, preprocess)  # float32 (height, width, 3), any file type
        scores = model.predict_on_batch(image[None])  # a batch of one image in, one row of scores out
        probabilities = to_probabilities(scores, len(class_names))[0]  # softmax only if the model gives logits
        return top_k(probabilities, class_names, top)

    return predict


# ------------------------------------------------------------------ a folder
def predict_folder(model, folder, class_names, image_size, top=3, batch_size=32, preprocess=None):
    """Predict every image file in `folder`, batch by batch, with a progress bar.

    Returns (table, unreadable): a DataFrame with one row per readable file (its best class, the
    confidence and the top classes) and a list of (file name, reason) for the files it could not read.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size should be a whole number of at least 1, got {batch_size!r}.")
    paths = list_images(folder)  # image files only, no hidden files, sorted
    rows, unreadable = [], []
    for start in tqdm(range(0, len(paths), batch_size), desc="predicting", unit="batch"):
        images, names = [], []
        for path in paths[start : start + batch_size]:
            try:
                images.append(load_image(path, image_size, preprocess))
                names.append(path.name)
            except ValueError as error:  # a broken file must not stop the other thousands
                unreadable.append((path.name, str(error)))
        if not images:
            continue
        scores = model.predict_on_batch(np.stack(images))  # one forward pass for the whole batch
        for name, probabilities in zip(names, to_probabilities(scores, len(class_names))):
            best = top_k(probabilities, class_names, top)
            rows.append({"file": name, "class": best[0]["class"], "confidence": best[0]["confidence"], "top": best})
    print(f"{len(rows)} of {len(paths)} image files predicted.")
    for name, reason in unreadable:
        print(f"  could not read {name}: {reason}")
    return pd.DataFrame(rows, columns=["file", "class", "confidence", "top"]), unreadable


# ------------------------------------------------------------------ export
def export_saved_model(model: Any, directory: Path | str) -> Path:
    """Export ``model`` as a TensorFlow SavedModel (for TF Serving, TF.js, converters)."""
    directory = Path(directory)
    model.export(str(directory), format="tf_saved_model", verbose=False)
    return directory


def export_tflite(saved_model_dir: Path | str, path: Path | str, optimize: bool = False) -> Path:
    """Convert a SavedModel folder to a TFLite (LiteRT) file; ``optimize`` adds dynamic-range
    quantisation (about 4x smaller weights)."""
    from helpers import course

    tf = course.import_tensorflow()
    saved_model_dir, path = Path(saved_model_dir), Path(path)
    if not (saved_model_dir / "saved_model.pb").is_file():
        raise FileNotFoundError(
            f"{saved_model_dir} is not a SavedModel folder; export one with export_saved_model first."
        )
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    if optimize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    with course._native_stderr_silenced():  # the converter's C++ log lines are not for learners
        flatbuffer = converter.convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(flatbuffer)
    return path


def tflite_interpreter(path: Path | str):
    """A LiteRT interpreter for a ``.tflite`` file, its tensors allocated (``ai_edge_litert``
    when installed, else TensorFlow's own ``tf.lite.Interpreter``, whose deprecation notice is
    silenced, as is LiteRT's one-line note about its CPU delegate)."""
    from helpers import course

    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        tf = course.import_tensorflow()
        Interpreter = tf.lite.Interpreter  # noqa: N806 - the class, picked at run time
    with warnings.catch_warnings(), course._native_stderr_silenced():
        warnings.filterwarnings("ignore", message=r".*tf\.lite\.Interpreter is deprecated.*")
        interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count())
        interpreter.allocate_tensors()
    return interpreter


def tflite_predict(interpreter, images):
    """Run a batch of float32 images through a LiteRT interpreter and return the model's outputs."""
    images = np.asarray(images, dtype=np.float32)
    input_detail = interpreter.get_input_details()[0]
    if list(input_detail["shape"]) != list(images.shape):  # the file expects a batch of 1 unless told otherwise
        interpreter.resize_tensor_input(input_detail["index"], images.shape)
    interpreter.allocate_tensors()  # (re)serve memory for this input shape; nearly free when nothing changed
    interpreter.set_tensor(input_detail["index"], images)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def compare_predictions(reference: np.ndarray, other: np.ndarray, atol: float = 1e-4) -> dict:
    """How closely two models' outputs on the same images agree.

    Returns ``{"max_abs_difference", "same_top1", "agree"}``; ``agree`` is True when every
    output is within ``atol`` and every image gets the same top class."""
    reference, other = np.asarray(reference, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if reference.shape != other.shape:
        raise ValueError(
            f"The outputs have different shapes, {reference.shape} and {other.shape}: "
            "were both models given the same images?"
        )
    difference = float(np.max(np.abs(reference - other))) if reference.size else 0.0
    same_top1 = float(np.mean(reference.argmax(axis=-1) == other.argmax(axis=-1)))
    return {"max_abs_difference": difference, "same_top1": same_top1, "agree": difference <= atol and same_top1 == 1.0}
