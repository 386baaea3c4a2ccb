"""Chapter 07 checks (right and typical wrong answers)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from helpers import course, inference
from helpers.exercises import ch07
from helpers.exercises.question import load_answers
from helpers.images import list_images

ROOT = Path(__file__).resolve().parent.parent


def _incorrect(question, answer, fragment):
    verdict = question.verdict(answer)
    assert verdict.status == "incorrect", verdict
    assert fragment in verdict.message, verdict.message


# ------------------------------------------------------------------ q1: a class name or "unsure"
def sure_answers(predict, folder, threshold):
    answers = {}
    for path in list_images(folder):
        try:
            best = predict(path)[0]
        except ValueError as error:
            print("skipped:", error)
            continue
        answers[path.name] = best["class"] if best["confidence"] >= threshold else "unsure"
    return answers


def test_q1_right():
    assert ch07.q1.verdict(sure_answers).ok
    with_paths = lambda p, f, t: {str(Path(f) / k): v for k, v in sure_answers(p, f, t).items()}  # noqa: E731
    assert ch07.q1.verdict(with_paths).ok


def _changed(**how):
    """sure_answers with one typical mistake."""

    def answer(predict, folder, threshold):
        result = {}
        for path in list_images(folder) if "all_files" not in how else sorted(Path(folder).iterdir()):
            try:
                best = predict(path)[0]
            except ValueError:
                if how.get("crash"):
                    raise
                if "all_files" in how:
                    result[path.name] = "unsure"
                continue
            sure = (
                best["confidence"] > threshold
                if how.get("strict")
                else best["confidence"] >= how.get("fixed", threshold)
            )
            result[path.name] = (best if how.get("whole") else best["class"]) if sure else "unsure"
        return result

    return answer


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (_changed(crash=True), "catch ValueError"),
        (_changed(strict=True), ">=, not >"),
        (_changed(fixed=0.5), "Use the threshold you are given"),
        (_changed(whole=True), "a class name or 'unsure' (a string)"),
        (_changed(all_files=True), "The keys should be the readable photos"),
        (lambda p, f, t: [p(path)[0] for path in list_images(f)[:1]], "Return a dict"),
        (lambda p, f: {}, "should take three arguments"),
        ("answers", "function itself"),
    ],
)
def test_q1_wrong(wrong, fragment):
    _incorrect(ch07.q1, wrong, fragment)


# ------------------------------------------------------------------ q2: export and verify
def export_and_verify(model, images, folder):
    """The reference answer, written with the helpers."""
    import tensorflow as tf

    folder = Path(folder)
    model.export(folder / "saved_model", verbose=False)
    tflite_file = folder / "model.tflite"
    tflite_file.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(folder / "saved_model")).convert())
    keras_out = model.predict(images, verbose=0)
    tflite_out = inference.tflite_predict(inference.tflite_interpreter(tflite_file), images)
    return {"tflite_path": tflite_file, "max_abs_difference": float(np.abs(keras_out - tflite_out).max())}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The check model exported once; the answers below copy it instead of exporting again (fast)."""
    course.quiet_tensorflow()
    model, images = ch07.checker_model()
    return export_and_verify(model, images, tmp_path_factory.mktemp("export"))["tflite_path"]


def _copying(model, images, folder):
    """Like export_and_verify, with the export copied from the `exported` fixture."""
    folder = Path(folder)
    (folder / "saved_model").mkdir()
    (folder / "saved_model" / "saved_model.pb").write_bytes(b"")
    tflite_file = folder / "model.tflite"
    tflite_file.write_bytes(EXPORTED[0].read_bytes())
    keras_out = model.predict(images, verbose=0)
    tflite_out = inference.tflite_predict(inference.tflite_interpreter(tflite_file), images)
    return {"tflite_path": tflite_file, "max_abs_difference": float(np.abs(keras_out - tflite_out).max())}


