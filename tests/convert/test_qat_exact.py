"""``akida_sim.quantize``: the quantized Keras forward equals ``convert`` + ``forward``/``predict``.

Random small float models (conv / separable / dense, BatchNormalization, bounded and calibrated ReLUs, max
pool, global average pool, both paddings, strides, image and InputData inputs, 1/2/4-bit activations, 2/4/8-bit
weights) are quantized; every block layer's Keras output is compared with the akida_sim model converted from the
quantized model, cut after the same layer: activation levels equal, predict values equal up to float32 rounding.
"""
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import akida_sim
from akida_sim import ConversionError, Model
from akida_sim.conversion.qat import BLOCK_LAYERS
from keras_models import random_weights
from test_convert_flavours import assert_same_integers


@st.composite
def float_models(draw):
    """A spec of a small float model convert accepts."""
    image = draw(st.booleans())
    flat = not image and draw(st.booleans())
    count = draw(st.integers(1, 3))
    blocks, spatial = [], not flat
    for k in range(count):
        if not spatial:
            role = "dense"
        elif image and k == 0:
            role = "conv"
        else:
            role = draw(st.sampled_from(["conv", "separable", "dense"]))
        block = dict(role=role, units=draw(st.integers(1, 6)), bn=draw(st.booleans()),
                     relu=draw(st.sampled_from([None, 1.0, 6.0])), act_bits=draw(st.sampled_from([1, 2, 4])))
        if role != "dense":
            block.update(kernel=draw(st.sampled_from([1, 3])), padding=draw(st.sampled_from(["same", "valid"])),
                         stride=draw(st.integers(1, 2)), pool=draw(st.sampled_from([None, "max", "gap"])))
            if block["kernel"] == 1 and not (image and k == 0):
                block["stride"] = 1
            spatial = block["pool"] != "gap"
        else:
            spatial = False
        blocks.append(block)
    return dict(image=image, flat=flat, channels=draw(st.sampled_from([1, 3] if image else [2, 5])),
                size=draw(st.integers(6, 9)), blocks=blocks, last_activation=draw(st.booleans()),
                weights_bits=draw(st.sampled_from([2, 4, 8])), seed=draw(st.integers(0, 2 ** 16)))


def build(keras, spec):
    """(float Keras model, integer Keras inputs, bits dict) of a spec."""
    layers = keras.layers
    shape = (spec["size"] * spec["size"] * spec["channels"],) if spec["flat"] else \
        (spec["size"], spec["size"], spec["channels"])
    body, act_bits, weights_bits = [keras.Input(shape)], {}, {}
    flattened = spec["flat"]
    for k, block in enumerate(spec["blocks"]):
        last = k == len(spec["blocks"]) - 1
        name = f"n{k}"
        if block["role"] == "dense":
            if not flattened:
                body.append(layers.Flatten())
                flattened = True
            body.append(layers.Dense(block["units"], name=name))
        else:
            cls = layers.Conv2D if block["role"] == "conv" else layers.SeparableConv2D
            body.append(cls(block["units"], block["kernel"], strides=block["stride"], padding=block["padding"],
                            name=name))
            if block["pool"] == "max":
                body.append(layers.MaxPooling2D(padding=block["padding"]))
            elif block["pool"] == "gap":
                body.append(layers.GlobalAveragePooling2D())
                flattened = True
        if block["bn"]:
            body.append(layers.BatchNormalization())
        if not last or spec["last_activation"]:
            body.append(layers.ReLU(block["relu"], name=f"r{k}"))
            act_bits[f"r{k}"] = block["act_bits"]
        if spec["weights_bits"] != 8 or (k == 0 and spec["image"]):
            weights_bits[name] = spec["weights_bits"]
    model = random_weights(keras.Sequential(body), seed=spec["seed"], scale=0.5)
    high = 255 if spec["image"] else 15
    x = np.random.default_rng(spec["seed"]).integers(0, high + 1, (24,) + shape).astype(np.float32)
    return model, x, dict(weights_bits=weights_bits, act_bits=act_bits)


