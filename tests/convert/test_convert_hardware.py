"""The hardware-aware post-training quantizer (``convert(method="hardware")``, the default with samples):
accuracy on digits, registers that never saturate on the samples, thresholds that fit, bias correction,
and the legacy method kept."""
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import akida_sim
from akida_sim.conversion.calibration import (POTENTIAL_LIMIT, TOLERATED, search_activation_max,
                                              search_weight_range)
from akida_sim.conversion.emit import NP_LIMITS
from akida_sim.conversion.quantize import scale_of_range
from akida_sim.conversion.linear import linear_map
from keras_models import random_weights


def gap_digits_cnn(keras):
    """A float digits CNN ending in a GlobalAveragePooling2D block (unbounded ReLUs, BN after the GAP)."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input((16, 16, 1)), layers.Rescaling(1 / 255.0),
        layers.Conv2D(16, 3, padding="same"), layers.BatchNormalization(momentum=0.9), layers.ReLU(),
        layers.MaxPooling2D(padding="same"),
        layers.Conv2D(32, 3, padding="same"), layers.BatchNormalization(momentum=0.9), layers.ReLU(),
        layers.MaxPooling2D(padding="same"),
        layers.Conv2D(64, 3, padding="same"), layers.GlobalAveragePooling2D(),
        layers.BatchNormalization(momentum=0.9), layers.ReLU(),
        layers.Dense(10),
    ])


@pytest.fixture(scope="module")
def gap_net(keras, digits):
    train_x, train_y, _, _ = digits
    keras.utils.set_random_seed(0)
    model = gap_digits_cnn(keras)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(train_x.astype(np.float32), train_y, epochs=10, batch_size=32, verbose=0)
    return model


def accuracy(scores, labels):
    return float(np.mean(np.argmax(np.asarray(scores).reshape(len(labels), -1), axis=1) == labels))


def test_gap_net_at_4_bits_within_2_points_of_float(gap_net, digits):
    train_x, train_y, test_x, test_y = digits
    float_accuracy = accuracy(gap_net.predict(test_x.astype(np.float32), verbose=0), test_y)
    model, report = akida_sim.convert(gap_net, samples=train_x[:400], labels=train_y[:400], return_report=True)
    assert report.method == "hardware"
    assert float_accuracy > 0.9
    assert accuracy(model.predict(test_x), test_y) >= float_accuracy - 0.02
    assert not any(row["threshold_clipped"] or row["act_step_clamped"] for row in report.layers)


def test_legacy_method_scales_weights_by_their_max_even_with_samples(gap_net, digits):
    """method="legacy": weights w * kmax / max|w| per output channel (BatchNormalization folded)."""
    train_x, _, _, _ = digits
    legacy, report = akida_sim.convert(gap_net, samples=train_x[:400], method="legacy", return_report=True)
    assert report.method == "legacy"
    conv = [layer for layer in gap_net.layers if type(layer).__name__ == "Conv2D"][1]
    bn = gap_net.layers[gap_net.layers.index(conv) + 1]
    gamma, _, _, variance = bn.get_weights()
    folded = conv.get_weights()[0] * gamma / np.sqrt(variance + bn.epsilon)
    expected = np.clip(np.rint(folded * (np.float32(7) / np.abs(folded).max(axis=(0, 1, 2)))), -7, 7)
    np.testing.assert_array_equal(legacy.layers[1].get_variable("weights"), np.flip(expected, axis=(0, 1)))


def test_without_samples_both_methods_give_the_legacy_integers(keras):
    layers = keras.layers
    model = random_weights(keras.Sequential([
        keras.Input((8, 8, 1)), layers.Conv2D(4, 3, name="c1"), layers.ReLU(2.0),
        layers.SeparableConv2D(4, 3, name="s2"), layers.GlobalAveragePooling2D(), layers.ReLU(3.0),
        layers.Dense(3, name="d3")]), seed=1)
    hardware, legacy = akida_sim.convert(model), akida_sim.convert(model, method="legacy")
    for ours, theirs in zip(hardware.layers, legacy.layers):
        for name in ("weights", "threshold", "act_step"):
            np.testing.assert_array_equal(ours.get_variable(name), theirs.get_variable(name))


def test_method_must_be_named(keras):
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.ReLU(2.0)])
    with pytest.raises(ValueError, match="'method' must be one of \\('hardware', 'legacy'\\), got 'fast'"):
        akida_sim.convert(model, method="fast")


def gap_image_model(keras):
    """An 8-bit-weight image conv summed by a 16x16 GAP: far beyond the 20-bit sum with kmax / max|w| scales."""
    layers = keras.layers
    model = keras.Sequential([keras.Input((16, 16, 3)), layers.Conv2D(6, 5, padding="same", name="c"),
                              layers.GlobalAveragePooling2D(name="gap"), layers.ReLU(name="r"),
                              layers.Dense(3, name="d")])
    rng = np.random.default_rng(5)
    kernel = np.abs(rng.normal(0, 0.02, (5, 5, 3, 6))).astype(np.float32)
    model.layers[0].set_weights([kernel, np.zeros(6, np.float32)])
    model.layers[-1].set_weights([rng.normal(0, 1, (6, 3)).astype(np.float32), np.zeros(3, np.float32)])
    return model


def gap_sums(model, images):
    """The exact (unsaturated) GAP sums of the first layer's potentials, per sample and filter."""
    layer = model.layers[0]
    block = SimpleNamespace(neural=SimpleNamespace(kind="Conv2D", config={"strides": (1, 1), "padding": "same"}))
    potentials = linear_map(block, images, (layer.get_variable("weights"),))
    return np.cumsum(potentials.reshape(len(images), -1, potentials.shape[-1]), axis=1)


