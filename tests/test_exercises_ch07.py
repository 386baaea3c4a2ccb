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


# ------------------------------------------------------------------ q1: top-3 for a folder
def top3_for_folder(predict, folder):
    top3 = {}
    for path in list_images(folder):
        try:
            top3[path.name] = predict(path)[:3]
        except ValueError as error:
            print("skipped:", error)
    return top3


def test_q1_right():
    assert ch07.q1.verdict(top3_for_folder).ok


def test_q1_accepts_full_paths_as_keys():
    def with_paths(predict, folder):
        return {
            str(path): predict(path)[:3]
            for path in list_images(folder)
            if not path.name.startswith(("download", "empty"))
        }

    assert ch07.q1.verdict(with_paths).ok


def _crashes_on_bad_file(predict, folder):
    return {path.name: predict(path)[:3] for path in list_images(folder)}


def _no_slice(predict, folder):
    result = {}
    for path in list_images(folder):
        try:
            result[path.name] = predict(path)
        except ValueError:
            pass
    return result


def _keeps_bad_files(predict, folder):
    result = {}
    for path in sorted(Path(folder).iterdir()):
        try:
            result[path.name] = predict(path)[:3]
        except ValueError:
            result[path.name] = []
    return result


def _skips_pngs(predict, folder):
    return {p.name: predict(p)[:3] for p in list_images(folder) if p.suffix == ".jpg" and p.name != "download.jpg"}


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (_crashes_on_bad_file, "catch"),
        (_no_slice, "first three"),
        (_keeps_bad_files, "should not be in the result"),
        (_skips_pngs, "missing"),
        (lambda predict, folder: None, "return"),
        (lambda predict, folder: [predict(p) for p in list_images(folder)[:1]], "Return a dict"),
        (lambda predict, folder: {p.name: predict(p)[-3:] for p in list_images(folder)[-1:]}, "missing"),
        ("top3", "function itself"),
    ],
)
def test_q1_wrong(wrong, fragment):
    _incorrect(ch07.q1, wrong, fragment)


def test_q1_wrong_predictions():
    def least_likely_three(predict, folder):
        return {name: predict(Path(folder) / name)[-3:] for name in top3_for_folder(predict, folder)}

    _incorrect(ch07.q1, least_likely_three, "not predict(path)[:3]")


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
    assert ch07.q1.verdict(namespace["top3_for_folder"]).ok
    import tensorflow as tf

    namespace = {"Path": Path, "np": np, "tf": tf, "inference": inference, "tflite_predict": inference.tflite_predict}
    exec(answers["ch07.q2"], namespace)
    assert ch07.q2.verdict(namespace["export_and_verify"]).ok


@pytest.mark.skipif(os.name == "nt", reason="paths")
def test_fake_predict_reads_like_the_real_predictor(tmp_path):
    (tmp_path / "x.jpg").write_text("text")
    with pytest.raises(ValueError, match="x.jpg"):
        ch07.fake_predict(tmp_path / "x.jpg")
