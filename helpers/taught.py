"""Code the notebooks teach and later chapters reuse: GENERATED, do not edit by hand.

Each function below is copied verbatim from a cell marked ``#@save`` in solutions/ by
``python tools/notebooks.py --write`` (``--check`` fails when this file is stale).
To change a function, edit its notebook cell and run --write. Where each comes from:

  output_size, same_padding: 02_convolution_from_scratch.ipynb, cell cell-029
  start_fine_tuning: 05_transfer_learning.ipynb, cell cell-027
  plot_confusion_matrix: 06_evaluation.ipynb, cell cell-031
  per_class_table: 06_evaluation.ipynb, cell cell-040
  plot_confident_mistakes: 06_evaluation.ipynb, cell cell-042
  to_rgb, read_image: 07_inference.ipynb, cell ch07-read-image
  top_k: 07_inference.ipynb, cell cell-026
  compare_predictions: 07_inference.ipynb, cell cell-043
  tflite_predict: 07_inference.ipynb, cell cell-048
  grad_cam: 08_look_inside.ipynb, cell cell-018
  overlay: 08_look_inside.ipynb, cell cell-022
"""

import math
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from PIL import Image, ImageOps, UnidentifiedImageError
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix, precision_recall_fscore_support

from helpers import plots
from helpers.heatmaps import split_at


# ---- 02_convolution_from_scratch.ipynb, cell cell-029
def output_size(input_size: int, kernel_size: int, stride: int = 1, padding: str = "valid") -> int:
    """Length of one spatial axis after a convolution or pooling layer."""
    if padding == "same":
        return math.ceil(input_size / stride)
    if padding == "valid":
        return (input_size - kernel_size) // stride + 1
    raise ValueError(f"padding must be 'valid' or 'same'; got {padding!r}.")


def same_padding(input_size: int, kernel_size: int, stride: int = 1) -> tuple[int, int]:
    """Zeros TensorFlow adds before and after one axis for padding='same'."""
    out = math.ceil(input_size / stride)
    total = max((out - 1) * stride + kernel_size - input_size, 0)
    return total // 2, total - total // 2


# ---- 05_transfer_learning.ipynb, cell cell-027
def start_fine_tuning(model, base, n_layers: int, learning_rate: float):
    """Unfreeze the top ``n_layers`` of ``base`` (BatchNorm stays frozen) and recompile ``model``."""
    if not 0 < n_layers <= len(base.layers):
        raise ValueError(
            f"n_layers must be between 1 and {len(base.layers)} (the layers of {base.name}); got {n_layers}."
        )
    base.trainable = True
    first_unfrozen = len(base.layers) - n_layers
    for layer in base.layers[:first_unfrozen]:
        layer.trainable = False
    for layer in base.layers[first_unfrozen:]:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=model.loss,
        metrics=["accuracy"],
    )
    return model


# ---- 06_evaluation.ipynb, cell cell-031
def plot_confusion_matrix(y_true, y_pred, class_names, normalize=None, ax=None):
    """Draw a confusion matrix: counts, or with normalize="true" each row divided by its total."""
    many_classes = len(class_names) > 20  # numbers in hundreds of cells would be unreadable
    display = ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=list(range(len(class_names))),
        display_labels=class_names,
        normalize=normalize,
        include_values=not many_classes,
        values_format=".2f" if normalize else "d",
        xticks_rotation="vertical",
        cmap="Blues",
        colorbar=False,
        ax=ax,
    )
    if many_classes:
        display.ax_.tick_params(labelsize=5)
    display.ax_.set_title("row-normalised (recall on the diagonal)" if normalize == "true" else "counts")
    return display


# ---- 06_evaluation.ipynb, cell cell-040
def per_class_table(y_true, y_pred, class_names):
    """Precision, recall, F1 and support per class, worst F1 first, with a diagnosis."""
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    mistakes = confusion_matrix(y_true, y_pred, labels=labels)
    np.fill_diagonal(mistakes, 0)  # keep only the wrong answers
    table = pd.DataFrame(
        {
            "precision": precision,
            "recall": recall,
            "f1-score": f1,
            "support": support,
            "most often taken for": [class_names[row.argmax()] if row.any() else "-" for row in mistakes],
        },
        index=pd.Index(class_names, name="class"),
    )
    table["diagnosis"] = np.select(
        [
            table[["precision", "recall"]].min(axis=1) >= 0.9,
            table["recall"] - table["precision"] > 0.1,
            table["precision"] - table["recall"] > 0.1,
        ],
        [
            "good",
            "low precision: other classes are often predicted as this one",
            "low recall: images of this class are often missed",
        ],
        default="both low: confused in both directions",
    )
    return table.sort_values("f1-score", kind="stable")


# ---- 06_evaluation.ipynb, cell cell-042
def plot_confident_mistakes(images, y_true, probabilities, class_names, n=12, ncols=6):
    """Show the n mistakes the model was surest of, with the true class, the prediction and its confidence."""
    y_pred = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)
    if len(wrong) == 0:
        print("No mistakes to show: every prediction is right.")
        return None
    surest_first = wrong[np.argsort(-confidence[wrong], kind="stable")][:n]
    axes = plots.image_grid(images[surest_first], ncols=ncols, size=2.2)
    for ax, i in zip(axes, surest_first):
        ax.set_title(
            f"true: {class_names[y_true[i]]}\npredicted: {class_names[y_pred[i]]}\n{confidence[i]:.0%} sure", fontsize=8
        )
    return axes


