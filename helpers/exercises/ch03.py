"""Chapter 03 (Building CNN classifiers): checks of the four exercises."""

import math
from typing import Any

import numpy as np

from helpers import course
from helpers.exercises.question import Question, explain_difference, require_model, walk_layers

FIRST_CNN = (  # the layers exercise 2 asks for, as _built_and_trained writes them
    "Input(shape=(28, 28, 1)) > Rescaling() > Conv2D(32, activation='relu') > MaxPooling2D() > "
    "Conv2D(64, activation='relu') > MaxPooling2D() > Conv2D(64, activation='relu') > Flatten() > "
    "Dense(64, activation='relu') > Dense(10)"
)
BLOCK = "Conv2D({}, padding='same', use_bias=False) > BatchNormalization(momentum=0.9) > ReLU()"
IMPROVED = (  # exercise 3: the first CNN with batch normalisation, global pooling and dropout
    f"Input(shape=(32, 32, 3)) > Rescaling() > {BLOCK.format(32)} > MaxPooling2D() > {BLOCK.format(64)} > "
    f"MaxPooling2D() > {BLOCK.format(64)} > GlobalAveragePooling2D() > Dropout(0.3) > Dense(10)"
)
DEFAULTS = {"padding": "valid", "use_bias": True, "activation": "linear", "momentum": 0.99}  # shown when not these
WHY = {"use_bias=False": "BatchNormalization adds its own offset", "momentum=0.9": "quick averages for a short run"}
STEP = "gradient_step(model, optimizer, loss_fn, images, labels, max_norm)"
CLIP = "tf.clip_by_global_norm returns two things: `gradients, norm = tf.clip_by_global_norm(gradients, max_norm)`."
STEP_ERRORS = {  # pieces of the errors a training step most often raises, and what they mean
    "No gradients provided": "Compute the logits and the loss inside `with tf.GradientTape() as tape:`.",
    "Shapes of all inputs must match": CLIP,  # apply_gradients stacking the pair (gradients, norm), as in
    "Shapes must be equal rank": CLIP,  # a tf.function
    "must have rank": "loss_fn takes the labels first, then the logits: loss_fn(labels, logits).",  # swapped
}


def _built_and_trained(question: Question, model: Any, history: Any, spec: str, epochs: int, batch: int):
    """The model, if its loss suits its last layer, its layers are ``spec`` and it trained as asked; else fail."""
    model = require_model(question, model, question.answer_names[0])
    calls = [f"Input(shape={model.input_shape[1:]})"]
    for layer in walk_layers(model):
        config = layer.get_config()
        shown = [str(config[key]) for key in ("filters", "units", "rate") if key in config]
        shown += [f"{key}={config[key]!r}" for key, default in DEFAULTS.items() if config.get(key, default) != default]
        calls.append(f"{type(layer).__name__}({', '.join(shown)})".replace("Activation(activation='relu')", "ReLU()"))
    calls = [call for call in calls if call != "InputLayer()"]  # a functional model's input is already the first
    softmax, from_logits = "softmax" in calls[-1].lower(), getattr(getattr(model, "loss", None), "from_logits", False)
    if softmax == from_logits:
        question.fail(
            f"Your last layer {'applies softmax' if softmax else 'outputs logits'} but from_logits={from_logits}: use "
            "Dense(10) (no activation) and compile with keras.losses.SparseCategoricalCrossentropy(from_logits=True)."
        )
    differ = [(a, b) for a, b in zip([*calls, "nothing"], [*spec.split(" > "), "nothing"]) if a != b]
    if differ:  # the first difference (why, for a setting of WHY that the learner's layer lacks), both lists of layers
        why = "".join(f" ({k}: {v})" for k, v in WHY.items() if k in differ[0][1] and k not in differ[0][0])
        question.fail(
            f"Your model has {differ[0][0]} where the exercise's has {differ[0][1]}{why}.\n"
            f"The exercise's layers: {spec}\nYours:                 {' > '.join(calls)}"
        )
    took = (int(model.optimizer.iterations), len(history.history["loss"]))
    images, n, batches = course.take(10_000), course.epochs(epochs), math.ceil(course.take(10_000) / batch)
    if took != (n * batches, n):
        question.fail(
            f"Your model took {took[0]} steps in {took[1]} epochs; course.epochs({epochs}) epochs of {images:,} images "
            f"in batches of {batch} make {n} x {batches} = {n * batches}: fix batch_size or epochs, rebuild, fit again."
        )
    return model


