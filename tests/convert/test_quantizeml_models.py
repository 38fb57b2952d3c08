"""Models quantized by quantizeml for Akida 1.0, read without quantizeml; and the refusals of everything else.

quantizeml's layers are tf_keras layers known by class name and module;
these tests build look-alikes from tf_keras' own layers (same class names,
a ``quantizeml`` module, the same config keys and weight names), so they run
without the vendor's packages. tests/oracle/test_oracle_quantizeml.py
compares real quantizeml models with the vendor's converter.
"""
import numpy as np
import pytest

import akida_sim
from akida_sim.conversion.quantizeml_numbers import quantize_weights
from qml_look_alikes import (OUT4, Dequantizer, InputQuantizer, QuantizedConv2D, QuantizedDepthwiseConv2D,
                             QuantizedGlobalAveragePooling2D, QuantizedReLU, QuantizedRescaling, qml_model,
                             tf_keras, weights_config, with_weights)


def test_a_quantizeml_model_converts_to_akida_1_layers_without_quantizeml():
    model = qml_model()
    converted = akida_sim.convert(model)
    assert [type(layer).__name__ for layer in converted.layers] == ["InputConvolutional", "FullyConnected"]
    first, last = converted.layers
    assert (first.parameters.weights_bits, first.parameters.act_bits) == (8, 4)
    assert last.parameters.weights_bits == 4 and not last.parameters.activation
    expected, _ = quantize_weights(model.get_layer("conv").get_weights()[0], 8, per_channel=True)
    np.testing.assert_array_equal(first.get_variable("weights"), expected)  # an InputConvolutional is not flipped
    images = np.random.default_rng(1).integers(0, 256, (3, 6, 6, 1)).astype(np.uint8)
    assert converted.forward(images).shape == (3, 1, 1, 2)


@pytest.mark.parametrize("build, match", [
    (lambda: qml_model(conv_config=OUT4), "neural layer with its own output quantizer.*Akida 2.0"),
    (lambda: qml_model(relu_config={"buffer_bitwidth": 32}), "QuantizedReLU without output quantizer.*Akida 2.0"),
    (lambda: qml_model(relu_max=None), "'relu'.*unbounded"),
    (lambda: qml_model(relu_config={"output_quantizer": {"bitwidth": 8, "signed": False}}),
     "'relu'.*activations of 8 bits.*Akida 2.0"),
    (lambda: qml_model(hidden_bits=8), "'dense'.*8 bits.*Akida 2.0"),
    (lambda: qml_model(first_bits=2), "'conv'.*2 bits.*InputConvolutional takes 4 or 8"),
    (lambda: qml_model(input_range=100.0), r"'input_quantizer'.*identity.*frac_bits \[1\]"),
    (lambda: qml_model(channels=2), "'input_quantizer'.*uint8 images"),
    (lambda: qml_model(hidden=[QuantizedDepthwiseConv2D(3, padding="same", name="depthwise")]),
     "'depthwise'.*Akida 2.0 layer"),
    (lambda: qml_model(hidden=[tf_keras.layers.Conv2D(2, 1, name="float_conv")]), "'float_conv'.*holds only"),
    (lambda: qml_model(hidden=[QuantizedRescaling(0.5, name="scale")]), "'scale'.*only accepted before the first"),
])
def test_what_akida_1_cannot_take_is_refused_naming_the_layer(build, match):
    with pytest.raises(akida_sim.ConversionError, match=match):
        akida_sim.convert(build())


def test_a_first_block_with_a_global_average_pooling_is_refused():
    model = with_weights(tf_keras.Sequential([
        tf_keras.Input((6, 6, 3)), InputQuantizer(name="input_quantizer"),
        QuantizedConv2D(3, 3, name="conv", quant_config=weights_config(8)), QuantizedGlobalAveragePooling2D(name="gap"),
        QuantizedReLU(max_value=6.0, name="relu", quant_config=OUT4), Dequantizer()]))
    with pytest.raises(akida_sim.ConversionError, match=r"\['conv', 'gap', 'relu'\].*InputConvolutional"):
        akida_sim.convert(model)


@pytest.mark.parametrize("arguments", [dict(weights_bits=2), dict(act_bits={"relu": 2}), dict(input_scaling=(255, 0)),
                                       dict(method="legacy"), dict(calibration_percentile=50), dict(input_bits=8),
                                       dict(weight_quantization=4)])
def test_quantization_arguments_are_refused_for_a_quantized_model(arguments):
    with pytest.raises(akida_sim.ConversionError, match=f"quantized by quantizeml already.*{list(arguments)[0]}"):
        akida_sim.convert(qml_model(), **arguments)
