"""Quantize each block: integer weights with their scales, and the activation step.

Weights (float32 arithmetic, as the vendor's MaxPerAxisQuantizer/MaxQuantizer):
``kmax = 2**(bits - 1) - 1``; ``sf = clip(kmax / max|w|, 0, 1000)`` per output
channel (max|w| floored at 1e-10), per tensor for the depthwise kernel of a
SeparableConv2D; ``w_int = clip(rint(w * sf), -kmax, kmax)`` (half to even).
A layer quantized by the vendor's legacy flow (``QuantizedConv2D``, ...) keeps
its quantizer (class and bit width read from its config); a float layer gets
the per-output-channel quantizer with the requested bit width.

Activations: a block's ReLU becomes a ``bits``-bit step activation of step
``s = max_value / (2**bits - 1)`` (float32) that outputs
``s * clip(ceil((x - s/2) / s), 0, 2**bits - 1)``. ``max_value`` is the
ReLU's; an unbounded ReLU is calibrated on ``samples``: ``max_value`` is the
``percentile``-th percentile of the float model's outputs of that block
(all samples, positions and channels), so that outliers above it saturate.
A ``QuantizedReLU``/``ActivationDiscreteRelu`` keeps its own step and bits.
Source: ../shared/reference/keras_conversion.md §3.
"""
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import ConversionError
from .kinds import NEURAL_KINDS

#: Weight bit widths the converter produces (1-bit Akida weights are unsigned).
LEGAL_WEIGHT_BITS = (2, 4, 8)
#: Weight bit widths of an InputConvolutional (any width up to int8).
LEGAL_INPUT_WEIGHT_BITS = (2, 3, 4, 5, 6, 7, 8)
#: Activation bit widths of Akida 1.0.
LEGAL_ACT_BITS = (1, 2, 4)
#: Largest weight scale factor (keeps thresholds in range), as the vendor's.
MAX_SCALE_FACTOR = np.float32(1000)
#: Floor of max|w| per channel (an all-zero channel), as the vendor's.
MIN_WEIGHT_RANGE = np.float32(1e-10)
#: Quantizer class names of the vendor's legacy flow -> per output channel?
LEGACY_QUANTIZERS = {"MaxPerAxisQuantizer": True, "MaxQuantizer": False}
#: Defaults of the bit-width arguments (also used for blocks a per-layer dict does not name);
#: the input default is an InputConvolutional's (a first layer after InputData takes weights_bits).
DEFAULT_WEIGHTS_BITS = 4
DEFAULT_ACT_BITS = 4
DEFAULT_INPUT_WEIGHTS_BITS = 8


@dataclass(frozen=True)
class QuantizedBlock:
    """A block with integer weights (Keras layout), scales and activation step.

    ``weights``: int8, Conv2D (kh, kw, cin, cout), depthwise (kh, kw, cin, 1)
    or Dense (in, units); ``weights_pw``: int8 (1, 1, cin, cout) or None;
    ``scale``: float32 sf broadcastable to (F,) (sf_dw * sf_pw for a separable);
    ``bias``: float per channel (float32, or float64 zeros without bias);
    ``act_step``: float32 Keras step s (None without activation).
    ``float_weights`` holds the float kernels (after BN folding) quantized,
    ``kernel_scales`` their scales (sf, or sf_dw and sf_pw) and
    ``kernel_ranges`` the float32 clipping ranges those scales come from
    (``scale_of_range``); None for a block whose scales have no range.
    """

    block: object
    weights: np.ndarray
    weights_pw: object
    scale: object
    bias: np.ndarray
    weights_bits: int
    act_bits: object
    act_step: object
    float_weights: tuple
    kernel_scales: tuple
    calibrated_max: object
    kernel_ranges: tuple = None


def kernel_range(kernel, per_axis):
    """float32 max|w| per output channel (last axis) or of the tensor, floored at 1e-10: the legacy clipping range."""
    magnitude = np.abs(np.asarray(kernel, np.float32))
    axes = tuple(range(magnitude.ndim - 1)) if per_axis else None
    return np.maximum(np.max(magnitude, axis=axes), MIN_WEIGHT_RANGE).astype(np.float32)