class FitLine(Question):
    chapter, number = "ch03", 1

    def _check(self, answer: Any):
        x = np.random.default_rng(3).uniform(0, 2, 40)
        y = 1.5 * x - 0.5 + np.random.default_rng(4).normal(0, 0.1, 40)

        def descend(rate: float) -> np.ndarray:  # 20 steps of gradient descent from w = b = 0: [w, b, *losses]
            w, b, losses = 0.0, 0.0, []
            for _ in range(20):
                error = w * x + b - y
                losses.append(np.mean(error**2))
                w, b = w - rate * np.mean(2 * error * x), b - rate * np.mean(2 * error)
            return np.array([w, b, *losses])

        w, b, losses = self.call(answer, x, y, 0.1, 20, signature="fit_line(x, y, learning_rate, steps)", quiet=True)
        got, expected = [float(w), float(b), *np.asarray(losses, dtype=float).ravel()], descend(0.1)
        mistakes = {  # the sign of the gradient flipped; sums over the 40 points, 40 times the means
            "Your loss grows: step against the gradient (minus), not along it.": descend(-0.1),
            "Your loss grows at learning_rate=0.1: average the gradients (np.mean), not sum them.": descend(0.1 * 40),
        }
        otherwise = (
            f"From w = b = 0, 20 steps at learning_rate=0.1 reach w = {expected[0]:.4f}, b = {expected[1]:.4f} with "
            f"20 losses starting {np.round(expected[2:4], 4).tolist()}; yours reach w = {got[0]:.4f}, b = {got[1]:.4f} "
            f"with {len(got) - 2} starting {np.round(got[2:4], 4).tolist()}. Record np.mean(error ** 2) before each "
            "update, then update both weights from that error."
        )
        explain_difference(self, got, expected, mistakes, otherwise)
        too_large = np.ravel(self.call(answer, x, y, 0.6, 30, quiet=True)[2]).astype(float)
        if np.all(np.isfinite(too_large)) and too_large[-1] < too_large[0]:
            self.fail("At learning_rate=0.6 your loss still falls, where steps that big overshoot: use learning_rate.")
        return f"Right: the loss falls from {got[2]:.2f} to {got[-1]:.2f} in 20 steps; at learning_rate=0.6 it grows."


class FashionCnn(Question):
    chapter, number = "ch03", 2
    answer_names = ("fashion_cnn", "fashion_history", "fashion_accuracy")

    def _check(self, model: Any, history: Any, accuracy: Any, *, images: Any, labels: Any):
        model = _built_and_trained(self, model, history, FIRST_CNN, 2, 64)
        loss, measured = model.evaluate(np.reshape(images, (-1, 28, 28, 1)), np.asarray(labels), verbose=0)[:2]
        if np.ndim(accuracy) or np.isclose(accuracy, loss) and not np.isclose(accuracy, measured):
            self.fail("evaluate returns [loss, accuracy]: keep the accuracy, `_, fashion_accuracy = ...evaluate(...)`.")
        if not np.isclose(accuracy, measured, atol=0.002):
            self.fail(
                f"On the test images your model gets {measured:.4f}, not {accuracy:.4f}: give what evaluate measures "
                "on all of fashion_x_test as loaded, a fraction (0.75, not 75), not the training history's."
            )
        return f"Test accuracy {measured:.1%}: grey clothes on a plain background are easier than CIFAR-10's photos."


class ImprovedModel(Question):
    chapter, number = "ch03", 3
    answer_names = ("improved_model", "improved_history")

    def _check(self, model: Any, history: Any):
        model = _built_and_trained(self, model, history, IMPROVED, 3, 32)
        rate, steps = model.optimizer.get_config()["learning_rate"], int(model.optimizer.iterations)
        rate = (rate["class_name"], *rate["config"].values()) if isinstance(rate, dict) else ("constant", rate)
        if rate[:2] != ("CosineDecay", 2e-3):
            self.fail(f"Your learning rate is {rate[0]} from {rate[1]:.3g}; use Adam(CosineDecay(2e-3, decay_steps)).")
        if rate[2] != steps:
            self.fail(f"decay_steps is {rate[2]}, but the training took {steps} steps: count steps, not epochs.")
        return f"Right model, schedule and training: validation accuracy {history.history['val_accuracy'][-1]:.1%}."


class GradientStep(Question):
    chapter, number = "ch03", 4

    def _check(self, answer: Any):
        import keras
        import tensorflow as tf

        images, labels = np.random.default_rng(0).normal(size=(8, 5)).astype("float32"), np.arange(8)[:, None] % 4
        dense = keras.layers.Dense(4, kernel_initializer="identity")  # no random numbers: the learner's RNG untouched
        model = keras.Sequential([keras.layers.BatchNormalization(), dense])  # with it, training=True matters
        loss_fn, sgd = keras.losses.SparseCategoricalCrossentropy(from_logits=True), keras.optimizers.SGD(0.1)
        with tf.GradientTape() as tape:  # the reference step's gradients, before the learner's step
            ref_loss = loss_fn(labels, model(images, training=True))
        gradients = tape.gradient(ref_loss, model.trainable_variables)
        start = [w.numpy() for w in model.trainable_weights]
        loss = self.call(answer, model, sgd, loss_fn, images, labels, 0.05, signature=STEP, explain=STEP_ERRORS)
        moved = np.concatenate([np.ravel(w.numpy() - w0) for w, w0 in zip(model.trainable_weights, start)])
        clipped = tf.clip_by_global_norm(gradients, 0.05)[0]  # 0.05: small enough that this batch is clipped
        unclipped, clipped = (np.concatenate([-0.1 * np.ravel(g) for g in grads]) for grads in (gradients, clipped))
        otherwise = (
            "Your weights differ from one reference step: inside the tape, call the model with training=True and take "
            "loss_fn(labels, logits); clip its gradients all together (tf.clip_by_global_norm) and apply them once."
        )
        mistakes = {f"Your step applies the gradients unclipped (clip them before apply_gradients): {CLIP}": unclipped}
        explain_difference(self, moved, clipped, mistakes, otherwise, atol=1e-6)
        if loss is None or not np.isclose(np.ravel(np.asarray(loss, dtype=float))[0], ref_loss, rtol=1e-4, atol=1e-5):
            self.fail(f"The update is right; now return the tape's loss, {ref_loss:.4f}, not {loss!r:.50}.")
        return "Your step matches the reference clipped update exactly (in Keras: Adam(..., global_clipnorm=1.0))."


q1, q2, q3, q4 = FitLine(), FashionCnn(), ImprovedModel(), GradientStep()
