"""Each Keras construct Akida 1.0 cannot express is refused, one by one, with a message naming the
Keras layer, the rule and the accepted order."""
import numpy as np
import pytest

import akida_sim
from akida_sim.conversion.errors import ACCEPTED_ORDER


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
                                             ("act_bits", 8), ("input_weights_bits", 1)])
def test_bit_widths_outside_the_legal_set(keras, argument, value):
    layers = keras.layers
    model = sequential(keras, (8, 8, 1), layers.Conv2D(4, 3, name="c1"), layers.ReLU(6.0),
                       layers.Conv2D(4, 3, name="c2"), layers.ReLU(6.0))
    refused(model, [], f"{argument}={value}", **{argument: value})


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


def test_input_scaling_scale_must_be_positive(keras):
    model = sequential(keras, (8, 8, 1), keras.layers.Conv2D(4, 3))
    refused(model, [], "must be > 0", input_scaling=(0, 0))


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
