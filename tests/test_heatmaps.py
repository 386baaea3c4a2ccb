"""Chapter 08's Grad-CAM finds a planted cause (also behind a nested base and preprocess_input), saliency and overlay (run from the chapter's own cells), and helpers.heatmaps' layer choice."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from helpers import heatmaps
from tools.testing import notebook_functions

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "08_look_inside.ipynb"
CHAPTER_08 = notebook_functions(
    NOTEBOOK, "grad_cam", "split_at", "gradient_saliency", "overlay"
)  # the chapter's own code
SIDE = 6


def patch_images(n: int, seed: int):
    """Noise images; class 1 has a bright 6x6 square somewhere, class 0 a dull grey one.

    Returns the images, the labels and each square's top-left corner (row, column).
    """
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 80, size=(n, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 2, n)
    corners = rng.integers(0, 32 - SIDE, size=(n, 2))
    for image, label, (row, col) in zip(images, labels, corners):
        image[row : row + SIDE, col : col + SIDE] = 255 if label == 1 else 120
    return images, labels, corners


def train_on_patches(model):
    """Fit a model to the patch rule of patch_images (a patch in the image decides class 1)."""
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    x, y, _ = patch_images(1200, seed=1)
    model.fit(x, y, epochs=6, batch_size=64, verbose=0)


def assert_peaks_on_patches(maps, corners):
    """The peak of each heatmap, resized back to 32x32, falls on its image's patch in at least 90% of images."""
    hits = 0
    for heatmap, (top, left) in zip(maps, corners):
        full = tf.image.resize(heatmap[..., None], (32, 32)).numpy()[..., 0]
        row, col = np.unravel_index(np.argmax(full), full.shape)
        hits += top - 2 <= row < top + SIDE + 2 and left - 2 <= col < left + SIDE + 2
    assert hits >= 0.9 * len(maps), f"the heatmap peak fell on the patch in only {hits} of {len(maps)} images"


@pytest.fixture(scope="module")
def patch_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            layers.Rescaling(1 / 255),
            layers.Conv2D(8, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(16, 3, padding="same", activation="relu", name="features"),
            layers.GlobalMaxPooling2D(),
            layers.Dense(2),
        ]
    )
    train_on_patches(model)
    return model


def test_grad_cam_peak_falls_on_the_patch_that_decides_the_class(patch_model):
    x, y, corners = patch_images(200, seed=2)
    assert np.mean(patch_model.predict(x, verbose=0).argmax(1) == y) > 0.95  # the model did learn the rule
    positives, corners = x[y == 1][:40], corners[y == 1][:40]
    maps = CHAPTER_08.grad_cam(patch_model, positives, "features", class_index=1)
    assert maps.shape == (len(positives), 16, 16)
    assert maps.min() >= 0 and np.isclose(maps.max(), 1, atol=1e-3)
    assert_peaks_on_patches(maps, corners)


@pytest.fixture(scope="module")
def nested_model(tmp_path_factory):
    """Chapter 05's and 09's shape in small: preprocess_input (a calculation, not a layer) -> a nested
    base -> pooling -> dropout -> Dense, trained on the patch rule, saved and loaded, base frozen."""
    keras.utils.set_random_seed(0)
    base_inputs = keras.Input(shape=(None, None, 3))
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(base_inputs)
    x = layers.MaxPooling2D()(x)
    base = keras.Model(base_inputs, layers.Conv2D(16, 3, padding="same", activation="relu")(x), name="tiny_base")
    inputs = keras.Input(shape=(32, 32, 3))
    x = base(keras.applications.mobilenet.preprocess_input(inputs), training=False)
    x = layers.Dropout(0.2)(layers.GlobalMaxPooling2D()(x))
    model = keras.Model(inputs, layers.Dense(2)(x), name="tiny_transfer")
    train_on_patches(model)
    base.trainable = False  # as after feature extraction: no weight of the base is followed by the tape
    path = tmp_path_factory.mktemp("nested") / "tiny_transfer.keras"
    model.save(path)
    return keras.saving.load_model(path, compile=False)


