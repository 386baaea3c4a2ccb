"""Chapter 08 (Look inside and improve): the Grad-CAM layer, a class-weighted retrain, a heatmap tested by occlusion."""

from __future__ import annotations

import numpy as np

from helpers.exercises.question import Question, explain_difference


# ------------------------------------------------------------------ q1: which layer
class PickLayer(Question):
    chapter, number = "ch08", 1

    def _check(self, pick_layer):
        import keras  # here, not at the top: the progress table imports every check module

        # As in ResNet50, BatchNorm and an Activation layer (not a ReLU layer) follow the convolution; pooling and
        # dropout after them compute no new features. Zero initializers, seeded dropout: no global random draws.
        model = keras.Sequential(
            [
                keras.Input(shape=(8, 8, 3)),
                keras.layers.Conv2D(4, 3, padding="same", name="conv_b", kernel_initializer="zeros"),
                keras.layers.BatchNormalization(name="bn_b"),
                keras.layers.Activation("relu", name="relu_b"),
                keras.layers.MaxPooling2D(name="pool_b"),
                keras.layers.AveragePooling2D(2, name="avg_pool_b"),
                keras.layers.Dropout(0.2, seed=1, name="drop"),
                keras.layers.GlobalAveragePooling2D(name="gap"),
                keras.layers.Dense(3, name="logits", kernel_initializer="zeros"),
            ]
        )
        name = self.call(pick_layer, model, signature="pick_layer(model)", quiet=True)
        if not isinstance(name, str):
            self.fail(f"Return the layer's name, a string (layer.name); your function returned {name!r:.60}.")
        layer = model.get_layer(name)  # for a name it has not, Keras lists the names it has
        if len(layer.output.shape) != 4:
            self.fail(
                f"{name!r} outputs shape {tuple(layer.output.shape)}: no (height, width) map left, so there is nothing "
                "to draw. Look further back, before global pooling / flatten / the dense layers."
            )
        if name != "relu_b":
            here, there = sorted([model.layers.index(layer), model.layers.index(model.get_layer("relu_b"))])
            kinds = ", ".join(type(step).__name__ for step in model.layers[here : there + 1])
            self.fail(
                f"You chose {name!r}, not 'relu_b' (the layers from one to the other, in order: {kinds}). Grad-CAM "
                "explains the LAST layer that computes features on a map, whatever its kind: not the last Conv2D (or "
                "ReLU), since the layers after it may still compute features, nor a pooling or dropout layer after it."
            )


# ------------------------------------------------------------------ q2: a class-weighted retrain
class FakeHead:
    """A stand-in for a trained head of 4 classes that answers like a Keras model (``predict(x)``, ``head(x)``): a naive
    Bayes fitted with sample weights, whose prior is the weighted class counts; class 0, never seen, scores -inf."""

    def __init__(self, x, y, class_weight=None):
        from sklearn.naive_bayes import GaussianNB

        self.fitted = GaussianNB().fit(x, y, sample_weight=[(class_weight or {}).get(c, 1.0) for c in y])

    def predict(self, x, verbose=0, **options):  # options such as training=False change nothing here
        return np.pad(self.fitted.predict_log_proba(np.asarray(x)), ((0, 0), (1, 0)), constant_values=-np.inf)

    __call__ = predict


def imbalanced_case(seed=8):
    """Features of 4 classes in 2-D: class 2 rare in training, class 0 absent (as the daisies); a balanced test set."""
    rng = np.random.default_rng(seed)
    centres = np.array([[1.2, 1.2], [0, 0], [1.2, 0], [0, 1.2]])
    y, y_test = np.repeat([1, 2, 3], [200, 12, 150]), np.repeat(np.arange(4), 50)
    x, x_test = (centres[labels] + rng.normal(scale=0.6, size=(len(labels), 2)) for labels in (y, y_test))
    return x, y, x_test, y_test


def reference_gain(train_head, x, y, x_test, y_test, power=-1):
    """Recall per class with class weights count**power (-1 balances the classes) minus recall without weights."""
    weights = {c: float(n) ** power for c, n in enumerate(np.bincount(y, minlength=4)) if n > 0}
    predicted = [head.predict(x_test).argmax(1) for head in (train_head(x, y), train_head(x, y, class_weight=weights))]
    recalls = [[np.mean(p[y_test == c] == c) for c in range(4)] for p in predicted]  # every class has test photos
    return np.subtract(recalls[1], recalls[0])


