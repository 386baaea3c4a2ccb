"""Chapter 04 (Data augmentation): augmentations that suit Fashion-MNIST, and the overfitting gap they change."""

from typing import Any

import numpy as np

from helpers.exercises.question import Question, explain_difference, walk_layers

#: The largest setting of each layer that keeps a Fashion-MNIST item recognisable and inside its 28x28 frame.
LIMITS = dict(RandomRotation=0.1, RandomZoom=0.2, RandomTranslation=0.2, RandomBrightness=0.3, RandomContrast=0.5)


class FashionAugmentation(Question):
    chapter, number = "ch04", 1

    def _check(self, pipeline: Any) -> str:
        random_layers = walk_layers(pipeline, "Random")
        kinds = sorted({type(layer).__name__ for layer in random_layers})
        if len(kinds) < 2:
            self.fail(f"Put 2+ kinds of Random layer in keras.Sequential; your {type(pipeline).__name__} has {kinds}.")
        for layer in random_layers:
            if "vertical" in str(getattr(layer, "mode", "")):
                self.fail(
                    "RandomFlip flips upside down too, but Fashion-MNIST items are all upright: use 'horizontal'."
                )
            for setting in ("factor", "height_factor", "width_factor"):  # a number, a (low, high) pair or None
                value, limit = getattr(layer, setting, None), LIMITS.get(type(layer).__name__, np.inf)
                if np.abs(np.ravel(value or 0)).max() > limit:
                    self.fail(
                        f"{type(layer).__name__} with {setting}={value} is too strong for 28x28 centred items: it "
                        f"loses the item or makes photos that never occur. Keep it at most {limit}."
                    )
        probe = np.random.default_rng(4).uniform(0, 1, (8, 28, 28, 1)).astype("float32")
        trained = np.asarray(self.call(lambda x: pipeline(x, training=True), probe, where="on 8 gray 28x28 images"))
        predicted = np.asarray(self.call(lambda x: pipeline(x, training=False), probe, where="on 8 gray 28x28 images"))
        same = [out.shape == probe.shape and np.allclose(out, probe) for out in (trained, predicted)]
        others = sorted({type(x).__name__ for x in walk_layers(pipeline)} - {*kinds, "Sequential", "InputLayer"})
        if same != [False, True] or trained.shape != probe.shape or not -0.5 < trained.min() < trained.max() < 1.5:
            self.fail(  # the fallback for what the pipeline does to images
                "A pipeline keeps shape and pixel range, changes images in training and keeps them when predicting; "
                f"on 8 images (28, 28, 1) of pixels 0 to 1, yours gives shape {trained.shape}, pixels "
                f"{trained.min():.1f} to {trained.max():.1f}, {'keeps' if same[0] else 'changes'} them in training and "
                f"{'keeps' if same[1] else 'changes'} them when predicting."
                + " Give RandomBrightness value_range=(0, 1)." * ("RandomBrightness" in kinds)
                + f" Leave out what is not an augmentation: {others}." * bool(others)
            )
        return f"{len(kinds)} kinds of augmentation ({', '.join(kinds)}), all mild enough to keep every label true."


class FashionGaps(Question):
    chapter, number = "ch04", 2
    answer_names = ("fashion_histories", "fashion_gaps")

    def _check(self, histories: Any, gaps: Any) -> str:
        logs = {key: getattr(histories[key], "history", {}) for key in ("without", "with")}
        models = {key: getattr(histories[key], "model", None) for key in logs}
        epochs = [len(log.get("val_accuracy", [])) for log in logs.values()]
        augmented = [key for key, model in models.items() if walk_layers(model, "Random")]
        if augmented != ["with"] or epochs[0] != epochs[1] or not epochs[0]:
            self.fail(  # the fallback for the two runs
                "fashion_histories should hold the History objects fit returns, as many epochs each, validated on "
                f"fashion_val, augmentation only in 'with'; yours: {[type(h).__name__ for h in histories.values()]}, "
                f"{epochs} epochs of val_accuracy, augmentation in {augmented}."
            )
        for key, model in models.items():
            schedule = model.optimizer.get_config()["learning_rate"]  # compile_model's cosine schedule, as a dict
            if isinstance(schedule, dict) and int(model.optimizer.iterations) > schedule["config"]["decay_steps"]:
                self.fail(
                    f"The {key!r} run trained on after its learning rate reached zero: fit in batches of 128, as "
                    "compile_model counts them (fit's default batch_size is 32)."
                )
        expected = {key: log["accuracy"][-1] - log["val_accuracy"][-1] for key, log in logs.items()}
        for key, want in expected.items():
            got = float(gaps[key])
            mistakes = {
                "Your gaps have the wrong sign: training accuracy minus validation accuracy.": -want,
                "Give the gaps as fractions, like the History's accuracies (0.12, not 12).": 100 * want,
            }
            last = f"fashion_gaps[{key!r}] is {got:.4f}; the {key!r} run's last epoch gives {want:.4f}."
            explain_difference(self, got, want, mistakes, last, atol=1e-4)
        without, with_ = expected["without"], expected["with"]
        verdict = "your augmentation shrank the gap" if with_ < without - 0.02 else "the gap did not shrink: try others"
        verdict = "without augmentation the model has not overfit yet" if without < 0.05 else verdict
        return f"Measured right: {verdict} ({without:.1%} without, {with_:.1%} with)."


q1 = FashionAugmentation()
q2 = FashionGaps()
