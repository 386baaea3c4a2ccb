"""Chapter 03 (Building CNN classifiers): checks of the three exercises."""

from __future__ import annotations

from typing import Any

from helpers.exercises.question import Question, layer_types

AUGMENTATION_LAYERS = (
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomContrast",
    "RandomTranslation",
    "RandomCrop",
    "RandomBrightness",
)


class SimpleCnnHistory(Question):
    chapter, number = "ch03", 1
    title = "Train the simple CNN and report its validation accuracy"
    hints = [
        "Copy the first CNN of the chapter (keras.Sequential with keras.Input, Rescaling, three Conv2D...).",
        "Compile with metrics=['accuracy'] so that the history records accuracy.",
        "Pass validation_data=val_ds to fit, and keep what fit returns: history = model.fit(...).",
    ]

    def _check(self, answer: Any):
        import keras

        if isinstance(answer, keras.Model):
            self.fail("That is the model. Pass the History that fit returns: `simple_history = simple_cnn.fit(...)`.")
        if isinstance(answer, (int, float)):
            self.fail("Pass the History object that fit returns (not a number), so the check can read every epoch.")
        values = getattr(answer, "history", None)
        if not isinstance(values, dict):
            self.fail(f"Expected the History that model.fit(...) returns, got a {type(answer).__name__}.")
        if not values or not values.get("loss"):
            self.fail("This history is empty: did fit run for at least one epoch?")
        if "accuracy" not in values:
            self.fail(f"The history records {sorted(values)} but no 'accuracy': add metrics=['accuracy'] to compile.")
        if "val_accuracy" not in values:
            self.fail("There is no validation accuracy: pass validation_data=val_ds to fit.")
        model = getattr(answer, "model", None)
        if model is not None:
            shape = tuple(model.output_shape) if hasattr(model, "output_shape") else None
            if shape is not None and shape[-1] != 10:
                self.fail(f"The model ends with {shape[-1]} outputs; CIFAR-10 has 10 classes: end with Dense(10).")
        accuracy = float(values["val_accuracy"][-1])
        epochs = len(values["val_accuracy"])
        return (
            f"Validation accuracy after {epochs} epoch(s): {accuracy:.1%}. Keep this number to compare in exercise 2."
        )


class ImprovedModel(Question):
    chapter, number = "ch03", 2
    title = "Improve the CNN with batch normalisation and global pooling"
    hints = [
        "Keep keras.Input((32, 32, 3)) and Rescaling(1.0 / 255) first; leave augmentation out for this short run.",
        "After each Conv2D (padding='same', use_bias=False), add BatchNormalization(momentum=0.9) and then ReLU().",
        "Replace Flatten + Dense(64) by GlobalAveragePooling2D() and Dropout(0.3), then Dense(10).",
    ]

    def _check(self, answer: Any):
        import keras

        if not isinstance(answer, keras.Model):
            self.fail(f"Pass the Keras model itself (`improved_model`), got a {type(answer).__name__}.")
        names = layer_types(answer)
        shape = tuple(answer.input_shape) if hasattr(answer, "input_shape") else None
        if shape is not None and tuple(shape[1:]) != (32, 32, 3):
            self.fail(f"The model takes inputs of shape {shape[1:]}; CIFAR-10 images are (32, 32, 3).")
        if tuple(answer.output_shape)[-1] != 10:
            self.fail(f"The model ends with {answer.output_shape[-1]} outputs; it needs 10, one per class.")
        n_conv = names.count("Conv2D")
        n_bn = names.count("BatchNormalization")
        if n_conv < 3:
            self.fail(f"The model has {n_conv} Conv2D layer(s); keep the three convolutions of the simple CNN.")
        if n_bn < n_conv:
            self.fail(f"{n_conv} convolutions but {n_bn} BatchNormalization layer(s): add one after every convolution.")
        if "Flatten" in names or "GlobalAveragePooling2D" not in names:
            self.fail("Replace Flatten by GlobalAveragePooling2D(): one average per feature map, far fewer parameters.")
        if "Dropout" not in names:
            self.fail("Add a Dropout layer (e.g. 0.3) before the last Dense layer.")
        if not getattr(answer, "optimizer", None) or not getattr(answer, "compiled", True):
            self.fail("The model is not compiled yet: compile and fit it, then compare the validation accuracies.")
        augmented = any(name in AUGMENTATION_LAYERS for name in names)
        return (
            f"A {answer.count_params():,}-parameter model with {n_bn} BatchNorm layers and a pooled head"
            + (" (and augmentation, which slows down a 3-epoch run: try it without)" if augmented else "")
            + ". Compare its validation curve with the simple CNN's in the plot."
        )