class WeightedRecallGain(Question):
    chapter, number = "ch08", 2
    absent = "Class 0 has no training photos (count 0): give it no weight (compute_class_weight: classes=np.unique(y))."

    def _check(self, weighted_recall_gain):
        x, y, x_test, y_test = imbalanced_case()

        def train_head(x_train, y_train, seed=0, class_weight=None):
            if class_weight is not None and not isinstance(class_weight, dict):
                self.fail(
                    f"class_weight should be a dict {{class: weight}}; you passed a {type(class_weight).__name__}. "
                    "compute_class_weight returns an array: pair it with its classes, dict(zip(classes, weights))."
                )
            return FakeHead(x_train, y_train, class_weight)

        got = self.call(
            weighted_recall_gain, train_head, x, y, x_test, y_test, 4, quiet=True,
            explain={"ZeroDivisionError": self.absent, "valid labels that are in y": self.absent, "y_pred": "Give "
                     "recall_score one class per photo, not the head's scores: head.predict(x_test).argmax(axis=1)."},
            signature="weighted_recall_gain(train_head, x, y, x_test, y_test, num_classes)",
        )  # fmt: skip
        gain, expected = np.asarray(got, dtype=float), reference_gain(train_head, x, y, x_test, y_test)
        mistakes = {  # weights that grow with the count
            "The rare class 2 lost recall: are your weights upside down? A class with few photos needs a LARGE "
            "weight, total / (classes * count).": reference_gain(train_head, x, y, x_test, y_test, power=1),
        }
        otherwise = (
            f"On the check's data the recall changes should be {np.round(expected, 2).tolist()}, yours are "
            f"{np.round(gain, 2).tolist()}: one per class, class 0 too (labels=range(num_classes)), recall with "
            "class_weight={each class: its own weight} minus without."
        )
        explain_difference(self, gain, expected, mistakes, otherwise, atol=1e-6)


# ------------------------------------------------------------------ q3: test a heatmap by occlusion
class CornerModel:
    """A stand-in classifier with 2 classes: the class-0 logit is the brightness of the top-left quarter."""

    def predict(self, images, verbose=0, **options):  # options such as training=False change nothing here
        corner = np.asarray(images, "float64")[:, :8, :8, :].mean(axis=(1, 2, 3)) / 32.0
        return np.stack([corner, np.full_like(corner, 4.0)], axis=1)

    __call__ = predict_on_batch = predict


class OcclusionTest(Question):
    chapter, number = "ch08", 3

    def _check(self, occlusion_test):
        model, rng = CornerModel(), np.random.default_rng(3)
        image = rng.uniform(150, 255, (16, 16, 3)).astype("float32")
        heatmap = rng.uniform(0, 0.5, (16, 16))
        heatmap[:8, :8] += 0.5  # the heatmap points at the top-left quarter, where the evidence is
        got = self.call(
            occlusion_test, model, image.copy(), heatmap.copy(), 0, 0.25, quiet=True,
            explain={"3-dimensional": "model.predict takes a batch: np.stack([image, occluded]) or image[None]."},
            signature="occlusion_test(model, image, heatmap, class_index, fraction)",
        )  # fmt: skip
        got = np.array([float(got["hot"]), float(got["cold"])])
        occluded = image.copy()
        occluded[:8, :8] = 127.5  # the 25% hottest pixels are that quarter; greying out the coldest changes nothing
        logits = model.predict(np.stack([image, occluded]))
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        expected = np.array([probabilities[0, 0] - probabilities[1, 0], 0.0])
        mistakes = {
            "'hot' and 'cold' are swapped: the hot pixels are those with the LARGEST heatmap values.": expected[::-1],
            "The drop has the wrong sign: probability on the original image minus on the occluded one.": -expected,
            "Those are drops of the logits, the model's raw scores: turn them into probabilities with a softmax "
            "(keras.ops.softmax) before you subtract.": np.array([logits[0, 0] - logits[1, 0], 0]),
        }
        explain_difference(
            self, got, expected, mistakes, f"On the check's image (fraction=0.25) drops should be hot {expected[0]:.3f}"
            f", cold {expected[1]:.3f}; yours are {got[0]:.3f}, {got[1]:.3f}. In a copy of the image, grey out round("
            "fraction * heatmap.size) = 64 pixels from np.argsort(heatmap, axis=None), all 3 channels, to 127.5.",
            atol=1e-4,
        )  # fmt: skip


q1 = PickLayer()
q2 = WeightedRecallGain()
q3 = OcclusionTest()
