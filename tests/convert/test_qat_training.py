"""``akida_sim.quantize``: straight-through gradients, fine-tuning, save/reload in both Keras flavours, refusals."""
import numpy as np
import pytest

import akida_sim
from akida_sim import ConversionError
from akida_sim.conversion.qat_layers import layer_classes
from keras_models import random_weights
from test_convert_flavours import assert_same_integers


def dense_model(keras_module, units=3, features=6):
    model = keras_module.Sequential([keras_module.Input((features,)), keras_module.layers.Dense(units)])
    return random_weights(model, seed=1)


def test_a_last_dense_has_the_float_dense_gradients(keras):
    """rint, floor and ceil pass the gradient through: d out / d (kernel, bias) are a float Dense's."""
    import tensorflow as tf
    model = dense_model(keras)
    quantized = akida_sim.quantize(model, weights_bits=4, input_weights_bits=4)
    x = tf.constant(np.random.default_rng(0).integers(0, 16, (5, 6)), tf.float32)
    layer = quantized.layers[-1]
    weights = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(quantized(x) * weights)
    kernel_grad, bias_grad = tape.gradient(loss, [layer.kernel, layer.bias])
    np.testing.assert_allclose(np.asarray(kernel_grad), x.numpy().T @ weights, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(bias_grad), weights.sum(axis=0), rtol=1e-5)


def test_clipping_ranges_take_the_learned_step_size_gradient(keras):
    """d out / d range is LSQ's: sum over inputs of x * (w_int - w * sf [|w * sf| < kmax]) / kmax, times 1 / sqrt(n kmax).

    n = 9 weights share each range (one per output channel).
    """
    import tensorflow as tf
    model = dense_model(keras, units=4, features=9)
    model.layers[-1].set_weights([model.layers[-1].get_weights()[0], np.zeros(4, np.float32)])  # T = 0 exactly
    quantized = akida_sim.quantize(model, weights_bits=4, input_weights_bits=4)
    layer = quantized.layers[-1]
    kernel, _, kernel_range = layer.get_weights()
    layer.set_weights([kernel, np.zeros(4, np.float32), kernel_range * np.float32(0.7)])  # some weights clipped
    x = np.random.default_rng(4).integers(0, 16, (6, 9)).astype(np.float32)
    g = np.random.default_rng(5).normal(size=(6, 4)).astype(np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(quantized(tf.constant(x)) * g)
    range_grad = np.asarray(tape.gradient(loss, layer.kernel_range))
    kmax = 7.0
    scaled = kernel.astype(np.float64) * (np.float32(kmax) / (kernel_range * np.float32(0.7)))
    integers = np.clip(np.rint(scaled), -kmax, kmax)
    inside = np.abs(scaled) < kmax
    expected = np.einsum("ni,nj,ij->j", x, g, integers - scaled * inside) / kmax / np.sqrt(9 * kmax)
    assert np.any(~inside) and np.any(inside)
    np.testing.assert_allclose(range_grad, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())


def test_gradients_cross_the_step_activation_inside_its_range_only(keras):
    import tensorflow as tf
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.ReLU(3.0),
                              keras.layers.Dense(2)])
    random_weights(model, seed=2)
    quantized = akida_sim.quantize(model, act_bits=2, input_weights_bits=4)
    x = tf.constant(np.random.default_rng(3).integers(0, 16, (64, 4)), tf.float32)
    hidden = quantized.layers[1]
    with tf.GradientTape() as tape:
        tape.watch(x)
        levels = hidden(x)
    grad = np.asarray(tape.gradient(levels, hidden.kernel))
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)
    kernel, bias, kernel_range = hidden.get_weights()
    hidden.set_weights([kernel, bias - 100, kernel_range])
    with tf.GradientTape() as tape:
        levels = hidden(x)
    # Neurons far below their first step (level 0) pass no gradient, as a ReLU's.
    assert not np.any(levels.numpy()) and not np.any(np.asarray(tape.gradient(levels, hidden.kernel)))


