"""Emit the akida_sim Model: layers, Akida weight layouts, thresholds and steps.

Per block, with (sigma, offset) the input scaling of the block (the model's for
the first, (1/s_prev, 0) after an activation of step s_prev), sf the weight
scale, N the pixels a GAP sums (1 without), s and b the activation step/bits:
``threshold = floor(N * (sigma * sf * (s/2 - bias) + offset * sum(w_int)))``
(the offset term for an InputConvolutional only) and
``act_step = float32(N * sigma * sf * s * 2**b / 16)``; a last block without
activation gets ``activation=False``, ``threshold = floor(-N*sigma*sf*bias)``,
``act_step = N*sigma*sf``, so that ``predict`` returns Keras units. The float
dtypes of every step follow the vendor's converter (float32 scales and steps,
float64 sums) so the integers are the same.

Layouts: Conv/Separable kernels flipped on both spatial axes (Akida
convolves), InputConvolutional not flipped; a Dense after a Flatten of
(H, W, C) gets Akida row h + H*(w + W*c) (column-major).

Hardware fix-up (as the vendor's): a non-last layer whose act_step exceeds
2**20 - 1 (InputConvolutional) or 2**16 - 1 is clamped, its threshold moved by
the changed half step, and the next layer's weights floor-divided by the
ratio per input channel; thresholds above 2**23 - 1 / 2**19 - 1 are clipped
(warned). Sources: ../shared/reference/keras_conversion.md §3 and §5.
"""
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import SimValueError
from ..layers import FullyConnected, InputConvolutional, InputData, SeparableConvolutional
from ..model import Model
from .errors import ConversionError

#: (act_step, threshold) limits of the hardware: InputConvolutional (HRC), other layers.
HRC_LIMITS = ((1 << 20) - 1, (1 << 23) - 1)
NP_LIMITS = ((1 << 16) - 1, (1 << 19) - 1)


@dataclass
class LayerVariables:
    """The variables of one emitted Akida layer, before they are set."""

    layer: object
    block: object
    weights: np.ndarray
    weights_pw: object
    threshold: np.ndarray
    act_step: np.ndarray
    act_bits: object
    act_step_clamped: bool = False
    threshold_clipped: bool = False
    #: Per channel, how many times finer the fix-up made the step (1 when untouched).
    step_ratio: np.ndarray = 1.0


def akida_weights(qblock, layer):
    """The block's int8 weights in the Akida layer's layout."""
    if isinstance(layer, FullyConnected):
        x, y, c = layer.input_dims
        units = qblock.weights.shape[-1]
        return np.ascontiguousarray(
            qblock.weights.reshape(x, y, c, units).transpose(2, 1, 0, 3).reshape(1, 1, x * y * c, units))
    if isinstance(layer, InputConvolutional):
        return qblock.weights
    return np.ascontiguousarray(np.flip(qblock.weights, axis=(0, 1)))


def neuron_variables(qblock, sigma, offset, weights, input_conv):
    """(int32 threshold, float32 act_step) of a block, in the vendor's dtype order."""
    channels = qblock.block.neural.output_shape[-1]
    if qblock.act_step is not None:
        half_step = qblock.act_step * np.float32(0.5)
        act_threshold = half_step * np.ones(channels)
        step = (qblock.act_step * 2.0 ** qblock.act_bits / 16) * np.ones(channels)
    else:
        act_threshold = np.zeros(channels)
        step = np.ones(channels)
    threshold = sigma * qblock.scale * (act_threshold - qblock.bias)
    act_step = (sigma * qblock.scale * step).astype(np.float32)
    if input_conv:
        threshold += np.sum(weights, axis=(0, 1, 2)) * offset
    gap = qblock.block.gap_pixels
    if gap != 1:
        gap = np.int64(gap)
        threshold *= gap
        act_step *= gap
    return np.floor(threshold).astype(np.int32), act_step


def _limits(variables):
    return HRC_LIMITS if isinstance(variables.layer, InputConvolutional) else NP_LIMITS