def quantize_kernel(kernel, bits, per_axis):
    """(int8 weights, float32 sf) of a float kernel, output channels on the last axis."""
    scale = scale_of_range(kernel_range(kernel, per_axis), bits)
    return kernel_integers(kernel, scale, bits), scale


def scale_of_range(weight_range, bits):
    """float32 sf of a clipping range (float32, per channel or one): ``min(kmax / max(range, 1e-10), 1000)``."""
    kmax = np.float32(2.0 ** (bits - 1) - 1)
    return np.minimum(kmax / np.maximum(np.asarray(weight_range, np.float32), MIN_WEIGHT_RANGE), MAX_SCALE_FACTOR)


def kernel_integers(kernel, scale, bits):
    """int8 ``clip(rint(kernel * scale), -kmax, kmax)`` in float32 arithmetic (half to even)."""
    kmax = np.float32(2.0 ** (bits - 1) - 1)
    return np.clip(np.rint(np.asarray(kernel, np.float32) * np.asarray(scale, np.float32)), -kmax, kmax).astype(np.int8)


def bits_for(setting, block, default, argument):
    """The bit width ``setting`` (an int, or a dict by Keras layer name) gives ``block``."""
    if isinstance(setting, dict):
        unknown = [k for k in setting if not isinstance(k, str)]
        if unknown:
            raise ConversionError(f"convert: argument '{argument}' must map Keras layer names to bits, got keys "
                                  f"{unknown}")
        named = [setting[name] for name in block.keras_names if name in setting]
        return named[0] if named else default
    return setting


def _check_bits(bits, legal, argument, block):
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or bits not in legal:
        raise ConversionError(
            f"Keras layer '{block.neural.name}': {argument}={bits!r} is not a legal bit width for its "
            f"Akida layer; expected one of {legal}")
    return int(bits)


def _legacy_quantizer(layer, key, block):
    quantizer = layer.config.get(key)
    name = quantizer.get("class_name") if isinstance(quantizer, dict) else type(quantizer).__name__
    if name not in LEGACY_QUANTIZERS:
        raise ConversionError(
            f"Keras layer '{layer.name}' ({layer.kind}): weight quantizer {name} is not supported; expected "
            f"one of {sorted(LEGACY_QUANTIZERS)}")
    bits = _check_bits(quantizer["config"]["bitwidth"], legal_weight_bits(block), f"{key} bitwidth", block)
    return bits, LEGACY_QUANTIZERS[name]


def legal_weight_bits(block):
    """The weight bit widths the block's Akida layer takes (an InputConvolutional: any from 2 to 8)."""
    return LEGAL_INPUT_WEIGHT_BITS if block.akida_class.__name__ == "InputConvolutional" else LEGAL_WEIGHT_BITS


