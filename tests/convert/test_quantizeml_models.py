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

tf_keras = pytest.importorskip("tf_keras")

MODULE = "quantizeml.layers.look_alike"


def _look_alike(base, name, weights=()):
    """A tf_keras layer class named ``name`` in a quantizeml module, with a quant_config and extra weights."""
    def __init__(self, *args, quant_config=None, **kwargs):
        base.__init__(self, *args, **kwargs)
        self.quant_config = dict(quant_config or {})

    def build(self, input_shape):
        base.build(self, input_shape)
        for weight in weights:
            self.add_weight(name=weight, shape=(), initializer="ones", trainable=False)

    def get_config(self):
        return dict(base.get_config(self), quant_config=self.quant_config)

    return type(name, (base,), {"__module__": MODULE, "__init__": __init__, "build": build,
                                "get_config": get_config})


class _Identity(tf_keras.layers.Layer):
    def call(self, inputs):
        return inputs


class _InputQuantizer(_Identity):
    def __init__(self, bitwidth=8, signed=False, **kwargs):
        super().__init__(**kwargs)
        self.bitwidth, self.signed = bitwidth, signed

    def get_config(self):
        return dict(super().get_config(), bitwidth=self.bitwidth, signed=self.signed, axis="per-tensor")


InputQuantizer = _look_alike(_InputQuantizer, "InputQuantizer", ("range_min", "range_max"))
Dequantizer = _look_alike(_Identity, "Dequantizer")
QuantizedConv2D = _look_alike(tf_keras.layers.Conv2D, "QuantizedConv2D")
QuantizedDepthwiseConv2D = _look_alike(tf_keras.layers.DepthwiseConv2D, "QuantizedDepthwiseConv2D")
QuantizedDense = _look_alike(tf_keras.layers.Dense, "QuantizedDense")
QuantizedFlatten = _look_alike(tf_keras.layers.Flatten, "QuantizedFlatten")
QuantizedGlobalAveragePooling2D = _look_alike(tf_keras.layers.GlobalAveragePooling2D,
                                              "QuantizedGlobalAveragePooling2D")
QuantizedRescaling = _look_alike(tf_keras.layers.Rescaling, "QuantizedRescaling")
QuantizedReLU = _look_alike(tf_keras.layers.ReLU, "QuantizedReLU", ("range_max", "rescaling_rate"))

OUT4 = {"output_quantizer": {"bitwidth": 4, "signed": False, "axis": "per-tensor"}}


def _weights(bits):
    return {"weight_quantizer": {"bitwidth": bits}}


def _model(first_bits=8, hidden_bits=4, conv_config=None, relu_config=None, relu_max=6.0, input_range=255.0,
           channels=1, hidden=None):
    """InputQuantizer > conv > ReLU > [hidden] > Flatten > Dense > Dequantizer, random weights, ranges set."""
    layers = [tf_keras.Input((6, 6, channels)), InputQuantizer(name="input_quantizer"),
              QuantizedConv2D(3, 3, padding="same", name="conv", quant_config=dict(_weights(first_bits),
                                                                                  **(conv_config or {}))),
              QuantizedReLU(max_value=relu_max, name="relu", quant_config=relu_config or OUT4)]
    layers += hidden or []
    layers += [QuantizedFlatten(name="flatten"), QuantizedDense(2, name="dense", quant_config=_weights(hidden_bits)),
               Dequantizer(name="dequantizer")]
    return _with_weights(tf_keras.Sequential(layers), input_range)


def _with_weights(model, input_range=255.0):
    """``model`` with normal random weights, its InputQuantizer on [0, input_range], ReLU ranges 6."""
    rng = np.random.default_rng(0)
    for layer in model.layers:
        named = {w.name.split("/")[-1].split(":")[0]: w for w in layer.weights}
        for short, weight in named.items():
            value = {"range_min": 0.0, "range_max": input_range if layer.name == "input_quantizer" else 6.0,
                     "rescaling_rate": 1.0}.get(short)
            weight.assign(rng.normal(0, 0.4, weight.shape) if value is None else value)
    return model


def test_a_quantizeml_model_converts_to_akida_1_layers_without_quantizeml():
    model = _model()
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
    (lambda: _model(conv_config=OUT4), "neural layer with its own output quantizer.*Akida 2.0"),
    (lambda: _model(relu_config={"buffer_bitwidth": 32}), "QuantizedReLU without output quantizer.*Akida 2.0"),
    (lambda: _model(relu_max=None), "'relu'.*unbounded"),
    (lambda: _model(relu_config={"output_quantizer": {"bitwidth": 8, "signed": False}}),
     "'relu'.*activations of 8 bits.*Akida 2.0"),
    (lambda: _model(hidden_bits=8), "'dense'.*8 bits.*Akida 2.0"),
    (lambda: _model(first_bits=2), "'conv'.*2 bits.*InputConvolutional takes 4 or 8"),
    (lambda: _model(input_range=100.0), r"'input_quantizer'.*identity.*frac_bits \[1\]"),
    (lambda: _model(channels=2), "'input_quantizer'.*uint8 images"),
    (lambda: _model(hidden=[QuantizedDepthwiseConv2D(3, padding="same", name="depthwise")]),
     "'depthwise'.*Akida 2.0 layer"),
    (lambda: _model(hidden=[tf_keras.layers.Conv2D(2, 1, name="float_conv")]), "'float_conv'.*holds only"),
    (lambda: _model(hidden=[QuantizedRescaling(0.5, name="scale")]), "'scale'.*only accepted before the first"),
])
def test_what_akida_1_cannot_take_is_refused_naming_the_layer(build, match):
    with pytest.raises(akida_sim.ConversionError, match=match):
        akida_sim.convert(build())


def test_a_first_block_with_a_global_average_pooling_is_refused():
    model = _with_weights(tf_keras.Sequential([
        tf_keras.Input((6, 6, 3)), InputQuantizer(name="input_quantizer"),
        QuantizedConv2D(3, 3, name="conv", quant_config=_weights(8)), QuantizedGlobalAveragePooling2D(name="gap"),
        QuantizedReLU(max_value=6.0, name="relu", quant_config=OUT4), Dequantizer()]))
    with pytest.raises(akida_sim.ConversionError, match=r"\['conv', 'gap', 'relu'\].*InputConvolutional"):
        akida_sim.convert(model)


@pytest.mark.parametrize("arguments", [dict(weights_bits=2), dict(input_scaling=(255, 0)),
                                       dict(samples=np.zeros((1, 6, 6, 1))), dict(return_report=True)])
def test_quantization_arguments_are_refused_for_a_quantized_model(arguments):
    with pytest.raises(akida_sim.ConversionError, match=f"quantized by quantizeml already.*{list(arguments)[0]}"):
        akida_sim.convert(_model(), **arguments)