EXPORTED: list[Path] = []


@pytest.fixture(autouse=True)
def _remember_export(request):
    if "exported" in request.fixturenames and not EXPORTED:
        EXPORTED.append(request.getfixturevalue("exported"))


def _changing(**changes):
    """The copying answer, with its returned dict changed."""

    def answer(model, images, folder):
        result = _copying(model, images, folder)
        result.update({key: value(result, Path(folder)) for key, value in changes.items()})
        return result

    return answer


def _made_up_zero(model, images, folder):
    """Writes the files but never runs them: the difference is a guess."""
    import tensorflow as tf

    folder = Path(folder)
    model.export(folder / "saved_model", verbose=False)
    (folder / "model.tflite").write_bytes(
        tf.lite.TFLiteConverter.from_saved_model(str(folder / "saved_model")).convert()
    )
    return {"tflite_path": folder / "model.tflite", "max_abs_difference": 0.0}


def _other_model(model, images, folder):
    import keras

    other = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)])
    return export_and_verify(other, images, folder)


def test_q2_right(exported):
    assert ch07.q2.verdict(_copying).ok  # export_and_verify itself ran in the fixture and in the stored-solution test
    assert ch07.q2.verdict(_changing(tflite_path=lambda r, f: str(r["tflite_path"]))).ok
    assert ch07.q2.verdict(_changing(max_abs_difference=lambda r, f: np.float32(r["max_abs_difference"]))).ok


def test_q2_rejects_a_made_up_difference(exported):
    _incorrect(ch07.q2, _made_up_zero, "Compute it from the two outputs")
    _incorrect(ch07.q2, {"tflite_path": "model.tflite", "max_abs_difference": 0.0}, "function itself")


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda m, i, f: (f / "model.tflite", 1e-7), "dict like"),
        (lambda m, i, f: {"tflite_path": _copying(m, i, f)["tflite_path"]}, "max_abs_difference"),
        (_changing(tflite_path=lambda r, f: f / "saved_model"), "is a folder"),
        (_changing(tflite_path=lambda r, f: f / "nope.tflite"), "does not exist"),
        (_changing(tflite_path=lambda r, f: f / "saved_model" / "saved_model.pb"), "should end in .tflite"),
        (_changing(max_abs_difference=lambda r, f: np.zeros((2, 3))), "one number"),
        (_changing(max_abs_difference=lambda r, f: -0.1), "at least 0"),
        (_changing(max_abs_difference=lambda r, f: r["max_abs_difference"] + 0.4), "Compute it from the two outputs"),
        (_other_model, "does not predict what the model predicts"),
        (lambda m, i, f: 1 / 0, "ZeroDivisionError"),
        (42, "function itself"),
    ],
)
def test_q2_wrong(wrong, fragment, exported):
    _incorrect(ch07.q2, wrong, fragment)


def test_q2_not_attempted():
    assert ch07.q2.verdict(...).status == "not attempted"


# ------------------------------------------------------------------ stored solutions and the notebook
def test_reference_solutions_are_stored():
    answers = load_answers("ch07")
    assert set(answers) == {"ch07.q1", "ch07.q2"}
    namespace = {"list_images": list_images}
    exec(answers["ch07.q1"], namespace)
    assert ch07.q1.verdict(namespace["sure_answers"]).ok
    import tensorflow as tf

    namespace = {"Path": Path, "np": np, "tf": tf, "inference": inference, "tflite_predict": inference.tflite_predict}
    exec(answers["ch07.q2"], namespace)
    assert ch07.q2.verdict(namespace["export_and_verify"]).ok


@pytest.mark.skipif(os.name == "nt", reason="paths")
def test_fake_predict_reads_like_the_real_predictor(tmp_path):
    (tmp_path / "x.jpg").write_text("text")
    with pytest.raises(ValueError, match="x.jpg"):
        ch07.fake_predict(tmp_path / "x.jpg")
