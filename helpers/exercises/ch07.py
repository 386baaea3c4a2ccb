"""Chapter 07 (Inference and deployment): answers only when sure, export and verify."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from helpers.exercises.question import Question
from helpers.images import read_image

GOOD_FILES = ("beach.jpg", "forest.png", "sunset.gif")


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


def _explain(exc: BaseException) -> str | None:
    if isinstance(exc, ValueError):
        return "One broken file should not stop a folder: catch ValueError around predict(path) and go on with the next file."
    return None


class SureOrUnsure(Question):
    chapter, number = "ch07", 1
    title = "Answer only when sure: a class name or 'unsure' for every photo in a folder"
    hints = [
        "helpers.images.list_images(folder) lists the image files; predict(path) raises ValueError for a broken one.",
        "predictions[0] is the most likely class: compare its 'confidence' with the threshold.",
        "answers[path.name] = best['class'] if best['confidence'] >= threshold else 'unsure'.",
    ]
    correct_message = "Your app now says 'unsure' instead of naming the least bad of its classes."

    def _check(self, sure_answers):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            _make_folder(folder)
            best = {name: fake_predict(folder / name)[0] for name in GOOD_FILES}
            tops = sorted(b["confidence"] for b in best.values())
            for threshold in (0.99, (tops[0] + tops[1]) / 2, tops[1]):  # the last one exactly at a confidence
                result = self.call(
                    sure_answers,
                    fake_predict,
                    folder,
                    threshold,
                    signature="sure_answers(predict, folder, threshold)",
                    where="on a test folder with three photos and some broken files",
                    explain=_explain,
                    quiet=True,
                )
                self._compare(result, best, threshold)

    def _compare(self, result, best, threshold):
        if not isinstance(result, dict):
            self.fail(f"Return a dict {{file name: class name or 'unsure'}}; you returned a {type(result).__name__}.")
        got = {Path(str(key)).name: value for key, value in result.items()}
        if set(got) != set(GOOD_FILES):
            self.fail(f"The keys should be the readable photos {sorted(GOOD_FILES)}, not {sorted(got)}.")
        for name, top in best.items():
            expected = top["class"] if top["confidence"] >= threshold else "unsure"
            if got[name] == expected:
                continue
            if not isinstance(got[name], str):
                self.fail(f"The value for {name} should be a class name or 'unsure' (a string), not {got[name]!r}.")
            if got[name] == "unsure" and top["confidence"] == threshold:
                self.fail(
                    f"{name} is exactly at the threshold ({threshold:.3f}): 'at least the threshold' is >=, not >."
                )
            if expected == "unsure" and got[name] == top["class"]:
                self.fail(
                    f"With threshold={threshold:.2f}, {name} ({top['class']}, {top['confidence']:.0%}) should be 'unsure'. "
                    "Use the threshold you are given, not a number of your own."
                )
            self.fail(
                f"With threshold={threshold:.2f}, {name} should be {expected!r} (its best: {top}), not {got[name]!r}."
            )


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


q1 = SureOrUnsure()
q2 = ExportAndVerify()
