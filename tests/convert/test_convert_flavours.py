"""Keras 3 and tf_keras models, Sequential and one-chain functional, fused activations, the
transforms (reorders, BatchNormalization folding) and the Akida layouts, checked one by one."""
import numpy as np
import pytest

import akida_sim
from akida_sim.conversion.emit import LayerVariables, hardware_fix_up
from akida_sim.conversion.quantize import quantize_kernel
from keras_models import random_weights


def small_cnn(keras_module, functional=False):
    layers = keras_module.layers
    body = [layers.Conv2D(4, 3, padding="same", name="c1"), layers.BatchNormalization(name="bn1"),
            layers.ReLU(6.0, name="r1"), layers.MaxPooling2D(padding="same", name="mp1"),
            layers.SeparableConv2D(5, 3, name="s2"), layers.ReLU(4.0, name="r2"),
            layers.Flatten(name="flat"), layers.Dense(3, name="fc")]
    inputs = keras_module.Input((9, 9, 2))
    if not functional:
        return random_weights(keras_module.Sequential([inputs] + body))
    x = inputs
    for layer in body:
        x = layer(x)
    return random_weights(keras_module.Model(inputs, x))


def variables(model):
    return [{name: layer.get_variable(name) for name in layer.get_variable_names()} for layer in model.layers]


def assert_same_integers(a, b):
    assert [type(l).__name__ for l in a.layers] == [type(l).__name__ for l in b.layers]
    for va, vb in zip(variables(a), variables(b)):
        assert va.keys() == vb.keys()
        for name in va:
            np.testing.assert_array_equal(va[name], vb[name], err_msg=name)


def test_keras3_tf_keras_sequential_and_functional_give_the_same_integers(keras, tf_keras):
    reference = akida_sim.convert(small_cnn(keras), input_scaling=(4, 0))
    for other in (small_cnn(keras, functional=True), small_cnn(tf_keras), small_cnn(tf_keras, functional=True)):
        assert_same_integers(akida_sim.convert(other, input_scaling=(4, 0)), reference)
    assert [type(l).__name__ for l in reference.layers] == [
        "InputData", "Convolutional", "SeparableConvolutional", "FullyConnected"]


def nested_cnn(keras_module, outer_functional, inner):
    """small_cnn's layers with its first four in a nested Sequential or functional sub-model."""
    reference = small_cnn(keras_module)
    layers = [layer for layer in reference.layers]
    head = layers[:4]
    if inner == "sequential":
        sub = keras_module.Sequential(head, name="sub")
    else:
        sub_inputs = keras_module.Input((9, 9, 2))
        x = sub_inputs
        for layer in head:
            x = layer(x)
        sub = keras_module.Model(sub_inputs, x, name="sub")
    if not outer_functional:
        return keras_module.Sequential([keras_module.Input((9, 9, 2)), sub] + layers[4:])
    inputs = keras_module.Input((9, 9, 2))
    x = sub(inputs)
    for layer in layers[4:]:
        x = layer(x)
    return keras_module.Model(inputs, x)


@pytest.mark.parametrize("outer_functional", [False, True])
@pytest.mark.parametrize("inner", ["sequential", "functional"])
def test_nested_sub_models_are_expanded(keras, tf_keras, outer_functional, inner):
    for keras_module in (keras, tf_keras):
        reference = akida_sim.convert(small_cnn(keras_module), input_scaling=(4, 0))
        nested = nested_cnn(keras_module, outer_functional, inner)
        assert_same_integers(akida_sim.convert(nested, input_scaling=(4, 0)), reference)


def test_a_layer_called_twice_is_refused(keras, tf_keras):
    for keras_module in (keras, tf_keras):
        layers = keras_module.layers
        inputs = keras_module.Input((6, 6, 4))
        conv, relu = layers.Conv2D(4, 3, padding="same", name="shared"), layers.ReLU(2.0)
        x = layers.ReLU(2.0)(conv(relu(conv(inputs))))
        with pytest.raises(ValueError, match="'shared' .* called 2 times"):
            akida_sim.convert(keras_module.Model(inputs, x))


def test_predict_equals_the_float_model_when_quantization_is_lossless(keras):
    """Weights on the 4-bit grid, one block: predict returns the Keras output (Keras units)."""
    layers = keras.layers
    model = keras.Sequential([keras.Input((4, 4, 2)), layers.Flatten(), layers.Dense(3)])
    rng = np.random.default_rng(0)
    kernel = rng.integers(-7, 8, (32, 3)).astype(np.float32) / 4
    kernel[0] = 7 / 4
    model.layers[-1].set_weights([kernel, np.array([0.25, -0.5, 1.0], np.float32)])
    x = rng.integers(0, 16, (5, 4, 4, 2))
    converted = akida_sim.convert(model)
    np.testing.assert_array_equal(converted.predict(x.astype(np.uint8)).reshape(5, 3),
                                  model.predict(x.astype(np.float32), verbose=0))


