"""Where a classifier looks: the layer chapter 08's Grad-CAM explains, and the cut at that layer.

``grad_cam``, ``gradient_saliency`` and ``overlay`` are written in the chapter's cells
(``grad_cam`` and ``overlay`` are kept for chapter 09 in ``helpers.taught``); ``last_conv_layer`` picks the
layer they read (it stays here because exercise 1 of the chapter asks you to write your
own), and ``split_at`` cuts a model in two at that layer, so that Grad-CAM can watch the
feature maps and run the rest of the model (the head) on them.
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
    makes the map coarser. A pretrained base inside the model counts as one layer: its
    output is the base's last feature maps.
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


def split_at(model, layer_name: str):
    """Cut ``model`` after its layer ``layer_name``: (images -> that layer's output, that output -> model output).

    Both parts use the model's own layers and weights. It works for a plain chain of layers
    and for a graph with calculations that are not layers, such as chapter 05's and chapter
    09's ``preprocess_input`` in front of a nested pretrained base (then ``layer_name`` names
    the base). ``keras.models.clone_model`` calls every layer and calculation of the graph
    again, reusing each layer (``clone_function=lambda layer: layer``), and its
    ``call_function`` keeps the output of the chosen layer on the way.
    """
    if isinstance(model, keras.Sequential):
        model = keras.Model(model.inputs[0], model.outputs[0])  # the same layers, as a graph of calls
    kept = []

    def call_and_keep(layer, *args, **kwargs):
        output = layer(*args, **kwargs)
        if getattr(layer, "name", None) == layer_name:
            kept.append(output)
        return output

    rebuilt = keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call_and_keep)
    if not kept:
        names = ", ".join(layer.name for layer in model.layers)
        raise ValueError(f"{model.name} has no layer called {layer_name!r}; its layers are: {names}.")
    if len(kept) > 1:
        raise ValueError(f"{model.name} calls its layer {layer_name!r} {len(kept)} times: choose a layer called once.")
    return keras.Model(rebuilt.input, kept[0]), keras.Model(kept[0], rebuilt.output)
