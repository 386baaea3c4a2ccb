"""helpers.models: weight files named as Keras names them, cache -> mirror -> download -> banner, fine-tuning."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from helpers import course, models

SMALL = {"alpha": 0.25, "include_top": False, "input_shape": (64, 64, 3)}
SMALL_FILE = "mobilenet_2_5_224_tf_no_top.h5"  # what Keras loads for MobileNet(alpha=0.25, include_top=False)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No real Keras cache, no mirror, offline, fresh banners: each test sets what it needs."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setitem(course._state, "banners", set())


def write_weight_file(path: Path, seed: int) -> None:
    """A Keras-format (legacy HDF5) weight file for MobileNet(alpha=0.25) with seeded random values."""
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(seed)
    donor = keras.applications.MobileNet(weights=None, **SMALL)
    for variable in donor.weights:
        variable.assign(np.random.default_rng(seed).normal(size=variable.shape).astype("float32"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as fh:
        legacy_h5_format.save_weights_to_hdf5_group(fh, donor)


def first_kernel_in_file(path: Path) -> np.ndarray:
    with h5py.File(path, "r") as fh:
        group = fh["conv1"]
        name = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]][0]
        return group[name][()]


def test_weight_files_are_exactly_what_keras_asks_for():
    assert set(models.WEIGHT_FILES) == set(models.COURSE_BUILDS)
    for file_name, (name, kwargs) in models.COURSE_BUILDS.items():
        assert models.weight_file(name, **kwargs) == (
            file_name,
            models.WEIGHT_FILES[file_name],
            models.WEIGHT_HASHES.get(file_name),
        )
    assert set(models.WEIGHT_HASHES) <= set(models.WEIGHT_FILES)


def test_small_input_sizes_load_the_224_file():
    assert models.weight_file("MobileNet", **SMALL)[0] == SMALL_FILE
    assert models.weight_file("mobilenetv2", alpha=0.35, include_top=False, input_shape=(96, 96, 3))[0] == (
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    )


def test_mirror_weights_are_loaded_exactly(monkeypatch, tmp_path, capsys):
    mirror = tmp_path / "mirror"
    write_weight_file(mirror / "weights" / SMALL_FILE, seed=1)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    model = models.pretrained("MobileNet", **SMALL)
    kernel = model.get_layer("conv1").kernel.numpy()
    np.testing.assert_array_equal(kernel, first_kernel_in_file(mirror / "weights" / SMALL_FILE))
    assert models.weights_source(model).startswith("mirror: ")
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
    cached = tmp_path / "keras-home" / "models" / SMALL_FILE
    write_weight_file(cached, seed=3)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    model = models.pretrained("MobileNet", **SMALL)
    np.testing.assert_array_equal(model.get_layer("conv1").kernel.numpy(), first_kernel_in_file(cached))
    assert models.weights_source(model).startswith("Keras cache: ")


def test_weights_at_hand_answers_quietly_where_pretrained_would_look(monkeypatch, tmp_path, capsys):
    from keras.src.utils import file_utils

    def no_network(*args, **kwargs):
        raise AssertionError("tried to download while COURSE_OFFLINE=1")

    monkeypatch.setattr(file_utils, "get_file", no_network)
    assert models.weights_at_hand("MobileNet", **SMALL) is False
    assert capsys.readouterr().out == ""  # no banner: nothing was built
    write_weight_file(tmp_path / "mirror" / "weights" / SMALL_FILE, seed=1)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    assert models.weights_at_hand("MobileNet", **SMALL) is True
    assert models.weights_at_hand("MobileNet", alpha=0.5, include_top=False) is False  # another file


def test_offline_without_weights_falls_back_loudly_and_never_downloads(monkeypatch, capsys):
    from keras.src.utils import file_utils

    def no_network(*args, **kwargs):
        raise AssertionError("tried to download while COURSE_OFFLINE=1")

    monkeypatch.setattr(file_utils, "get_file", no_network)
    model = models.pretrained("MobileNet", **SMALL)
    out = capsys.readouterr().out
    assert "RANDOM weights" in out and "meaningless" in out
    assert SMALL_FILE in out and "COURSE_DATA_DIR" in out and "prefetch" in out
    assert models.weights_source(model).startswith("random initialisation")
    assert model.count_params() == keras.applications.MobileNet(weights=None, **SMALL).count_params()


def test_download_is_used_when_online(monkeypatch, tmp_path, capsys):
    from keras.src.utils import file_utils

    served = tmp_path / "downloaded" / SMALL_FILE
    write_weight_file(served, seed=4)
    calls = []

    def fake_get_file(fname, origin, *args, **kwargs):
        calls.append((fname, origin))
        return str(served)

    monkeypatch.setenv("COURSE_OFFLINE", "0")
    monkeypatch.setattr(file_utils, "get_file", fake_get_file)
    model = models.pretrained("MobileNet", **SMALL)
    assert calls == [(SMALL_FILE, models.WEIGHT_FILES[SMALL_FILE])]
    np.testing.assert_array_equal(model.get_layer("conv1").kernel.numpy(), first_kernel_in_file(served))
    assert models.weights_source(model).startswith("download: ")
    assert "RANDOM" not in capsys.readouterr().out


def test_failed_download_falls_back_with_the_reason(monkeypatch, capsys):
    from urllib.error import URLError

    from keras.src.utils import file_utils

    def unreachable(*args, **kwargs):
        raise URLError("no route to host")

    monkeypatch.setenv("COURSE_OFFLINE", "0")
    monkeypatch.setattr(file_utils, "get_file", unreachable)
    model = models.pretrained("MobileNet", **SMALL)
    assert "download" in models.weights_source(model) and "failed" in models.weights_source(model)
    assert "RANDOM weights" in capsys.readouterr().out
    assert file_utils.get_file is unreachable  # the interception is undone


def test_a_corrupt_mirror_file_falls_back(monkeypatch, tmp_path, capsys):
    path = tmp_path / "mirror" / "weights" / SMALL_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"<html>not an HDF5 file</html>")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
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


def test_hash_matches_detects_md5_and_sha256(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    assert models.hash_matches(path, "900150983cd24fb0d6963f7d28e17f72")
    assert models.hash_matches(path, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert not models.hash_matches(path, "0" * 32)
    assert models.hash_matches(path, None)


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
    models.start_fine_tuning(model, base, n_layers=20, learning_rate=1e-5)
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
    models.start_fine_tuning(model, base, n_layers=3, learning_rate=1e-2)
    assert [layer.name for layer in base.layers if layer.trainable] == ["conv2", "relu2"]
    before = {v.path: v.numpy().copy() for v in base.weights}
    data = np.random.default_rng(0).normal(size=(16, 16, 16, 3)).astype("float32")
    model.fit(data, np.arange(16) % 3, epochs=2, batch_size=8, verbose=0)
    changed = {v.path for v in base.weights if not np.array_equal(v.numpy(), before[v.path])}
    assert changed == {"conv2/kernel", "conv2/bias"}


def test_fine_tuning_rejects_impossible_layer_counts():
    model, base = small_classifier()
    with pytest.raises(ValueError, match="between 1 and"):
        models.start_fine_tuning(model, base, n_layers=0, learning_rate=1e-5)
    with pytest.raises(ValueError, match="between 1 and"):
        models.start_fine_tuning(model, base, n_layers=len(base.layers) + 1, learning_rate=1e-5)


def test_the_notebook_teaches_the_same_fine_tuning_function():
    notebook = json.loads((ROOT / "solutions" / "05_transfer_learning.ipynb").read_text(encoding="utf-8"))
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    cell = next(s for s in sources if "def start_fine_tuning(" in s)
    start = cell.index("def start_fine_tuning(")
    end = cell.find("\n\n\n", start)
    taught = cell[start : end if end != -1 else None].strip()
    helper = inspect.getsource(models.start_fine_tuning).strip()
    helper = helper.replace("    import keras\n\n", "", 1)  # the notebook imported keras at the top
    assert taught == helper


def test_a_keras_that_fetches_by_itself_still_falls_back(monkeypatch, capsys):
    """If a Keras version loads weights without the call helpers.models answers, a failed fetch still falls back."""
    import contextlib

    from keras.src.utils import file_utils

    def fetch_failure(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...")

    monkeypatch.setattr(models, "_resolving_weights", lambda found, look=True: contextlib.nullcontext())
    monkeypatch.setattr(file_utils, "get_file", fetch_failure)
    model = models.pretrained("MobileNet", **SMALL)
    assert "Keras could not fetch the weights" in models.weights_source(model)
    assert "RANDOM weights" in capsys.readouterr().out
