"""Chapter 08 (Look inside and improve): the Grad-CAM layer, class weights, ECE, temperature."""

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
    return [(blocks, "relu_b"), (plain, "last_conv")]


def _why_wrong(model, name: str) -> str | None:
    import keras

    try:
        layer = model.get_layer(name)
    except ValueError:
        return f"{model.name} has no layer called {name!r}: return a layer's .name."
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
    title = "The layer Grad-CAM explains"
    hints = [
        "Walk model.layers from the end: reversed(model.layers).",
        "A layer still has a map when len(layer.output.shape) == 4: (batch, height, width, channels).",
        "Skip keras.layers.MaxPooling2D, AveragePooling2D and Dropout; return layer.name of the first one left.",
    ]
    correct_message = "That is the deepest map of features: detailed enough to say where, deep enough to say what."

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
            if chosen in names and names.index(chosen) < names.index(right):
                self.fail(
                    f"In {model.name} you chose {chosen!r}, an earlier layer: its map is finer but its features are "
                    "simpler (edges, colours). Grad-CAM uses the LAST layer that still has a map."
                )
            self.fail(f"In {model.name} the layer to explain is not {chosen!r}.")


# ------------------------------------------------------------------ q2: class weights
class ClassWeights(Question):
    chapter, number = "ch08", 2
    title = "Balanced class weights"
    hints = [
        "np.bincount(y, minlength=num_classes) counts the examples of each class.",
        "The weight of class c is len(y) / (num_classes * counts[c]): the rarer the class, the larger the weight.",
        "Return a dict {0: w0, 1: w1, ...} with int keys: that is what model.fit(class_weight=...) takes.",
    ]
    correct_message = "Rare classes now count as much as common ones in the loss."

    def _check(self, class_weights):
        y = np.repeat([0, 1, 2, 3], [400, 100, 40, 260])
        expected = {c: len(y) / (4 * n) for c, n in enumerate(np.bincount(y))}
        weights = self.call(class_weights, y, 4, signature="class_weights(y, num_classes)", quiet=True)
        if weights is None:
            self.fail("Your function returned None: end it with `return` and the dictionary.")
        if isinstance(weights, (list, tuple, np.ndarray)):
            self.fail(
                "Keras's class_weight= takes a dict {class_index: weight}; you returned a sequence. Use {c: w ...}."
            )
        if not isinstance(weights, dict):
            self.fail(f"Return a dict {{class_index: weight}}; you returned a {type(weights).__name__}.")
        if sorted(weights) != [0, 1, 2, 3] or not all(isinstance(k, (int, np.integer)) for k in weights):
            self.fail(f"The keys should be the class indices 0..3 as ints; yours are {sorted(weights, key=str)}.")
        values = np.array([float(weights[c]) for c in range(4)])
        right = np.array([expected[c] for c in range(4)])
        if np.allclose(values, 1 / right) or np.allclose(values / values.sum(), (1 / right) / (1 / right).sum()):
            self.fail(
                "Your weights are inverted: the most common class got the largest weight. Rare classes must weigh MORE: count -> len(y) / (num_classes * count)."
            )
        if np.allclose(values / values.sum(), right / right.sum()) and not np.allclose(values, right):
            self.fail(
                "The proportions are right but not the scale: use len(y) / (num_classes * count), so that the weights average to 1 over the examples."
            )
        if not np.allclose(values, right, rtol=1e-6):
            self.fail(
                f"For counts [400, 100, 40, 260] the weights should be {np.round(right, 3).tolist()}; yours are {np.round(values, 3).tolist()}."
            )


# ------------------------------------------------------------------ q3: ECE
def reference_ece(probabilities, y_true, n_bins=10) -> float:
    probabilities, y_true = np.asarray(probabilities), np.ravel(y_true)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def _unweighted_ece(probabilities, y_true, n_bins=10) -> float:
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    gaps = [abs(correct[bins == b].mean() - confidence[bins == b].mean()) for b in range(n_bins) if (bins == b).any()]
    return float(np.mean(gaps))


def _overconfident_sample(n=2000, seed=8):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, n)
    logits = rng.normal(size=(n, 5))
    logits[np.arange(n), y] += 1.5
    logits *= 3.0  # overconfident
    p = np.exp(logits - logits.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True), y


