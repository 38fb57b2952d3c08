"""Hardware-aware post-training quantization of float blocks (``convert(method="hardware")``).

The legacy flow scales each output channel's weights by ``kmax / max|w|``,
takes the activation range from the ReLU's max_value (or a percentile) and
lets the hardware fix-up clip what does not fit. Here, on the calibration
samples, block after block (each block sees the integer activations the
converted blocks before it produce):

1. **activation range**: the max_value of the ``b``-bit step activation is
   the one of ``ACT_SEARCH_POINTS`` candidates (fractions of the largest
   float output, at most the ReLU's max_value) minimizing the mean squared
   error between the block's float outputs and their quantized values;
2. **weight scales**, per output channel (per tensor for a depthwise
   kernel): the clipping range ``alpha * max|w|`` (``alpha`` in
   ``WEIGHT_CLIP_FRACTIONS``) minimizing the squared weight error, its
   scale ``kmax / range`` (``quantize.scale_of_range``);
3. **registers**: a channel whose potentials, on the samples, use more than
   ``TOLERATED`` of the 20-bit signed range where the chip saturates them
   (before a MaxPooling2D, the running sum of a GlobalAveragePooling2D, a
   FullyConnected's sum), or whose threshold uses more than ``TOLERATED``
   of the threshold limit, has its weight scale reduced to ``HEADROOM`` of
   it, its range widened by the same factor (nothing saturates or is
   clipped on the samples); but for the last
   layer, its act_step is kept within the act_step limit (no clamping);
4. **bias correction**: the float bias gains, per channel, the mean
   difference between the float pre-activation and the quantized one
   (integer inputs and weights, dequantized) on the samples.

Blocks quantized by the vendor's legacy flow (``QuantizedConv2D``, ...) keep
their quantizers. Potentials are computed exactly (integers in float64)
with ``linear.linear_map``. Source: ../shared/reference/akida_v1_semantics.md
§4-7 (saturation), keras_conversion.md §3 and §5 (thresholds, limits).
"""
from dataclasses import replace

import numpy as np

from .emit import HRC_LIMITS, NP_LIMITS
from .kinds import GLOBAL_AVERAGE_POOL, MAX_POOL, NEURAL_KINDS
from .linear import linear_map
from .quantize import kernel_integers, kernel_range, scale_of_range

#: Largest potential of the chip's 20-bit signed saturating sums.
POTENTIAL_LIMIT = (1 << 19) - 1
#: Fraction of a register's range a reduced scale aims at (unseen inputs go further than the samples)...
HEADROOM = 0.9
#: ... and the fraction beyond which a scale is reduced.
TOLERATED = 0.95
#: Candidate activation ranges: k / ACT_SEARCH_POINTS of the largest float output, k = 1..ACT_SEARCH_POINTS.
ACT_SEARCH_POINTS = 64
#: Most float outputs the activation search reads (evenly strided beyond).
MAX_SEARCH_VALUES = 1 << 20
#: Candidate weight clipping ranges, as fractions of max|w| per channel.
WEIGHT_CLIP_FRACTIONS = np.linspace(0.1, 1.0, 46)
#: Most rounds of scale reduction per block (each round re-measures the potentials).
MAX_ROUNDS = 4
#: Most sliding-window values (samples * input values * kernel taps) computed at once (bounds memory).
MAX_WINDOW_VALUES = 1 << 23