@pytest.mark.parametrize("flavour", ["keras", "tf_keras"])
def test_gap_sums_stay_inside_the_20_bit_register(flavour, request):
    model = gap_image_model(request.getfixturevalue(flavour))
    images = np.random.default_rng(6).integers(100, 256, (64, 16, 16, 3)).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = akida_sim.convert(model, samples=images, method="legacy")
        hardware, report = akida_sim.convert(model, samples=images, return_report=True)
    assert np.abs(gap_sums(legacy, images)).max() > POTENTIAL_LIMIT  # the legacy scales saturate
    assert np.abs(gap_sums(hardware, images)).max() <= TOLERATED * POTENTIAL_LIMIT + 1
    assert report.layers[-1]["output_relative_error"] < 0.1


def test_thresholds_fit_without_clipping(keras):
    """8-bit weights, a bias of -10 and 256 pixels: the legacy threshold is clipped (warned), the hardware one fits."""
    layers = keras.layers
    model = keras.Sequential([keras.Input((16, 16, 4)), layers.Conv2D(4, 1, name="c"), layers.GlobalAveragePooling2D(),
                              layers.ReLU(name="r"), layers.Dense(2, name="d")])
    rng = np.random.default_rng(7)
    model.layers[0].set_weights([rng.uniform(0.05, 0.1, (1, 1, 4, 4)).astype(np.float32),
                                 np.full(4, -10, np.float32)])
    model.layers[-1].set_weights([rng.normal(0, 1, (4, 2)).astype(np.float32), np.zeros(2, np.float32)])
    samples = rng.integers(0, 16, (32, 16, 16, 4)).astype(np.float32) * 4
    arguments = dict(samples=samples, weights_bits=8, input_scaling=(0.25, 0))
    with pytest.warns(UserWarning, match="clipped"):
        akida_sim.convert(model, method="legacy", **arguments)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        converted, report = akida_sim.convert(model, return_report=True, **arguments)
    assert converted.layers[1].get_variable("threshold").max() <= TOLERATED * NP_LIMITS[1]
    assert not any(row["threshold_clipped"] for row in report.layers)
    assert report.layers[-1]["output_relative_error"] < 0.05


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2 ** 16), units=st.integers(1, 6))
def test_bias_correction_matches_the_float_mean_of_the_last_layer(keras, seed, units):
    """On the samples, each output's mean equals the float model's to within the threshold's floor (1 / (sigma sf))."""
    layers = keras.layers
    model = random_weights(keras.Sequential([keras.Input((12,)), layers.Dense(8, name="d1"), layers.ReLU(name="r1"),
                                             layers.Dense(units, name="d2")]), seed=seed)
    samples = np.random.default_rng(seed).integers(0, 16, (200, 12)).astype(np.float32)
    converted = akida_sim.convert(model, samples=samples, weights_bits=2, act_bits=2)
    predicted = converted.predict(samples.reshape(200, 1, 1, 12).astype(np.uint8)).reshape(200, units)
    expected = np.asarray(model(samples))
    unit = 1 / converted.layers[-1].get_variable("act_step")  # Keras value of one potential unit
    assert np.all(np.abs(predicted.mean(axis=0) - expected.mean(axis=0)) <= unit * 1.001 + 1e-5)


@settings(max_examples=30, deadline=None)
@given(size=st.integers(3, 9), channels=st.integers(1, 3), filters=st.integers(1, 4), kernel=st.sampled_from([1, 3, 5]),
       stride=st.integers(1, 3), padding=st.sampled_from(["same", "valid"]), separable=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_linear_map_is_the_keras_layer_without_bias(keras, size, channels, filters, kernel, stride, padding,
                                                    separable, seed):
    if padding == "valid" and kernel > size:
        return
    cls = keras.layers.SeparableConv2D if separable else keras.layers.Conv2D
    layer = cls(filters, kernel, strides=stride, padding=padding, use_bias=False)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, size, size, channels)).astype(np.float32)
    expected = np.asarray(layer(x))
    kind = "SeparableConv2D" if separable else "Conv2D"
    block = SimpleNamespace(neural=SimpleNamespace(kind=kind, config=layer.get_config()))
    np.testing.assert_allclose(linear_map(block, x, layer.get_weights()), expected, rtol=1e-4, atol=1e-4)


def test_activation_search_clips_outliers_and_keeps_a_uniform_range():
    rng = np.random.default_rng(0)
    uniform = rng.uniform(0, 1, 100_000)
    assert search_activation_max(uniform, 4) == pytest.approx(1, abs=0.05)
    with_outlier = np.append(uniform, 100.0)
    assert search_activation_max(with_outlier, 4) < 5
    assert search_activation_max(with_outlier, 4, upper=0.5) <= 0.5
    assert search_activation_max(np.zeros(10), 4) is None


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 16), bits=st.sampled_from([2, 4, 8]), per_axis=st.booleans())
def test_weight_search_error_never_exceeds_the_max_scale_error(seed, bits, per_axis):
    kernel = np.random.default_rng(seed).standard_t(3, size=(3, 3, 4, 5)).astype(np.float32)
    kmax = 2.0 ** (bits - 1) - 1

    def error(scale):
        return np.sum(np.square(np.clip(np.rint(kernel * scale), -kmax, kmax) / scale - kernel))

    axes = (0, 1, 2) if per_axis else None
    max_scale = np.float32(kmax) / np.abs(kernel).max(axis=axes)
    assert error(scale_of_range(search_weight_range(kernel, bits, per_axis), bits)) <= error(max_scale) * (1 + 1e-5)
