"""Checked data arguments of ``convert``: samples whose range does not match the model's input warn,
labels are validated (class indices within the model's outputs), and quantizeml's float layer classes
are refused for what they are."""
import warnings

import numpy as np
import pytest

import akida_sim
from keras_models import random_weights


@pytest.fixture(scope="module")
def image_model(keras):
    layers = keras.layers
    return random_weights(keras.Sequential([keras.Input((8, 8, 1)), layers.Rescaling(1 / 255, name="rs"),
                                            layers.Conv2D(4, 3, name="c"), layers.ReLU(name="r"), layers.Flatten(),
                                            layers.Dense(3, name="d")]))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, (20, 8, 8, 1)).astype(np.uint8)


@pytest.mark.parametrize("method", ["hardware", "legacy"])
def test_uint8_images_convert_without_a_warning(image_model, images, method):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        akida_sim.convert(image_model, samples=images, method=method)


@pytest.mark.parametrize("transform, phrase", [(lambda x: x / 255.0, "non-integer values in \\[0, 1\\]"),
                                               (lambda x: x.astype(np.float32) + 100, "outside 0..255"),
                                               (lambda x: (x > 128).astype(np.float32), "only, a sliver of 0..255")])
def test_samples_off_the_models_input_range_warn(image_model, images, transform, phrase):
    with pytest.warns(UserWarning, match=f"argument 'samples' does not match.*integers in 0..255.*{phrase}"):
        akida_sim.convert(image_model, samples=transform(images))


def test_samples_are_checked_through_input_scaling(keras):
    layers = keras.layers
    model = random_weights(keras.Sequential([keras.Input((12,)), layers.Dense(4, name="d1"), layers.ReLU(),
                                             layers.Dense(2, name="d2")]))
    samples = np.random.default_rng(1).integers(0, 16, (30, 12)) / 15.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        akida_sim.convert(model, samples=samples, input_scaling=(15, 0))
    with pytest.warns(UserWarning, match="akida_input = 1 \\* x \\+ 0.*integers in 0..15"):
        akida_sim.convert(model, samples=samples)


@pytest.mark.parametrize("labels, phrase", [
    (np.array([0, 1, np.nan] + [0] * 17), "NaN or infinite"),
    (np.array(["a"] * 20), "must hold numbers"),
    (np.arange(20) % 4, "classes in \\[0, 3\\], the model has 3 outputs"),
    (-(np.arange(20) % 3), "classes in \\[-2, 0\\]"),
    (np.arange(19) % 3, "one class per sample, shape \\(20,\\)"),
    (np.full(20, 0.5), "non-integer values"),
    (np.zeros((20, 5)), "one class per sample"),
    (np.ones((20, 3)) * np.inf, "one-hot.*NaN or infinite"),
    ([object()] * 20, "must hold numbers"),
])
def test_bad_labels_are_refused_naming_labels(image_model, images, labels, phrase):
    with pytest.raises(ValueError, match=f"argument 'labels'.*{phrase}"):
        akida_sim.convert(image_model, samples=images, labels=labels, return_report=True)


def test_labels_as_integer_floats_or_one_hot_give_the_same_accuracy(image_model, images):
    labels = np.arange(20) % 3
    reports = [akida_sim.convert(image_model, samples=images, labels=given, return_report=True)[1]
               for given in (labels, labels.astype(np.float32), np.eye(3)[labels])]
    assert len({(r.float_accuracy, r.converted_accuracy) for r in reports}) == 1


def test_a_float_layer_class_of_quantizeml_is_refused_as_not_an_akida_layer(keras):
    """A float model using a float layer class from quantizeml is not a quantized model: the refusal says why."""
    class DepthwiseConv2DTranspose(keras.layers.Conv2DTranspose):
        pass

    DepthwiseConv2DTranspose.__module__ = "quantizeml.layers.convolution"
    layers = keras.layers
    model = keras.Sequential([keras.Input((8, 8, 2)), layers.Conv2D(2, 3, padding="same", name="c"),
                              layers.ReLU(6.0), DepthwiseConv2DTranspose(2, 3, strides=2, padding="same", name="dwt"),
                              layers.ReLU(6.0)])
    with pytest.raises(ValueError) as info:
        akida_sim.convert(model)
    message = str(info.value)
    assert "'dwt'" in message and "transposed depthwise convolution is not an Akida 1.0 layer" in message
    assert "quantized by quantizeml" not in message