def search_activation_max(outputs, bits, upper=None):
    """The max_value (float, or None when no output is positive) of a ``bits``-bit step activation.

    Chosen among k / ACT_SEARCH_POINTS of the largest output (k >= 1), capped at
    ``upper``, to minimize the mean squared error between ``outputs`` and
    ``s * clip(ceil(x / s - 1/2), 0, 2**bits - 1)`` with ``s = max / (2**bits - 1)``.
    """
    values = np.asarray(outputs, np.float64).ravel()
    if values.size > MAX_SEARCH_VALUES:
        values = values[::-(-values.size // MAX_SEARCH_VALUES)]
    top = float(values.max(initial=0.0))
    if upper is not None:
        top = min(top, float(upper))
    if not top > 0:
        return None
    levels = 2.0 ** bits - 1
    best, best_error = top, np.inf
    for k in range(1, ACT_SEARCH_POINTS + 1):
        candidate = top * k / ACT_SEARCH_POINTS
        step = candidate / levels
        quantized = step * np.clip(np.ceil(values / step - 0.5), 0, levels)
        error = np.mean(np.square(quantized - values))
        if error < best_error:
            best, best_error = candidate, error
    return best


def search_weight_range(kernel, bits, per_axis):
    """float32 clipping range (per output channel, last axis, or one) minimizing the squared weight error.

    Candidates: ``WEIGHT_CLIP_FRACTIONS`` of max|w|; the scale of a range is
    ``quantize.scale_of_range``.
    """
    kernel = np.asarray(kernel, np.float32)
    columns = kernel.reshape(-1, kernel.shape[-1]) if per_axis else kernel.reshape(-1, 1)
    max_range = kernel_range(columns, per_axis=True)
    best_range, best_error = None, None
    for fraction in WEIGHT_CLIP_FRACTIONS:
        weight_range = (np.float32(fraction) * max_range).astype(np.float32)
        scale = scale_of_range(weight_range, bits)
        dequantized = kernel_integers(columns, scale, bits) / scale.astype(np.float64)
        error = np.sum(np.square(dequantized - columns.astype(np.float64)), axis=0)
        if best_range is None:
            best_range, best_error = weight_range, error
        else:
            better = error < best_error
            best_range, best_error = np.where(better, weight_range, best_range), np.where(better, error, best_error)
    best_range = best_range.astype(np.float32)
    return best_range if per_axis else best_range[0]


def _effective_scale(scales):
    return scales[0] * scales[1] if len(scales) == 2 else scales[0]


class _Measure:
    """Per-channel statistics of a block's potentials on the samples, accumulated chunk by chunk."""

    def __init__(self, channels):
        self.difference = np.zeros(channels)
        self.count = 0
        self.register = np.zeros(channels)

    def add(self, block, potentials, offset_term, float_preactivation, keras_per_potential):
        axes = tuple(range(potentials.ndim - 1))
        self.difference += np.sum(float_preactivation - potentials / keras_per_potential, axis=axes)
        self.count += int(np.prod([potentials.shape[a] for a in axes]))
        potentials = potentials + offset_term
        pool = block.pool.kind if block.pool is not None else None
        if pool == GLOBAL_AVERAGE_POOL:
            running = np.cumsum(potentials.reshape(len(potentials), -1, potentials.shape[-1]), axis=1)
            self.register = np.maximum(self.register, np.max(np.abs(running), axis=(0, 1)))
        elif pool == MAX_POOL:
            self.register = np.maximum(self.register, np.max(potentials, axis=axes))
        elif NEURAL_KINDS[block.neural.kind] == "dense":
            self.register = np.maximum(self.register, np.max(np.abs(potentials), axis=axes))


def _measure(block, kernels, ints, sigma, float_inputs, integer_inputs, scale, offset_term):
    """_Measure of the block: float vs dequantized pre-activations, register use of the potentials.

    ``offset_term``: per channel, what the input offset adds to every potential (InputConvolutional).
    """
    measure = _Measure(block.neural.output_shape[-1])
    taps = int(np.prod(block.neural.config.get("kernel_size", (1, 1))))
    chunk = max(1, MAX_WINDOW_VALUES // (int(np.prod(integer_inputs.shape[1:])) * taps))
    for start in range(0, len(float_inputs), chunk):
        potentials = linear_map(block, integer_inputs[start:start + chunk], ints)
        exact = linear_map(block, float_inputs[start:start + chunk], kernels)
        measure.add(block, potentials, offset_term, exact, sigma * scale.astype(np.float64))
    return measure


def _offset_term(qblock, offset, ints):
    """Per channel, offset * sum(w_int): what the input offset adds to an InputConvolutional potential."""
    if qblock.block.akida_class.__name__ != "InputConvolutional":
        return 0.0
    return offset * np.sum(ints[-1], axis=tuple(range(ints[-1].ndim - 1)), dtype=np.float64)


def _reduction(qblock, measure, bias, sigma, offset_term, last):
    """Per-channel factor (<= 1) by which the weight scale must shrink to fit the registers."""
    block = qblock.block
    input_conv = block.akida_class.__name__ == "InputConvolutional"
    step_limit, threshold_limit = HRC_LIMITS if input_conv else NP_LIMITS
    scale = _effective_scale(qblock.kernel_scales).astype(np.float64)
    pixels = block.gap_pixels
    half_step = 0.0 if qblock.act_step is None else float(qblock.act_step) / 2
    threshold = pixels * (sigma * scale * (half_step - bias) + offset_term)
    ratio = np.ones_like(scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.minimum(ratio, np.where(measure.register > TOLERATED * POTENTIAL_LIMIT,
                                           HEADROOM * POTENTIAL_LIMIT / measure.register, 1))
        ratio = np.minimum(ratio, np.where(threshold > TOLERATED * threshold_limit,
                                           HEADROOM * threshold_limit / threshold, 1))
        if qblock.act_step is not None and not last:
            act_step = pixels * sigma * scale * float(qblock.act_step) * 2.0 ** qblock.act_bits / 16
            ratio = np.minimum(ratio, np.where(act_step > step_limit, step_limit / act_step, 1))
    return ratio


def _with_ranges(qblock, ranges):
    """The QuantizedBlock with its float kernels requantized at the clipping ``ranges`` (one per kernel)."""
    scales = tuple(scale_of_range(r, qblock.weights_bits) for r in ranges)
    ints = tuple(kernel_integers(k, s, qblock.weights_bits) for k, s in zip(qblock.float_weights, scales))
    return replace(qblock, weights=ints[0], weights_pw=ints[1] if len(ints) == 2 else None,
                   scale=_effective_scale(scales), kernel_scales=scales, kernel_ranges=tuple(ranges))


def _activation(qblock, float_outputs):
    """The QuantizedBlock with its step from the activation search (float ReLU blocks)."""
    activation = qblock.block.activation
    if activation is None or activation.kind != "ReLU":
        return qblock
    calibrated = search_activation_max(float_outputs, qblock.act_bits, activation.config.get("max_value"))
    if calibrated is None:
        return qblock
    step = np.float32(calibrated) / np.float32(2.0 ** qblock.act_bits - 1)
    return replace(qblock, act_step=step, calibrated_max=calibrated)


def calibrate_block(qblock, float_inputs, float_outputs, integer_inputs, sigma, offset, last):
    """The hardware-aware QuantizedBlock of a float block (a legacy-quantized one comes back as is).

    ``float_inputs``: the float model's inputs of the block's neural layer on
    the samples (Keras units); ``integer_inputs``: the Akida integer inputs
    the converted blocks before it give (minus the offset for the first);
    ``float_outputs``: the block's float outputs; (``sigma``, ``offset``): the
    block's input scaling; ``last``: no act_step limit (no next layer to fix up).
    The bias correction is measured once the scales fit.
    """
    if qblock.block.neural.kind.startswith("Quantized"):
        return qblock
    qblock = _activation(qblock, float_outputs)
    separable = NEURAL_KINDS[qblock.block.neural.kind] == "separable"
    ranges = [search_weight_range(k, qblock.weights_bits, per_axis=not (separable and i == 0))
              for i, k in enumerate(qblock.float_weights)]
    qblock = _with_ranges(qblock, ranges)
    bias = np.asarray(qblock.bias, np.float64)
    for rounds in range(MAX_ROUNDS + 1):
        ints = (qblock.weights,) if qblock.weights_pw is None else (qblock.weights, qblock.weights_pw)
        offset_term = _offset_term(qblock, offset, ints)
        measure = _measure(qblock.block, qblock.float_weights, ints, sigma, float_inputs, integer_inputs,
                           _effective_scale(qblock.kernel_scales), offset_term)
        corrected = bias + measure.difference / max(measure.count, 1)
        ratio = _reduction(qblock, measure, corrected, sigma, offset_term, last)
        if np.all(ratio >= 1) or rounds == MAX_ROUNDS:
            break
        kmax = np.float32(2.0 ** (qblock.weights_bits - 1) - 1)
        widest = np.maximum(ranges[-1], kmax / qblock.kernel_scales[-1])  # a scale capped at 1000 spans more
        ranges[-1] = (widest / ratio).astype(np.float32)
        qblock = _with_ranges(qblock, ranges)
    return replace(qblock, bias=corrected.astype(np.float32))


def calibrate_blocks(qblocks, float_inputs, akida_inputs, block_outputs, input_scaling, run_prefix):
    """The hardware-aware QuantizedBlocks of a model, block after block.

    ``float_inputs``: the float inputs of the first neural layer on the
    samples (Keras units); ``akida_inputs``: the same samples as Akida inputs
    (integers, sigma * x + offset); ``block_outputs``: each block's float
    outputs; ``input_scaling``: (sigma, offset) of the first block;
    ``run_prefix(qblocks)``: the integer outputs (N, H, W, C) of the model
    made of those blocks on ``akida_inputs``.
    """
    sigma, offset = input_scaling
    integer_inputs = np.asarray(akida_inputs, np.float64) - offset
    calibrated = []
    for k, (qblock, outputs) in enumerate(zip(qblocks, block_outputs)):
        if k:
            previous = calibrated[-1]
            integer_inputs = np.asarray(run_prefix(calibrated), np.float64)
            float_inputs = block_outputs[k - 1]
            sigma, offset = 1 / previous.act_step, 0
        float_inputs = np.reshape(float_inputs, integer_inputs.shape)  # (N, F) -> (N, 1, 1, F) before a Reshape
        calibrated.append(calibrate_block(qblock, float_inputs, outputs, integer_inputs, sigma, offset,
                                          last=k == len(qblocks) - 1))
    return calibrated
