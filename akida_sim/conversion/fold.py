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
from .kinds import (ACTIVATION_KINDS, BATCH_NORM, GLOBAL_AVERAGE_POOL, MAX_POOL, NEURAL_KINDS,
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


def commute_activation_max_pool(layers):
    """ReLU > MaxPooling2D becomes MaxPooling2D > ReLU."""
    result, i = [], 0
    while i < len(layers):
        if i + 1 < len(layers) and layers[i].kind in ACTIVATION_KINDS and layers[i + 1].kind == MAX_POOL:
            result += _swap(layers[i], layers[i + 1], first_is_pool=False)
            i += 2
        else:
            result.append(layers[i])
            i += 1
    return result


def move_batch_norm_before_pool(layers):
    """MaxPooling2D > BN (gamma > 0) and GAP > BN become BN > pool."""
    result, i = [], 0
    while i < len(layers):
        layer = layers[i]
        following = layers[i + 1] if i + 1 < len(layers) else None
        if layer.kind in POOL_KINDS and following is not None and following.kind == BATCH_NORM:
            gamma = batch_norm_parameters(following)[0]
            if layer.kind == MAX_POOL and np.any(gamma <= 0):
                raise ConversionError(
                    f"Keras layer '{following.name}' (BatchNormalization) follows the max pool "
                    f"'{layer.name}' with {int(np.sum(gamma <= 0))} gamma(s) <= 0: it can only move "
                    f"before the pool with positive gammas; accepted order: {ACCEPTED_ORDER}")
            # Before the pool the BN sees (H, W, C): its axis is the last one.
            moved = following.replaced(config=dict(following.config, axis=-1))
            result += _swap(layer, moved, first_is_pool=True)
            i += 2
        else:
            result.append(layer)
            i += 1
    return result


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
    result, i = [], 0
    while i < len(layers):
        layer = layers[i]
        following = layers[i + 1] if i + 1 < len(layers) else None
        if layer.kind in NEURAL_KINDS and following is not None and following.kind == BATCH_NORM:
            result.append(fold_batch_norm(layer, following))
            i += 2
        else:
            result.append(layer)
            i += 1
    return result


def prepare(layers):
    """All transforms, in order: the list the block grouping reads."""
    layers = drop_skipped(layers)
    layers = commute_activation_max_pool(layers)
    layers = move_batch_norm_before_pool(layers)
    return fold_batch_norms(layers)