def compare(quantized, akida_model, x, image):
    """Each block layer's Keras output against the converted model cut after the same layer."""
    akida_inputs = x.reshape((len(x),) + tuple(akida_model.input_shape)).astype(np.uint8)
    names = [layer.name for layer in akida_model.layers]
    keras_module = type(quantized).__module__.split(".")[0]
    model_class = quantized.__class__.__mro__[[c.__name__ for c in quantized.__class__.__mro__].index("Model")]
    for layer in quantized.layers:
        if type(layer).__name__ not in BLOCK_LAYERS:
            continue
        keras_out = np.asarray(model_class(quantized.input, layer.output)(x))
        part = Model(layers=akida_model.layers[:names.index(layer.name) + 1])
        if layer.act_bits is None:
            akida_out = part.predict(akida_inputs).reshape(keras_out.shape)
            np.testing.assert_allclose(akida_out, keras_out, rtol=1e-6, atol=1e-6 * np.abs(akida_out).max(),
                                       err_msg=f"{keras_module} {layer.name}")
            agree = np.mean(np.argmax(akida_out.reshape(len(x), -1), 1) == np.argmax(keras_out.reshape(len(x), -1), 1))
            assert agree >= 0.99
        else:
            np.testing.assert_array_equal(part.forward(akida_inputs).reshape(keras_out.shape), keras_out,
                                          err_msg=f"{keras_module} {layer.name}")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=float_models())
def test_quantized_forward_is_the_converted_models(keras, spec):
    try:
        model, x, bits = build(keras, spec)
    except ValueError:  # a map shrinks to nothing
        assume(False)
    for method in ("hardware", "legacy"):
        # error_calibration_bits=0: the legacy method keeps convert's ReLU ranges
        arguments = dict(samples=x, method=method, **bits)
        try:
            reference, report = akida_sim.convert(model, return_report=True, **arguments)
        except ConversionError as refusal:
            with pytest.raises(ConversionError, match=re.escape(str(refusal).split(":")[0])):
                akida_sim.quantize(model, error_calibration_bits=0, **arguments)
            continue
        if any(row["act_step_clamped"] for row in report.layers):
            with pytest.raises(ConversionError, match="act_step above the hardware limit"):
                akida_sim.quantize(model, error_calibration_bits=0, **arguments)  # the forward has no clamp
            continue
        quantized = akida_sim.quantize(model, error_calibration_bits=0, **arguments)
        akida_model = akida_sim.convert(quantized)
        assert_same_integers(akida_model, reference)
        compare(quantized, akida_model, x, spec["image"])


SPEC = dict(image=True, flat=False, channels=1, size=9, last_activation=False, weights_bits=4, seed=3, blocks=[
    dict(role="conv", units=4, bn=True, relu=None, act_bits=4, kernel=3, padding="same", stride=1, pool="max"),
    dict(role="separable", units=5, bn=True, relu=6.0, act_bits=2, kernel=3, padding="same", stride=1, pool="gap"),
    dict(role="dense", units=3, bn=False, relu=None, act_bits=4)])


@pytest.mark.parametrize("flavour", ["keras", "tf_keras"])
def test_both_flavours_quantize_to_a_model_of_their_own(request, flavour):
    keras_module = request.getfixturevalue(flavour)
    model, x, bits = build(keras_module, SPEC)
    quantized = akida_sim.quantize(model, samples=x, **bits)
    assert type(quantized).__module__.split(".")[0] == type(model).__module__.split(".")[0]
    assert [type(layer).__name__ for layer in quantized.layers][1:] == [
        "AkidaConv2D", "AkidaSeparableConv2D", "Flatten", "AkidaDense"]
    compare(quantized, akida_sim.convert(quantized), x, True)


def test_a_rescaling_is_kept_first_and_its_scaling_used(keras):
    model, x, bits = build(keras, SPEC)
    rescaled = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.Rescaling(1 / 255.0)] + model.layers)
    quantized = akida_sim.quantize(rescaled, samples=x, **bits)
    assert type(quantized.layers[1]).__name__ == "Rescaling"
    akida_model = akida_sim.convert(quantized)
    assert_same_integers(akida_model, akida_sim.convert(rescaled, samples=x, **bits))
    compare(quantized, akida_model, x, True)
