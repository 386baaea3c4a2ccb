"""Chapter 08 (Look inside and improve): the Grad-CAM layer, a class-weighted retrain, a heatmap tested by occlusion."""

from __future__ import annotations

from functools import partial

import numpy as np

from helpers.exercises.question import Question, explain_difference


# ------------------------------------------------------------------ q1: which layer
def _test_models():
    """Two small CNNs with known answers: (model, the right layer).

    Only their layers matter, not their weights: zero initializers and seeded dropout, so building
    them draws nothing from the global random generators.
    """
    import keras
    from keras import layers

    def chain(name, shape, *stack):
        x = inputs = keras.Input(shape=shape, name="images")
        for layer in stack:
            x = layer(x)
        return keras.Model(inputs, x, name=name)

    def conv(filters, name, **options):
        return layers.Conv2D(filters, 3, name=name, kernel_initializer="zeros", **options)

    blocks = chain(
        "blocks", (32, 32, 3),
        conv(8, "conv_a", padding="same"), layers.ReLU(name="relu_a"), layers.MaxPooling2D(name="pool_a"),
        conv(16, "conv_b", padding="same"), layers.ReLU(name="relu_b"), layers.MaxPooling2D(name="pool_b"),
        layers.GlobalAveragePooling2D(name="gap"), layers.Dropout(0.2, seed=1, name="drop"),
        layers.Dense(10, name="logits", kernel_initializer="zeros"),
    )  # fmt: skip
    # As in ResNet50 or EfficientNet: BatchNorm and an Activation layer (not a ReLU layer) after the convolution.
    activated = chain(
        "activated", (24, 24, 3),
        conv(8, "conv_1"), layers.BatchNormalization(name="bn_1"), layers.Activation("relu", name="conv_1_out"),
        layers.Dropout(0.1, seed=2, name="spatial_drop"), layers.Flatten(name="flatten"),
        layers.Dense(3, name="predictions", kernel_initializer="zeros"),
    )  # fmt: skip
    return [(blocks, "relu_b"), (activated, "conv_1_out")]


def _why_wrong(model, name: str, right: str) -> str:
    """Why ``name`` is not the layer to explain (``right``): the layers after the last map come first."""
    import keras

    try:
        layer = model.get_layer(name)
    except ValueError:
        return f"{model.name} has no layer called {name!r}: return a layer's .name."
    if isinstance(layer, keras.layers.InputLayer):
        return f"{name!r} is the input layer: its 'map' is the image itself, no features yet. Skip it."
    shape = layer.output.shape
    if len(shape) != 4:
        return (
            f"{name!r} outputs shape {tuple(shape)}: no (height, width) map left, so there is nothing to draw. "
            "Look further back, before global pooling / flatten / the dense layers."
        )
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        return f"{name!r} is a pooling layer after the last convolution: it only makes the map coarser ({shape[1]}x{shape[2]}). Skip pooling layers."
    if isinstance(layer, (keras.layers.Dropout, keras.layers.SpatialDropout2D)):
        return (
            f"{name!r} is a dropout layer (it does nothing at inference); the features come from the layer before it."
        )
    names = [layer.name for layer in model.layers]
    here, there, map_shape = names.index(name), names.index(right), model.get_layer(right).output.shape[1:3]
    later = ", ".join(type(layer).__name__ for layer in model.layers[here + 1 : there + 1])
    return (  # an earlier layer, whether its map is finer or as coarse as the right one's
        f"In {model.name} you chose {name!r}, an earlier layer: the layers after it ({later}) still compute the "
        f"features the head reads, up to {right!r} and its {map_shape[0]}x{map_shape[1]} map. Grad-CAM uses the LAST "
        "layer that has a map, whatever its kind, not the last Conv2D (or ReLU)"
        + (". Its finer map holds simpler features (edges, colours)." if shape[1:3] != map_shape else ".")
    )


class PickLayer(Question):
    chapter, number = "ch08", 1

    def _check(self, pick_layer):
        for model, right in _test_models():
            chosen = self.call(pick_layer, model, signature="pick_layer(model)", quiet=True)
            if not isinstance(chosen, str):
                self.fail(f"Return the layer's name as a string (layer.name); your function returned {chosen!r}.")
            if chosen != right:
                self.fail(_why_wrong(model, chosen, right))


