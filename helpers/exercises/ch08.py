"""Chapter 08 (Look inside and improve): the Grad-CAM layer, a class-weighted retrain, a heatmap tested by occlusion."""

from __future__ import annotations

import numpy as np

from helpers.exercises.question import Question


# ------------------------------------------------------------------ q1: which layer
def _test_models():
    """Small CNNs with known answers: (model, the right layer).

    Only their layers matter, not their weights: zero initializers and seeded dropout, so building
    them draws nothing from the global random generators.
    """
    import keras
    from keras import layers

    zeros = {"kernel_initializer": "zeros"}

    inputs = keras.Input(shape=(32, 32, 3), name="images")
    x = layers.Conv2D(8, 3, padding="same", name="conv_a", **zeros)(inputs)
    x = layers.ReLU(name="relu_a")(x)
    x = layers.MaxPooling2D(name="pool_a")(x)
    x = layers.Conv2D(16, 3, padding="same", name="conv_b", **zeros)(x)
    x = layers.ReLU(name="relu_b")(x)
    x = layers.MaxPooling2D(name="pool_b")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.2, seed=1, name="drop")(x)
    outputs = layers.Dense(10, name="logits", **zeros)(x)
    blocks = keras.Model(inputs, outputs, name="blocks")

    plain = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu", name="first_conv", **zeros),
            layers.Conv2D(8, 3, activation="relu", name="last_conv", **zeros),
            layers.Dropout(0.1, seed=2, name="spatial_drop"),
            layers.Flatten(name="flatten"),
            layers.Dense(5, name="scores", **zeros),
        ],
        name="plain",
    )
    # As in ResNet50 or EfficientNet: BatchNorm and an Activation layer (not a ReLU layer) after the convolution.
    activated = keras.Sequential(
        [
            keras.Input(shape=(24, 24, 3)),
            layers.Conv2D(8, 3, name="conv_1", **zeros),
            layers.BatchNormalization(name="bn_1"),
            layers.Activation("relu", name="conv_1_out"),
            layers.GlobalAveragePooling2D(name="avg_pool"),
            layers.Dense(3, name="predictions", **zeros),
        ],
        name="activated",
    )
    return [(blocks, "relu_b"), (plain, "last_conv"), (activated, "conv_1_out")]


def _why_wrong(model, name: str) -> str | None:
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
    return None


class PickLayer(Question):
    chapter, number = "ch08", 1

    def _check(self, pick_layer):
        for model, right in _test_models():
            chosen = self.call(pick_layer, model, signature="pick_layer(model)", quiet=True)
            if chosen is None:
                self.fail("Your function returned None. Return the layer's name, e.g. layer.name.")
            if not isinstance(chosen, str):
                name = getattr(chosen, "name", None)
                if isinstance(name, str):
                    self.fail(f"You returned the layer object {name!r}; return its name (layer.name).")
                self.fail(f"Return the layer's name as a string; you returned a {type(chosen).__name__}.")
            if chosen == right:
                continue
            reason = _why_wrong(model, chosen)
            if reason:
                self.fail(reason)
            names = [layer.name for layer in model.layers]
            chosen_shape, right_shape = model.get_layer(chosen).output.shape, model.get_layer(right).output.shape
            if names.index(chosen) < names.index(right) and chosen_shape[1:3] == right_shape[1:3]:
                later = [
                    type(layer).__name__ for layer in model.layers[names.index(chosen) + 1 : names.index(right) + 1]
                ]
                self.fail(
                    f"In {model.name} you chose {chosen!r}, but the layers after it ({', '.join(later)}) keep the same "
                    f"{right_shape[1]}x{right_shape[2]} map and compute the features the head reads (up to {right!r}). "
                    "Take the last layer that has a map, whatever its kind, not the last Conv2D (or ReLU)."
                )
            if chosen in names and names.index(chosen) < names.index(right):
                self.fail(
                    f"In {model.name} you chose {chosen!r}, an earlier layer: its map is finer but its features are "
                    "simpler (edges, colours). Grad-CAM uses the LAST layer that still has a map."
                )
            self.fail(f"In {model.name} the layer to explain is not {chosen!r}.")


# ------------------------------------------------------------------ q2: a class-weighted retrain
class FakeHead:
    """A stand-in for a trained head: nearest class mean plus a prior learned from the (weighted) class counts."""

    def __init__(self, x, y, class_weight, num_classes):
        y = np.ravel(y).astype(int)
        self.means = np.stack(
            [x[y == c].mean(0) if (y == c).any() else np.full(x.shape[1], np.nan) for c in range(num_classes)]
        )
        mass = np.array([(y == c).sum() * (class_weight or {}).get(c, 1.0) for c in range(num_classes)], float)
        with np.errstate(divide="ignore"):
            self.log_prior = np.log(mass / mass.sum())

    def predict(self, x, verbose=0, **options):  # options such as training=False change nothing here
        distances = ((np.asarray(x)[:, None, :] - self.means[None]) ** 2).sum(-1)
        return np.nan_to_num(-distances / 2 + self.log_prior, nan=-1e9, neginf=-1e9)

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