def quantize_weights(block, weights_bits, input_weights_bits):
    """(weights, weights_pw, scale, bias, bits, float kernels, kernel scales, kernel ranges) of a block."""
    neural = block.neural
    role = NEURAL_KINDS[neural.kind]
    legacy = neural.kind.startswith("Quantized")
    kernel_at = 1 if role == "separable" else 0
    bias_at = kernel_at + 1
    channels = neural.output_shape[-1]
    if neural.config.get("use_bias", True):
        bias = neural.weights[bias_at]
    else:
        bias = np.zeros(channels)
    if legacy:
        bits, per_axis = _legacy_quantizer(neural, "quantizer", block)
    else:
        input_conv = block.akida_class.__name__ == "InputConvolutional"
        if block.first and (input_weights_bits is not None or input_conv):
            setting = DEFAULT_INPUT_WEIGHTS_BITS if input_weights_bits is None else input_weights_bits
            argument, default = "input_weights_bits", DEFAULT_INPUT_WEIGHTS_BITS
        else:
            setting, argument, default = weights_bits, "weights_bits", DEFAULT_WEIGHTS_BITS
        bits = _check_bits(bits_for(setting, block, default, argument), legal_weight_bits(block), argument, block)
        per_axis = True
    kernel = neural.weights[kernel_at]
    if not all(np.all(np.isfinite(w)) for w in neural.weights):
        raise ConversionError(f"Keras layer '{neural.name}' ({neural.kind}): its weights (BatchNormalization "
                              f"folded) hold NaN or infinite values; a trained model has finite weights")
    weights, scale = quantize_kernel(kernel, bits, per_axis)
    weight_range = kernel_range(kernel, per_axis)
    if role != "separable":
        return weights, None, scale, bias, bits, (kernel,), (scale,), (weight_range,)
    depthwise = neural.weights[0]
    if legacy:
        dw_bits, dw_per_axis = _legacy_quantizer(neural, "quantizer_dw", block)
        if dw_bits != bits:
            raise ConversionError(
                f"Keras layer '{neural.name}' ({neural.kind}): the depthwise and pointwise quantizers must "
                f"have the same bit width, got {dw_bits} and {bits}")
    else:
        dw_per_axis = False
    dw_weights, dw_scale = quantize_kernel(depthwise, bits, dw_per_axis)
    dw_range = kernel_range(depthwise, dw_per_axis)
    if np.ndim(dw_scale) != 0:
        raise ConversionError(
            f"Keras layer '{neural.name}' ({neural.kind}): the depthwise quantizer must have one scale for "
            f"the tensor (MaxQuantizer); a per-channel depthwise scale cannot be expressed on Akida")
    return (dw_weights, weights, dw_scale * scale, bias, bits, (depthwise, kernel), (dw_scale, scale),
            (dw_range, weight_range))


def _calibrated_max(block, outputs, percentile, bits):
    if outputs is None:
        raise ConversionError(
            f"Keras layer '{block.activation.name}' (ReLU) is unbounded: give it a max_value "
            f"(ReLU(max_value=...)) or pass calibration 'samples' to convert(); Akida activations "
            f"have a fixed range; accepted order ends with ReLU(max_value)")
    max_value = float(np.percentile(outputs, percentile))
    if max_value <= 0:
        max_value = float(np.max(outputs))
    if max_value <= 0:
        max_value = 2.0 ** bits - 1
        warnings.warn(f"convert: the ReLU '{block.activation.name}' never fires on the calibration samples; "
                      f"its range defaults to {max_value}", stacklevel=4)
    return max_value


def activation_step(block, act_bits, outputs, percentile):
    """(bits, float32 step, calibrated max or None) of a block's activation (None, None, None without)."""
    activation = block.activation
    if activation is None:
        return None, None, None
    config = activation.config
    if activation.kind == "QuantizedReLU":
        bits = _check_bits(config["bitwidth"], LEGAL_ACT_BITS, "bitwidth", block)
        return bits, np.float32(config["max_value"]) / np.float32(2.0 ** bits - 1), None
    if activation.kind == "ActivationDiscreteRelu":
        bits = _check_bits(config["bitwidth"], LEGAL_ACT_BITS, "bitwidth", block)
        levels = 2.0 ** bits - 1
        return bits, np.float32(min(levels, 6) / levels), None
    bits = _check_bits(bits_for(act_bits, block, DEFAULT_ACT_BITS, "act_bits"), LEGAL_ACT_BITS, "act_bits", block)
    max_value = config.get("max_value")
    calibrated = None
    if max_value is None:
        max_value = calibrated = _calibrated_max(block, outputs, percentile, bits)
    max_value = float(max_value)
    if not max_value > 0:
        raise ConversionError(f"Keras layer '{activation.name}' (ReLU): max_value must be > 0, got {max_value}")
    return bits, np.float32(max_value) / np.float32(2.0 ** bits - 1), calibrated


def quantize_block(block, weights_bits, act_bits, input_weights_bits, outputs=None, percentile=99.9):
    """The QuantizedBlock of ``block``; ``outputs`` are its float outputs on samples (or None)."""
    weights, weights_pw, scale, bias, bits, float_weights, scales, ranges = quantize_weights(
        block, weights_bits, input_weights_bits)
    abits, step, calibrated = activation_step(block, act_bits, outputs, percentile)
    return QuantizedBlock(block, weights, weights_pw, scale, bias, bits, abits, step, float_weights, scales,
                          calibrated, ranges)
