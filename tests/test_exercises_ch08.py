"""Chapter 08 checks: each one accepts the reference answer and explains typical mistakes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers import heatmaps
from helpers.exercises import ch08


def _incorrect(question, answer, fragment):
    verdict = question.verdict(answer)
    assert verdict.status == "incorrect", verdict
    assert fragment in verdict.message, verdict.message


# ------------------------------------------------------------------ q1: which layer
def pick_layer(model):
    skip = (keras.layers.InputLayer, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D, keras.layers.Dropout)
    for layer in reversed(model.layers):
        if not isinstance(layer, skip) and len(layer.output.shape) == 4:
            return layer.name


def last_4d_even_pooling(model):
    return next(layer.name for layer in reversed(model.layers) if len(layer.output.shape) == 4)


def skips_dropout_only(model):
    return next(
        layer.name
        for layer in reversed(model.layers)
        if len(layer.output.shape) == 4 and not isinstance(layer, keras.layers.Dropout)
    )


def skips_max_pooling_only(model):
    """Skips MaxPooling2D and Dropout but not AveragePooling2D: right on models without average pooling only."""
    skip = (keras.layers.MaxPooling2D, keras.layers.Dropout)
    return next(lay.name for lay in reversed(model.layers) if len(lay.output.shape) == 4 and not isinstance(lay, skip))


def last_conv_or_relu(model):
    """A list of kinds instead of the rule: misses BatchNorm and Activation layers after the convolution."""
    kinds = (keras.layers.Conv2D, keras.layers.ReLU)
    return [layer.name for layer in model.layers if isinstance(layer, kinds)][-1]


def test_q1_right():
    assert ch08.q1.verdict(pick_layer).ok
    assert ch08.q1.verdict(heatmaps.last_conv_layer).ok  # the course helper is right too


def test_q1_not_attempted():
    assert ch08.q1.verdict(...).status == "not attempted"


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (
            last_conv_or_relu,
            "not 'relu_b' (the layers from one to the other, in order: Conv2D, BatchNormalization, Act",
        ),
        (last_4d_even_pooling, "in order: Activation, MaxPooling2D, AveragePooling2D, Dropout)"),
        (skips_dropout_only, "You chose 'avg_pool_b', not 'relu_b' (the layers from one to the other, in order: Act"),
        (
            skips_max_pooling_only,
            "You chose 'avg_pool_b', not 'relu_b' (the layers from one to the other, in order: Act",
        ),
        (lambda model: model.layers[-1].name, "outputs shape (None, 3): no (height, width) map left"),
        (lambda model: model.get_layer(pick_layer(model)), "a string (layer.name); your function returned <Activation"),
        (lambda model: None, "a string (layer.name); your function returned None"),
        (lambda model: "conv2d", "No such layer: conv2d. Existing layers are: ['conv_b'"),
        ("relu_b", "function itself"),
    ],
)
def test_q1_wrong(wrong, fragment):
    _incorrect(ch08.q1, wrong, fragment)


# ------------------------------------------------------------------ q2: a class-weighted retrain
from sklearn.metrics import recall_score  # noqa: E402
from sklearn.utils.class_weight import compute_class_weight  # noqa: E402


def weighted_recall_gain(train_head, x, y, x_test, y_test, num_classes, weights_of=None):
    counts = np.bincount(y, minlength=num_classes)
    weights = weights_of or (lambda c, n: len(y) / (num_classes * n))
    weights = {c: weights(c, n) for c, n in enumerate(counts) if n > 0}
    recalls = [
        recall_score(
            y_test, h.predict(x_test, verbose=0).argmax(1), labels=range(num_classes), average=None, zero_division=0
        )
        for h in (train_head(x, y), train_head(x, y, class_weight=weights))
    ]
    return recalls[1] - recalls[0]


def with_weights(weights_of):
    return lambda t, x, y, xt, yt, k: weighted_recall_gain(t, x, y, xt, yt, k, weights_of)


def numpy_division(train_head, x, y, x_test, y_test, num_classes):
    """Class 0's count of 0 gives an infinite weight, which weighs no photo, as in Keras: not a mistake."""
    with np.errstate(divide="ignore"):
        weights = dict(enumerate(len(y) / (num_classes * np.bincount(y, minlength=num_classes))))
    recalls = [
        recall_score(y_test, h.predict(x_test).argmax(1), labels=range(num_classes), average=None, zero_division=0)
        for h in (train_head(x, y), train_head(x, y, class_weight=weights))
    ]
    return recalls[1] - recalls[0]


