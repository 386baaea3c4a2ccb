"""Chapter 05 checks: right answers pass, typical mistakes get a teaching message."""

from __future__ import annotations

import keras
import pytest

from helpers import models
from helpers.exercises import ch05

q1, q2 = ch05.q1, ch05.q2


def sizes(**overrides):
    answer = {name: (params, params * 4 / 1e6) for name, params in ch05.NO_TOP_PARAMS.items()}
    answer.update(overrides)
    return answer


# ---------------------------------------------------------------- exercise 1
def test_q1_right_answers():
    assert q1.verdict(sizes()).ok
    in_mib = {name: (params, params * 4 / 2**20) for name, params in ch05.NO_TOP_PARAMS.items()}
    assert q1.verdict(in_mib).ok


def test_q1_reference_numbers_are_what_keras_builds():
    for name, params in ch05.NO_TOP_PARAMS.items():
        assert getattr(keras.applications, name)(weights=None, include_top=False).count_params() == params
    assert keras.applications.MobileNetV2(weights=None).count_params() == ch05.WITH_TOP_PARAMS["MobileNetV2"]


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (sizes(VGG16=(138_357_544, 553.4)), "include_top=False"),
        (sizes(ResNet50=(0, 0.0)), "frozen model"),
        (sizes(MobileNetV2=(410_208, 1.64)), "alpha=1.0"),
        (sizes(VGG16=(14_714_688, 14.7)), "4 bytes"),
        (sizes(VGG16=(14_714_688, 58_858_752)), "bytes"),
        (sizes(VGG16=(14_714_688, 12.0)), "does not match"),
        (sizes(VGG16=14_714_688), "pair"),
        (sizes(VGG16=(14_714_688.0, 58.9)), "whole number"),
        ({"VGG16": (14_714_688, 58.9)}, "no entry for"),
        ([14_714_688, 23_587_712, 2_257_984], "dict"),
        ({"VGG16": None, "ResNet50": None, "MobileNetV2": None}, "returns None"),
    ],
)
def test_q1_typical_mistakes(answer, fragment):
    verdict = q1.verdict(answer)
    assert verdict.status == "incorrect", verdict
    assert fragment in verdict.message


def test_q1_not_attempted():
    assert q1.verdict(...).status == "not attempted"


# ---------------------------------------------------------------- exercise 2
def resnet_classifier(classes: int = 5):
    base = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    base.trainable = False
    inputs = keras.Input(shape=(32, 32, 3))
    x = base(inputs, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(classes)(x))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model, base


@pytest.fixture(scope="module")
def fine_tuned():
    model, base = resnet_classifier()
    models.start_fine_tuning(model, base, n_layers=30, learning_rate=1e-5)
    return model, base


def test_q2_right_answer(fine_tuned):
    model, _ = fine_tuned
    verdict = q2.verdict(model)
    assert verdict.ok, verdict.message


def test_q2_feature_extraction_only():
    model, _ = resnet_classifier()
    verdict = q2.verdict(model)
    assert verdict.status == "incorrect" and "still frozen" in verdict.message


def test_q2_everything_unfrozen():
    model, base = resnet_classifier()
    base.trainable = True
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=model.loss)
    verdict = q2.verdict(model)
    assert verdict.status == "incorrect" and "Every layer" in verdict.message


def test_q2_batchnorm_left_trainable():
    model, base = resnet_classifier()
    base.trainable = True
    for layer in base.layers[:-30]:
        layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=model.loss)
    verdict = q2.verdict(model)
    assert verdict.status == "incorrect" and "BatchNormalization" in verdict.message


def test_q2_wrong_number_of_layers():
    model, base = resnet_classifier()
    models.start_fine_tuning(model, base, n_layers=50, learning_rate=1e-5)
    verdict = q2.verdict(model)
    assert verdict.status == "incorrect" and "asks for the top 30" in verdict.message
    assert "to 51 layers" in verdict.message  # 49, 50 and 51 unfreeze the same weights


def test_q2_learning_rate_not_lowered():
    model, base = resnet_classifier()
    models.start_fine_tuning(model, base, n_layers=30, learning_rate=1e-3)
    verdict = q2.verdict(model)
    assert verdict.status == "incorrect" and "10-100x lower" in verdict.message


def test_q2_wrong_model_or_head():
    model, _ = resnet_classifier(classes=1000)
    verdict = q2.verdict(model)
    assert verdict.status == "incorrect" and "5 classes" in verdict.message
    mobilenet = keras.applications.MobileNet(weights=None, include_top=False, alpha=0.25, input_shape=(32, 32, 3))
    inputs = keras.Input(shape=(32, 32, 3))
    other = keras.Model(inputs, keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(mobilenet(inputs))))
    verdict = q2.verdict(other)
    assert verdict.status == "incorrect" and "no ResNet50" in verdict.message


def test_q2_tuple_and_none(fine_tuned):
    model, _ = fine_tuned
    verdict = q2.verdict((model, None))
    assert verdict.status == "incorrect" and "not a tuple" in verdict.message
    assert q2.verdict(None).status == "not attempted"


def test_solutions_are_stored():
    assert "def backbone_size" in q1.solution_text()
    assert "start_fine_tuning(resnet_model, resnet, n_layers=30" in q2.solution_text()
