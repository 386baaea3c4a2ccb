"""Chapter 04 (Data augmentation): checks of the two exercises."""

from __future__ import annotations

from typing import Any

from helpers.exercises.ch03 import AUGMENTATION_LAYERS
from helpers.exercises.question import Question, as_array, layer_types, walk_layers


class AugmentationPipeline(Question):
    chapter, number = "ch04", 1
    title = "An augmentation pipeline and 8 variants of one image"
    hints = [
        "my_augmentation = keras.Sequential([layers.RandomFlip('horizontal'), layers.RandomRotation(0.05), ...]) "
        "with at least three Random* layers.",
        "Make 8 copies of one image with np.repeat(x_train_all[3:4].astype('float32'), 8, axis=0).",
        "Call the pipeline with training=True (otherwise it does nothing) and convert the result with "
        "keras.ops.convert_to_numpy.",
    ]

    answer_names = ("my_augmentation", "variants")

    def _check(self, pipeline: Any, variants: Any):
        import keras
        import numpy as np

        if not isinstance(pipeline, keras.layers.Layer):
            self.fail(f"my_augmentation should be a Keras layer or keras.Sequential, got a {type(pipeline).__name__}.")
        names = layer_types(pipeline) or [type(pipeline).__name__]
        random_layers = sorted({name for name in names if name in AUGMENTATION_LAYERS})
        if "RandomFlip" in names:
            for layer in walk_layers(pipeline):
                if type(layer).__name__ == "RandomFlip" and "vertical" in str(getattr(layer, "mode", "")):
                    self.fail(
                        "Your RandomFlip also flips vertically: upside-down ships and horses do not occur in "
                        "CIFAR-10. Use RandomFlip('horizontal')."
                    )
        if len(random_layers) < 3:
            self.fail(
                f"The pipeline has {len(random_layers)} kind(s) of augmentation layer ({', '.join(random_layers) or 'none'}); "
                "use at least three of RandomFlip, RandomRotation, RandomZoom, RandomContrast, RandomTranslation."
            )
        variants = as_array(self, variants, "variants")
        if variants.shape != (8, 32, 32, 3):
            self.fail(
                f"variants has shape {variants.shape}; expected (8, 32, 32, 3): eight augmented copies of one image."
            )
        flat = variants.reshape(8, -1).astype("float64")
        if np.allclose(flat, flat[:1]):
            self.fail(
                "All eight variants are identical: call the pipeline with training=True so that the layers are active."
            )
        if flat.max() <= 1.5 and flat.min() >= 0:
            return (
                f"{len(random_layers)} augmentations ({', '.join(random_layers)}), eight different variants "
                "(scaled to 0-1: plot them without the /255)."
            )
        return f"{len(random_layers)} augmentations ({', '.join(random_layers)}) and eight different variants."


class CompareCurves(Question):
    chapter, number = "ch04", 2
    title = "Validation curves with and without augmentation"
    hints = [
        "Loop over [('without', None), ('with', my_augmentation)]; build and compile a fresh model each time.",
        "my_histories[key] = model.fit(small_ds, validation_data=val_ds, epochs=10, verbose=0)",
    ]

    def _check(self, answer: Any):
        if not isinstance(answer, dict):
            self.fail(f"Pass a dict {{'without': history, 'with': history}}, got a {type(answer).__name__}.")
        if set(answer) != {"without", "with"}:
            self.fail(f"Use exactly the keys 'without' and 'with'; your dict has {sorted(answer)}.")
        gaps = {}
        lengths = {}
        for key, history in answer.items():
            values = getattr(history, "history", None)
            if not isinstance(values, dict):
                self.fail(
                    f"my_histories[{key!r}] should be the History that fit returns, got {type(history).__name__}."
                )
            if "val_accuracy" not in values:
                self.fail(f"The {key!r} run has no validation accuracy: pass validation_data=val_ds to fit.")
            lengths[key] = len(values["val_accuracy"])
            gaps[key] = values["accuracy"][-1] - values["val_accuracy"][-1]
        if answer["without"] is answer["with"]:
            self.fail("Both entries are the same History: train two separate models.")
        if lengths["without"] != lengths["with"]:
            self.fail(
                f"The runs have {lengths['without']} and {lengths['with']} epochs: train both for the same number of "
                "epochs, or the comparison is not fair."
            )
        models = [getattr(answer[k], "model", None) for k in ("without", "with")]
        if all(m is not None for m in models):
            has_aug = [any(name in AUGMENTATION_LAYERS for name in layer_types(m)) for m in models]
            if has_aug[0]:
                self.fail("The 'without' model contains augmentation layers: build it with build_model() alone.")
            if not has_aug[1]:
                self.fail("The 'with' model has no augmentation layer: build it with build_model(my_augmentation).")
        return (
            f"Overfitting gap (training - validation accuracy) after {lengths['with']} epochs: "
            f"without {gaps['without']:+.1%}, with {gaps['with']:+.1%}. On the real data the gap is clearly "
            "smaller with augmentation."
        )


q1 = AugmentationPipeline()
q2 = CompareCurves()