class GradientStep(Question):
    chapter, number = "ch03", 3
    title = "A training step with gradient clipping"
    hints = [
        "Start from `train_step` in the chapter: a GradientTape around logits = model(images, training=True) "
        "and loss = loss_fn(labels, logits), then gradients = tape.gradient(loss, model.trainable_variables).",
        "Before applying them, clip all gradients together: "
        "gradients, norm = tf.clip_by_global_norm(gradients, max_norm).",
        "optimizer.apply_gradients(zip(gradients, model.trainable_variables)), then return loss.",
    ]
    max_norm = 0.05  # small enough that the check's batch is always clipped

    def _check(self, answer: Any):
        self.require_callable(answer, "gradient_step")
        import keras
        import numpy as np
        import tensorflow as tf

        rng = np.random.default_rng(0)
        images = rng.normal(size=(8, 6, 6, 3)).astype("float32")
        labels = rng.integers(0, 4, size=(8, 1))

        def tiny_model():
            # Fixed seeds everywhere: two calls build identical models with identical dropout masks,
            # without touching the global random generators; fixed names, so messages name the same weights.
            inputs = keras.Input(shape=(6, 6, 3), name="images")
            conv = keras.layers.Conv2D(4, 3, kernel_initializer=keras.initializers.GlorotUniform(seed=7), name="conv")
            x = keras.layers.BatchNormalization(name="batchnorm")(conv(inputs))
            x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
            x = keras.layers.Dropout(0.5, seed=11, name="dropout")(x)
            dense = keras.layers.Dense(4, kernel_initializer=keras.initializers.GlorotUniform(seed=8), name="dense")
            return keras.Model(inputs, dense(x))

        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        mine, reference = tiny_model(), tiny_model()
        mine_opt, ref_opt = keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1)
        before = [np.asarray(w).copy() for w in mine.trainable_weights]
        loss = self.call(
            answer,
            mine,
            mine_opt,
            loss_fn,
            tf.constant(images),
            tf.constant(labels),
            self.max_norm,
            signature="gradient_step(model, optimizer, loss_fn, images, labels, max_norm)",
        )
        with tf.GradientTape() as tape:
            ref_logits = reference(images, training=True)
            ref_loss = loss_fn(labels, ref_logits)
        ref_gradients = tape.gradient(ref_loss, reference.trainable_variables)
        unclipped = tiny_model()
        keras.optimizers.SGD(0.1).apply_gradients(zip(ref_gradients, unclipped.trainable_variables))
        clipped, _ = tf.clip_by_global_norm(ref_gradients, self.max_norm)
        ref_opt.apply_gradients(zip(clipped, reference.trainable_variables))

        unchanged = all(np.array_equal(np.asarray(w), b) for w, b in zip(mine.trainable_weights, before))
        if unchanged and loss is None:
            self.fail(
                "Your gradient_step does nothing yet (it returns None and changes no weight): write its body "
                "in place of the `...`: a GradientTape around the forward pass, the gradients, apply_gradients, "
                "and `return loss`."
            )
        if unchanged:
            self.fail(
                "The weights did not change: call optimizer.apply_gradients(zip(gradients, model.trainable_variables))."
            )
        if loss is None:
            self.fail("Your function returns nothing: end it with `return loss`.")
        try:
            loss_value = float(np.asarray(loss))
        except (TypeError, ValueError):
            self.fail(f"Return the loss as a single number (a scalar tensor), got {type(loss).__name__}.")
        moving_before = [np.asarray(v) for v in tiny_model().non_trainable_weights]
        if all(np.array_equal(np.asarray(v), b) for v, b in zip(mine.non_trainable_weights, moving_before)):
            self.fail("The BatchNorm statistics did not move: call the model with training=True inside the tape.")

        def same(a, b):
            return all(np.allclose(np.asarray(x), np.asarray(y), atol=1e-6) for x, y in zip(a, b))

        if same(mine.trainable_weights, unclipped.trainable_weights):
            self.fail(
                "Your step applies the gradients unclipped: before apply_gradients, rescale them with "
                "`gradients, norm = tf.clip_by_global_norm(gradients, max_norm)`."
            )
        for mine_w, ref_w in zip(mine.trainable_weights, reference.trainable_weights):
            if not np.allclose(np.asarray(mine_w), np.asarray(ref_w), atol=1e-6):
                self.fail(
                    f"After your step, weight {mine_w.path} differs from one reference step: compute "
                    "loss_fn(labels, logits) (labels first), take its gradient with respect to "
                    "model.trainable_variables, clip all gradients together with tf.clip_by_global_norm "
                    "(not each one with tf.clip_by_norm), and apply them exactly once."
                )
        if not np.isclose(loss_value, float(ref_loss), rtol=1e-4, atol=1e-5):
            self.fail(
                f"The update is right, but you return {loss_value:.4f} instead of the loss of this batch "
                f"({float(ref_loss):.4f}): return the loss computed inside the tape."
            )
        return (
            "Your step matches the reference clipped update exactly. In Keras you get the same with "
            "keras.optimizers.Adam(..., global_clipnorm=1.0)."
        )


q1 = SimpleCnnHistory()
q2 = ImprovedModel()
q3 = GradientStep()