def python_division(train_head, x, y, x_test, y_test, num_classes):
    counts = [int(n) for n in np.bincount(y, minlength=num_classes)]
    return {c: len(y) / (num_classes * n) for c, n in enumerate(counts)}


def weights_never_passed(train_head, x, y, x_test, y_test, num_classes):
    plain = recall_score(y_test, train_head(x, y).predict(x_test).argmax(1), labels=range(num_classes), average=None)
    return plain - plain


def with_sklearn(train_head, x, y, x_test, y_test, num_classes, classes=None, as_dict=True):
    """The weights from scikit-learn's compute_class_weight("balanced", ...)."""
    classes = np.unique(y) if classes is None else classes
    weights = compute_class_weight("balanced", classes=classes, y=y)
    weights = dict(zip(classes.tolist(), weights)) if as_dict else weights
    recalls = [
        recall_score(y_test, h.predict(x_test).argmax(1), labels=range(num_classes), average=None, zero_division=0)
        for h in (train_head(x, y), train_head(x, y, class_weight=weights))
    ]
    return recalls[1] - recalls[0]


def weights_by_position(train_head, x, y, x_test, y_test, num_classes):
    """compute_class_weight's weights keyed 0, 1, 2 by position, though class 0 is absent: right only when the
    absent class comes last, as it does not in the chapter (daisy, class 0)."""
    weights = dict(enumerate(compute_class_weight("balanced", classes=np.unique(y), y=y)))
    heads = (train_head(x, y), train_head(x, y, class_weight=weights))
    recalls = [
        recall_score(y_test, h.predict(x_test).argmax(1), labels=range(num_classes), average=None) for h in heads
    ]
    return recalls[1] - recalls[0]


def no_argmax(train_head, x, y, x_test, y_test, num_classes):
    """The heads' scores go to recall_score as they are: scikit-learn's error speaks of y_pred."""
    heads = (train_head(x, y), train_head(x, y, class_weight={0: 1.0, 1: 10.0, 2: 1.0}))
    recalls = [recall_score(y_test, h.predict(x_test), labels=range(num_classes), average=None) for h in heads]
    return recalls[1] - recalls[0]


def test_q2_right():
    assert ch08.q2.verdict(weighted_recall_gain).ok
    assert ch08.q2.verdict(with_sklearn).ok
    assert ch08.q2.verdict(with_weights(lambda c, n: 1 / n)).ok  # the scale of the weights does not matter here
    assert ch08.q2.verdict(numpy_division).ok


def test_q2_the_weighted_retrain_helps_the_rare_class():
    gain = ch08.reference_gain(ch08.FakeHead, *ch08.imbalanced_case())
    assert gain[2] > 0.2 and gain[0] == 0  # class 2 is rare, class 0 absent (the first, as the daisies)


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (python_division, "Class 0 has no training photos (count 0): give it no weight (compute_class_weight"),
        (weights_never_passed, "yours are [0.0, 0.0, 0.0, 0.0]"),
        (lambda *a: with_sklearn(*a, classes=np.arange(a[-1])), "compute_class_weight: classes=np.unique(y)"),
        (lambda *a: with_sklearn(*a, as_dict=False), "you passed a ndarray"),
        (with_weights(lambda c, n: n), "upside down"),
        (lambda t, x, y, xt, yt, k: -weighted_recall_gain(t, x, y, xt, yt, k), "yours are [-0.0, 0.1, -0.54, -0.02]"),
        (lambda t, x, y, xt, yt, k: weighted_recall_gain(t, x, y, xt, yt, k)[:3], "yours are [0.0, -0.1, 0.54]:"),
        (
            lambda t, x, y, xt, yt, k: t(x, y, class_weight={0: 1.0}) and [0.0, 0.1, 0.0, 0.0],
            "should be [0.0, -0.1, 0.54, 0.02]",
        ),
        (lambda t, x, y, xt, yt, k: t(x, y, class_weight={1: 2.0}) and {1: 0.5}, "could not read your answer"),
        (
            weights_by_position,
            "yours are [0.0, 0.1, -0.26, -0.54]: one per class, class 0 too (labels=range(num_classes)), recall with "
            "class_weight={each class: its own weight}",
        ),
        (
            no_argmax,
            "Give recall_score one class per photo, not the head's scores: head.predict(x_test).argmax(axis=1).",
        ),
    ],
)
def test_q2_wrong(wrong, fragment):
    _incorrect(ch08.q2, wrong, fragment)


