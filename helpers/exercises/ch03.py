"""Chapter 03 (Building CNN classifiers): checks of the four exercises."""

from __future__ import annotations

import inspect
import math
import re
from typing import Any

import numpy as np

from helpers import course
from helpers.exercises.question import Question, as_array, require_model, walk_layers


def _trained(question: Question, model: Any, history: Any, epochs: int, examples: int, batch: int) -> None:
    """Fail unless ``model`` took exactly the steps of ``epochs`` epochs over ``examples`` in batches of ``batch``."""
    if not isinstance(getattr(history, "history", None), dict) or not history.history.get("loss"):
        question.fail(f"Pass the History that fit returns as the second answer; got a {type(history).__name__}.")
    took = int(model.optimizer.iterations) if getattr(model, "optimizer", None) is not None else 0
    per_epoch, n = math.ceil(course.take(examples) / batch), course.epochs(epochs)
    if took != n * per_epoch:
        question.fail(f"Your model took {took} training steps; course.epochs({epochs}) epochs over "
                      f"{course.take(examples):,} images in batches of {batch} make {n} x {per_epoch} = {n * per_epoch}. "
                      "Check the images, batch_size and epochs (running fit again goes on training: rebuild first).")  # fmt: skip


def _logits_match_the_loss(question: Question, model: Any) -> None:
    """Fail when the last layer and the cross-entropy loss disagree about logits (a silent, slow-training bug)."""
    loss = getattr(model, "loss", None)  # a name, a function or a Loss object, whose config holds from_logits
    config = loss.get_config() if callable(getattr(loss, "get_config", None)) else {}
    if "crossentropy" not in str(config.get("name") or getattr(loss, "__name__", loss)).lower().replace("_", ""):
        return
    from_logits = bool(config.get("from_logits"))
    last = walk_layers(model)[-1]
    kind = "softmax" if type(last).__name__ == "Softmax" else getattr(getattr(last, "activation", None), "__name__", "")
    if kind == "softmax" and from_logits:
        question.fail("Your last layer applies softmax and the loss (from_logits=True) applies it again: end with "
                      "Dense(10) without an activation, as the first CNN does.")  # fmt: skip
    if kind == "linear" and not from_logits:
        question.fail("Your last layer, Dense(10), outputs logits, but the loss reads its input as probabilities: "
                      "compile with keras.losses.SparseCategoricalCrossentropy(from_logits=True).")  # fmt: skip


class FitLine(Question):
    chapter, number = "ch03", 1

    def _check(self, answer: Any):
        rng = np.random.default_rng(3)
        x = rng.uniform(0, 2, 40)
        y = 1.5 * x - 0.5 + rng.normal(0, 0.1, 40)
        best_w, best_b = np.polyfit(x, y, 1)

        def run(rate: float, steps: int) -> tuple[float, float, np.ndarray]:
            result = self.call(answer, x, y, rate, steps, signature="fit_line(x, y, learning_rate, steps)", quiet=True)
            if not isinstance(result, (tuple, list)) or len(result) != 3:
                self.fail(f"End with `return w, b, losses`; your function returned {result!r:.60}.")
            if np.size(result[0]) == steps != np.size(result[2]):
                self.fail("Return the three in the order the exercise gives: `return w, b, losses`.")
            losses = as_array(self, result[2], "losses").astype(float).ravel()
            if len(losses) != steps:
                self.fail(f"With steps={steps}, losses should hold {steps} values, one per step; it has {len(losses)}.")
            return float(np.asarray(result[0])), float(np.asarray(result[1])), losses

        w, b, losses = run(0.1, 500)
        if not np.isclose(losses[0], np.mean(y**2)):
            for value, what in ((np.sum(y**2), "the sum of the squared errors: record their mean, np.mean(error ** 2)"),
                                (np.sqrt(np.mean(y**2)), "the square root of the mean squared error: record "
                                 "np.mean(error ** 2) itself"),
                                (np.mean(y**2) / 2, "half the mean squared error: record np.mean(error ** 2)")):  # fmt: skip
                if np.isclose(losses[0], value):
                    self.fail(f"Your first loss is {what}.")
            self.fail("The first loss is that of w = b = 0: start from zero and record the loss before each update.")
        if not np.all(np.isfinite(losses)) or losses[-1] > losses[0]:
            if run(1e-4, 5)[2][-1] > losses[0]:
                self.fail("Your loss grows even at a tiny learning rate: step against the gradient (minus), not along.")
            self.fail("Your loss grows at learning_rate=0.1, where it should fall: are your gradients a mean "
                      "(np.mean), not a sum?")  # fmt: skip
        if np.isclose(b, 0.0):
            self.fail("b never moves: update the intercept too, with its gradient mean(2 * error).")
        w_ref, b_ref = 0.0, 0.0  # 20 steps of gradient descent, to compare the learner's with
        for _ in range(20):
            error = w_ref * x + b_ref - y
            w_ref, b_ref = w_ref - 0.1 * np.mean(2 * error * x), b_ref - 0.1 * np.mean(2 * error)
        w20, b20, _ = run(0.1, 20)
        if not (np.isclose(w, best_w, atol=1e-3) and np.isclose(b, best_b, atol=1e-3) and
                np.allclose([w20, b20], [w_ref, b_ref], atol=1e-6)):  # fmt: skip
            self.fail(f"After 20 steps at learning_rate=0.1 gradient descent reaches w = {w_ref:.4f}, b = {b_ref:.4f}; "
                      f"you reach w = {w20:.4f}, b = {b20:.4f}. Compare your gradients with the formulas (the 2, the x), "
                      "and compute both from the same error before updating either.")  # fmt: skip
        too_large = run(0.6, 30)[2]
        if np.all(np.isfinite(too_large)) and too_large[-1] < too_large[0]:
            self.fail("At learning_rate=0.6 your loss still falls, where steps that big overshoot: does your "
                      "update use the learning_rate argument?")  # fmt: skip
        return f"The best line, w = {w:.3f}, b = {b:.3f}; at learning_rate=0.6 the loss grows: too large a step."