def test_fused_relu_and_activation_layers_become_relu_blocks_identities_are_skipped(keras):
    layers = keras.layers
    model = keras.Sequential([keras.Input((6, 6, 2)), layers.Conv2D(3, 3, activation="relu6", name="c1"),
                              layers.Dropout(0.5), layers.Conv2D(3, 1, name="c2"), layers.Activation("linear"),
                              layers.Activation("relu6", name="act"), layers.Flatten(), layers.Dense(2, name="fc")])
    random_weights(model)
    _, report = akida_sim.convert(model, return_report=True)
    assert [row["keras_layers"] for row in report.layers] == [["c1"], ["c2", "act"], ["fc"]]
    assert report.layers[0]["act_step_keras"] == pytest.approx(6 / 15)


def test_relu_before_max_pool_and_bn_after_it_are_reordered(keras):
    """Conv > ReLU > MaxPool and Conv > MaxPool > BN(gamma > 0) > ReLU are the block Conv > MaxPool > ReLU."""
    layers = keras.layers

    def model(order):
        return random_weights(keras.Sequential([keras.Input((8, 8, 2))] + order() + [layers.Flatten(), layers.Dense(2)]),
                              seed=3)

    canonical = model(lambda: [layers.Conv2D(3, 3), layers.MaxPooling2D(), layers.ReLU(6.0)])
    relu_first = model(lambda: [layers.Conv2D(3, 3), layers.ReLU(6.0), layers.MaxPooling2D()])
    assert_same_integers(akida_sim.convert(relu_first), akida_sim.convert(canonical))
    bn_after_pool = model(lambda: [layers.Conv2D(3, 3), layers.MaxPooling2D(), layers.BatchNormalization(),
                                   layers.ReLU(6.0)])
    converted = akida_sim.convert(bn_after_pool)
    assert converted.layers[1].parameters.pool_type == akida_sim.PoolType.Max


def test_batch_norm_folding_arithmetic(keras):
    """kernel * gamma / sqrt(var + eps) per output channel, bias' = beta + (bias - mean) * gamma / sqrt(var + eps)."""
    layers = keras.layers
    model = random_weights(keras.Sequential([keras.Input((3,)), layers.Dense(2, name="fc"),
                                             layers.BatchNormalization(epsilon=0.01, name="bn")]))
    (kernel, bias), (gamma, beta, mean, variance) = (model.get_layer("fc").get_weights(),
                                                     model.get_layer("bn").get_weights())
    scale = gamma / np.sqrt(variance + 0.01)
    converted, report = akida_sim.convert(model, weights_bits=8, return_report=True)
    weights, sf = quantize_kernel(kernel * scale, 8, per_axis=True)
    np.testing.assert_array_equal(converted.layers[-1].get_variable("weights")[0, 0], weights)
    folded_bias = beta + (bias - mean) * scale
    np.testing.assert_array_equal(converted.layers[-1].get_variable("threshold"),
                                  np.floor(-(1 * sf) * folded_bias).astype(np.int32))
    assert report.layers[0]["keras_layers"] == ["fc", "bn"]


def test_quantize_kernel_per_channel_round_half_even_and_floor():
    kernel = np.array([[0.5, 0.0], [-1.0, 0.0], [0.25, 0.0]], np.float32)  # channel 1 all zero
    weights, scale = quantize_kernel(kernel, 4, per_axis=True)
    np.testing.assert_array_equal(scale, np.array([7.0, 1000.0], np.float32))
    np.testing.assert_array_equal(weights[:, 0], [4, -7, 2])  # 3.5 -> 4, 1.75 -> 2 (half to even, then nearest)
    weights, scale = quantize_kernel(np.array([[[[1.5]], [[-3.0]]]], np.float32), 2, per_axis=False)
    assert scale.ndim == 0 and weights.ravel().tolist() == [0, -1]  # 0.5 rounds to even 0


def test_layouts_flips_column_major_flatten_and_padding_value(keras):
    layers = keras.layers
    model = random_weights(keras.Sequential([
        keras.Input((5, 4, 1)), layers.Rescaling(1 / 127.5, -1), layers.Conv2D(2, 3, name="ic"), layers.ReLU(2.0),
        layers.Conv2D(3, 3, padding="same", name="c"), layers.ReLU(2.0), layers.Flatten(), layers.Dense(4, name="fc")]))
    converted = akida_sim.convert(model, input_weights_bits=8)
    ic, conv, fc = converted.layers
    assert ic.parameters.padding_value == 127
    ic_weights, _ = quantize_kernel(model.get_layer("ic").get_weights()[0], 8, per_axis=True)
    np.testing.assert_array_equal(ic.get_variable("weights"), ic_weights)  # not flipped
    conv_weights, _ = quantize_kernel(model.get_layer("c").get_weights()[0], 4, per_axis=True)
    np.testing.assert_array_equal(conv.get_variable("weights"), conv_weights[::-1, ::-1])
    fc_weights, _ = quantize_kernel(model.get_layer("fc").get_weights()[0], 4, per_axis=True)
    h, w, c = conv.output_dims
    akida_rows = fc.get_variable("weights")[0, 0]
    for (a, b, ch) in [(0, 0, 0), (2, 1, 2), (1, 0, 1)]:
        np.testing.assert_array_equal(akida_rows[a + h * (b + w * ch)], fc_weights[(a * w + b) * c + ch])


