"""Chapter 02's convolutions and pooling against TensorFlow and Keras, and helpers.conv's error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import taught
from helpers.course import import_tensorflow
from tools.testing import notebook_functions

tf = import_tensorflow()
NOTEBOOK = Path(__file__).resolve().parent.parent / "solutions" / "02_convolution_from_scratch.ipynb"
# output_size and same_padding are generated into helpers.taught; the convolutions and pooling live in
# the notebook only, so these tests run the notebook's own functions.
CHAPTER_02 = notebook_functions(NOTEBOOK, "conv2d_loop", "conv2d", "conv2d_one_matrix", "avg_pool2d")


def tf_conv(images, kernels, stride, padding):
    """tf.nn.conv2d in float64: its float32 kernels return garbage for some odd shapes (a 1x2 kernel with
    strides (1, 2) on a 2x3 image gave 0 or -1.9e6 in places), so the reference is computed in float64."""
    images, kernels = np.asarray(images, np.float64), np.asarray(kernels, np.float64)
    return tf.nn.conv2d(images, kernels, strides=stride, padding=padding.upper()).numpy().astype(np.float32)


@st.composite
def conv_case(draw, max_size=9):
    batch = draw(st.integers(1, 2))
    height, width = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    cin, cout = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"]))
    limit_h = height if padding == "valid" else 5
    limit_w = width if padding == "valid" else 5
    kh, kw = draw(st.integers(1, min(limit_h, 5))), draw(st.integers(1, min(limit_w, 5)))
    stride = draw(st.sampled_from([1, 2, 3, (1, 2), (2, 1)]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((batch, height, width, cin)).astype(np.float32)
    kernels = rng.standard_normal((kh, kw, cin, cout)).astype(np.float32)
    return images, kernels, stride, padding


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(conv_case())
def test_both_versions_match_tf_nn_conv2d(case):
    images, kernels, stride, padding = case
    expected = tf_conv(images, kernels, stride, padding)
    for fn in (CHAPTER_02.conv2d_loop, CHAPTER_02.conv2d):
        got = fn(images, kernels, stride=stride, padding=padding)
        assert got.shape == expected.shape, fn.__name__
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4, err_msg=fn.__name__)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2])
def test_vectorised_matches_tf_on_a_realistic_batch(padding, stride):
    rng = np.random.default_rng(0)
    images = rng.standard_normal((4, 32, 32, 16)).astype(np.float32)
    kernels = rng.standard_normal((3, 3, 16, 32)).astype(np.float32)
    np.testing.assert_allclose(
        CHAPTER_02.conv2d(images, kernels, stride, padding),
        tf_conv(images, kernels, stride, padding),
        atol=1e-4,
        rtol=1e-4,
    )


@settings(max_examples=40, deadline=None, database=None)
@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    padding=st.sampled_from(["valid", "same"]),
)
def test_output_size_agrees_with_keras_arithmetic(size, kernel, stride, padding):
    if padding == "valid" and kernel > size:
        return
    images = np.zeros((1, size, 1, 1), np.float32)
    kernels = np.zeros((kernel, 1, 1, 1), np.float32)
    assert taught.output_size(size, kernel, stride, padding) == tf_conv(images, kernels, (stride, 1), padding).shape[1]
    before, after = taught.same_padding(size, kernel, stride)
    assert 0 <= after - before <= 1


def test_output_size_known_values():
    assert taught.output_size(224, 3, 1, "same") == 224
    assert taught.output_size(224, 3, 1, "valid") == 222
    assert taught.output_size(32, 5, 2, "valid") == 14
    assert taught.output_size(7, 2, 2, "same") == 4
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        taught.output_size(10, 3, 1, "full")


POOL_INPUT = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [7, 2, 9, 8], [1, 0, 3, 4]], np.float32).reshape(1, 4, 4, 1)


def test_the_4x4_pooling_example_exactly():
    assert CHAPTER_02.avg_pool2d(POOL_INPUT)[0, :, :, 0].tolist() == [[3.5, 2.0], [2.5, 6.0]]


@pytest.mark.parametrize(
    ("shape", "pool"), [((2, 7, 8, 3), 2), ((1, 8, 7, 2), 3), ((3, 5, 9, 1), 4), ((1, 4, 4, 1), 1)]
)
def test_pooling_matches_keras_average_pooling(shape, pool):
    import keras

    images = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    got = CHAPTER_02.avg_pool2d(images, pool)
    expected = np.asarray(keras.layers.AveragePooling2D(pool)(images))
    assert got.shape == expected.shape  # leftover rows and columns dropped, as with padding="valid"
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize(
    ("images", "kernels", "kwargs", "fragment"),
    [
        (np.zeros((5, 5, 1)), np.zeros((3, 3, 1, 1)), {}, "Add a batch axis"),
        (np.zeros((5, 5)), np.zeros((3, 3, 1, 1)), {}, "np.newaxis, :, :, np.newaxis"),
        (np.zeros((1, 5, 5, 1)), np.zeros((3, 3)), {}, "kernel[:, :, np.newaxis, np.newaxis]"),
        (np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 1, 8)), {}, "images have 3 channels"),
        (
            np.zeros((1, 4, 6, 1)),
            np.zeros((5, 3, 1, 1)),
            {},
            "kernel height 5 is larger than the padded input height 4",
        ),
        (np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 1)), {"padding": "full"}, "'valid' or 'same'"),
        (np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 1)), {"stride": 0}, "stride must be a positive"),
        (np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 1)), {"stride": (1, 2, 3)}, "stride must be a positive"),
    ],
)
def test_clear_errors(images, kernels, kwargs, fragment):
    for fn in (CHAPTER_02.conv2d_loop, CHAPTER_02.conv2d):
        with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("(", r"\(")):
            fn(images, kernels, **kwargs)


def test_same_padding_never_rejects_a_large_kernel():
    images = np.ones((1, 2, 2, 1), np.float32)
    kernels = np.ones((5, 5, 1, 1), np.float32)
    np.testing.assert_allclose(CHAPTER_02.conv2d(images, kernels, padding="same"), tf_conv(images, kernels, 1, "same"))


def test_one_matrix_version_agrees_with_tensorflow_and_checks_its_input():
    rng = np.random.default_rng(3)
    images = rng.standard_normal((3, 9, 7, 4)).astype(np.float32)
    kernels = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(
        CHAPTER_02.conv2d_one_matrix(images, kernels), tf_conv(images, kernels, 1, "same"), atol=1e-4, rtol=1e-4
    )
    with pytest.raises(ValueError, match="channel mismatch"):
        CHAPTER_02.conv2d_one_matrix(images, kernels[:, :, :3])
    with pytest.raises(ValueError, match="4-D"):
        CHAPTER_02.conv2d_one_matrix(images[0], kernels)
