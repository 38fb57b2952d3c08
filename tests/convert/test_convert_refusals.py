"""Each Keras construct Akida 1.0 cannot express is refused, one by one, with a message naming the
Keras layer, the rule and the accepted order."""
import numpy as np
import pytest

import akida_sim
from akida_sim.conversion.errors import ACCEPTED_ORDER
from keras_models import random_weights


def sequential(keras, input_shape, *layers):
    return keras.Sequential([keras.Input(input_shape), *layers])


def refused(model, names, phrase, **kwargs):
    with pytest.raises(ValueError) as info:
        akida_sim.convert(model, **kwargs)
    message = str(info.value)
    for name in names:
        assert f"'{name}'" in message
    assert phrase in message
    return message


def test_depthwise_conv_alone(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.DepthwiseConv2D(3, name="dw"), layers.ReLU(6.0))
    message = refused(model, ["dw"], "DepthwiseConv2D alone")
    assert ACCEPTED_ORDER in message


def test_add_skip_connection(keras):
    layers = keras.layers
    inputs = keras.Input((8, 8, 2))
    a = layers.Conv2D(4, 3, padding="same", name="c1")(inputs)
    b = layers.ReLU(6.0, name="r1")(a)
    c = layers.Conv2D(4, 3, padding="same", name="c2")(b)
    out = layers.Add(name="add")([a, c])
    refused(keras.Model(inputs, out), ["add"], "2 inbound layers")


def test_concatenate(keras):
    layers = keras.layers
    inputs = keras.Input((8, 8, 2))
    a = layers.Conv2D(4, 3, padding="same", name="c1")(inputs)
    b = layers.Conv2D(4, 3, padding="same", name="c2")(inputs)
    refused(keras.Model(inputs, layers.Concatenate(name="cat")([a, b])), ["cat"], "no skip connections, Add or Concatenate")


def test_unbounded_relu_without_samples(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c"), layers.ReLU(name="r"),
                       layers.Conv2D(4, 3, name="c2"))
    refused(model, ["r"], "unbounded")


def test_leaky_relu(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c"), layers.LeakyReLU(name="leaky"),
                       layers.Conv2D(4, 3, name="c2"))
    message = refused(model, ["leaky"], "quantized ReLUs")
    assert ACCEPTED_ORDER in message


def test_relu_with_negative_slope(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c"),
                       layers.ReLU(6.0, negative_slope=0.1, name="r"))
    refused(model, ["r"], "leaky ReLU")


def test_other_activation_before_a_neural_layer(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c"), layers.Activation("tanh", name="tanh"),
                       layers.Conv2D(4, 3, name="c2"))
    refused(model, ["tanh"], "only accepted as the model's last layer")


def test_dense_on_a_spatial_input_without_flatten(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c"), layers.ReLU(6.0),
                       layers.Dense(3, name="fc"))
    refused(model, ["fc"], "needs a Flatten")


def test_max_pool_padding_differs_from_its_conv(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, padding="same", name="c"),
                       layers.MaxPooling2D(padding="valid", name="mp"), layers.ReLU(6.0))
    refused(model, ["mp", "c"], "padding of its neural layer")


def test_gap_after_the_relu(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c"), layers.ReLU(6.0, name="r"),
                       layers.GlobalAveragePooling2D(name="gap"), layers.Dense(3))
    refused(model, ["gap", "r"], "must come before the ReLU")


def test_gap_over_more_pixels_than_the_hardware_sums(keras):
    layers = keras.layers
    model = sequential(keras, (17, 16, 2), layers.Conv2D(4, 1, name="c"),
                       layers.GlobalAveragePooling2D(name="gap"), layers.ReLU(6.0))
    refused(model, ["gap"], "at most 256 pixels")


def test_gap_of_256_pixels_is_accepted(keras):
    layers = keras.layers
    model = sequential(keras, (16, 16, 2), layers.Conv2D(4, 1, name="c"),
                       layers.GlobalAveragePooling2D(name="gap"), layers.ReLU(6.0))
    assert akida_sim.convert(model).layers[-1].parameters.pool_type == akida_sim.PoolType.Average


def test_average_pooling(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c"), layers.AveragePooling2D(2, name="avg"),
                       layers.ReLU(6.0), layers.Conv2D(4, 3))
    refused(model, ["avg"], "no local average pooling")


