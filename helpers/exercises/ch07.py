"""Chapter 07 (Inference and deployment): top-3 for a folder, export and verify."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from helpers.exercises.question import Question
from helpers.images import read_image

GOOD_FILES = ("beach.jpg", "forest.png", "sunset.webp")


def _make_folder(folder: Path) -> None:
    """Three good photos, plus the usual mess: a text file named .jpg, an empty file, notes and a hidden file."""
    rng = np.random.default_rng(7)
    for name in GOOD_FILES:
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(folder / name)
    (folder / "download.jpg").write_text("<html>404 Not Found</html>")
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("photos from the trip")
    (folder / ".thumbnail.jpg").write_text("hidden")


def fake_predict(path) -> list[dict]:
    """A stand-in for a predictor made with top=5: reads the file like the real one (so bad
    files raise ValueError) and returns five classes, most likely first."""
    pixels = read_image(path)
    seed = int(pixels.mean() * 1000) % 97
    confidences = np.sort(np.random.default_rng(seed).dirichlet(np.ones(5)))[::-1]
    return [{"class": f"class_{(seed + k) % 10}", "confidence": float(c)} for k, c in enumerate(confidences)]


def _explain_q1(exc: BaseException) -> str | None:
    if isinstance(exc, ValueError):
        return (
            "Your function stopped at a bad file. One broken file should not stop a batch: catch "
            "ValueError around predict(path), report the file, and go on with the next one."
        )
    return None


class FolderTop3(Question):
    chapter, number = "ch07", 1
    title = "Top-3 predictions for every image in a folder"
    hints = [
        "helpers.images.list_images(folder) lists the image files and skips hidden files and notes.",
        "predict(path) raises ValueError for a file it cannot read: wrap the call in try/except ValueError, "
        "print the message and `continue`.",
        "predict returns the classes sorted, most likely first: keep predictions[:3], under the key path.name.",
    ]
    correct_message = "Every readable photo has its top 3, and the broken files were reported, not fatal."

    def _check(self, top3_for_folder):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            _make_folder(folder)
            result = self.call(
                top3_for_folder,
                fake_predict,
                folder,
                signature="top3_for_folder(predict, folder)",
                where="on a test folder with three photos and some broken files",
                explain=_explain_q1,
                quiet=True,
            )
            expected = {name: fake_predict(folder / name)[:3] for name in GOOD_FILES}
        if result is None:
            self.fail(
                "Your function returned None. Write its body in place of the `...`, and end it with a `return` line."
            )
        if not isinstance(result, dict):
            self.fail(f"Return a dict {{file name: predictions}}; you returned a {type(result).__name__}.")
        got = {Path(str(key)).name: value for key, value in result.items()}
        extra = sorted(set(got) - set(GOOD_FILES))
        if extra:
            self.fail(f"{extra} should not be in the result: they are not readable images (or are hidden files).")
        missing = sorted(set(GOOD_FILES) - set(got))
        if missing:
            self.fail(f"{missing} are missing: every readable image in the folder needs its predictions.")
        for name in GOOD_FILES:
            predictions = list(got[name]) if isinstance(got[name], (list, tuple)) else got[name]
            if not isinstance(predictions, list):
                self.fail(
                    f"The value for {name} should be the list that predict returns; it is a {type(got[name]).__name__}."
                )
            if len(predictions) == 5:
                self.fail(f"{name} has 5 predictions: keep only the first three (predictions[:3]).")
            if predictions != expected[name]:
                self.fail(
                    f"The predictions for {name} are not predict(path)[:3]: expected {expected[name]}, got {predictions}."
                )
        return None


def checker_model():
    """A small model with large outputs (so float32 exports differ from Keras in the last digits) and its images."""
    import keras

    def normal(seed):  # seeded, so the check draws nothing from the global random generators
        return keras.initializers.RandomNormal(stddev=1.0, seed=seed)

    inputs = keras.Input(shape=(8, 8, 3))
    x = keras.layers.Conv2D(16, 3, activation="relu", kernel_initializer=normal(1), bias_initializer=normal(2))(inputs)
    dense = keras.layers.Dense(10, kernel_initializer=normal(3), bias_initializer=normal(4))
    model = keras.Model(inputs, dense(keras.layers.Flatten()(x)), name="checker")
    images = np.random.default_rng(5).uniform(0, 255, (6, 8, 8, 3)).astype("float32")
    return model, images


class ExportAndVerify(Question):
    chapter, number = "ch07", 2
    title = "Export to TFLite and verify the exported model"
    hints = [
        "model.export(folder / 'saved_model') writes a SavedModel; "
        "tf.lite.TFLiteConverter.from_saved_model(str(that_folder)).convert() returns the bytes of the .tflite file, "
        "and Path.write_bytes saves them.",
        "tflite_predict(inference.tflite_interpreter(tflite_path), images) runs the file (tflite_predict is the "
        "function you wrote above); model.predict(images) runs the Keras model.",
        "np.abs(keras_out - tflite_out).max() is the largest difference; float() makes it a plain number.",
    ]
    correct_message = "The exported file predicts what the Keras model predicts, and you measured it: safe to ship."

    def _check(self, export_and_verify):
        if isinstance(export_and_verify, dict):
            self.fail(
                "Give the function itself (export_and_verify, without brackets), not its result: the check calls it "
                "on a small model of its own and recomputes the difference from the .tflite file it writes."
            )
        from helpers import inference

        model, images = checker_model()
        with tempfile.TemporaryDirectory() as tmp:
            export_result = self.call(
                export_and_verify,
                model,
                images,
                Path(tmp),
                signature="export_and_verify(model, images, folder)",
                where="on the check's small model",
                quiet=True,
            )
            self._check_result(export_result, model, images, inference)
        return None

    def _check_result(self, export_result, model, images, inference):
        if not isinstance(export_result, dict):
            self.fail(
                "Return a dict like {'tflite_path': ..., 'max_abs_difference': ...}; "
                f"your function returned a {type(export_result).__name__}."
            )
        missing = {"tflite_path", "max_abs_difference"} - set(export_result)
        if missing:
            self.fail(f"The dict needs the keys 'tflite_path' and 'max_abs_difference'; {sorted(missing)} is missing.")
        path = Path(str(export_result["tflite_path"]))
        if path.is_dir():
            self.fail(f"{path} is a folder (the SavedModel?). Convert it to a single .tflite file and give that path.")
        if not path.is_file():
            self.fail(f"{path} does not exist. Did you write the converter's bytes to it (path.write_bytes(...))?")
        if path.suffix != ".tflite":
            self.fail(f"{path.name} should end in .tflite.")
        try:
            tflite_out = inference.tflite_predict(inference.tflite_interpreter(path), images)
        except Exception as exc:
            self.fail(f"{path.name} is not a valid TFLite model for this model's input ({type(exc).__name__}: {exc}).")
        keras_out = model.predict(images, verbose=0)
        if tflite_out.shape != keras_out.shape:
            self.fail(
                f"{path.name} returns outputs of shape {tflite_out.shape}, the model {keras_out.shape}: is it this model?"
            )
        measured = float(np.abs(keras_out - tflite_out).max())
        if measured > 1e-4 * float(np.abs(keras_out).max()):
            self.fail(f"{path.name} does not predict what the model predicts (they differ by up to {measured:.3g}).")
        difference = export_result["max_abs_difference"]
        if hasattr(difference, "item") and np.ndim(difference) == 0:
            difference = difference.item()
        if isinstance(difference, bool) or not isinstance(difference, (int, float)):
            self.fail(f"max_abs_difference should be one number (use float(...)); got a {type(difference).__name__}.")
        if not math.isfinite(difference) or difference < 0:
            self.fail(f"max_abs_difference is {difference}: an absolute difference is a finite number of at least 0.")
        if not math.isclose(difference, measured, rel_tol=0.05, abs_tol=1e-9):
            self.fail(
                f"Your max_abs_difference is {difference:.6g}, but on the check's model the Keras and TFLite outputs "
                f"differ by up to {measured:.6g}. Compute it from the two outputs: "
                "float(np.abs(keras_out - tflite_out).max())."
            )


q1 = FolderTop3()
q2 = ExportAndVerify()