def test_fit_fine_tunes_and_convert_keeps_the_forward(keras, digits):
    train_x, train_y, test_x, test_y = digits
    layers = keras.layers
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16, 16, 1)), layers.Rescaling(1 / 255.0),
                              layers.Conv2D(8, 3, strides=2, padding="same"), layers.ReLU(2.0),
                              layers.Conv2D(16, 3, padding="same"), layers.MaxPooling2D(padding="same"),
                              layers.ReLU(2.0), layers.Flatten(), layers.Dense(10)])
    quantized = akida_sim.quantize(model)  # Keras' initial weights: training happens on the quantized model
    quantized.compile(keras.optimizers.Adam(1e-2),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    before = quantized.evaluate(test_x, test_y, verbose=0)
    quantized.fit(train_x, train_y, epochs=2, batch_size=64, verbose=0)
    after = quantized.evaluate(test_x, test_y, verbose=0)
    assert after[0] < before[0] / 2 and after[1] > max(0.7, before[1] + 0.4)
    akida_model = akida_sim.convert(quantized)
    akida_scores = akida_model.predict(test_x.astype(np.uint8)).reshape(len(test_x), -1)
    keras_scores = quantized.predict(test_x, verbose=0)
    np.testing.assert_allclose(akida_scores, keras_scores, rtol=1e-5, atol=1e-5 * np.abs(keras_scores).max())
    assert np.mean(np.argmax(akida_scores, 1) == np.argmax(keras_scores, 1)) >= 0.99


def small_quantized(keras_module):
    layers = keras_module.layers
    model = keras_module.Sequential([keras_module.Input((8, 8, 1)), layers.Conv2D(4, 3, padding="same"),
                                     layers.BatchNormalization(), layers.ReLU(4.0), layers.MaxPooling2D(padding="same"),
                                     layers.SeparableConv2D(6, 3), layers.ReLU(2.0), layers.Flatten(),
                                     layers.Dense(3)])
    return akida_sim.quantize(random_weights(model, seed=5))


@pytest.mark.parametrize("flavour, suffix", [("keras", ".keras"), ("tf_keras", ".h5"), ("tf_keras", "")])
def test_saved_and_reloaded_without_custom_objects(request, tmp_path, flavour, suffix):
    keras_module = request.getfixturevalue(flavour)
    quantized = small_quantized(keras_module)
    x = np.random.default_rng(6).integers(0, 256, (8, 8, 8, 1)).astype(np.float32)
    path = str(tmp_path / f"model{suffix}")
    quantized.save(path)
    reloaded = keras_module.models.load_model(path, compile=False)
    assert [type(layer).__name__ for layer in reloaded.layers] == [type(layer).__name__ for layer in quantized.layers]
    np.testing.assert_array_equal(np.asarray(reloaded(x)), np.asarray(quantized(x)))
    assert_same_integers(akida_sim.convert(reloaded), akida_sim.convert(quantized))


def test_convert_refuses_bits_or_scaling_for_a_quantized_model(keras):
    quantized = akida_sim.quantize(dense_model(keras))
    for arguments in (dict(weights_bits=2), dict(act_bits=1), dict(input_weights_bits=8), dict(input_scaling=(2, 0)),
                      dict(weight_quantization=2), dict(method="legacy"), dict(calibration_percentile=99.0),
                      dict(input_bits=8)):
        with pytest.raises(ConversionError, match="made by akida_sim.quantize"):
            akida_sim.convert(quantized, **arguments)


def test_convert_refuses_a_foreign_layer_in_a_quantized_model(keras):
    quantized = akida_sim.quantize(dense_model(keras))
    extended = keras.Sequential([keras.Input((6,))] + quantized.layers[1:] + [keras.layers.Dense(2, name="extra")])
    with pytest.raises(ConversionError, match="'extra' \\(Dense\\): a model made by akida_sim.quantize"):
        akida_sim.convert(extended)


def test_convert_refuses_non_finite_fine_tuned_weights(keras):
    quantized = akida_sim.quantize(dense_model(keras))
    kernel, bias, kernel_range = quantized.layers[-1].get_weights()
    quantized.layers[-1].set_weights([kernel, bias * np.nan, kernel_range])
    with pytest.raises(ConversionError, match="NaN or infinite"):
        akida_sim.convert(quantized)


def test_convert_refuses_a_first_flag_out_of_place(keras):
    dense = layer_classes("keras")["dense"]
    inputs = keras.Input((6,))
    model = keras.Model(inputs, dense(3, first=False, last=True, act_bits=None, name="d")(inputs))
    with pytest.raises(ConversionError, match="'d' \\(AkidaDense\\): first=False but it is block 1"):
        akida_sim.convert(model)


def test_act_steps_the_forward_does_not_model_are_refused(keras):
    """A step above the hardware limit (sf 1000: A = 100 * 1000 * 1 * 2**4 / 16 > 65535) would be clamped."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.ReLU(15.0), keras.layers.Dense(2)])
    random_weights(model, seed=7, scale=1e-3)
    with pytest.raises(ConversionError, match="quantize: Akida layers .* act_step above the hardware limit"):
        akida_sim.quantize(model, input_scaling=(100, 0), input_weights_bits=4)
    quantized = akida_sim.quantize(random_weights(model, seed=7), input_scaling=(100, 0), input_weights_bits=4)
    hidden = quantized.layers[1]
    kernel, bias, kernel_range = hidden.get_weights()
    hidden.set_weights([kernel, bias, np.full_like(kernel_range, 1e-3)])  # as if fine-tuning shrank the ranges
    with pytest.raises(ConversionError, match="convert: Akida layers .* act_step above the hardware limit \\(after "
                                              "fine-tuning\\)"):
        akida_sim.convert(quantized)


def test_quantize_refuses_what_convert_refuses(keras):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.ReLU(), keras.layers.Dense(2)])
    with pytest.raises(ConversionError, match="unbounded"):
        akida_sim.quantize(model)
    with pytest.raises(ConversionError, match="'samples' have shape"):
        akida_sim.quantize(model, samples=np.zeros((3, 5)))
    with pytest.raises(ConversionError, match="act_bits=3"):
        akida_sim.quantize(model, act_bits=3, samples=np.ones((3, 4)))
    with pytest.raises(ConversionError, match="argument 'method' must be one of"):
        akida_sim.quantize(model, method="lsq", samples=np.ones((3, 4)))
    with pytest.raises(ConversionError, match="error_calibration_bits must be an int"):
        akida_sim.quantize(model, error_calibration_bits=2.0, samples=np.ones((3, 4)))


def test_least_error_calibration_of_one_bit_activations():
    """Uniform outputs on [0, 1] at 1 bit: the squared error (y - s [y > s/2]) is least at s = 2/3."""
    from akida_sim.conversion.qat import least_error_max
    outputs = np.linspace(0, 1, 10001)
    assert least_error_max(outputs, 1) == pytest.approx(2 / 3, abs=0.01)
    assert least_error_max(outputs, 1, max_value=0.5) == pytest.approx(0.5, abs=0.006)  # within a bounded ReLU
    assert least_error_max(np.zeros(5), 1) is None


def test_one_bit_activations_fine_tune_near_the_float_model(keras, digits):
    """2-bit weights, 1-bit activations: calibrated on samples, two epochs bring a digits CNN within reach of float."""
    train_x, train_y, test_x, test_y = digits
    layers = keras.layers
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16, 16, 1)), layers.Rescaling(1 / 255.0),
                              layers.Conv2D(16, 3, strides=2, padding="same"),
                              layers.BatchNormalization(momentum=0.9), layers.ReLU(), layers.Conv2D(32, 3, padding="same"),
                              layers.MaxPooling2D(padding="same"), layers.BatchNormalization(momentum=0.9), layers.ReLU(), layers.Flatten(), layers.Dense(10)])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.Adam(3e-3), loss, metrics=["accuracy"])
    model.fit(train_x.astype(np.float32), train_y, epochs=4, batch_size=32, verbose=0)
    float_accuracy = model.evaluate(test_x.astype(np.float32), test_y, verbose=0)[1]
    quantized = akida_sim.quantize(model, weights_bits=2, act_bits=1, samples=train_x[:400])
    quantized.compile(keras.optimizers.Adam(3e-3), loss, metrics=["accuracy"])
    before = quantized.evaluate(test_x, test_y, verbose=0)[1]
    quantized.fit(train_x, train_y, epochs=2, batch_size=32, verbose=0)
    after = quantized.evaluate(test_x, test_y, verbose=0)[1]
    print(f"float {float_accuracy:.3f}, quantized {before:.3f}, fine-tuned {after:.3f}")
    assert float_accuracy > 0.95 and before < float_accuracy - 0.05  # 1-bit post-training quantization loses much
    assert after > max(before + 0.05, float_accuracy - 0.04)
    akida_classes = akida_sim.convert(quantized).predict_classes(test_x.astype(np.uint8))
    assert np.mean(akida_classes == np.argmax(quantized.predict(test_x, verbose=0), 1)) >= 0.99
