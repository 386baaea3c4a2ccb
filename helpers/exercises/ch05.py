"""Chapter 05 (Transfer learning): backbone sizes, and ResNet50 feature extraction then fine-tuning."""

from __future__ import annotations

from typing import Any

from helpers.exercises.question import Question, walk_layers

# Parameter counts of keras.applications models built with weights=None (measured with Keras 3;
# they do not depend on the input size when include_top=False).
NO_TOP_PARAMS = {"VGG16": 14_714_688, "ResNet50": 23_587_712, "MobileNetV2": 2_257_984}
WITH_TOP_PARAMS = {"VGG16": 138_357_544, "ResNet50": 25_636_712, "MobileNetV2": 3_538_984}
N_FLOWER_CLASSES = 5
FINE_TUNE_LAYERS = 30


def _megabytes_ok(params: int, megabytes: float) -> bool:
    """True when ``megabytes`` is the float32 size of ``params`` (MB of 10**6 or 2**20 bytes, 3% slack)."""
    return any(abs(megabytes - params * 4 / unit) <= 0.03 * params * 4 / unit for unit in (1e6, 2**20))


class BackboneSizes(Question):
    chapter, number = "ch05", 1
    title = "Parameters and size of VGG16, ResNet50 and MobileNetV2 without their top"
    hints = [
        "Build each backbone with weights=None (no download needed) and include_top=False: "
        "keras.applications.VGG16(weights=None, include_top=False).",
        "model.count_params() counts every weight, trainable or not.",
        "Each parameter is a float32 number of 4 bytes: MiB = params * 4 / 2**20 (or / 1e6 for MB).",
    ]
    correct_message = (
        "VGG16's backbone is about 6.5x the size of MobileNetV2's and ResNet50's is 10x, yet MobileNetV2 "
        "is only a few points less accurate on ImageNet. For a phone or a CPU, the small one usually wins."
    )

    def _check(self, sizes: Any):
        if not isinstance(sizes, dict):
            self.fail(f"Give a dict like {{'VGG16': (params, MiB), ...}}; you gave a {type(sizes).__name__}.")
        if sizes and all(value is None for value in sizes.values()):
            self.fail(
                "Your backbone_size returns None: replace the ... in its body with your code and end it with a return."
            )
        missing = [name for name in NO_TOP_PARAMS if name not in sizes]
        if missing:
            self.fail(f"Your dict has no entry for {missing}. Its keys should be {list(NO_TOP_PARAMS)}.")
        for name, expected in NO_TOP_PARAMS.items():
            entry = sizes[name]
            if not isinstance(entry, (tuple, list)) or len(entry) != 2:
                self.fail(f"sizes[{name!r}] should be a pair (parameters, MiB); it is {entry!r}.")
            params, megabytes = entry
            if hasattr(params, "item"):
                params = params.item()
            if not isinstance(params, int) or isinstance(params, bool):
                self.fail(
                    f"The parameter count of {name} should be a whole number, e.g. model.count_params(); got {params!r}."
                )
            if params == WITH_TOP_PARAMS[name]:
                self.fail(
                    f"{params:,} parameters for {name} includes the ImageNet classifier on top. Transfer learning "
                    "throws that away: build it with include_top=False."
                )
            if params == 0:
                self.fail(
                    f"0 parameters for {name}: you counted the trainable weights of a frozen model. "
                    "model.count_params() counts them all."
                )
            if params != expected:
                self.fail(
                    f"{name} without its top has {expected:,} parameters, not {params:,}. Build it with the default "
                    "arguments (e.g. MobileNetV2's alpha=1.0), weights=None and include_top=False."
                )
            try:
                megabytes = float(megabytes)
            except (TypeError, ValueError):
                self.fail(f"The size of {name} should be a number of MiB; got {megabytes!r}.")
            if _megabytes_ok(params, megabytes):
                continue
            if _megabytes_ok(params, megabytes * 4):
                self.fail(
                    f"{megabytes:.1f} MiB for {name} is one byte per parameter. A float32 parameter takes 4 bytes: "
                    "multiply by 4."
                )
            if _megabytes_ok(params, megabytes / 1e6) or _megabytes_ok(params, megabytes / 2**20):
                self.fail(f"{megabytes:,.0f} for {name} looks like bytes: divide by 2**20 for MiB (or by 1e6 for MB).")
            self.fail(
                f"{megabytes} MiB does not match {params:,} float32 parameters of 4 bytes each "
                f"(about {params * 4 / 2**20:.1f} MiB)."
            )
        return None


def _learning_rate(optimizer: Any) -> float:
    import keras

    rate = optimizer.learning_rate
    if callable(rate) and not hasattr(rate, "numpy"):  # a LearningRateSchedule
        rate = rate(0)
    return float(keras.ops.convert_to_numpy(rate))


