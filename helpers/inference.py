"""Inference: predicting on real image files, saving and loading safely, exporting and checking.

``load_image`` reads any file a learner may have (through ``helpers.images.read_image``)
and turns it into the float32 array a model expects; ``make_predictor`` wraps a model
into ``predict(path) -> [{"class": ..., "confidence": ...}, ...]``; ``predict_folder``
runs a whole folder in batches, reporting unreadable files instead of stopping; the
export functions write a SavedModel and a TFLite (LiteRT) file and ``compare_predictions``
checks that the exported model predicts what the Keras model predicts. Chapter 07
teaches each piece.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

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


def top_k(probabilities: np.ndarray, class_names: Sequence[str], top: int = 3) -> list[dict]:
    """The ``top`` classes of one probability vector as ``[{"class", "confidence"}, ...]``."""
    best = np.argsort(probabilities, kind="stable")[::-1][:top]
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
        best = np.argsort(probabilities)[::-1][:top]
        return [{"class": class_names[i], "confidence": float(probabilities[i])} for i in best]

    return predict


# ------------------------------------------------------------------ a folder
def predict_folder(
    model: Any,
    folder: Path | str,
    class_names: Sequence[str],
    image_size: Size,
    top: int = 3,
    batch_size: int = 32,
    preprocess: Callable | None = None,
    recursive: bool = False,
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Predict every image in ``folder`` in batches, with a progress bar.

    Returns ``(table, unreadable)``: one row per readable file (file, best class,
    confidence, the top classes) and a list of ``(file, reason)`` for the files that could
    not be read, which are also listed at the end instead of stopping the run."""
    from tqdm.auto import tqdm

    class_names = [str(name) for name in class_names]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size should be a whole number of at least 1, got {batch_size!r}.")
    paths = list_images(folder, recursive=recursive)
    rows: list[dict] = []
    unreadable: list[tuple[str, str]] = []
    batch: list[np.ndarray] = []
    batch_paths: list[Path] = []

    def flush() -> None:
        if not batch:
            return
        scores = np.asarray(model.predict_on_batch(np.stack(batch)))
        for path, probabilities in zip(batch_paths, to_probabilities(scores, len(class_names))):
            best = top_k(probabilities, class_names, min(top, len(class_names)))
            rows.append({"file": path.name, "class": best[0]["class"], "confidence": best[0]["confidence"], "top": best})
        batch.clear()
        batch_paths.clear()

    for path in tqdm(paths, desc=f"predicting {Path(folder).name}", unit="image"):
        try:
            batch.append(load_image(path, image_size, preprocess))
        except ValueError as exc:
            unreadable.append((path.name, str(exc).removeprefix(f"{path}: ")))
            continue
        batch_paths.append(path)
        if len(batch) == batch_size:
            flush()
    flush()
    table = pd.DataFrame(rows, columns=["file", "class", "confidence", "top"])
    print(f"{len(rows)} of {len(paths)} image files predicted.")
    if unreadable:
        print(f"{len(unreadable)} file(s) could not be read and were skipped:")
        for name, reason in unreadable:
            print(f"  - {name}: {reason}")
    return table, unreadable


# ------------------------------------------------------------------ save and load
def save_model(model: Any, path: Path | str) -> Path:
    """Save ``model`` to a ``.keras`` file (architecture, weights and optimizer state)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(
            f"{path}: Keras 3 saves whole models to files ending in '.keras' (got {path.suffix or 'no extension'!r}). "
            "For serving, use export_saved_model; for phones, export_tflite."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def load_model(path: Path | str, custom_objects: dict | None = None) -> Any:
    """Load a ``.keras`` file with ``safe_mode=True``: no arbitrary code from the file is run."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file. Check the name (working folder: {Path.cwd()}).")
    if path.suffix != ".keras":
        raise ValueError(f"{path}: expected a '.keras' file; a SavedModel folder loads with tf.saved_model.load.")
    return keras.saving.load_model(path, custom_objects=custom_objects, safe_mode=True)


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
        raise FileNotFoundError(f"{saved_model_dir} is not a SavedModel folder; export one with export_saved_model first.")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    if optimize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    with course.native_stderr_silenced():  # the converter's C++ log lines are not for learners
        flatbuffer = converter.convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(flatbuffer)
    return path


def tflite_interpreter(path: Path | str):
    """A LiteRT interpreter for a ``.tflite`` file (``ai_edge_litert`` when installed, else
    TensorFlow's own ``tf.lite.Interpreter``, whose deprecation notice is silenced)."""
    from helpers import course

    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        tf = course.import_tensorflow()
        Interpreter = tf.lite.Interpreter  # noqa: N806 - the class, picked at run time
    with warnings.catch_warnings(), course.native_stderr_silenced():
        warnings.filterwarnings("ignore", message=r".*tf\.lite\.Interpreter is deprecated.*")
        interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count())
    return interpreter


def tflite_predict(path_or_interpreter: Any, images: np.ndarray) -> np.ndarray:
    """Run a ``.tflite`` model on a batch of images (float32, shape (n, height, width, 3))."""
    from helpers import course

    interpreter = (
        tflite_interpreter(path_or_interpreter) if isinstance(path_or_interpreter, (str, Path)) else path_or_interpreter
    )
    images = np.asarray(images, dtype=np.float32)
    runner = interpreter.get_signature_runner()
    input_name = next(iter(runner.get_input_details()))
    with course.native_stderr_silenced():  # LiteRT announces its CPU delegate on the first run
        outputs = runner(**{input_name: images})
    return np.asarray(next(iter(outputs.values())))


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
