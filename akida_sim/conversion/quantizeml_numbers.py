"""The integers of a model quantized by quantizeml, recomputed with NumPy.

A Keras model quantized by the vendor's current flow (quantizeml) keeps each
layer's float weights, its quantizers' settings (bit widths, axes) and the
calibrated output ranges as Keras weights and config; its integers (weights,
biases aligned on the accumulator, output scales and shifts) are only
computed when the layer runs. These functions recompute them in float32 with
quantizeml's rules, so that akida_sim reads such a model without quantizeml.

Notation (quantizeml's): a signed quantizer of ``bitwidth`` b has
``value_bits`` b - 1 and integers in [-2**(b-1), 2**(b-1) - 1]; an unsigned
one has b value bits. A fixed-point number is an integer x with ``frac_bits``
f, standing for x * 2**-f; a "scaled" tensor adds float32 scales (per output
channel, or one) by which the fixed-point values are multiplied. Rounding is
half to even (``tf.math.round``), except the right shift of a rescale
(floor(x + 0.5)). quantizeml computes the integers in a TensorFlow graph,
where a division by a constant is a multiplication by its float32
reciprocal (``reciprocal``); that changes the last bit of some scales.
Source: quantizeml 1.2.5 (Apache-2.0), tensors/fixed_point.py, tensors/qfloat.py,
layers/quantizers/*.py; ../shared/reference/keras_conversion.md §4.
"""
import numpy as np

F32 = np.float32
#: The floor quantizeml puts under a weight scale (a channel of zeros).
MIN_WEIGHT_SCALE = F32(1e-6)


def _pow2(exponent):
    """2 ** exponent in float32 (exponent a float32 integer, possibly negative)."""
    return np.power(F32(2), np.asarray(exponent, F32))


def reciprocal(constant):
    """The float32 1 / constant a TensorFlow graph multiplies by when it divides by ``constant``."""
    return F32(1) / F32(constant)


def max_frac_bits(value_bits, ranges, clamp=True):
    """float32 fractional bits value_bits - ceil(log2(ranges)), at most value_bits when ``clamp``.

    A zero range gives +inf (clamped to value_bits).
    """
    with np.errstate(divide="ignore"):
        integer_bits = np.ceil(np.log2(np.asarray(ranges, F32)))
    frac_bits = F32(value_bits) - integer_bits
    return np.minimum(frac_bits, F32(value_bits)) if clamp else frac_bits


def saturate(values, value_bits):
    """``values`` clipped to [-2**value_bits, 2**value_bits - 1] (float32)."""
    limit = F32(2.0 ** value_bits)
    return np.clip(values, -limit, limit - 1)


def quantize_weights(kernel, bitwidth, per_channel):
    """(int8 integers, float32 scales (C,) or ()) of a kernel, as quantizeml's WeightQuantizer.

    scale = max|w| / (2**(b-1) - 1) over every axis but the last (per
    channel) or over all (per tensor), floored at 1e-6; integer =
    round(w / scale), saturated to b signed bits. ``kernel`` keeps its Keras
    layout (output channels last).
    """
    weights = np.asarray(kernel, F32)
    value_bits = bitwidth - 1
    axes = tuple(range(weights.ndim - 1)) if per_channel else None
    ranges = np.max(np.abs(weights), axis=axes)
    scales = np.maximum(ranges.astype(F32) * reciprocal(2 ** value_bits - 1), MIN_WEIGHT_SCALE)
    integers = saturate(np.rint(weights / scales), value_bits)
    return integers.astype(np.int8), scales


def align_bias(bias, bitwidth, scales, frac_bits):
    """int64 bias in accumulator units (frac_bits ``frac_bits``, scales ``scales``), as quantizeml's
    AlignedWeightQuantizer.

    The bias divided by the accumulator's scales is quantized to ``bitwidth``
    signed bits with as many fractional bits as fit (per channel when the
    bitwidth is over 4, per tensor otherwise), never more than
    ``frac_bits``, then shifted left to ``frac_bits``.
    """
    bias = np.asarray(bias, F32)
    value_bits = bitwidth - 1
    ranges = np.abs(bias) if bitwidth > 4 else np.max(np.abs(bias))
    own_bits = np.minimum(max_frac_bits(value_bits, ranges / scales), F32(frac_bits))
    integers = saturate(np.rint((bias / scales) * _pow2(own_bits)), value_bits)
    return np.floor(integers * _pow2(F32(frac_bits) - own_bits) + F32(0.5)).astype(np.int64)


def output_step(scales, frac_bits, bitwidth, range_max, rescaling_rate=1.0, scale_bits=8):
    """(float32 step per channel, output frac_bits) of quantizeml's unsigned OutputQuantizer.

    ``range_max`` (and ``rescaling_rate``) are one value (per tensor) or one
    per channel (per axis: the output frac_bits are then per channel too).

    The accumulator (frac_bits ``frac_bits``, float32 ``scales``) is
    multiplied by its scales quantized to ``scale_bits`` bits (integer q,
    frac_bits g), then shifted to the output's frac_bits
    ``bitwidth - ceil(log2(range_max))``: one output level is
    ``2**(frac_bits + g - output_frac_bits) / q`` accumulator units, the step
    Akida 1.0 divides potentials by.
    """
    rescaled = np.asarray(scales, F32) * np.asarray(rescaling_rate, F32)
    scale_frac_bits = max_frac_bits(scale_bits, rescaled, clamp=False)
    quantized_scales = saturate(np.rint(rescaled * _pow2(scale_frac_bits)), scale_bits)
    out_frac_bits = max_frac_bits(bitwidth, range_max)
    shift = out_frac_bits - (F32(frac_bits) + scale_frac_bits)
    return (_pow2(-shift) / quantized_scales).astype(F32), out_frac_bits


def input_frac_bits(bitwidth, signed, range_min, range_max):
    """float32 frac_bits of quantizeml's per-tensor InputQuantizer calibrated on [range_min, range_max]."""
    value_bits = bitwidth - 1 if signed else bitwidth
    span = max(abs(float(range_max)), abs(float(range_min))) if signed else float(range_max) - float(range_min)
    return max_frac_bits(value_bits, F32(span))
