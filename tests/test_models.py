"""helpers.models: weight files named as Keras names them, cache -> mirror -> download -> banner, fine-tuning."""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from helpers import course, models, offline
from helpers.taught import start_fine_tuning  # written in chapter 05
from tools.prefetch import WEIGHT_FILES

SMALL = {"alpha": 0.25, "include_top": False, "input_shape": (64, 64, 3)}
SMALL_FILE = "mobilenet_2_5_224_tf_no_top.h5"  # what Keras loads for MobileNet(alpha=0.25, include_top=False)
ROOT = Path(__file__).resolve().parent.parent


KERAS_MODELS = Path(os.environ["KERAS_HOME"]) / "models"  # the unit tests' own Keras cache (conftest.py)


@pytest.fixture(autouse=True)
def isolated(monkeypatch):
    """An empty Keras cache, no mirror, offline, fresh banners: each test sets what it needs."""
    shutil.rmtree(KERAS_MODELS, ignore_errors=True)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setitem(course._state, "banners", set())
    yield
    shutil.rmtree(KERAS_MODELS, ignore_errors=True)


def write_weight_file(path: Path, seed: int) -> None:
    """A Keras weight file (legacy HDF5, like the release files) for MobileNet(alpha=0.25), seeded random values."""
    keras.utils.set_random_seed(seed)
    donor = keras.applications.MobileNet(weights=None, **SMALL)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as fh:
        fh.attrs["layer_names"] = [layer.name.encode() for layer in donor.layers]
        for layer in donor.layers:
            group = fh.create_group(layer.name)
            variables = layer.trainable_weights + layer.non_trainable_weights
            group.attrs["weight_names"] = [v.path.encode() for v in variables]
            for variable in variables:
                group.create_dataset(variable.path, data=rng.normal(size=variable.shape).astype("float32"))


def asked_for(name: str, **kwargs) -> list[str]:
    """The URLs keras.applications.<name>(weights="imagenet", **kwargs) asks for with an empty cache."""
    asked: list[str] = []
    with offline.no_downloads(asked), pytest.raises(Exception, match="URL fetch failure"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MobileNet at 64 px says it loads the 224 px file: that is the point
        models.application(name)(weights="imagenet", **kwargs)
    return asked


def first_kernel_in_file(path: Path) -> np.ndarray:
    with h5py.File(path, "r") as fh:
        group = fh["conv1"]
        name = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]][0]
        return group[name][()]


COURSE_BUILDS = {  # for each file prefetch offers: the keras.applications call of the course that loads it
    "mobilenet_2_5_224_tf_no_top.h5": ("MobileNet", {"alpha": 0.25, "include_top": False}),
    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5": ("MobileNetV2", {"include_top": False}),
    "efficientnetb0_notop.h5": ("EfficientNetB0", {"include_top": False}),
}


def test_weight_files_are_exactly_what_keras_asks_for():
    assert set(WEIGHT_FILES) == set(COURSE_BUILDS)
    for file_name, (name, kwargs) in COURSE_BUILDS.items():
        assert asked_for(name, **kwargs) == [WEIGHT_FILES[file_name]]
        assert WEIGHT_FILES[file_name].endswith("/" + file_name)
    assert set(offline.WEIGHT_HASHES) <= set(WEIGHT_FILES)


