"""Look-alikes of quantizeml's layers, built from tf_keras' own layers, and small models made of them.

quantizeml's layers are tf_keras layers known by class name and module;
these have the same class names, a ``quantizeml`` module, the same config
keys and weight names, so the conversion tests run without the vendor's
packages. ``CUSTOM_OBJECTS`` lets tf_keras load a saved look-alike model.
"""
import numpy as np
import pytest

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
    def __init__(self, bitwidth=8, signed=False, axis="per-tensor", **kwargs):
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
QuantizedSeparableConv2D = _look_alike(tf_keras.layers.SeparableConv2D, "QuantizedSeparableConv2D")
QuantizedRescaling = _look_alike(tf_keras.layers.Rescaling, "QuantizedRescaling")
QuantizedReLU = _look_alike(tf_keras.layers.ReLU, "QuantizedReLU", ("range_max", "rescaling_rate"))

#: The look-alike classes by name, for ``tf_keras.utils.custom_object_scope`` when a saved model is loaded.
CUSTOM_OBJECTS = {cls.__name__: cls for cls in (
    InputQuantizer, Dequantizer, QuantizedConv2D, QuantizedDepthwiseConv2D, QuantizedDense, QuantizedFlatten,
    QuantizedGlobalAveragePooling2D, QuantizedSeparableConv2D, QuantizedRescaling, QuantizedReLU)}

OUT4 = {"output_quantizer": {"bitwidth": 4, "signed": False, "axis": "per-tensor"}}


def weights_config(bits):
    return {"weight_quantizer": {"bitwidth": bits}}


def qml_model(first_bits=8, hidden_bits=4, conv_config=None, relu_config=None, relu_max=6.0,
                     input_range=255.0, channels=1, hidden=None):
    """InputQuantizer > conv > ReLU > [hidden] > Flatten > Dense > Dequantizer, random weights, ranges set."""
    layers = [tf_keras.Input((6, 6, channels)), InputQuantizer(name="input_quantizer"),
              QuantizedConv2D(3, 3, padding="same", name="conv", quant_config=dict(weights_config(first_bits),
                                                                                  **(conv_config or {}))),
              QuantizedReLU(max_value=relu_max, name="relu", quant_config=relu_config or OUT4)]
    layers += hidden or []
    dense = QuantizedDense(2, name="dense", quant_config=weights_config(hidden_bits))
    layers += [QuantizedFlatten(name="flatten"), dense, Dequantizer(name="dequantizer")]
    return with_weights(tf_keras.Sequential(layers), input_range)


def with_weights(model, input_range=255.0):
    """``model`` with normal random weights, its InputQuantizer on [0, input_range], ReLU ranges 6."""
    rng = np.random.default_rng(0)
    for layer in model.layers:
        named = {w.name.split("/")[-1].split(":")[0]: w for w in layer.weights}
        for short, weight in named.items():
            value = {"range_min": 0.0, "range_max": input_range if layer.name == "input_quantizer" else 6.0,
                     "rescaling_rate": 1.0}.get(short)
            weight.assign(rng.normal(0, 0.4, weight.shape) if value is None else value)
    return model