# ------------------------------------------------------------------ q2: a class-weighted retrain
class FakeHead:
    """A stand-in for a trained head of 4 classes that answers like a Keras model (``predict(x)``, ``head(x)``):
    a Gaussian naive Bayes, whose prior comes from the (weighted) class counts."""

    def __init__(self, x, y, class_weight=None):
        from sklearn.naive_bayes import GaussianNB

        weights = [(class_weight or {}).get(c, 1.0) for c in np.ravel(y)]
        self.fitted = GaussianNB().fit(np.asarray(x), np.ravel(y), sample_weight=weights)

    def predict(self, x, verbose=0, **options):  # options such as training=False change nothing here
        scores = np.full((len(x), 4), -np.inf)
        scores[:, self.fitted.classes_] = self.fitted.predict_log_proba(np.asarray(x))
        return scores

    __call__ = predict


def imbalanced_case(num_classes=4, seed=8):
    """Features of 4 classes in 2-D: class 1 rare in training, class 3 absent from it; a balanced test set."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [1.2, 0], [0, 1.2], [1.2, 1.2]])
    counts = {0: 200, 1: 12, 2: 150}
    y = np.concatenate([np.full(n, c) for c, n in counts.items()])
    x = centres[y] + rng.normal(scale=0.6, size=(len(y), 2))
    y_test = np.repeat(np.arange(num_classes), 50)
    return x, y, centres[y_test] + rng.normal(scale=0.6, size=(len(y_test), 2)), y_test


def reference_gain(train_head, x, y, x_test, y_test, num_classes):
    from sklearn.metrics import recall_score

    counts = np.bincount(y, minlength=num_classes)
    weights = {c: len(y) / (np.count_nonzero(counts) * n) for c, n in enumerate(counts) if n > 0}
    recalls = [
        recall_score(
            y_test, head.predict(x_test, verbose=0).argmax(1), labels=range(num_classes), average=None, zero_division=0
        )
        for head in (train_head(x, y), train_head(x, y, class_weight=weights))
    ]
    return recalls[1] - recalls[0]


WEIGHT_ERRORS = {
    "ZeroDivisionError": "A class with no training photos has a count of 0: leave it out of the weights instead of "
    "dividing by it.",
    "valid labels that are in y": "compute_class_weight takes only the classes that occur in y, and class 3 has no "
    "training photos: pass classes=np.unique(y), then pair them with the weights, dict(zip(np.unique(y), weights)).",
}


class WeightedRecallGain(Question):
    chapter, number = "ch08", 2

    def _check(self, weighted_recall_gain):
        x, y, x_test, y_test = imbalanced_case()
        seen = []

        def train_head(x_train, y_train, seed=0, class_weight=None):
            if class_weight is not None and not isinstance(class_weight, dict):
                self.fail(
                    f"class_weight should be a dict {{class: weight}}; you passed a {type(class_weight).__name__}. "
                    "compute_class_weight returns an array: pair it with its classes, dict(zip(classes, weights))."
                )
            bad = {c: w for c, w in (class_weight or {}).items() if not np.isfinite(float(w)) or float(w) <= 0}
            if bad:
                self.fail(
                    f"class_weight has {bad}: a class with no training photos cannot be weighted (its count is 0). "
                    "Leave it out of the dict."
                )
            seen.append(class_weight)
            return FakeHead(x_train, y_train, class_weight)

        got = self.call(
            weighted_recall_gain, train_head, x, y, x_test, y_test, 4, quiet=True, explain=WEIGHT_ERRORS,
            signature="weighted_recall_gain(train_head, x, y, x_test, y_test, num_classes)",
        )  # fmt: skip
        if not any(seen):
            self.fail("train_head never got your weights: pass them on, train_head(x, y, class_weight=weights).")
        gain = np.atleast_1d(np.asarray(got, dtype=float)).ravel()
        expected = reference_gain(train_head, x, y, x_test, y_test, 4)
        if gain.shape != (4,):
            self.fail(
                f"Return one recall change per class (4 numbers, class 3 too though it has no training photos), "
                f"not {gain.size}: use labels=range(num_classes)."
            )
        rare = (
            f"The rare class 1 gained no recall ({gain[1]:+.2f}): are your weights upside down? A class with few photos "
            "needs a LARGE weight, total / (classes * count)."
        )
        sign = "Your numbers have the wrong sign: return the weighted head's recall minus the plain head's."
        explain_difference(
            self, gain, expected, {sign: -expected}, rare if gain[1] <= 0 else f"On the check's data the recall changes "
            f"should be {np.round(expected, 2).tolist()}, yours are {np.round(gain, 2).tolist()}. Recall per class: "
            "recall_score(..., average=None).", atol=1e-6,
        )  # fmt: skip


# ------------------------------------------------------------------ q3: test a heatmap by occlusion
FILL = 127.5  # grey, in 0-255 pixels


def reference_occlusion(
    model, image, heatmap, class_index, fraction=0.1, fill=FILL, n=None, channels=None, softmax=True
):
    """[drop of the class's probability with the hottest pixels greyed out, with the coldest].

    ``channels`` (e.g. ``[0]``) greys out only those channels and ``softmax=False`` compares logits: two mistakes
    the check recognises.
    """
    image, heatmap = np.asarray(image, "float32"), np.asarray(heatmap)
    n = int(round(fraction * heatmap.size)) if n is None else n
    ranked = np.argsort(heatmap, axis=None, kind="stable")
    images = np.repeat(image[None], 3, axis=0)  # the image, then with its hot and with its cold pixels greyed out
    for occluded, chosen in zip(images[1:], (ranked[-n:], ranked[:n])):
        occluded.reshape(-1, image.shape[-1])[np.ix_(chosen, channels or range(image.shape[-1]))] = fill
    p = np.asarray(model.predict(images, verbose=0), "float64")
    if softmax:
        p = np.exp(p - p.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
    return p[0, class_index] - p[1:, class_index]


class CornerModel:
    """A stand-in classifier with 2 classes: the class-0 logit is the brightness of the top-left quarter."""

    def predict(self, images, verbose=0, **options):  # options such as training=False change nothing here
        corner = np.asarray(images, "float64")[:, :8, :8, :].mean(axis=(1, 2, 3)) / 32.0
        return np.stack([corner, np.full_like(corner, 4.0)], axis=1)

    __call__ = predict_on_batch = predict


class OcclusionTest(Question):
    chapter, number = "ch08", 3

    def _check(self, occlusion_test):
        model = CornerModel()
        rng = np.random.default_rng(3)
        image = rng.uniform(150, 255, (16, 16, 3)).astype("float32")
        heatmap = rng.uniform(0, 0.5, (16, 16))
        heatmap[:8, :8] += 0.5  # the heatmap points at the top-left quarter, where the evidence is
        got = self.call(
            occlusion_test, model, image.copy(), heatmap.copy(), 0, 0.2, quiet=True,
            signature="occlusion_test(model, image, heatmap, class_index, fraction)",
        )  # fmt: skip
        if not isinstance(got, dict) or set(got) != {"hot", "cold"}:
            self.fail(f"Return a dict {{'hot': drop, 'cold': drop}}; you returned {got!r}.")
        got = np.array([float(got["hot"]), float(got["cold"])])
        variant = partial(reference_occlusion, model, image, heatmap, 0)
        if any(np.allclose(got, variant(n=n), atol=1e-4) for n in (50, 52)):  # a pixel more or fewer is fine (quantile)
            return
        expected, n = variant(0.2), round(0.2 * heatmap.size)
        mistakes = {
            "'hot' and 'cold' are swapped: the hot pixels are those with the LARGEST heatmap values.": expected[::-1],
            "The drop has the wrong sign: probability on the original image minus on the occluded one.": -expected,
            "You filled with 0 (black), itself a strong signal; grey out with 127.5, the middle of 0-255.": (
                variant(0.2, fill=0.0)
            ),
            "Those are drops of the logits, the model's raw scores: turn them into probabilities with a softmax "
            "(keras.ops.softmax) before you subtract.": variant(0.2, softmax=False),
            "You greyed out only the first colour channel: set all 3 channels of the chosen pixels, "
            "occluded.reshape(-1, 3)[chosen] = 127.5.": variant(0.2, channels=[0]),
        }
        explain_difference(
            self, got, expected, mistakes, f"On the check's image (16x16 pixels, fraction=0.2) the drops should be hot "
            f"{expected[0]:.3f}, cold {expected[1]:.3f}; yours are {got[0]:.3f}, {got[1]:.3f}. Count the pixels you "
            f"grey out: round(fraction * heatmap.size) = {n} of the {heatmap.size}, taken from np.argsort(heatmap, axis=None).",
            atol=1e-4,
        )  # fmt: skip


q1 = PickLayer()
q2 = WeightedRecallGain()
q3 = OcclusionTest()