# ------------------------------------------------------------------ q3: a heatmap tested by occlusion
def occlusion_test(
    model, image, heatmap, class_index, fraction, fill=127.5, hottest=True, channels=3, softmax=True, copy=True
):
    n = round(fraction * heatmap.size)
    ranked = np.argsort(heatmap if hottest else -heatmap, axis=None)
    drops = {}
    for name, chosen in (("hot", ranked[-n:]), ("cold", ranked[:n])):
        occluded = image.copy() if copy else image  # without a copy, the original is greyed out too
        occluded.reshape(-1, 3)[chosen, :channels] = fill
        p = model.predict(np.stack([image, occluded]), verbose=0)
        p = keras.ops.convert_to_numpy(keras.ops.softmax(p)) if softmax else p
        drops[name] = p[0, class_index] - p[1, class_index]
    return drops


def by_quantile(model, image, heatmap, class_index, fraction):
    drops = {}
    for name, mask in (
        ("hot", heatmap >= np.quantile(heatmap, 1 - fraction)),
        ("cold", heatmap <= np.quantile(heatmap, fraction)),
    ):
        occluded = np.where(mask[..., None], 127.5, image)
        p = keras.ops.convert_to_numpy(keras.ops.softmax(model(np.stack([image, occluded]))))
        drops[name] = p[0, class_index] - p[1, class_index]
    return drops


def one_image_at_a_time(model, image, heatmap, class_index, fraction):
    """Predicts the photo without a batch axis."""
    before = keras.ops.convert_to_numpy(keras.ops.softmax(model.predict(image, verbose=0)))
    return {"hot": before[class_index], "cold": before[class_index]}


def test_q3_right():
    assert ch08.q3.verdict(occlusion_test).ok
    assert ch08.q3.verdict(by_quantile).ok


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda *a: occlusion_test(*a, hottest=False), "swapped"),
        (lambda *a: {k: -v for k, v in occlusion_test(*a).items()}, "wrong sign"),
        (lambda *a: occlusion_test(*a, softmax=False), "drops of the logits"),
        (lambda *a: occlusion_test(*a, fill=0.0), "should be hot 0.415, cold 0.000; yours are 0.893, 0.000"),
        (lambda *a: occlusion_test(*a[:4], fraction=0.05), "should be hot 0.415, cold 0.000; yours are 0.046, 0.000"),
        (lambda *a: occlusion_test(*a, channels=1), "should be hot 0.415, cold 0.000; yours are 0.099, 0.000"),
        (lambda *a: [0.3, 0.0], "could not read your answer"),
        (lambda *a: occlusion_test(*a, copy=False), "yours are 0.000, 0.000. In a copy of the image, grey out round("),
        (
            one_image_at_a_time,
            "Your function raised IndexError: too many indices for array: array is 3-dimensional, but 4 were indexed\n"
            "model.predict takes a batch: np.stack([image, occluded]) or image[None].",
        ),
    ],
)
def test_q3_wrong(wrong, fragment):
    _incorrect(ch08.q3, wrong, fragment)


def test_q2_q3_stand_ins_take_keras_call_options():
    """Learners call models as model(x, training=False) or model.predict(x, batch_size=...): the stand-ins accept it."""

    def keras_style(train_head, x, y, x_test, y_test, num_classes):
        counts = np.bincount(y, minlength=num_classes)
        weights = {c: len(y) / n for c, n in enumerate(counts) if n}
        heads = (train_head(x, y), train_head(x, y, class_weight=weights))
        predicted = [np.argmax(h(x_test, training=False), axis=1) for h in heads]
        recall = [recall_score(y_test, p, labels=range(num_classes), average=None, zero_division=0) for p in predicted]
        return recall[1] - recall[0]

    assert ch08.q2.verdict(keras_style).ok
    assert ch08.CornerModel()(np.zeros((1, 16, 16, 3)), training=False).shape == (1, 2)
