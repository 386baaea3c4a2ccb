"""Chapter 07 (Inference and deployment): answers only when sure, ship the quantised file only when it is safe."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from helpers.exercises.question import Question
from helpers.images import read_image

GOOD_FILES = ("beach.jpg", "forest.png", "sunset.gif")
BAD_FILES = {"download.jpg": "<html>404 Not Found</html>", "empty.png": "", "notes.txt": "trip", ".thumbnail.jpg": "x"}
BROKEN_FILE = {"ValueError": "One broken file should not stop a folder: catch ValueError around predict(path), go on."}
BATCH_OF_ONE = {
    "dimension mismatch": "The model takes one image: first call interpreter.resize_tensor_input (tflite_predict does)."
}


def fake_predict(path) -> list[dict]:
    """A stand-in predictor (top=5, most likely first) that reads the file: bad files raise ValueError."""
    seed = int(read_image(path).mean() * 1000) % 97
    confidences = np.sort(np.random.default_rng(seed).dirichlet(np.ones(5)))[::-1]
    return [{"class": f"class_{(seed + k) % 10}", "confidence": float(c)} for k, c in enumerate(confidences)]


class SureOrUnsure(Question):
    chapter, number, signature = "ch07", 1, "sure_answers(predict, folder, threshold)"

    def _check(self, sure_answers):
        """On three photos and the usual mess: a text file named .jpg, an empty file, notes and a hidden file."""
        with tempfile.TemporaryDirectory() as tmp:
            for i, name in enumerate(GOOD_FILES):  # plain colours: the stand-in predictor reads only their mean
                Image.fromarray(np.full((24, 32, 3), 70 * i + 55, dtype=np.uint8)).save(Path(tmp, name))
            for name, text in BAD_FILES.items():
                Path(tmp, name).write_text(text)
            best = {name: fake_predict(Path(tmp, name))[0] for name in GOOD_FILES}
            for threshold in (0.99, 0.5, best["sunset.gif"]["confidence"]):  # the best are 0.74, 0.34 and 0.65
                args = (fake_predict, Path(tmp), threshold)
                result = self.call(sure_answers, *args, signature=self.signature, explain=BROKEN_FILE, quiet=True)
                got = {Path(str(key)).name: value for key, value in result.items()}  # not a dict: "could not read"
                for name, top in best.items():
                    expected = top["class"] if top["confidence"] >= threshold else "unsure"
                    if got.get(name, expected) != expected:
                        self.fail(
                            f"With threshold={threshold:.3f}, {name} (best: {top['class']} at {top['confidence']:.3f}) "
                            f"should be {expected!r}, not {got[name]!r}"
                            + (": 'at least the threshold' is >=, not >." if top["confidence"] == threshold else ".")
                        )
                if set(got) != set(GOOD_FILES):
                    self.fail(
                        "The keys are the names of every readable photo, 'unsure' ones too, and of no broken file: "
                        f"{list(GOOD_FILES)}, not {list(got)}."
                    )


def checker_models():
    """Two small models with large outputs and their 48 images: quantising the first changes no top class; in the
    second, classes 0 and 1 are nearly tied, and quantising swaps them on two images (the 18th and the 39th, chosen
    with the converter so that a first-image or "most images" rule fails; other top classes lead by more than 20)."""
    import keras

    init = [keras.initializers.RandomNormal(stddev=1.0, seed=seed) for seed in range(5)]  # not the global generators
    inputs = keras.Input(shape=(8, 8, 3))
    conv = keras.layers.Conv2D(16, 3, activation="relu", kernel_initializer=init[1], bias_initializer=init[2])
    features = keras.layers.Flatten()(conv(inputs))  # the same layers and weights in both models, up to the last
    dense = [keras.layers.Dense(10, kernel_initializer=init[3], bias_initializer=init[4]) for _ in range(2)]
    clear, close = (keras.Model(inputs, layer(features), name=name) for layer, name in zip(dense, ("clear", "close")))
    kernel, bias = dense[1].get_weights()  # the second model's last layer
    kernel[:, 1] = kernel[:, 0] + np.random.default_rng(6).normal(0, 0.003, len(kernel))
    bias[:2] += 30_000
    dense[1].set_weights([kernel, bias])
    return clear, close, np.random.default_rng(5).uniform(0, 255, (200, 8, 8, 3)).astype("float32")[list(CHECK_IMAGES)]


CHECK_IMAGES = (
    4, 6, 9, 11, 15, 19, 25, 29, 32, 41, 43, 46, 47, 48, 49, 51, 53, 40, 55, 67, 71, 72, 73, 76, 77, 78, 80,
    84, 89, 93, 94, 101, 102, 104, 105, 112, 119, 120, 31, 123, 125, 127, 130, 131, 134, 135, 141, 142,
)  # fmt: skip


class ChooseTflite(Question):
    chapter, number, signature = "ch07", 2, "choose_tflite(model, images, folder)"

    def _check(self, choose_tflite):
        from helpers import inference, taught

        clear, close, images = checker_models()
        for model, which in ((clear, "first"), (close, "second")):
            with tempfile.TemporaryDirectory() as tmp:
                args = (model, images, Path(tmp))
                path = Path(self.call(choose_tflite, *args, signature=self.signature, explain=BATCH_OF_ONE, quiet=True))
                if not path.is_file() or path.suffix != ".tflite" or Path(tmp).resolve() not in path.resolve().parents:
                    self.fail(f"Return the path of the .tflite file to ship, written in the folder given; not {path}.")
                interpreter = inference.tflite_interpreter(path)  # not a TFLite file: "could not read", and why
                tflite_out, keras_out = taught.tflite_predict(interpreter, images), model.predict(images, verbose=0)
                quantised = any(detail["dtype"] == np.int8 for detail in interpreter.get_tensor_details())
                del interpreter  # it holds the file open: let the folder go (on Windows too)
            if not quantised and np.abs(keras_out - tflite_out).max() > 1e-4 * np.abs(keras_out).max():
                self.fail(f"{path.name} does not predict what the check's {which} model predicts: is it its file?")
            if quantised != (model is clear):  # quantising is safe on the first model only
                changed = int(np.sum(tflite_out.argmax(axis=-1) != keras_out.argmax(axis=-1)))  # 0 for a float32 file
                self.fail(
                    f"On the check's {which} model the quantised file changes {changed} of {len(images)} top classes, "
                    f"so ship the {'quantised' if model is clear else 'float32'} file. Compare the quantised file's "
                    "top classes with the model's (same_top1) on every image, not its largest difference or first few."
                )


q1 = SureOrUnsure()
q2 = ChooseTflite()
