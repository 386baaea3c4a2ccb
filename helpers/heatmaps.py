"""Where a classifier looks: the plumbing around chapter 08's Grad-CAM and gradient saliency.

``grad_cam`` and ``gradient_saliency`` are written in the chapter's cells (and live there
only); ``last_conv_layer`` picks the layer they read and ``overlay`` draws a heatmap on an image.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

_NOT_FEATURES = (
    keras.layers.InputLayer,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
    keras.layers.Dropout,
    keras.layers.SpatialDropout2D,
)


def last_conv_layer(model) -> str:
    """The name of the last layer of ``model`` that computes a grid of features (batch, height, width, channels).

    Pooling and dropout layers are skipped: a pooling layer after the last convolution only
    makes the map coarser.
    """
    for layer in reversed(model.layers):
        if isinstance(layer, _NOT_FEATURES):
            continue
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4:
            return layer.name
    raise ValueError(f"{model.name} has no layer with a (batch, height, width, channels) output: no map to explain.")


def upsample(heatmap, size) -> np.ndarray:
    """A (h, w) heatmap resized to ``size`` = (height, width) with bilinear interpolation."""
    heatmap = np.asarray(heatmap, dtype="float32")
    if heatmap.ndim != 2:
        raise ValueError(f"upsample takes one heatmap of shape (height, width); got shape {heatmap.shape}.")
    return tf.image.resize(heatmap[..., None], size, method="bilinear").numpy()[..., 0]


def overlay(image, heatmap, ax=None, alpha: float = 0.45, title: str | None = None):
    """Draw ``image`` (0-255 pixels) with ``heatmap`` on top in ``ax``; returns the axes."""
    import matplotlib.pyplot as plt

    image = np.asarray(image)
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(np.clip(image, 0, 255).astype("uint8"))
    ax.imshow(upsample(heatmap, image.shape[:2]), cmap="inferno", alpha=alpha, vmin=0, vmax=1)
    if title:
        ax.set_title(title, fontsize=9)
    ax.axis("off")
    return ax