class FashionCnn(Question):
    chapter, number = "ch03", 2
    answer_names = ("fashion_cnn", "fashion_history", "fashion_accuracy")

    def _check(self, model: Any, history: Any, accuracy: Any, *, images: Any = None, labels: Any = None):
        model = require_model(self, model, "fashion_cnn")
        if tuple(model.input_shape[1:]) != (28, 28, 1):
            self.fail(f"Your model takes {tuple(model.input_shape[1:])} inputs; Fashion-MNIST's are 28x28 with one "
                      "channel: keras.Input(shape=(28, 28, 1)).")  # fmt: skip
        filters = [layer.filters for layer in walk_layers(model, "Conv2D")]
        if filters != [32, 64, 64] or len(walk_layers(model, "Dense")) != 2 or model.output_shape[-1] != 10:
            self.fail(f"Your convolutions have {filters} filters; the first CNN is Conv2D 32, 64, 64 (pooling "
                      "between), Flatten, Dense(64), Dense(10).")  # fmt: skip
        if not walk_layers(model, "Rescaling"):
            self.fail("Keep the first CNN's Rescaling(1.0 / 255) layer: the model itself turns the raw 0-255 pixels "
                      "into 0-1, so that fit, evaluate and the check all give it the images as they are loaded.")  # fmt: skip
        _logits_match_the_loss(self, model)
        _trained(self, model, history, 2, 10_000, 64)
        if np.ndim(accuracy):
            self.fail("evaluate returns [loss, accuracy]: give only the accuracy, `_, fashion_accuracy = ...`.")
        for key, what in (("loss", "the training loss"), ("accuracy", "the training accuracy")):
            if np.isclose(float(accuracy), history.history.get(key, [np.nan])[-1]):
                self.fail(f"{float(accuracy):.4f} is {what} of the last epoch; give the test images' accuracy.")
        if images is None or labels is None:
            self.fail("Pass the test images too: check(..., images=fashion_x_test, labels=fashion_y_test).")
        x = np.asarray(images)
        measured_loss, measured = model.evaluate(x[..., None] if x.ndim == 3 else x, np.asarray(labels), verbose=0)[:2]
        if np.isclose(float(accuracy), measured_loss, rtol=1e-3) and not np.isclose(
            float(accuracy), measured, atol=2e-3
        ):
            self.fail(f"{float(accuracy):.4f} is the test loss: evaluate returns [loss, accuracy], so take the "
                      "second, `_, fashion_accuracy = fashion_cnn.evaluate(...)`.")  # fmt: skip
        if float(accuracy) > 1:
            self.fail(f"Give the accuracy as a fraction (0.75, not 75); you gave {float(accuracy)}.")
        if not np.isclose(float(accuracy), measured, atol=0.002):
            self.fail(f"On the test images your model gets {measured:.4f}, not {float(accuracy):.4f}: evaluate on "
                      "all of fashion_x_test as loaded (with its channel axis, pixels 0-255: Rescaling scales them).")  # fmt: skip
        return (f"Test accuracy {measured:.1%}. Centred grey clothes on a plain background are easier than "
                "CIFAR-10's photos, so the same network does better here.")  # fmt: skip


