"""Chapter 07 checks (right and typical wrong answers), and the notebook's make_predictor
staying identical to helpers.inference.make_predictor."""

from __future__ import annotations

import ast
import inspect
import os
from pathlib import Path

import nbformat
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
@pytest.fixture(scope="module")
def tflite_file(tmp_path_factory):
    course.quiet_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(2, 3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    folder = tmp_path_factory.mktemp("export")
    saved = inference.export_saved_model(model, folder / "saved")
    return inference.export_tflite(saved, folder / "model.tflite"), saved


def test_q2_right(tflite_file):
    path, _ = tflite_file
    assert ch07.q2.verdict({"tflite_path": path, "max_abs_difference": 3e-7}).ok
    assert ch07.q2.verdict({"tflite_path": str(path), "max_abs_difference": np.float32(0.0)}).ok


def test_q2_wrong(tflite_file, tmp_path):
    path, saved = tflite_file
    (tmp_path / "broken.tflite").write_bytes(b"not a flatbuffer")
    (tmp_path / "model.keras").write_bytes(path.read_bytes())
    cases = [
        ((path, 1e-7), "dict like"),
        ({"tflite_path": path}, "max_abs_difference"),
        ({"tflite_path": saved, "max_abs_difference": 0.0}, "is a folder"),
        ({"tflite_path": tmp_path / "nope.tflite", "max_abs_difference": 0.0}, "does not exist"),
        ({"tflite_path": tmp_path / "model.keras", "max_abs_difference": 0.0}, "should end in .tflite"),
        ({"tflite_path": tmp_path / "broken.tflite", "max_abs_difference": 0.0}, "not a valid TFLite model"),
        ({"tflite_path": path, "max_abs_difference": np.zeros((2, 3))}, "one number"),
        ({"tflite_path": path, "max_abs_difference": -0.1}, "at least 0"),
        ({"tflite_path": path, "max_abs_difference": 0.4}, "too large"),
    ]
    for answer, fragment in cases:
        _incorrect(ch07.q2, answer, fragment)
    assert ch07.q2.verdict(...).status == "not attempted"


# ------------------------------------------------------------------ stored solutions and the notebook
def test_reference_solutions_are_stored():
    answers = load_answers("ch07")
    assert set(answers) == {"ch07.q1", "ch07.q2"}
    namespace = {"list_images": list_images}
    exec(answers["ch07.q1"], namespace)
    assert ch07.q1.verdict(namespace["top3_for_folder"]).ok
    assert "def export_and_verify" in answers["ch07.q2"] and "TFLiteConverter" in answers["ch07.q2"]


def test_notebook_make_predictor_is_the_helper():
    """The chapter teaches make_predictor; helpers.inference must hold exactly that code."""
    for folder in ("solutions", "notebooks"):
        notebook = nbformat.read(ROOT / folder / "07_inference.ipynb", as_version=4)
        sources = [
            cell.source for cell in notebook.cells if cell.cell_type == "code" and "def make_predictor(" in cell.source
        ]
        assert len(sources) == 1, folder
        tree = ast.parse(sources[0])
        function = next(
            node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "make_predictor"
        )
        taught = ast.get_source_segment(sources[0], function)
        assert taught == inspect.getsource(inference.make_predictor).rstrip(), folder


@pytest.mark.skipif(os.name == "nt", reason="paths")
def test_fake_predict_reads_like_the_real_predictor(tmp_path):
    (tmp_path / "x.jpg").write_text("text")
    with pytest.raises(ValueError, match="x.jpg"):
        ch07.fake_predict(tmp_path / "x.jpg")
