"""Inference plumbing around the pieces chapter 07 writes.

Chapter 07 writes ``top_k``, ``compare_predictions``, ``tflite_predict`` and ``read_image`` in
``#@save`` cells; chapter 09 and the checks import them from ``helpers.taught``. The plumbing
here: ``load_image`` reads any file a learner may have (through ``read_image``) as the float32
array a model expects, ``tflite_interpreter`` opens a ``.tflite`` file with whichever LiteRT
package is installed, and ``size_on_disk`` measures an export.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from helpers.conv import pair
from helpers.images import read_image


# ------------------------------------------------------------------ one image
def load_image(path: Path | str, size: int | tuple[int, int], preprocess: Callable | None = None) -> np.ndarray:
    """Read an image file as a float32 array of shape (height, width, 3), ready for a model.

    A JPEG at least twice the size asked for is decoded at 1/2, 1/4 or 1/8 scale first
    (Pillow's draft mode), then resized: a 12-megapixel phone photo reads several times faster.
    Pixels stay in 0..255 (put ``keras.layers.Rescaling`` or the backbone's preprocessing
    in the model), unless ``preprocess`` is given, e.g. ``lambda x: x / 255.0`` or
    ``keras.applications.mobilenet_v2.preprocess_input``. Raises ``ValueError`` naming
    the file for anything that is not a readable image.
    """
    height, width = pair(size, "size", "224 or (224, 224)")
    pixels = read_image(path, draft_size=max(height, width))  # a big JPEG is decoded at a reduced scale
    if pixels.shape[:2] != (height, width):
        # reducing_gap: shrink huge photos in cheap steps first, then resample properly.
        pixels = np.asarray(
            Image.fromarray(pixels).resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0)
        )
    image = pixels.astype(np.float32)
    if preprocess is not None:
        image = np.asarray(preprocess(image), dtype=np.float32)
    return image


# ------------------------------------------------------------------ files
def size_on_disk(path: Path | str) -> int:
    """Bytes of a file, or of every file under a folder (a SavedModel is a folder)."""
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


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
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such .tflite file. Check the name, or export the model first.")
    try:
        with warnings.catch_warnings(), course.native_stderr_silenced():
            warnings.filterwarnings("ignore", message=r".*tf\.lite\.Interpreter is deprecated.*")
            interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count())
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{path} is not a TFLite model LiteRT can read ({str(exc).strip().splitlines()[0][:100]}). It may be "
            "truncated or another kind of file: convert the model again (chapter 07 shows how)."
        ) from None
    return interpreter