class ExpectedCalibrationError(Question):
    chapter, number = "ch08", 3
    title = "Expected calibration error"
    hints = [
        "confidence = probabilities.max(axis=1); correct = probabilities.argmax(axis=1) == y_true.",
        "Bin index: np.minimum((confidence * n_bins).astype(int), n_bins - 1) (a confidence of exactly 1 goes into the last bin).",
        "For each non-empty bin add (fraction of all predictions in it) * |accuracy - mean confidence| of the bin.",
    ]
    correct_message = "That is the number papers report as ECE."

    def _check(self, expected_calibration_error):
        probabilities, y = _overconfident_sample()
        value = self.call(
            expected_calibration_error,
            probabilities,
            y,
            10,
            signature="expected_calibration_error(probabilities, y_true, n_bins)",
            quiet=True,
        )
        if value is None:
            self.fail("Your function returned None: end it with `return` and the number.")
        try:
            value = float(value)
        except (TypeError, ValueError):
            self.fail(f"Return one number (a float); you returned a {type(value).__name__}.")
        right = reference_ece(probabilities, y)
        if abs(value - right) < 1e-6:
            perfect = np.eye(5)[y]
            if abs(float(self.call(expected_calibration_error, perfect, y, 10, quiet=True))) > 1e-9:
                self.fail("A perfect, fully confident model should have an ECE of 0; yours does not.")
            return None
        if abs(value - _unweighted_ece(probabilities, y)) < 1e-6:
            self.fail("You averaged the bins' gaps equally; weight each gap by the fraction of predictions in its bin.")
        confidence_true = probabilities[np.arange(len(y)), y]
        if value < 0 or abs(value) < 1e-9 and right > 0.01:
            self.fail("The gaps must be absolute values (abs): otherwise over- and underconfident bins cancel out.")
        self.fail(
            f"Expected {right:.4f} on the check's overconfident model, got {value:.4f}. Confidence is the LARGEST "
            f"probability of each row (not the true class's, whose mean here is {confidence_true.mean():.3f})."
        )


# ------------------------------------------------------------------ q4: temperature
def _nll(logits, y, t):
    z = logits / t
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


class FitTemperature(Question):
    chapter, number = "ch08", 4
    title = "Temperature scaling"
    hints = [
        "Write nll(t): the mean of -log softmax(logits / t)[i, y_i].",
        "scipy.optimize.minimize_scalar(nll, bounds=(0.05, 20), method='bounded').x finds the best t.",
        "Divide the logits by T (T > 1 softens); do not multiply.",
    ]
    correct_message = "One number, fitted on validation data, and the confidences mean what they say."

    def _check(self, fit_temperature):
        rng = np.random.default_rng(3)
        y = rng.integers(0, 4, 1500)
        logits = rng.normal(size=(1500, 4))
        logits[np.arange(1500), y] += 1.2
        logits *= 2.5  # an overconfident model: the best temperature is about 2.5
        grid = np.linspace(0.1, 10, 2000)
        best = grid[np.argmin([_nll(logits, y, t) for t in grid])]
        value = self.call(fit_temperature, logits, y, signature="fit_temperature(logits, y_true)", quiet=True)
        if value is None:
            self.fail("Your function returned None: return the temperature (a float).")
        try:
            value = float(value)
        except (TypeError, ValueError):
            self.fail(f"Return one number; you returned a {type(value).__name__}.")
        if value <= 0:
            self.fail(f"A temperature must be positive; you returned {value}.")
        if abs(value - 1 / best) < 0.05 * (1 / best):
            self.fail(
                f"You returned {value:.3f}, about 1/{best:.2f}: you multiplied the logits by T. Divide them by T."
            )
        if abs(value - best) > 0.05 * best:
            self.fail(
                f"On the check's overconfident logits the best temperature is about {best:.2f}; yours is {value:.3f}. Minimise the cross-entropy of softmax(logits / T)."
            )


q1 = PickLayer()
q2 = ClassWeights()
q3 = ExpectedCalibrationError()
q4 = FitTemperature()
