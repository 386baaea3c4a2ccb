"""Convolution and pooling in NumPy: the reference code chapter 02 teaches.

Images are NHWC arrays ``(batch, height, width, channels)`` and kernels are HWIO arrays
``(kernel_height, kernel_width, in_channels, out_channels)``, exactly like
``tf.nn.conv2d``. Padding ``"valid"`` uses no padding; ``"same"`` pads like TensorFlow
(output size ``ceil(input / stride)``, the odd extra row or column at the bottom/right).

The convolutions themselves (``conv2d_loop``, ``conv2d``, ``conv2d_one_matrix``) live in
``solutions/02_convolution_from_scratch.ipynb`` only. Here: the argument checks that
chapter imports, and pooling, built on the chapter's ``pad_images`` (generated into
``helpers.taught`` from its ``#@save`` cell).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from helpers.taught import output_size, pad_images, same_padding

# output_size and same_padding are chapter 02's formulas: the course's one copy, imported from here.
__all__ = ["avg_pool2d", "check_conv_args", "max_pool2d", "output_size", "pair", "same_padding"]

PADDINGS = ("valid", "same")


# ---------------------------------------------------------------- argument checks
def pair(value, name: str, example: str = "2 or (2, 1)") -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(2, 1)`` stays; anything else is a clear error naming ``name``."""
    values = (value, value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    try:
        a, b = values
    except (TypeError, ValueError):
        a = b = None
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in (a, b)):
        raise ValueError(
            f"{name} must be a positive whole number or a pair of them (height, width), like {example}; got {value!r}."
        )
    return int(a), int(b)


def _padding(padding) -> str:
    if not isinstance(padding, str) or padding.lower() not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same' (as in Keras and tf.nn.conv2d); got {padding!r}.")
    return padding.lower()


def check_conv_args(images, kernels, stride=1, padding="valid"):
    """Validate ``conv2d`` arguments; return float32 images, kernels, the stride pair and padding."""
    images = np.asarray(images, dtype=np.float32)
    kernels = np.asarray(kernels, dtype=np.float32)
    if images.ndim != 4:
        hint = " Add a batch axis with images[np.newaxis]." if images.ndim == 3 else ""
        hint = " Add batch and channel axes with images[np.newaxis, :, :, np.newaxis]." if images.ndim == 2 else hint
        raise ValueError(f"images must be 4-D (batch, height, width, channels); got shape {images.shape}.{hint}")
    if kernels.ndim != 4:
        hint = " Add the channel axes with kernel[:, :, np.newaxis, np.newaxis]." if kernels.ndim == 2 else ""
        raise ValueError(
            f"kernels must be 4-D (kernel_height, kernel_width, in_channels, out_channels); "
            f"got shape {kernels.shape}.{hint}"
        )
    if images.shape[3] != kernels.shape[2]:
        raise ValueError(
            f"channel mismatch: the images have {images.shape[3]} channels (last axis of {images.shape}) but the "
            f"kernels expect {kernels.shape[2]} (third axis of {kernels.shape}). Kernels are "
            "(height, width, in_channels, out_channels), like tf.nn.conv2d."
        )
    stride = pair(stride, "stride")
    padding = _padding(padding)
    for axis, name in ((0, "height"), (1, "width")):
        size, k = images.shape[1 + axis], kernels.shape[axis]
        padded = size + sum(same_padding(size, k, stride[axis])) if padding == "same" else size
        if k > padded:
            raise ValueError(
                f"the kernel {name} {k} is larger than the padded input {name} {padded} "
                f"(input {images.shape[1:3]}, kernel {kernels.shape[:2]}, padding {padding!r}). "
                "Use a smaller kernel, a larger image, or padding='same'."
            )
    return images, kernels, stride, padding


# ----------------------------------------------------------------------- pooling
def _pool_windows(images, pool_size, stride, padding, fill):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be 4-D (batch, height, width, channels); got shape {images.shape}.")
    pool = pair(pool_size, "pool_size")
    stride = pool if stride is None else pair(stride, "stride")
    padding = _padding(padding)
    if padding == "valid" and (pool[0] > images.shape[1] or pool[1] > images.shape[2]):
        raise ValueError(
            f"the pool window {pool} is larger than the input {images.shape[1:3]}: "
            "use a smaller pool_size or padding='same'."
        )
    padded = pad_images(images, pool, stride, padding, value=fill)
    return sliding_window_view(padded, pool, axis=(1, 2))[:, :: stride[0], :: stride[1]], pool, stride, padding


def max_pool2d(images, pool_size=2, stride=None, padding="valid"):
    """Max pooling of NHWC images like ``keras.layers.MaxPooling2D`` (stride defaults to pool_size)."""
    windows, *_ = _pool_windows(images, pool_size, stride, padding, fill=-np.inf)
    return windows.max(axis=(4, 5))


def avg_pool2d(images, pool_size=2, stride=None, padding="valid"):
    """Average pooling like ``keras.layers.AveragePooling2D``; padded zeros are not averaged in."""
    windows, pool, stride, padding = _pool_windows(images, pool_size, stride, padding, fill=0.0)
    ones = np.ones((1, *np.shape(images)[1:3], 1), dtype=np.float32)
    counts = sliding_window_view(pad_images(ones, pool, stride, padding), pool, axis=(1, 2))[
        :, :: stride[0], :: stride[1]
    ]
    return windows.sum(axis=(4, 5)) / counts.sum(axis=(4, 5))
