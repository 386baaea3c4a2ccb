"""Where a classifier looks: the layer chapter 08's Grad-CAM explains.

``grad_cam``, ``gradient_saliency`` and ``overlay`` are written in the chapter's cells (and
live there only); ``last_conv_layer`` picks the layer they read. It stays here because
exercise 1 of the chapter asks you to write your own.
"""

from __future__ import annotations

import keras

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
