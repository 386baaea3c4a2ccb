"""helpers.inference: images of every kind, the predictor contract, folders with bad files,
safe saving and loading, and exports that predict what the Keras model predicts."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy.special import softmax

from helpers import course, inference, taught
from tools.testing import ROOT, notebook_functions

course.quiet_tensorflow()
import keras  # noqa: E402

NAMES = ["red", "green", "blue"]
# taught in chapter 07 and reused by no later chapter: they live in the notebook only
CHAPTER_07 = notebook_functions(
    ROOT / "solutions" / "07_inference.ipynb", "make_predictor", "predict_folder", "export_tflite"
)
RNG = np.random.default_rng(0)
PHOTO = RNG.integers(0, 255, (40, 60, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3)(x)  # logits, like every model chapter 07 loads
    return keras.Model(inputs, outputs)


def _write(folder, name, convert="RGB", array=PHOTO, **save):
    path = folder / name
    Image.fromarray(array).convert(convert).save(path, **save)
    return path


# ------------------------------------------------------------------ load_image
@pytest.mark.parametrize(
    "name, convert",
    [
        ("a.jpg", "RGB"),
        ("a.png", "L"),
        ("a.png", "RGBA"),
        ("a.gif", "P"),
        ("a.jpg", "CMYK"),
        ("a.webp", "RGB"),
        ("a.bmp", "RGB"),
    ],
)
def test_load_image_any_mode_gives_model_ready_float32(tmp_path, name, convert):
    image = inference.load_image(_write(tmp_path, name, convert), 24)
    assert image.shape == (24, 24, 3) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 255 and image.max() > 1


def test_load_image_sizes_and_preprocess(tmp_path):
    path = _write(tmp_path, "a.png")
    assert inference.load_image(path, (20, 30)).shape == (20, 30, 3)
    np.testing.assert_array_equal(inference.load_image(path, (40, 60)), PHOTO.astype(np.float32))
    scaled = inference.load_image(path, 8, preprocess=lambda x: x / 255.0)
    assert scaled.dtype == np.float32 and scaled.max() <= 1.0
    with pytest.raises(ValueError, match="size must be a positive whole number"):
        inference.load_image(path, (0, 10))
    with pytest.raises(ValueError, match="size must be a positive whole number"):
        inference.load_image(path, "224")


def test_load_image_sixteen_bit_and_exif_rotation(tmp_path):
    deep = np.linspace(0, 65535, 40 * 60).reshape(40, 60).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    image = inference.load_image(tmp_path / "deep.png", (40, 60))
    assert image.max() > 250 and image.min() < 5
    halves = np.zeros((40, 60, 3), np.uint8)
    halves[:, 30:] = 255  # dark left half, bright right half
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display", as phones write it
    Image.fromarray(halves).save(tmp_path / "phone.jpg", exif=exif)
    upright = inference.load_image(tmp_path / "phone.jpg", (60, 40))
    assert upright[:20].mean() < 30 and upright[-20:].mean() > 225  # the left half is now on top


def test_load_image_huge_photo_is_shrunk(tmp_path):
    big = np.zeros((3000, 4000, 3), np.uint8)
    big[:, 2000:] = 255
    image = inference.load_image(_write(tmp_path, "big.png", array=big), 32)
    assert image.shape == (32, 32, 3)
    assert image[:, :10].max() < 10 and image[:, -10:].min() > 245


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("empty.jpg", b"", "empty"),
        ("notes.jpg", b"this is text, not a photo", "not an image"),
        ("broken.png", None, "corrupt or truncated"),
    ],
)
def test_bad_files_raise_value_error_naming_the_file(tmp_path, name, content, fragment):
    path = tmp_path / name
    if content is None:
        good = _write(tmp_path, "good.png").read_bytes()
        content = good[: len(good) // 2]
    path.write_bytes(content)
    with pytest.raises(ValueError, match=fragment) as info:
        inference.load_image(path, 16)
    assert name in str(info.value)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    Image.new("1", (10_000, 6_000)).save(tmp_path / "bomb.png")  # 7 KB on disk, 60 megapixels decoded
    with pytest.raises(ValueError, match="safety limit") as info:
        inference.load_image(tmp_path / "bomb.png", 16)
    assert "bomb.png" in str(info.value)


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    image = inference.load_image(tmp_path / "anim.gif", 8)
    assert image[..., 0].mean() > 200 and image[..., 2].mean() < 50


# ------------------------------------------------------------------ make_predictor
def test_predictor_contract(tmp_path, model):
    predict = CHAPTER_07.make_predictor(model, NAMES, 16, top=2)
    result = predict(_write(tmp_path, "a.jpg"))
    assert isinstance(result, list) and len(result) == 2
    assert all(set(r) == {"class", "confidence"} for r in result)
    assert all(isinstance(r["class"], str) and isinstance(r["confidence"], float) for r in result)
    assert result[0]["confidence"] >= result[1]["confidence"]
    image = inference.load_image(tmp_path / "a.jpg", 16)
    expected = softmax(model.predict(image[None], verbose=0)[0])
    assert result[0]["class"] == NAMES[int(expected.argmax())]
    assert result[0]["confidence"] == pytest.approx(float(expected.max()), abs=1e-6)


def test_predictor_top_is_capped_and_logits_become_probabilities(tmp_path, model):
    predict = CHAPTER_07.make_predictor(model, NAMES, 16, top=10)
    result = predict(_write(tmp_path, "a.png"))
    assert len(result) == 3
    assert sum(r["confidence"] for r in result) == pytest.approx(1.0, abs=1e-5)


def test_predictor_rejects_wrong_class_names(model):
    with pytest.raises(ValueError, match="3 outputs but 2 class names"):
        CHAPTER_07.make_predictor(model, ["a", "b"], 16)


def test_predictor_raises_for_bad_file(tmp_path, model):
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(ValueError, match="text.jpg"):
        CHAPTER_07.make_predictor(model, NAMES, 16)(tmp_path / "text.jpg")


# ------------------------------------------------------------------ predict_folder
def test_predict_folder_keeps_going_and_reports_bad_files(tmp_path, model, capsys):
    for i in range(5):
        _write(tmp_path, f"photo_{i}.jpg")
    _write(tmp_path, "grey.png", "L")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "readme.jpg").write_text("not an image")
    (tmp_path / "notes.txt").write_text("ignored: not an image extension")
    (tmp_path / ".hidden.jpg").write_text("ignored: hidden")
    table, unreadable = CHAPTER_07.predict_folder(model, tmp_path, NAMES, 16, top=2, batch_size=4)
    assert len(table) == 6 and set(table.columns) == {"file", "class", "confidence", "top"}
    assert sorted(name for name, _ in unreadable) == ["empty.jpg", "readme.jpg"]
    assert all(reason for _, reason in unreadable)
    out = capsys.readouterr().out
    assert "6 of 8 image files predicted" in out and "empty.jpg" in out and "readme.jpg" in out
    single = CHAPTER_07.make_predictor(model, NAMES, 16, top=2)(tmp_path / "photo_0.jpg")
    row = table.set_index("file").loc["photo_0.jpg"]
    assert row["class"] == single[0]["class"] and row["confidence"] == pytest.approx(single[0]["confidence"], abs=1e-5)


def test_predict_folder_errors(tmp_path, model):
    with pytest.raises(FileNotFoundError):
        CHAPTER_07.predict_folder(model, tmp_path / "missing", NAMES, 16)
    with pytest.raises(ValueError, match="batch_size"):
        CHAPTER_07.predict_folder(model, tmp_path, NAMES, 16, batch_size=0)


# ------------------------------------------------------------------ top_k
def test_top_k_sorted_and_ties_keep_class_order():
    probabilities = np.array([0.1, 0.3, 0.3, 0.3])
    names = ["a", "b", "c", "d"]
    assert [p["class"] for p in taught.top_k(probabilities, names, 3)] == ["b", "c", "d"]
    assert [p["class"] for p in taught.top_k(np.array([0.5, 0.2, 0.3]), names[:3], 2)] == ["a", "c"]
    assert taught.top_k(np.array([0.5, 0.5]), ["x", "y"], 5) == [
        {"class": "x", "confidence": 0.5},
        {"class": "y", "confidence": 0.5},
    ]


# ------------------------------------------------------------------ export
def test_chapter_07_exports_agree_with_keras(tmp_path, model):
    import tensorflow as tf

    x = RNG.uniform(0, 255, (5, 16, 16, 3)).astype("float32")
    expected = model.predict(x, verbose=0)
    saved = tmp_path / "saved"
    model.export(saved, verbose=False)
    reloaded = tf.saved_model.load(str(saved))
    assert taught.compare_predictions(expected, reloaded.serve(x).numpy())["agree"]
    tflite = CHAPTER_07.export_tflite(saved, tmp_path / "model.tflite")
    assert tflite.stat().st_size > 0
    report = taught.compare_predictions(expected, taught.tflite_predict(inference.tflite_interpreter(tflite), x))
    assert report["agree"] and report["same_top1"] == 1.0 and report["max_abs_difference"] < 1e-4
    small = CHAPTER_07.export_tflite(saved, tmp_path / "small.tflite", optimize=True)
    assert taught.tflite_predict(inference.tflite_interpreter(small), x).shape == expected.shape
    # No weight of a model this small reaches the 1,024 values the converter quantises, so the optimised file is
    # the same size within a few bytes (4 larger with TensorFlow 2.16); chapter 07 measures the shrink on a real model.
    assert inference.size_on_disk(small) <= inference.size_on_disk(tflite) + 64
    assert inference.size_on_disk(tflite) < inference.size_on_disk(saved)


def test_compare_predictions():
    a = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert taught.compare_predictions(a, a + 1e-6)["agree"]
    flipped = taught.compare_predictions(a, a[:, ::-1])
    assert not flipped["agree"] and flipped["same_top1"] == 0.0
    with pytest.raises(ValueError, match="different shapes"):
        taught.compare_predictions(a, a[:1])


def test_tflite_falls_back_to_tensorflow_without_litert(tmp_path, model, monkeypatch):
    """Without the ai-edge-litert package (e.g. on Windows) tf.lite.Interpreter runs the file, quietly."""
    import sys
    import warnings

    model.export(tmp_path / "saved", verbose=False)
    path = CHAPTER_07.export_tflite(tmp_path / "saved", tmp_path / "model.tflite")
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # makes the import fail
    x = RNG.uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = taught.tflite_predict(inference.tflite_interpreter(path), x)
    np.testing.assert_allclose(outputs, model.predict(x, verbose=0), atol=1e-5)


def test_a_junk_or_missing_tflite_file_is_named_in_the_message(tmp_path):
    junk = tmp_path / "model.tflite"
    junk.write_bytes(b"<html>404 Not Found</html>" * 10)
    with pytest.raises(ValueError, match=r"model.tflite is not a TFLite model LiteRT can read.*chapter 07"):
        inference.tflite_interpreter(junk)
    with pytest.raises(FileNotFoundError, match="missing.tflite: no such .tflite file"):
        inference.tflite_interpreter(tmp_path / "missing.tflite")
