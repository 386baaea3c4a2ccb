"""Chapter 04 (Data augmentation): augmentations that suit Fashion-MNIST, and the overfitting gap they change."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises.question import Question, explain_difference, walk_layers

#: The largest setting of each layer that keeps a Fashion-MNIST item recognisable and inside its 28x28 frame.
LIMITS = {
    "RandomRotation": (0.1, ("factor",), "turns it by more than a tenth of a full turn (36 degrees)"),
    "RandomZoom": (0.2, ("height_factor", "width_factor"), "zooms by more than 20%"),
    "RandomTranslation": (0.2, ("height_factor", "width_factor"), "moves it by more than 20% of the frame"),
    "RandomBrightness": (0.3, ("factor",), "shifts its brightness by more than 30% of the pixel range"),
    "RandomContrast": (0.5, ("factor",), "changes its contrast by more than 50%"),
}


def _strength(value: Any) -> float:
    """The largest absolute number in a layer setting (a number, a (low, high) pair or None)."""
    values = value if isinstance(value, (tuple, list)) else [value]
    return max((abs(float(v)) for v in values if isinstance(v, (int, float))), default=0.0)


class FashionAugmentation(Question):
    chapter, number = "ch04", 1

    def _check(self, pipeline: Any) -> str:
        import keras

        if not isinstance(pipeline, keras.layers.Layer):
            self.fail(
                f"fashion_augmentation should be a keras.Sequential of layers; you gave a {type(pipeline).__name__}."
            )
        random_layers = walk_layers(pipeline, "Random") or (
            [pipeline] if type(pipeline).__name__.startswith("Random") else []
        )
        kinds = sorted({type(layer).__name__ for layer in random_layers})
        if len(kinds) < 2:
            self.fail(
                f"The pipeline has {len(kinds)} kind(s) of Random layer ({', '.join(kinds) or 'none'}); use at least two."
            )
        for layer in random_layers:
            if "vertical" in str(getattr(layer, "mode", "")):
                self.fail(
                    "Your RandomFlip also flips upside down: Fashion-MNIST photos are all upright. Use 'horizontal'."
                )
            limit, settings, what = LIMITS.get(type(layer).__name__, (0, (), ""))
            for setting in settings:
                if _strength(getattr(layer, setting, None)) > limit:
                    self.fail(
                        f"{type(layer).__name__} with {setting}={getattr(layer, setting)} {what}: on 28x28 centred "
                        f"items that loses the item or makes photos that never occur. Keep it at most {limit}."
                    )
        probe = np.random.default_rng(4).uniform(0, 1, (8, 28, 28, 1)).astype("float32")
        where = "on 8 grayscale 28x28 images"
        trained = keras.ops.convert_to_numpy(self.call(lambda x: pipeline(x, training=True), probe, where=where))
        if trained.shape != probe.shape:
            self.fail(
                f"Your pipeline turns 8 images of (28, 28, 1) into shape {trained.shape}: augment, keep the shape."
            )
        if trained.max() > 1.5 or trained.min() < -0.5:
            self.fail(
                f"On pixels from 0 to 1 your pipeline gives values from {trained.min():.1f} to {trained.max():.1f}. "
                "In build_fashion_model the augmentation runs after Rescaling, on pixels from 0 to 1: give "
                "value_range=(0, 1) to layers that take one (RandomBrightness, RandomContrast); the default is 0-255."
            )
        if not np.allclose(keras.ops.convert_to_numpy(self.call(lambda x: pipeline(x, training=False), probe)), probe):
            self.fail("The pipeline changes images at prediction time too: keep Rescaling and the like out of it.")
        if np.allclose(trained, probe):
            self.fail("In training mode the pipeline left the images unchanged: are its settings all 0?")
        return f"{len(kinds)} kinds of augmentation ({', '.join(kinds)}), all mild enough to keep every label true."


def _schedule_lasted(question: Question, key: str, model: Any) -> None:
    """Fail when a run trained on after its cosine schedule had brought the learning rate to zero."""
    try:
        took, config = int(model.optimizer.iterations), model.optimizer.get_config()["learning_rate"]["config"]
        lasts = int(config["decay_steps"]) + int(config.get("warmup_steps") or 0)
    except (AttributeError, KeyError, TypeError, ValueError):  # no model or optimizer, or no schedule
        return
    if took > lasts:
        question.fail(
            f"The {key!r} run took {took} training steps, but its learning rate reached zero after {lasts}: the "
            "later steps learned nothing. compile_model(model, FASHION_EPOCHS, fashion_steps) counts batches of 128, "
            "so fit on fashion_small with batch_size=128 (fit's default is 32)."
        )


class FashionGaps(Question):
    chapter, number = "ch04", 2
    answer_names = ("fashion_histories", "fashion_gaps")

    def _check(self, histories: Any, gaps: Any) -> str:
        if not isinstance(histories, dict) or set(histories) != {"without", "with"}:
            self.fail("fashion_histories should be a dict with exactly the keys 'without' and 'with'.")
        if histories["without"] is histories["with"]:
            self.fail("Both entries are the same History: train two separate models.")
        logs = {key: getattr(history, "history", None) for key, history in histories.items()}
        for key, log in logs.items():
            if not isinstance(log, dict) or "val_accuracy" not in log:
                self.fail(f"fashion_histories[{key!r}] should be what fit returns, trained with validation_data.")
        if len(logs["without"]["accuracy"]) != len(logs["with"]["accuracy"]):
            self.fail("Train both runs for the same number of epochs, or the comparison is not fair.")
        for key, wanted in (("without", False), ("with", True)):
            model = getattr(histories[key], "model", None)
            if model is not None and bool(walk_layers(model, "Random")) != wanted:
                self.fail(f"The {key!r} model {'has no' if wanted else 'has'} augmentation layers: swap or rebuild it.")
            _schedule_lasted(self, key, model)
        expected = {key: log["accuracy"][-1] - log["val_accuracy"][-1] for key, log in logs.items()}
        if not isinstance(gaps, dict) or set(gaps) != {"without", "with"}:
            self.fail("fashion_gaps should be a dict with the keys 'without' and 'with', one number each.")
        for key, value in gaps.items():
            try:
                got = float(value)
            except (TypeError, ValueError):
                self.fail(f"fashion_gaps[{key!r}] should be one number, like 0.12; you gave {value!r}.")
            last = f"fashion_gaps[{key!r}] is {got:.4f}; the {key!r} run's last epoch gives {expected[key]:.4f}."
            best = max(logs[key]["accuracy"]) - max(logs[key]["val_accuracy"])
            mistakes = {
                "Your gaps have the wrong sign: training accuracy minus validation accuracy.": -expected[key],
                "Give the gaps as fractions, like the History's accuracies (0.12, not 12).": 100 * expected[key],
                f"{last} You used the best epochs; use the last, [-1].": best,
            }
            explain_difference(self, got, expected[key], mistakes, last, atol=1e-4)
        without, with_ = expected["without"], expected["with"]
        if without < 0.05:
            return f"Measured right. Without augmentation the gap is only {without:.1%}: the model has not overfit yet."
        if with_ < without - 0.02:
            return f"Measured right: your augmentation shrank the gap from {without:.1%} to {with_:.1%}."
        return (
            f"Measured right, but the gap did not shrink ({without:.1%} without, {with_:.1%} with): try other layers."
        )


q1 = FashionAugmentation()
q2 = FashionGaps()
