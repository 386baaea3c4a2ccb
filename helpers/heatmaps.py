"""Where a classifier looks: Grad-CAM and gradient saliency, as chapter 08 teaches them.

``grad_cam`` and ``gradient_saliency`` are the notebook's own functions, kept identical to
its cells by a test (chapter 09 reuses them); ``last_conv_layer`` and ``overlay`` are the
plumbing around them.
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


def grad_cam(model, images, layer_name, class_index=None):
    """Grad-CAM heatmaps (batch, height, width), between 0 and 1, from the layer ``layer_name``.

    ``model`` is a chain of layers that ends in class scores (logits); ``class_index`` is
    the class to explain, one per image or one for all (default: the predicted class).
    """
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        x, feature_maps = images, None
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            x = layer(x, training=False)
            if layer.name == layer_name:
                feature_maps = x
        if feature_maps is None:
            raise ValueError(f"{model.name} has no layer called {layer_name!r}.")
        scores = x
        if class_index is None:
            class_index = tf.argmax(scores, axis=1)
        class_index = tf.broadcast_to(tf.cast(class_index, tf.int32), tf.shape(scores)[:1])
        # each image's score for its own class: batch_dims=1 pairs row i of scores with class_index[i]
        class_scores = tf.gather(scores, class_index, axis=1, batch_dims=1)
    gradients = tape.gradient(class_scores, feature_maps)  # (batch, h, w, channels)
    channel_weights = tf.reduce_mean(gradients, axis=(1, 2))  # how much each channel matters
    # "bhwc,bc->bhw": for each image b, the sum over channels c of map c times its weight
    heatmaps = tf.nn.relu(tf.einsum("bhwc,bc->bhw", feature_maps, channel_weights))
    heatmaps /= tf.reduce_max(heatmaps, axis=(1, 2), keepdims=True) + 1e-8
    return heatmaps.numpy()


def gradient_saliency(model, images, class_index=None):
    """Plain gradient saliency (batch, height, width): how strongly each pixel moves the class score."""
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        scores = model(images, training=False)
        if class_index is None:
            class_index = tf.argmax(scores, axis=1)
        class_index = tf.broadcast_to(tf.cast(class_index, tf.int32), tf.shape(scores)[:1])
        class_scores = tf.gather(scores, class_index, axis=1, batch_dims=1)
    gradients = tape.gradient(class_scores, images)
    saliency = tf.reduce_max(tf.abs(gradients), axis=-1)  # the strongest colour channel
    saliency /= tf.reduce_max(saliency, axis=(1, 2), keepdims=True) + 1e-8
    return saliency.numpy()


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
