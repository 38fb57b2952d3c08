"""Graph transforms on the list of Keras layer descriptions, before any integer.

Applied in this order (as the vendor's sanitizer does):

1. drop layers that do nothing at inference (Dropout, ...);
2. a ReLU directly before a MaxPooling2D moves after it (a monotone activation
   commutes with a max);
3. a BatchNormalization directly after a MaxPooling2D moves before it when
   every gamma is positive (a positive affine map commutes with a max), and
   directly after a GlobalAveragePooling2D always (an affine map commutes
   with a mean);
4. a BatchNormalization directly after a neural layer is folded into it:
   kernel *= gamma / sqrt(var + eps) per output channel,
   bias' = beta + (bias - mean) * gamma / sqrt(var + eps), in float32.

Source: ../shared/reference/keras_conversion.md §2-3.
"""
import numpy as np

from .errors import ACCEPTED_ORDER, ConversionError
from .kinds import (ACTIVATION_KINDS, BATCH_NORM, MAX_POOL, NEURAL_KINDS,
                    POOL_KINDS, SKIPPED_KINDS)

#: Quantizers of the vendor's legacy flow with one scale per output channel.
PER_AXIS_QUANTIZERS = ("MaxPerAxisQuantizer",)


def batch_norm_parameters(bn):
    """(gamma, beta, mean, variance, epsilon) of a BatchNormalization description."""
    axis = bn.config.get("axis", -1)
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    rank = len(bn.input_shape)
    if len(axes) != 1 or axes[0] not in (-1, rank):
        raise ConversionError(
            f"Keras layer '{bn.name}' (BatchNormalization) normalizes axis {axis}: only the last "
            f"(channel) axis can be folded into a neural layer")
    weights = list(bn.weights)
    channels = bn.input_shape[-1]
    gamma = weights.pop(0) if bn.config.get("scale", True) else np.ones(channels, np.float32)
    beta = weights.pop(0) if bn.config.get("center", True) else np.zeros(channels, np.float32)
    mean, variance = weights
    return gamma, beta, mean, variance, bn.config["epsilon"]


def drop_skipped(layers):
    """Without the layers that are identities at inference."""
    return [layer for layer in layers if layer.kind not in SKIPPED_KINDS]


def _swap(first, second, first_is_pool):
    """(second, first) with shapes updated; one of them is a pooling layer."""
    if first_is_pool:  # pool, per-channel op -> per-channel op, pool
        return [second.replaced(input_shape=first.input_shape, output_shape=first.input_shape),
                first]
    return [second, first.replaced(input_shape=second.output_shape, output_shape=second.output_shape)]


def _rewrite_pairs(layers, matches, rewrite):
    """``layers`` with each adjacent pair (a, b) where ``matches(a, b)`` replaced by ``rewrite(a, b)`` (a list)."""
    result, i = [], 0
    while i < len(layers):
        if i + 1 < len(layers) and matches(layers[i], layers[i + 1]):
            result += rewrite(layers[i], layers[i + 1])
            i += 2
        else:
            result.append(layers[i])
            i += 1
    return result


def commute_activation_max_pool(layers):
    """ReLU > MaxPooling2D becomes MaxPooling2D > ReLU."""
    return _rewrite_pairs(layers, lambda a, b: a.kind in ACTIVATION_KINDS and b.kind == MAX_POOL,
                          lambda a, b: _swap(a, b, first_is_pool=False))


def _batch_norm_before_pool(pool, bn):
    gamma = batch_norm_parameters(bn)[0]
    if pool.kind == MAX_POOL and np.any(gamma <= 0):
        raise ConversionError(
            f"Keras layer '{bn.name}' (BatchNormalization) follows the max pool '{pool.name}' with "
            f"{int(np.sum(gamma <= 0))} gamma(s) <= 0: it can only move before the pool with positive "
            f"gammas; accepted order: {ACCEPTED_ORDER}")
    # Before the pool the BN sees (H, W, C): its axis is the last one.
    return _swap(pool, bn.replaced(config=dict(bn.config, axis=-1)), first_is_pool=True)


def move_batch_norm_before_pool(layers):
    """MaxPooling2D > BN (gamma > 0) and GAP > BN become BN > pool."""
    return _rewrite_pairs(layers, lambda a, b: a.kind in POOL_KINDS and b.kind == BATCH_NORM,
                          _batch_norm_before_pool)


def _quantizer_class(config, key="quantizer"):
    quantizer = config.get(key)
    return quantizer.get("class_name") if isinstance(quantizer, dict) else None


def fold_batch_norm(neural, bn):
    """The neural description with ``bn`` folded into its kernel and bias (float32)."""
    role = NEURAL_KINDS[neural.kind]
    if neural.kind.startswith("Quantized") and _quantizer_class(neural.config) not in PER_AXIS_QUANTIZERS:
        raise ConversionError(
            f"Keras layer '{bn.name}' (BatchNormalization) cannot be folded into '{neural.name}' "
            f"({neural.kind}): its quantizer {_quantizer_class(neural.config)} has one scale per "
            f"tensor; folding needs a per-axis quantizer (MaxPerAxisQuantizer)")
    gamma, beta, mean, variance, epsilon = batch_norm_parameters(bn)
    scale = gamma / np.sqrt(variance + epsilon)
    if np.any(scale == 0):
        raise ConversionError(
            f"Keras layer '{bn.name}' (BatchNormalization) has {int(np.sum(scale == 0))} null "
            f"gamma(s): folded into '{neural.name}' they would zero its kernel")
    kernel_at = 1 if role == "separable" else 0
    weights = list(neural.weights)
    bias = weights[kernel_at + 1] if neural.config.get("use_bias", True) else 0
    weights[kernel_at] = weights[kernel_at] * scale
    folded_bias = beta + (bias - mean) * scale
    if neural.config.get("use_bias", True):
        weights[kernel_at + 1] = folded_bias
    else:
        weights.insert(kernel_at + 1, folded_bias)
    return neural.replaced(config=dict(neural.config, use_bias=True), weights=tuple(weights),
                           position=bn.position, members=neural.members + bn.members)


def fold_batch_norms(layers):
    """Every neural > BN pair folded into one neural description."""
    return _rewrite_pairs(layers, lambda a, b: a.kind in NEURAL_KINDS and b.kind == BATCH_NORM,
                          lambda a, b: [fold_batch_norm(a, b)])


def prepare(layers):
    """All transforms, in order: the list the block grouping reads."""
    layers = drop_skipped(layers)
    layers = commute_activation_max_pool(layers)
    layers = move_batch_norm_before_pool(layers)
    return fold_batch_norms(layers)