@pytest.mark.parametrize("argument, value", [("weights_bits", 3), ("weights_bits", 1), ("act_bits", 3),
                                             ("act_bits", 8), ("input_weights_bits", 1),
                                             ("input_weights_bits", 9), ("act_bits", 0)])
def test_bit_widths_outside_the_legal_set(keras, argument, value):
    layers = keras.layers
    model = sequential(keras, (8, 8, 1), layers.Conv2D(4, 3, name="c1"), layers.ReLU(6.0),
                       layers.Conv2D(4, 3, name="c2"), layers.ReLU(6.0))
    refused(model, [], f"{argument}={value}", **{argument: value})


@pytest.mark.parametrize("bits", [3, 5, 6, 7])
def test_input_convolutional_takes_any_weight_width_up_to_8(keras, bits):
    layers = keras.layers
    model = random_weights(sequential(keras, (8, 8, 1), layers.Conv2D(4, 3, name="c1"), layers.ReLU(6.0)))
    converted = akida_sim.convert(model, input_weights_bits=bits)
    kmax = 2 ** (bits - 1) - 1
    weights = converted.layers[0].get_variable("weights")
    assert converted.layers[0].parameters.weights_bits == bits
    assert np.abs(weights).max() == kmax


def test_strides_larger_than_the_kernel(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c1"), layers.ReLU(6.0),
                       layers.Conv2D(4, 1, strides=2, name="c2"))
    refused(model, ["c2"], "larger than the kernel")


def test_even_kernel(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 2, name="c"))
    refused(model, ["c"], "odd sizes")


def test_no_activation_between_neural_layers(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c1"), layers.Conv2D(4, 3, name="c2"))
    refused(model, ["c1"], "activation layer is required")


def test_batch_norm_with_negative_gamma_after_a_max_pool(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c"), layers.MaxPooling2D(name="mp"),
                       layers.BatchNormalization(name="bn"), layers.ReLU(6.0))
    bn = model.get_layer("bn")
    gamma, beta, mean, variance = bn.get_weights()
    bn.set_weights([-np.ones_like(gamma), beta, mean, variance])
    refused(model, ["bn", "mp"], "positive gammas")


def test_batch_norm_after_the_relu(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c"), layers.ReLU(6.0, name="r"),
                       layers.BatchNormalization(name="bn"))
    refused(model, ["bn", "r"], "between the neural layer")


def test_rescaling_not_first(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3, name="c"), layers.ReLU(6.0),
                       layers.Rescaling(0.5, name="rescale"), layers.Conv2D(4, 3))
    refused(model, ["rescale"], "only accepted as the first layer")


def test_rescaling_and_input_scaling_together(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 1), layers.Rescaling(1 / 255, name="rescale"), layers.Conv2D(4, 3))
    refused(model, ["rescale"], "must then be None", input_scaling=(255, 0))


@pytest.mark.parametrize("scaling", [(0, 0), (-1, 0), (float("inf"), 0), (float("nan"), 0)])
def test_input_scaling_scale_must_be_finite_and_positive(keras, scaling):
    model = sequential(keras, (8, 8, 1), keras.layers.Conv2D(4, 3))
    refused(model, [], "the scale must be finite and > 0", input_scaling=scaling)


def test_input_scaling_offset_must_give_a_uint8_padding_value(keras):
    model = sequential(keras, (8, 8, 3), keras.layers.Conv2D(4, 3))
    for offset in (-5, 300, float("inf")):
        refused(model, [], "offset", input_scaling=(1, offset))


def test_input_scaling_may_be_a_numpy_pair(keras):
    model = sequential(keras, (8, 8, 3), keras.layers.Conv2D(4, 3))
    converted = akida_sim.convert(model, input_scaling=np.array([255.0, 0.0]))
    assert type(converted.layers[0]).__name__ == "InputConvolutional"


def test_rescaling_with_a_negative_scale(keras):
    model = sequential(keras, (8, 8, 3), keras.layers.Rescaling(-1 / 255, name="rs"), keras.layers.Conv2D(4, 3))
    refused(model, ["rs"], "the scale must be finite and > 0")


def test_bits_dict_naming_no_layer_of_the_model(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 3), layers.Conv2D(4, 3, name="c"), layers.ReLU(2.0, name="r"),
                       layers.Flatten(), layers.Dense(2, name="d"))
    refused(model, ["weights_bits"], "not Keras layers", weights_bits={"dense": 2})
    refused(model, ["act_bits"], "not Keras layers", act_bits={"c": 2, "relu": 1})