# ---- 07_inference.ipynb, cell ch07-read-image
def to_rgb(image):
    """A Pillow image of any mode as an RGB uint8 array (height, width, 3)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):  # 16-bit scans: 0..65535 -> 0..255
        values = np.asarray(image, dtype=np.float64)
        scale = 257.0 if values.max(initial=0) > 255 or image.mode.startswith("I;16") else 1.0
        grey = np.clip(values / scale, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    if image.mode == "F":  # floating-point greyscale: stretch to 0..255
        values = np.asarray(image, dtype=np.float64)
        top = values.max(initial=0)
        grey = np.clip(values / (top if top > 1 else 1.0) * 255, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):  # blend transparency onto white
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def read_image(path, max_pixels=50_000_000, draft_size=None):
    """Read an image file as an RGB uint8 array (height, width, 3); a ValueError names the file and the reason.

    draft_size: the size you will shrink the image to. A JPEG at least twice as large is then decoded
    at 1/2, 1/4 or 1/8 of its size (Pillow's "draft mode", several times faster), never below draft_size.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file. Check the name and the folder (working folder: {Path.cwd()}).")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not an image file.")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty (0 bytes); it was probably not downloaded or copied completely.")
    try:
        with Image.open(path) as image:  # reads only the header so far
            width, height = image.size
            if width * height > max_pixels:  # refuse before decoding: a 7000x7000 photo needs gigabytes
                raise ValueError(
                    f"{path}: {width}x{height} pixels ({width * height / 1e6:.0f} megapixels) is over the "
                    f"{max_pixels / 1e6:.0f}-megapixel safety limit. Shrink the image first, or pass a larger max_pixels."
                )
            image.seek(0)  # the first frame of an animated GIF or WebP
            if draft_size is not None:
                image.draft("RGB", (draft_size, draft_size))  # only JPEG decoders can do this; others ignore it
            image.load()  # decodes the pixels: a truncated or damaged file fails here
            return to_rgb(ImageOps.exif_transpose(image))  # phone photos: apply the "rotate me" flag
    except UnidentifiedImageError:
        raise ValueError(
            f"{path}: not an image file Pillow can read (is it text or another format with an image extension?)."
        ) from None
    except Image.DecompressionBombError:
        raise ValueError(f"{path}: the image is too large to decode safely (possible decompression bomb).") from None
    except (OSError, SyntaxError):  # Pillow's ways of saying "broken data"
        raise ValueError(f"{path}: the image data is corrupt or truncated; download or copy it again.") from None


# ---- 07_inference.ipynb, cell cell-026
def top_k(probabilities, class_names, top=3):
    """The `top` classes of one row of probabilities as [{"class", "confidence"}, ...], most likely first."""
    best = np.argsort(-probabilities, kind="stable")[:top]  # highest first; equal scores keep the class order
    return [{"class": class_names[i], "confidence": float(probabilities[i])} for i in best]


# ---- 07_inference.ipynb, cell cell-043
def compare_predictions(reference, other, atol=1e-4):
    """How closely two models' outputs on the same images agree: the largest difference, the share of
    images with the same top class, and whether both are within tolerance."""
    reference, other = np.asarray(reference, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if reference.shape != other.shape:
        raise ValueError(
            f"The outputs have different shapes, {reference.shape} and {other.shape}: "
            "were both models given the same images?"
        )
    difference = float(np.max(np.abs(reference - other))) if reference.size else 0.0
    same_top1 = float(np.mean(reference.argmax(axis=-1) == other.argmax(axis=-1)))
    return {"max_abs_difference": difference, "same_top1": same_top1, "agree": difference <= atol and same_top1 == 1.0}


# ---- 07_inference.ipynb, cell cell-048
def tflite_predict(interpreter, images):
    """Run a batch of float32 images through a LiteRT interpreter and return the model's outputs."""
    images = np.asarray(images, dtype=np.float32)
    input_detail = interpreter.get_input_details()[0]
    if list(input_detail["shape"]) != list(images.shape):  # the file expects a batch of 1 unless told otherwise
        interpreter.resize_tensor_input(input_detail["index"], images.shape)
    interpreter.allocate_tensors()  # (re)serve memory for this input shape; nearly free when nothing changed
    interpreter.set_tensor(input_detail["index"], images)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


# ---- 08_look_inside.ipynb, cell cell-018
def grad_cam(model, images, layer_name, class_index=None):
    """Grad-CAM heatmaps (batch, height, width), between 0 and 1, from the layer ``layer_name``.

    ``model`` ends in class scores (logits); ``class_index`` is the class to explain, one per
    image or one for all (default: the predicted class).
    """
    to_feature_maps, head = split_at(model, layer_name)
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    feature_maps = to_feature_maps(images, training=False)
    with tf.GradientTape() as tape:
        tape.watch(feature_maps)  # not a weight: the tape must be told to follow it
        scores = head(feature_maps, training=False)
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


# ---- 08_look_inside.ipynb, cell cell-022
def overlay(image, heatmap, ax=None, alpha=0.45, title=None):
    """Draw `image` (0-255 pixels) with `heatmap` stretched to its size and laid on top; returns the axes."""
    heatmap = np.asarray(heatmap, dtype="float32")
    if heatmap.ndim != 2:
        raise ValueError(f"overlay takes one heatmap of shape (height, width); got shape {heatmap.shape}.")
    stretched = tf.image.resize(heatmap[..., None], np.shape(image)[:2], method="bilinear").numpy()[..., 0]
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(np.clip(image, 0, 255).astype("uint8"))
    ax.imshow(stretched, cmap="inferno", alpha=alpha, vmin=0, vmax=1)  # the same colour scale for every map
    if title:
        ax.set_title(title, fontsize=9)
    ax.axis("off")
    return ax