def test_grad_cam_explains_a_nested_base_behind_preprocess_input(nested_model):
    x, y, corners = patch_images(200, seed=2)
    assert np.mean(nested_model.predict(x, verbose=0).argmax(1) == y) > 0.95
    layer = heatmaps.last_conv_layer(nested_model)
    assert layer == "tiny_base"
    positives, corners = x[y == 1][:40], corners[y == 1][:40]
    maps = CHAPTER_08.grad_cam(nested_model, positives, layer, class_index=1)
    assert maps.shape == (len(positives), 16, 16) and np.isclose(maps.max(), 1, atol=1e-3)
    assert_peaks_on_patches(maps, corners)


def test_split_at_gives_two_parts_that_make_the_whole_model(nested_model, patch_model):
    x, _, _ = patch_images(6, seed=5)
    for model, layer, map_shape in [(nested_model, "tiny_base", (16, 16, 16)), (patch_model, "features", (16, 16, 16))]:
        to_maps, head = heatmaps.split_at(model, layer)
        maps = to_maps(x, training=False)
        assert tuple(maps.shape[1:]) == map_shape
        np.testing.assert_allclose(head(maps, training=False), model.predict(x, verbose=0), atol=1e-4)
    with pytest.raises(ValueError, match="its layers are: .*tiny_base"):
        heatmaps.split_at(nested_model, "conv2d")  # a layer inside the base is not one of the model's own


def test_saliency_is_strongest_on_the_patch(patch_model):
    x, y, corners = patch_images(100, seed=3)
    positives, corners = x[y == 1][:20], corners[y == 1][:20]
    saliency = CHAPTER_08.gradient_saliency(patch_model, positives, class_index=1)
    assert saliency.shape == (len(positives), 32, 32)
    inside = np.mean(
        [s[t - 1 : t + SIDE + 1, c - 1 : c + SIDE + 1].mean() for s, (t, c) in zip(saliency, np.maximum(corners, 1))]
    )
    assert inside > 2 * saliency.mean()


def test_the_default_class_is_the_predicted_one(patch_model):
    x, _, _ = patch_images(8, seed=4)
    predicted = patch_model.predict(x, verbose=0).argmax(1)
    np.testing.assert_allclose(
        CHAPTER_08.grad_cam(patch_model, x, "features"),
        CHAPTER_08.grad_cam(patch_model, x, "features", predicted),
        atol=1e-6,
    )


def test_grad_cam_names_a_missing_layer(patch_model):
    with pytest.raises(ValueError, match="no layer called 'nope'"):
        CHAPTER_08.grad_cam(patch_model, np.zeros((1, 32, 32, 3)), "nope")


def test_last_conv_layer_skips_pooling_and_handles_nested_backbones():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    x = layers.ReLU(name="last_relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    flat = keras.Model(inputs, layers.Dense(3)(x))
    assert heatmaps.last_conv_layer(flat) == "last_relu"

    base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=None, input_shape=(64, 64, 3))
    outer_in = keras.Input(shape=(64, 64, 3))
    outer = keras.Model(outer_in, layers.Dense(5)(layers.GlobalAveragePooling2D()(base(outer_in, training=False))))
    assert heatmaps.last_conv_layer(outer) == base.name
    maps = CHAPTER_08.grad_cam(outer, np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)), base.name)
    assert maps.shape == (2, 2, 2)

    dense_only = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="no map to explain"):
        heatmaps.last_conv_layer(dense_only)


def test_overlay_stretches_the_heatmap_over_the_image_and_checks_its_input():
    with pytest.raises(ValueError, match="one heatmap"):
        CHAPTER_08.overlay(np.zeros((16, 16, 3)), np.zeros((2, 4, 4)))
    ax = CHAPTER_08.overlay(np.zeros((16, 16, 3)), np.eye(4), title="x")
    photo, heat = ax.images
    assert photo.get_array().shape == (16, 16, 3) and heat.get_array().shape == (16, 16)
    assert heat.get_array()[0, 0] > heat.get_array()[0, 15]  # the diagonal of the 4x4 map stays on the diagonal