def test_small_input_sizes_load_the_224_file():
    assert asked_for("MobileNet", **SMALL) == [WEIGHT_FILES[SMALL_FILE]]
    assert asked_for("mobilenetv2", alpha=0.35, include_top=False, input_shape=(96, 96, 3))[0].endswith(
        "/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    )


def test_mirror_weights_are_loaded_exactly(monkeypatch, tmp_path, capsys, network):
    mirror = tmp_path / "mirror"
    write_weight_file(mirror / "weights" / SMALL_FILE, seed=1)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    monkeypatch.setenv("COURSE_OFFLINE", "0")  # even online, the mirror comes before a download
    model = models.pretrained("MobileNet", **SMALL)
    kernel = model.get_layer("conv1").kernel.numpy()
    np.testing.assert_array_equal(kernel, first_kernel_in_file(mirror / "weights" / SMALL_FILE))
    assert models.weights_source(model).startswith("mirror: ")
    assert "RANDOM" not in capsys.readouterr().out
    assert network.urls == []
    assert (KERAS_MODELS / SMALL_FILE).is_file()  # copied into the Keras cache, under the name Keras looks for


def test_a_read_only_mirror_works_and_stays_untouched(monkeypatch, tmp_path, capsys, network):
    mirror = tmp_path / "usb-stick"
    write_weight_file(mirror / "weights" / SMALL_FILE, seed=5)
    before = {p: p.stat().st_mtime_ns for p in mirror.rglob("*")}
    for path in [*mirror.rglob("*"), mirror]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    try:
        model = models.pretrained("MobileNet", **SMALL)
        assert models.weights_at_hand("MobileNet", **SMALL) is True
        after = {p: p.stat().st_mtime_ns for p in mirror.rglob("*")}
    finally:
        for path in [mirror, *mirror.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    np.testing.assert_array_equal(
        model.get_layer("conv1").kernel.numpy(), first_kernel_in_file(KERAS_MODELS / SMALL_FILE)
    )
    assert models.weights_source(model).startswith("mirror: ")
    assert after == before and network.urls == []
    assert "RANDOM" not in capsys.readouterr().out


def test_the_real_file_layout_loads(monkeypatch, tmp_path):
    """Keras 2 release files name datasets 'conv1/kernel:0'; write one that way and load it."""
    path = tmp_path / "mirror" / "weights" / SMALL_FILE
    write_weight_file(path, seed=2)
    with h5py.File(path, "r+") as fh:
        for layer_name in fh.attrs["layer_names"]:
            group = fh[layer_name]
            names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
            renamed = []
            for name in names:
                new = name + ":0"
                group.move(name, new)
                renamed.append(new.encode())
            group.attrs["weight_names"] = renamed
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    model = models.pretrained("MobileNet", **SMALL)
    np.testing.assert_array_equal(model.get_layer("conv1").kernel.numpy(), first_kernel_in_file(path))


def test_keras_cache_comes_before_the_mirror(monkeypatch, tmp_path):
    write_weight_file(tmp_path / "mirror" / "weights" / SMALL_FILE, seed=1)
    cached = KERAS_MODELS / SMALL_FILE
    write_weight_file(cached, seed=3)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    model = models.pretrained("MobileNet", **SMALL)
    np.testing.assert_array_equal(model.get_layer("conv1").kernel.numpy(), first_kernel_in_file(cached))
    assert models.weights_source(model).startswith("Keras cache: ")


def test_weights_at_hand_answers_quietly_where_pretrained_would_look(monkeypatch, tmp_path, capsys, network):
    assert models.weights_at_hand("MobileNet", **SMALL) is False
    assert capsys.readouterr().out == ""  # no banner: nothing was built
    write_weight_file(tmp_path / "mirror" / "weights" / SMALL_FILE, seed=1)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    assert models.weights_at_hand("MobileNet", **SMALL) is True
    assert models.weights_at_hand("MobileNet", alpha=0.5, include_top=False) is False  # another file
    assert network.urls == []


def test_offline_without_weights_falls_back_loudly_and_never_downloads(capsys, network):
    model = models.pretrained("MobileNet", **SMALL)
    out = capsys.readouterr().out
    assert "RANDOM weights" in out and "meaningless" in out
    assert SMALL_FILE in out and "COURSE_DATA_DIR" in out and "prefetch" in out
    assert models.weights_source(model).startswith("random initialisation")
    assert model.count_params() == keras.applications.MobileNet(weights=None, **SMALL).count_params()
    assert network.urls == []


def test_download_is_used_when_online(monkeypatch, tmp_path, capsys, network):
    served = tmp_path / "downloaded" / SMALL_FILE
    write_weight_file(served, seed=4)
    network.answer = lambda url: urllib.request.urlopen(served.as_uri())
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    model = models.pretrained("MobileNet", **SMALL)
    assert network.urls == [WEIGHT_FILES[SMALL_FILE]]
    np.testing.assert_array_equal(model.get_layer("conv1").kernel.numpy(), first_kernel_in_file(served))
    assert models.weights_source(model).startswith("download: ")
    assert "RANDOM" not in capsys.readouterr().out


def test_failed_download_falls_back_with_the_reason(monkeypatch, capsys, network):
    def unreachable(url):
        raise urllib.error.URLError("no route to host")

    network.answer = unreachable
    patched = urllib.request.urlopen
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    model = models.pretrained("MobileNet", **SMALL)
    assert "download" in models.weights_source(model) and "failed" in models.weights_source(model)
    out = capsys.readouterr().out
    assert "RANDOM weights" in out and "no route to host" in out
    assert urllib.request.urlopen is patched  # the refusal of downloads is undone


def test_a_corrupt_mirror_file_falls_back(monkeypatch, tmp_path, capsys):
    path = tmp_path / "mirror" / "weights" / SMALL_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"<html>not an HDF5 file</html>")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    model = models.pretrained("MobileNet", **SMALL)
    assert f"the file {path} could not be read" in models.weights_source(model)
    assert "RANDOM weights" in capsys.readouterr().out
    assert not (KERAS_MODELS / SMALL_FILE).exists()  # the bad copy does not stay in the Keras cache
    write_weight_file(path, seed=6)  # the mirror is fixed: the next call uses it
    assert models.weights_source(models.pretrained("MobileNet", **SMALL)).startswith("mirror: ")


def test_a_corrupt_file_in_the_keras_cache_falls_back(capsys):
    KERAS_MODELS.mkdir(parents=True, exist_ok=True)
    (KERAS_MODELS / SMALL_FILE).write_bytes(b"half a file")
    model = models.pretrained("MobileNet", **SMALL)
    assert "could not be read" in models.weights_source(model)
    assert "RANDOM weights" in capsys.readouterr().out


def test_a_file_with_the_wrong_hash_is_not_used(monkeypatch, tmp_path, capsys):
    name = "efficientnetb0_notop.h5"
    path = tmp_path / "mirror" / "weights" / name
    path.parent.mkdir(parents=True)
    path.write_bytes(b"something else")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    model = models.pretrained("EfficientNetB0", include_top=False, input_shape=(32, 32, 3))
    assert models.weights_source(model).startswith("random initialisation")
    assert "does not match the published hash" in capsys.readouterr().out


def test_weights_none_is_a_deliberate_random_model(capsys):
    model = models.pretrained("MobileNet", weights=None, **SMALL)
    assert models.weights_source(model) == "random initialisation (weights=None)"
    assert capsys.readouterr().out == ""


def test_mistakes_in_the_arguments_are_not_hidden():
    with pytest.raises(ValueError, match="alpha"):
        models.pretrained("MobileNet", alpha=0.3, include_top=False)
    with pytest.raises(ValueError, match="MobileNetV2"):
        models.pretrained("MobileNetV9")


def test_preprocess_for_matches_each_family():
    pixels = np.array([[[[0.0, 127.5, 255.0]]]], dtype="float32")
    np.testing.assert_allclose(models.preprocess_for("MobileNetV2")(pixels.copy()), [[[[-1.0, 0.0, 1.0]]]])
    assert models.preprocess_for("MobileNetV2") is keras.applications.mobilenet_v2.preprocess_input
    assert models.preprocess_for("ResNet50") is keras.applications.resnet50.preprocess_input
    caffe = models.preprocess_for("VGG16")(pixels.copy())
    np.testing.assert_allclose(caffe[0, 0, 0], [255.0 - 103.939, 127.5 - 116.779, 0.0 - 123.68], rtol=1e-5)
    np.testing.assert_allclose(models.preprocess_for("EfficientNetB0")(pixels.copy()), pixels)


def small_classifier():
    base = keras.applications.MobileNet(weights=None, **SMALL)
    base.trainable = False
    inputs = keras.Input(shape=SMALL["input_shape"])
    x = base(inputs, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5)(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model, base


def test_fine_tuning_recipe_unfreezes_exactly_the_top_layers_except_batchnorm():
    model, base = small_classifier()
    loss = model.loss
    start_fine_tuning(model, base, n_layers=20, learning_rate=1e-5)
    top = base.layers[-20:]
    for layer in base.layers[:-20]:
        assert not layer.trainable, layer.name
    for layer in top:
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        assert layer.trainable is (not is_bn), layer.name
    assert all(not b.trainable for b in base.layers if isinstance(b, keras.layers.BatchNormalization))
    assert any(isinstance(b, keras.layers.BatchNormalization) for b in top)  # the test means something
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-5)
    assert model.loss is loss
    bn = keras.layers.BatchNormalization
    expected = sum(int(np.prod(w.shape)) for layer in top if not isinstance(layer, bn) for w in layer.weights)
    head = sum(int(np.prod(w.shape)) for w in model.layers[-1].weights)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == expected + head


def test_fine_tuning_trains_only_the_unfrozen_weights():
    # A small base (a random MobileNet's activations vanish in inference mode, so its gradients are ~1e-14).
    layers = keras.layers
    inputs = keras.Input(shape=(16, 16, 3))
    x = inputs
    for i, filters in enumerate((8, 8, 8)):
        x = layers.Conv2D(filters, 3, padding="same", name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
    base = keras.Model(inputs, x, name="base")
    base.trainable = False
    outer = keras.Input(shape=(16, 16, 3))
    y = layers.Dense(3)(layers.GlobalAveragePooling2D()(base(outer, training=False)))
    model = keras.Model(outer, y)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    start_fine_tuning(model, base, n_layers=3, learning_rate=1e-2)
    assert [layer.name for layer in base.layers if layer.trainable] == ["conv2", "relu2"]
    before = {v.path: v.numpy().copy() for v in base.weights}
    data = np.random.default_rng(0).normal(size=(16, 16, 16, 3)).astype("float32")
    model.fit(data, np.arange(16) % 3, epochs=2, batch_size=8, verbose=0)
    changed = {v.path for v in base.weights if not np.array_equal(v.numpy(), before[v.path])}
    assert changed == {"conv2/kernel", "conv2/bias"}


def test_fine_tuning_rejects_impossible_layer_counts():
    model, base = small_classifier()
    with pytest.raises(ValueError, match="between 1 and"):
        start_fine_tuning(model, base, n_layers=0, learning_rate=1e-5)
    with pytest.raises(ValueError, match="between 1 and"):
        start_fine_tuning(model, base, n_layers=len(base.layers) + 1, learning_rate=1e-5)


def test_a_bug_while_fetching_surfaces_instead_of_a_banner(monkeypatch, capsys, network):
    """A NameError (a bug, not a missing file) is not turned into "random weights"."""

    def buggy(url):
        raise NameError("name 'undefined_helper' is not defined")

    network.answer = buggy
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    with pytest.raises(NameError, match="undefined_helper"):
        models.pretrained("MobileNet", **SMALL)
    assert "RANDOM" not in capsys.readouterr().out