def _find_resnet50(model: Any):
    return next(
        (layer for layer in walk_layers(model) if hasattr(layer, "layers") and layer.name.startswith("resnet50")), None
    )


class ResNetFineTuning(Question):
    chapter, number = "ch05", 2
    title = "ResNet50 on flowers: feature extraction, then fine-tuning the top 30 layers"
    hints = [
        "Phase 1 is the chapter's recipe with keras.applications.ResNet50 (or models.pretrained('ResNet50', ...)), "
        "include_top=False, resnet50.preprocess_input, base.trainable = False and base(x, training=False).",
        "Phase 2: base.trainable = True, then freeze base.layers[:-30] again, and keep every "
        "BatchNormalization layer among the top 30 frozen (start_fine_tuning does all of this).",
        "Recompile after changing trainable, with a learning rate 10-100x lower than phase 1 (e.g. 1e-5).",
    ]
    correct_message = (
        "Feature extraction first, then the top 30 layers (BatchNorm frozen) with a small learning rate: the "
        "standard recipe. Compare its validation accuracy with the chapter's backbone."
    )

    def _check(self, model: Any):
        import keras

        if isinstance(model, tuple):
            self.fail("Return only the model from your function, not a tuple (e.g. not (model, history)).")
        if not isinstance(model, keras.Model):
            self.fail(f"Give the Keras model your function returns; you gave a {type(model).__name__}.")
        base = _find_resnet50(model)
        if base is None:
            self.fail(
                "Found no ResNet50 inside your model. Build the base with keras.applications.ResNet50("
                "include_top=False, ...) (or models.pretrained('ResNet50', include_top=False, ...)) and call it "
                "inside your model: features = base(x, training=False)."
            )
        if any(layer.name == "predictions" for layer in base.layers):
            self.fail("Your ResNet50 still has its 1000-class ImageNet head: build it with include_top=False.")
        outputs = model.outputs[0].shape[-1]
        if outputs != N_FLOWER_CLASSES:
            self.fail(f"Your model gives {outputs} numbers per image; flowers has {N_FLOWER_CLASSES} classes.")
        weighted = [layer for layer in base.layers if layer.weights]
        batchnorm = [layer for layer in weighted if isinstance(layer, keras.layers.BatchNormalization)]
        if base.trainable is False or not any(layer.trainable for layer in weighted):
            self.fail(
                "The whole ResNet50 is still frozen: that is feature extraction only. Now set base.trainable = True "
                f"and keep all but the top {FINE_TUNE_LAYERS} layers frozen."
            )
        if any(layer.trainable for layer in batchnorm):
            self.fail(
                "Some BatchNormalization layers are trainable. Keep every BatchNormalization layer frozen while "
                "fine-tuning: their ImageNet statistics are worth more than what a small dataset can teach them."
            )
        trainable = {id(layer) for layer in weighted if layer.trainable}
        if all(layer.trainable for layer in weighted if not isinstance(layer, keras.layers.BatchNormalization)):
            self.fail(
                "Every layer of ResNet50 is trainable. Fine-tune only the top ones: freeze base.layers[:-30] after "
                "base.trainable = True."
            )
        matches = []  # every n for which "the top n layers, BatchNorm frozen" is what you unfroze
        for n in range(1, len(base.layers) + 1):
            top = {id(layer) for layer in base.layers[-n:]}
            if {id(layer) for layer in weighted if id(layer) in top and layer not in batchnorm} == trainable:
                matches.append(n)
        if not matches:
            self.fail(
                f"The trainable layers of your ResNet50 are not the top {FINE_TUNE_LAYERS} layers: set "
                "base.trainable = True, then layer.trainable = False for layer in base.layers[:-30]."
            )
        if FINE_TUNE_LAYERS not in matches:
            lo, hi = min(matches), max(matches)
            which = f"top {lo}" if lo == hi else f"top {lo} to {hi}"  # layers without weights blur the count
            self.fail(f"You unfroze the {which} layers of ResNet50; the exercise asks for the top {FINE_TUNE_LAYERS}.")
        if model.optimizer is None or not getattr(model, "compiled", True):
            self.fail("Compile the model again after unfreezing, with a lower learning rate.")
        rate = _learning_rate(model.optimizer)
        if rate > 1e-4 + 1e-12:
            self.fail(
                f"The optimizer's learning rate is {rate:g}. Recompile after unfreezing with a rate 10-100x lower "
                "than for feature extraction (e.g. 1e-5): a large rate wrecks the pretrained weights."
            )
        if rate < 1e-7:
            self.fail(f"A learning rate of {rate:g} is so small that nothing will change; use about 1e-5.")
        return None


q1 = BackboneSizes()
q2 = ResNetFineTuning()