def test_hardware_fix_up_clamps_the_step_and_divides_the_next_layer_per_input_channel():
    model = akida_sim.Model()
    model.add(akida_sim.InputData(input_shape=(2, 2, 2), input_bits=4))
    model.add(akida_sim.Convolutional(kernel_size=(1, 1), filters=2, weights_bits=4, act_bits=4, name="c"))
    model.add(akida_sim.FullyConnected(units=1, weights_bits=4, activation=False, name="fc"))
    conv, fc = model.layers[1:]
    first = LayerVariables(conv, None, np.ones((1, 1, 2, 2), np.int8), None, np.array([10, 10], np.int32),
                           np.array([65535 * 4, 100], np.float32), 4)
    second = LayerVariables(fc, None, np.full((1, 1, 8, 1), 7, np.int8), None, np.array([0], np.int32),
                            np.array([1], np.float32), None)
    hardware_fix_up([first, second])
    assert first.act_step_clamped and first.act_step.tolist() == [65535, 100]
    assert first.threshold.tolist() == [10 + int(np.round(0.5 * (65535 - 65535 * 4))), 10]
    # FC rows h + 2 * (w + 2 * c): rows 0-3 read channel 0 (divided by 4), rows 4-7 channel 1.
    assert second.weights[0, 0, :, 0].tolist() == [1] * 4 + [7] * 4


def test_flat_input_calibrates_and_reports_on_n_by_features_samples(keras):
    """A (F,) Keras input: samples (N, F) calibrate and feed the report (Akida input (N, 1, 1, F))."""
    layers = keras.layers
    model = random_weights(keras.Sequential([keras.Input((12,)), layers.Rescaling(1 / 15.0),
                                             layers.Dense(8, name="d1"), layers.ReLU(name="r1"),
                                             layers.Dense(2, name="d2")]), seed=4)
    samples = np.random.default_rng(4).integers(0, 16, (64, 12)).astype(np.uint8)
    converted, report = akida_sim.convert(model, samples=samples, return_report=True)
    assert converted.input_shape == [1, 1, 12]
    assert report.samples == 64 and report.layers[0]["calibrated_max_value"] > 0
    predicted = converted.predict(samples.reshape(64, 1, 1, 12)).reshape(64, 2)
    expected = np.asarray(model(samples.astype(np.float32)))
    assert report.output_error == pytest.approx(np.sqrt(np.mean((predicted - expected) ** 2)), rel=1e-4)


@pytest.mark.parametrize("scale, offset", [(np.float32(1 / 127.5), np.float32(-1)), (np.array(1 / 127.5), -1.0),
                                           (1 / 127.5, np.int64(-1))])
def test_rescaling_with_numpy_arguments_gives_the_input_scaling(tf_keras, scale, offset):
    """tf_keras keeps numpy Rescaling arguments in its config: they are numbers all the same."""
    layers = tf_keras.layers
    model = random_weights(tf_keras.Sequential([tf_keras.Input((6, 6, 3)), layers.Rescaling(scale, offset),
                                                layers.Conv2D(4, 3), layers.ReLU(2.0)]))
    converted = akida_sim.convert(model)
    assert converted.layers[0].parameters.padding_value == 127


@pytest.mark.parametrize("activation", ["softmax", "sigmoid"])
def test_fused_final_activation_runs_on_samples_in_both_keras_packages(keras, tf_keras, activation):
    """The float chain runs a fused final activation (dropped from the Akida model) on numpy samples."""
    for keras_module in (keras, tf_keras):
        layers = keras_module.layers
        model = random_weights(keras_module.Sequential([
            keras_module.Input((6, 6, 1)), layers.Conv2D(4, 3, name="c"), layers.ReLU(name="r"), layers.Flatten(),
            layers.Dense(3, activation=activation, name="d")]), seed=2)
        samples = np.random.default_rng(2).integers(0, 256, (16, 6, 6, 1)).astype(np.uint8)
        with pytest.warns(UserWarning, match="dropped"):
            _, report = akida_sim.convert(model, samples=samples, labels=np.arange(16) % 3, return_report=True)
        assert report.float_accuracy is not None and report.output_error is not None


def test_input_weights_bits_set_the_first_neural_layer_after_input_data_only_when_given(keras):
    """As the vendor's input_weight_quantization: the first neural layer; by default weights_bits after InputData."""
    layers = keras.layers
    model = random_weights(keras.Sequential([keras.Input((6, 6, 4)), layers.Conv2D(4, 3, name="c1"),
                                             layers.ReLU(2.0), layers.Conv2D(4, 3, name="c2"), layers.ReLU(2.0)]))
    default = akida_sim.convert(model, weights_bits=2)
    given = akida_sim.convert(model, weights_bits=2, input_weights_bits=4)
    assert [l.parameters.weights_bits for l in default.layers[1:]] == [2, 2]
    assert [l.parameters.weights_bits for l in given.layers[1:]] == [4, 2]
    assert np.abs(given.layers[1].get_variable("weights")).max() == 7