def _explain_q2(exc):
    if isinstance(exc, ZeroDivisionError):
        return (
            "A class with no training photos has a count of 0: leave it out of the weights instead of dividing by it."
        )
    if "valid labels that are in y" in str(exc):
        return (
            "compute_class_weight takes only the classes that occur in y, and class 3 has no training photos: "
            "pass classes=np.unique(y), then pair them with the weights, dict(zip(np.unique(y), weights))."
        )
    return None


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
            if class_weight is not None:
                bad = {c: w for c, w in dict(class_weight).items() if not np.isfinite(float(w)) or float(w) <= 0}
                if bad:
                    self.fail(
                        f"class_weight has {bad}: a class with no training photos cannot be weighted (its count is 0). "
                        "Leave it out of the dict."
                    )
            seen.append(class_weight)
            return FakeHead(np.asarray(x_train), y_train, class_weight, 4)

        got = self.call(
            weighted_recall_gain, train_head, x, y, x_test, y_test, 4, quiet=True, explain=_explain_q2,
            signature="weighted_recall_gain(train_head, x, y, x_test, y_test, num_classes)",
        )  # fmt: skip
        if not any(weights for weights in seen):
            self.fail("train_head never got your weights: pass them on, train_head(x, y, class_weight=weights).")
        gain = np.ravel(np.asarray(got, dtype=float)) if np.ndim(got) else np.array([got], float)
        expected = reference_gain(train_head, x, y, x_test, y_test, 4)
        if gain.shape != (4,):
            self.fail(
                f"Return one recall change per class ({4} numbers, class 3 too though it has no training photos), "
                f"not {gain.shape[0] if gain.ndim else 1}: use labels=range(num_classes)."
            )
        if np.allclose(gain, -expected):
            self.fail("Your numbers have the wrong sign: return the weighted head's recall minus the plain head's.")
        if gain[1] <= 0:
            self.fail(
                f"The rare class 1 gained no recall ({gain[1]:+.2f}): are your weights upside down? A class with few photos "
                "needs a LARGE weight, total / (classes * count)."
            )
        if not np.allclose(gain, expected, atol=1e-6):
            self.fail(
                f"On the check's data the recall changes should be {np.round(expected, 2).tolist()}, "
                f"yours are {np.round(gain, 2).tolist()}. Recall per class: recall_score(..., average=None)."
            )


# ------------------------------------------------------------------ q3: test a heatmap by occlusion
FILL = 127.5  # grey, in 0-255 pixels


def reference_occlusion(
    model, image, heatmap, class_index, fraction=0.1, fill=FILL, n=None, channels=None, softmax=True
):
    """{"hot": drop of the class's probability with the hottest pixels greyed out, "cold": with the coldest}.

    ``channels`` (e.g. ``[0]``) greys out only those channels and ``softmax=False`` compares logits: two mistakes
    the check recognises.
    """
    image, heatmap = np.asarray(image, "float32"), np.asarray(heatmap)
    n = int(round(fraction * heatmap.size)) if n is None else n
    ranked = np.argsort(heatmap, axis=None, kind="stable")
    drops = {}
    for name, chosen in (("hot", ranked[-n:]), ("cold", ranked[:n])):
        occluded = image.copy()
        pixels = occluded.reshape(-1, image.shape[-1])
        pixels[np.ix_(chosen, channels if channels is not None else range(image.shape[-1]))] = fill
        p = np.asarray(model.predict(np.stack([image, occluded]), verbose=0), "float64")
        if softmax:
            p = np.exp(p - p.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
        drops[name] = float(p[0, class_index] - p[1, class_index])
    return drops


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
        got = {key: float(value) for key, value in got.items()}
        expected = reference_occlusion(model, image, heatmap, 0, 0.2)
        for n in (50, 51, 52):  # one pixel more or fewer (a quantile instead of a count) is fine
            if all(
                np.isclose(got[k], v, atol=1e-4) for k, v in reference_occlusion(model, image, heatmap, 0, n=n).items()
            ):
                return None
        if np.isclose(got["hot"], expected["cold"], atol=1e-4) and np.isclose(got["cold"], expected["hot"], atol=1e-4):
            self.fail("'hot' and 'cold' are swapped: the hot pixels are those with the LARGEST heatmap values.")
        if np.isclose(got["hot"], -expected["hot"], atol=1e-4):
            self.fail("The drop has the wrong sign: probability on the original image minus on the occluded one.")
        mistakes = {
            "You filled with 0 (black), itself a strong signal; grey out with 127.5, the middle of 0-255.": {
                "fill": 0.0
            },
            "Those are drops of the logits, the model's raw scores: turn them into probabilities with a softmax "
            "(keras.ops.softmax) before you subtract.": {"softmax": False},
            "You greyed out only the first colour channel: set all 3 channels of the chosen pixels, "
            "occluded.reshape(-1, 3)[chosen] = 127.5.": {"channels": [0]},
        }
        for message, how in mistakes.items():
            variant = reference_occlusion(model, image, heatmap, 0, 0.2, **how)
            if all(np.isclose(got[k], variant[k], atol=1e-4) for k in got):
                self.fail(message)
        n = round(0.2 * heatmap.size)
        self.fail(
            f"On the check's image (16x16 pixels, fraction=0.2) the drops should be hot {expected['hot']:.3f}, cold "
            f"{expected['cold']:.3f}; yours are {got['hot']:.3f}, {got['cold']:.3f}. Count the pixels you grey out: "
            f"round(fraction * heatmap.size) = {n} of the {heatmap.size}, taken from np.argsort(heatmap, axis=None)."
        )


q1 = PickLayer()
q2 = WeightedRecallGain()
q3 = OcclusionTest()