def _next_weights_divided(next_variables, ratio):
    """The next layer's weights floor-divided by ``ratio`` per input channel."""
    weights = next_variables.weights
    if isinstance(next_variables.layer, FullyConnected):
        x, y, c = next_variables.layer.input_dims
        per_row = np.repeat(ratio, x * y)  # row h + X*(w + Y*c) belongs to channel c
        return (weights // per_row[np.newaxis, np.newaxis, :, np.newaxis]).astype(np.int8)
    return (weights // ratio[np.newaxis, np.newaxis, :, np.newaxis]).astype(np.int8)


def hardware_fix_up(all_variables):
    """Clamp act_steps and thresholds of every layer but the last to the hardware limits (in place)."""
    for k, variables in enumerate(all_variables[:-1]):
        step_limit, _ = _limits(variables)
        act_step = variables.act_step
        if (act_step > step_limit).any():
            original = act_step.copy()
            ratio = np.where(act_step > step_limit, act_step / step_limit, 1)
            act_step = act_step.copy()
            act_step[act_step > step_limit] = step_limit
            variables.act_step, variables.act_step_clamped, variables.step_ratio = act_step, True, ratio
            if variables.act_bits is not None:
                effect = np.round(0.5 * (act_step - original))
                effect /= 2 ** (variables.act_bits - 4)
                variables.threshold = variables.threshold + effect.astype(np.int32)
            following = all_variables[k + 1]
            following.weights = _next_weights_divided(following, ratio)
    for variables in all_variables[:-1]:
        _, threshold_limit = _limits(variables)
        if np.any(variables.threshold > threshold_limit):
            variables.threshold = np.minimum(variables.threshold, threshold_limit).astype(np.int32)
            variables.threshold_clipped = True
            warnings.warn(f"convert: layer '{variables.layer.name}' has thresholds above the hardware limit "
                          f"{threshold_limit}; they are clipped to it", stacklevel=3)


#: The finest act_step Akida holds (in potential units).
MIN_ACT_STEP = 1.0 / 16


def _set(variables):
    layer = variables.layer
    if np.any(variables.act_step < MIN_ACT_STEP):
        raise ConversionError(
            f"Keras layers {list(variables.block.keras_names)}: the activation step of Akida layer '{layer.name}' "
            f"would be {float(np.min(variables.act_step)):.4g} potential units, finer than the chip's 1/16 "
            f"(act_step = sigma * sf * step * 2**act_bits / 16): give this layer more weight bits or a coarser "
            f"activation (fewer act_bits or a larger ReLU max_value), or the previous layer a finer one")
    try:
        layer.set_variable("weights", variables.weights)
        if variables.weights_pw is not None:
            layer.set_variable("weights_pw", variables.weights_pw)
        layer.set_variable("threshold", variables.threshold)
        layer.set_variable("act_step", variables.act_step)
    except SimValueError as exc:
        raise ConversionError(
            f"Keras layers {list(variables.block.keras_names)}: the converted variables do not fit the Akida "
            f"layer '{layer.name}': {exc}") from exc


def add_layer(model, block, arguments):
    """The block's Akida layer built from its constructor ``arguments`` and added to ``model``."""
    try:
        layer = block.akida_class(**arguments)
        model.add(layer)
    except (SimValueError, RuntimeError) as exc:
        raise ConversionError(f"Keras layers {list(block.keras_names)}: cannot build the Akida layer "
                              f"{block.akida_class.__name__}: {exc}") from exc
    return layer


def emit_model(qblocks, input_shape, input_scaling, input_bits, input_name):
    """(akida_sim Model, [LayerVariables]) of the quantized blocks.

    ``input_shape`` is the Keras per-sample input shape ((N,) becomes
    (1, 1, N)); ``input_scaling`` is (sigma, offset) of the first block.
    """
    model = Model()
    if not qblocks[0].block.image_input:
        shape = (1, 1, input_shape[0]) if len(input_shape) == 1 else tuple(input_shape)
        model.add(InputData(input_shape=shape, input_bits=input_bits, name=input_name))
    sigma, offset = input_scaling
    all_variables = []
    for k, qblock in enumerate(qblocks):
        block = qblock.block
        arguments = block.pattern.arguments(block)
        arguments["weights_bits"] = qblock.weights_bits
        if qblock.act_bits is not None:
            arguments["act_bits"] = qblock.act_bits
        else:
            arguments["activation"] = False
        input_conv = block.akida_class is InputConvolutional
        if input_conv:
            arguments["padding_value"] = int(offset)
        layer = add_layer(model, block, arguments)
        weights = akida_weights(qblock, layer)
        weights_pw = qblock.weights_pw if isinstance(layer, SeparableConvolutional) else None
        threshold, act_step = neuron_variables(qblock, sigma, offset, weights, input_conv)
        all_variables.append(LayerVariables(layer, block, weights, weights_pw, threshold, act_step, qblock.act_bits))
        if qblock.act_step is not None:
            sigma, offset = 1 / qblock.act_step, 0
    hardware_fix_up(all_variables)
    for variables in all_variables:
        _set(variables)
    return model, all_variables
