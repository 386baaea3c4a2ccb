"""Argument checks for chapter 02's NumPy convolutions: clear errors for wrong shapes and settings.

Images are NHWC arrays ``(batch, height, width, channels)`` and kernels are HWIO arrays
``(kernel_height, kernel_width, in_channels, out_channels)``, exactly like
``tf.nn.conv2d``. Padding ``"valid"`` uses no padding; ``"same"`` pads like TensorFlow
(output size ``ceil(input / stride)``, the odd extra row or column at the bottom/right).

The convolutions (``conv2d_loop``, ``conv2d``, ``conv2d_one_matrix``) and pooling live in
``solutions/02_convolution_from_scratch.ipynb`` only; the formulas ``output_size`` and
``same_padding`` are generated into ``helpers.taught`` from its ``#@save`` cell. ``pair``
also checks ``inference.load_image``'s size.
"""

from __future__ import annotations

import numpy as np

from helpers.taught import same_padding  # chapter 02's formula, the course's one copy


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
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same' (as in Keras and tf.nn.conv2d); got {padding!r}.")
    padding = padding.lower()
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