class ImprovedModel(Question):
    chapter, number = "ch03", 3
    answer_names = ("improved_model", "improved_history")

    def _check(self, model: Any, history: Any):
        model = require_model(self, model, "improved_model")
        layers, convs = walk_layers(model), walk_layers(model, "Conv2D")
        names = [type(layer).__name__ for layer in layers]
        if [conv.filters for conv in convs] != [32, 64, 64] or model.output_shape[-1] != 10:
            self.fail(f"Your convolutions have {[c.filters for c in convs]} filters; keep the first CNN's 32, 64, 64 "
                      "and end with Dense(10).")  # fmt: skip
        for after in (layers[layers.index(conv) + 1] for conv in convs):
            if type(after).__name__ != "BatchNormalization":
                self.fail(f"Follow every convolution by BatchNormalization, not {type(after).__name__}.")
            if not np.isclose(after.momentum, 0.9):
                self.fail(f"BatchNormalization(momentum=0.9), not {after.momentum}: with 0.99 the running averages "
                          "lag behind in a 3-epoch run, and the validation accuracy means little.")  # fmt: skip
        for conv in convs:
            activation = getattr(conv.activation, "__name__", "linear")
            if activation != "linear" or conv.padding != "same" or conv.use_bias:
                self.fail(f"Write each convolution as Conv2D(filters, 3, padding='same', use_bias=False), not "
                          f"padding={conv.padding!r}, use_bias={conv.use_bias}, activation={activation!r}: the ReLU comes "
                          "after BatchNormalization, 'same' keeps the maps' size, and BatchNormalization adds its own "
                          "offset, which makes a bias useless.")  # fmt: skip
        for norm in walk_layers(model, "BatchNormalization"):
            after = layers[layers.index(norm) + 1] if layers.index(norm) + 1 < len(layers) else None
            kind = type(after).__name__
            if not (kind == "ReLU" or getattr(getattr(after, "activation", None), "__name__", "") == "relu"):
                self.fail(f"Follow every BatchNormalization by a ReLU(), not {kind}: without it nothing between "
                          "the convolutions is non-linear.")  # fmt: skip
        rates, dense = [layer.rate for layer in walk_layers(model, "Dropout")], walk_layers(model, "Dense")
        head = "Flatten" not in names and "GlobalAveragePooling2D" in names and len(dense) == 1
        if not head or not rates or not np.allclose(rates, 0.3):
            self.fail("Put GlobalAveragePooling2D() and Dropout(0.3) in place of Flatten and Dense(64), and keep only "
                      f"the last layer, Dense(10); your model has {len(dense)} Dense layers and Dropout rates {rates}.")  # fmt: skip
        if walk_layers(model, "Random"):
            self.fail("Leave augmentation out of this 3-epoch run: it pays off only over longer trainings.")
        _logits_match_the_loss(self, model)
        rate = model.optimizer.get_config()["learning_rate"] if getattr(model, "optimizer", None) else None
        if not isinstance(rate, dict) or rate.get("class_name") != "CosineDecay":
            self.fail("The learning rate is not a schedule: compile with Adam(CosineDecay(2e-3, decay_steps)).")
        if not np.isclose(rate["config"]["initial_learning_rate"], 2e-3):
            self.fail(f"Your schedule starts at {rate['config']['initial_learning_rate']:g}; start it at 2e-3.")
        _trained(self, model, history, 3, 10_000, 32)
        if rate["config"]["decay_steps"] != int(model.optimizer.iterations):
            self.fail(f"decay_steps is {rate['config']['decay_steps']}, but the training took "
                      f"{int(model.optimizer.iterations)} steps: count steps (epochs x batches), not epochs.")  # fmt: skip
        if "val_accuracy" not in history.history:
            self.fail("The history has no validation accuracy: fit with validation_data=val_ds.")
        return f"Right model, schedule and training: validation accuracy {history.history['val_accuracy'][-1]:.1%}."