@pytest.mark.parametrize("samples, phrase", [("abc", "numeric array"), (np.full((2, 8, 8, 3), np.nan), "finite"),
                                             (np.zeros((0, 8, 8, 3)), "batch"),
                                             (np.zeros((3, 8, 8, 1)), "per sample")])
def test_bad_samples(keras, samples, phrase):
    model = sequential(keras, (8, 8, 3), keras.layers.Conv2D(4, 3), keras.layers.ReLU())
    refused(model, [], phrase, samples=samples)


def test_calibration_percentile_must_be_a_number_in_0_100(keras):
    model = sequential(keras, (8, 8, 3), keras.layers.Conv2D(4, 3), keras.layers.ReLU(2.0))
    for percentile in ("99", 0, 101, float("nan")):
        refused(model, [], "calibration_percentile", calibration_percentile=percentile)


def test_a_vendor_alias_and_its_argument_with_different_values(keras):
    model = sequential(keras, (8, 8, 3), keras.layers.Conv2D(4, 3), keras.layers.ReLU(2.0),
                       keras.layers.Conv2D(4, 3))
    refused(model, ["weight_quantization", "weights_bits"], "give one of them", weights_bits=2,
            weight_quantization=4)
    converted = akida_sim.convert(model, weights_bits=2, weight_quantization=2)
    assert converted.layers[1].parameters.weights_bits == 2


def test_a_keras_layer_is_not_a_model(keras):
    with pytest.raises(TypeError, match="must be a Keras model"):
        akida_sim.convert(keras.layers.Dense(3))


def test_offset_needs_an_image_input(keras):
    model = sequential(keras, (8, 8, 2), keras.layers.Conv2D(4, 3))
    refused(model, [], "needs an image input", input_scaling=(1, 3))


def test_image_input_needs_a_first_conv2d(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 3), layers.SeparableConv2D(4, 3, name="sep"))
    refused(model, ["sep"], "must be a Conv2D")


def test_final_softmax_is_dropped_with_a_warning(keras):
    layers = keras.layers
    model = sequential(keras, (8, 8, 2), layers.Conv2D(4, 3), layers.ReLU(6.0), layers.Flatten(),
                       layers.Dense(3, activation="softmax", name="fc"))
    with pytest.warns(UserWarning, match="'fc/softmax'.*dropped"):
        converted = akida_sim.convert(model)
    assert not converted.layers[-1].parameters.activation


def test_a_custom_activation_function_before_a_neural_layer(keras, tf_keras):
    """A lambda serializes as a dict in the config: refused by layer name, fused or in an Activation."""
    for keras_module in (keras, tf_keras):
        layers = keras_module.layers
        custom = lambda t: t * 2  # noqa: E731
        for body in ([layers.Conv2D(4, 3, activation=custom, name="c")],
                     [layers.Conv2D(4, 3), layers.Activation(custom, name="c")]):
            model = sequential(keras_module, (8, 8, 3), *body, layers.Flatten(), layers.Dense(2))
            refused(model, [], "only accepted as the model's last layer")


@pytest.mark.filterwarnings("ignore:The object being serialized includes a `lambda`")
def test_a_custom_final_activation_function_is_dropped_and_runs_on_samples(keras, tf_keras):
    for keras_module in (keras, tf_keras):
        layers = keras_module.layers
        model = random_weights(sequential(keras_module, (8, 8, 3), layers.Conv2D(4, 3), layers.ReLU(2.0),
                                          layers.Flatten(), layers.Dense(2, activation=lambda t: t * 2)))
        samples = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3)).astype(np.uint8)
        with pytest.warns(UserWarning, match="dropped"):
            _, report = akida_sim.convert(model, samples=samples, return_report=True)
        assert report.output_error is not None


def test_non_finite_weights(keras):
    layers = keras.layers
    model = random_weights(sequential(keras, (8, 8, 3), layers.Conv2D(4, 3, name="c"), layers.ReLU(2.0)))
    kernel, bias = model.layers[0].get_weights()
    kernel[0, 0, 0, 0] = np.nan
    model.layers[0].set_weights([kernel, bias])
    refused(model, ["c"], "NaN or infinite")


def test_a_first_reshape_of_a_flat_input_into_an_image(keras):
    layers = keras.layers
    model = sequential(keras, (64,), layers.Reshape((8, 8, 1), name="rs"), layers.Conv2D(4, 3), layers.ReLU(2.0))
    refused(model, ["rs"], "give the model the input shape (8, 8, 1) instead")