class GradientStep(Question):
    chapter, number = "ch03", 4
    max_norm = 0.05  # small enough that the check's batch is always clipped

    def _check(self, answer: Any):
        import keras
        import tensorflow as tf

        rng = np.random.default_rng(0)
        images, labels = rng.normal(size=(8, 6, 6, 3)).astype("float32"), rng.integers(0, 4, size=(8, 1))

        def tiny(seeded=keras.initializers.GlorotUniform):  # seeded: identical models, global RNG untouched
            inputs = keras.Input(shape=(6, 6, 3))
            x = keras.layers.BatchNormalization()(keras.layers.Conv2D(4, 3, kernel_initializer=seeded(7))(inputs))
            x = keras.layers.Dropout(0.5, seed=11)(keras.layers.GlobalAveragePooling2D()(x))
            return keras.Model(inputs, keras.layers.Dense(4, kernel_initializer=seeded(8))(x))

        def same(a, b, trainable=True):
            pairs = zip(*(m.trainable_weights if trainable else m.non_trainable_weights for m in (a, b)))
            return all(np.allclose(np.asarray(x), np.asarray(y), atol=1e-6) for x, y in pairs)

        loss_fn, mine, reference, unclipped = keras.losses.SparseCategoricalCrossentropy(True), tiny(), tiny(), tiny()
        loss = self.call(answer, mine, keras.optimizers.SGD(0.1), loss_fn, tf.constant(images), tf.constant(labels),
                         self.max_norm, signature="gradient_step(model, optimizer, loss_fn, images, labels, max_norm)",
                         explain=lambda exc: _explain_step_error(answer, exc))  # fmt: skip
        with tf.GradientTape() as tape:
            ref_loss = loss_fn(labels, reference(images, training=True))
        gradients = tape.gradient(ref_loss, reference.trainable_variables)
        keras.optimizers.SGD(0.1).apply_gradients(zip(gradients, unclipped.trainable_variables))
        clipped = tf.clip_by_global_norm(gradients, self.max_norm)[0]
        keras.optimizers.SGD(0.1).apply_gradients(zip(clipped, reference.trainable_variables))
        if same(mine, tiny()):
            self.fail("Your gradient_step does nothing yet (it returns None and changes no weight): write its body."
                      if loss is None else "The weights did not change: call optimizer.apply_gradients(zip("
                      "gradients, model.trainable_variables)).")  # fmt: skip
        if loss is None:
            self.fail("Your function returns nothing: end it with `return loss`.")
        if same(mine, tiny(), trainable=False):
            self.fail("The BatchNorm statistics did not move: call the model with training=True inside the tape.")
        if same(mine, unclipped):
            self.fail("Your step applies the gradients unclipped: before apply_gradients, rescale them with "
                      "`gradients, norm = tf.clip_by_global_norm(gradients, max_norm)`.")  # fmt: skip
        if not same(mine, reference):
            self.fail("Your weights differ from one reference step: compute loss_fn(labels, logits) (labels first), "
                      "its gradient with respect to model.trainable_variables, clip all gradients together with "
                      "tf.clip_by_global_norm (not each with tf.clip_by_norm), and apply them exactly once.")  # fmt: skip
        try:
            value = float(np.asarray(loss, dtype=float).reshape(()))  # one number, in whatever container
        except (TypeError, ValueError):
            self.fail(
                f"Return the loss, one number (what loss_fn gives); your function returns a {type(loss).__name__}."
            )
        if not np.isclose(value, float(ref_loss), rtol=1e-4, atol=1e-5):
            self.fail(f"The update is right, but you return {value:.4f} instead of this batch's "
                      f"loss ({float(ref_loss):.4f}): return the loss computed inside the tape.")  # fmt: skip
        return "Your step matches the reference clipped update exactly (in Keras: Adam(..., global_clipnorm=1.0))."


def _explain_step_error(answer: Any, exc: Exception) -> str | None:
    """A hint for the two errors a training step most often raises."""
    if "No gradients provided" in str(exc):
        return ("The tape recorded nothing to differentiate: compute the logits and the loss inside "
                "`with tf.GradientTape() as tape:`.")  # fmt: skip
    try:
        source = inspect.getsource(inspect.unwrap(getattr(answer, "python_function", answer)))
    except (OSError, TypeError):
        return None
    if re.search(r"^\s*\w+\s*=\s*tf\.clip_by_global_norm\([^\n]*\)\s*(#.*)?$", source, re.MULTILINE):
        return ("tf.clip_by_global_norm returns two things, the clipped gradients and their norm before clipping: "
                "`gradients, norm = tf.clip_by_global_norm(gradients, max_norm)`.")  # fmt: skip
    return None


q1, q2, q3, q4 = FitLine(), FashionCnn(), ImprovedModel(), GradientStep()
