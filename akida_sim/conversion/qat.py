"""``quantize``: a Keras model computing what its Akida 1.0 conversion computes, for fine-tuning.

``quantize`` reads the float Keras model as ``convert`` does (graph reading,
BatchNormalization folding, blocks, bit widths) and quantizes it as
``convert`` does after training (``converter.post_training_blocks``: the
hardware-aware method on ``samples`` by default, or the legacy one, whose
ReLU ranges at 1 or 2 activation bits are chosen by least quantization
error, ``least_error_max``), then returns a Keras model of the same flavour
made of one ``qat_layers`` block layer per future Akida layer (plus the
Flatten/Reshape between them), holding the float weights, biases and
weight clipping ranges of that quantization. Its forward is the integer
arithmetic of the Akida layers (see ``qat_layers``); compile and ``fit`` it
to fine-tune. ``convert`` recognises such a model (``is_quantized_model``)
and emits, through ``quantize.kernel_integers`` and ``emit_model``, the
integers that forward used (``convert_quantized``).
Nothing here imports TensorFlow until ``quantize`` or ``convert_quantized``
runs. Source: ../shared/reference/keras_conversion.md §2-3.
"""
import dataclasses
import warnings

import numpy as np

from ..layers import IMAGE_BITS, InputConvolutional
from .blocks import _PATTERN_BY_ROLE, Block
from .checks import check_labels, float_samples
from .converter import METHODS, post_training_blocks, read_blocks
from .emit import emit_model
from .errors import ConversionError
from .keras_graph import KerasLayer
from .kinds import FINAL_ACTIVATION_KINDS, SHAPE_KINDS, SKIPPED_KINDS
from .quantize import QuantizedBlock, kernel_integers, scale_of_range
from .report import ConversionReport, accuracy, weight_errors

#: Registered names of the block layers (both Keras flavours) -> role.
BLOCK_LAYERS = {"AkidaConv2D": "conv", "AkidaSeparableConv2D": "separable", "AkidaDense": "dense"}
#: Keras class names of the Akida neural layer each role is read as.
NEURAL_CLASS = {"conv": "Conv2D", "separable": "SeparableConv2D", "dense": "Dense"}


def _keras_module(flavour):
    if flavour == "tf_keras":
        import tf_keras as module
    else:
        import keras as module
    return module


def _flavour(model):
    return "tf_keras" if type(model).__module__.startswith("tf_keras") else "keras"


def _pool_config(block):
    """(pool, pool_size, pool_strides) of the block layer's configuration."""
    if block.pool is None:
        return None, None, None
    if block.pool.kind == "GlobalAveragePooling2D":
        return "global", None, None
    size = tuple(block.pool.config["pool_size"])
    return "max", size, tuple(block.pool.config.get("strides") or size)


def _block_layer(classes, qblock, sigma, offset, last, input_bits):
    """The Keras block layer of a QuantizedBlock, weights set to its (BN-folded) float weights."""
    block = qblock.block
    role = block.pattern.role
    neural = block.neural
    pool, pool_size, pool_strides = _pool_config(block)
    common = dict(weights_bits=qblock.weights_bits, act_bits=qblock.act_bits,
                  act_step=None if qblock.act_step is None else float(qblock.act_step),
                  input_scale=float(sigma), input_offset=float(offset), first=block.first,
                  input_conv=block.akida_class is InputConvolutional, last=last, input_bits=input_bits,
                  pool=pool, pool_size=pool_size, pool_strides=pool_strides,
                  per_axis=np.ndim(qblock.kernel_scales[-1]) != 0, name=neural.name)
    if role == "dense":
        layer = classes["dense"](units=int(neural.output_shape[-1]), **common)
    else:
        config = neural.config
        layer = classes[role](filters=int(neural.output_shape[-1]), kernel_size=tuple(config["kernel_size"]),
                              strides=tuple(config["strides"]), padding=config["padding"], **common)
    ranges = [np.asarray(r, np.float32) for r in qblock.kernel_ranges]
    return layer, list(qblock.float_weights) + [np.asarray(qblock.bias, np.float32)] + ranges


#: Activation bits at or below which ``quantize`` calibrates by least error rather than a percentile.
ERROR_CALIBRATION_BITS = 2
#: Candidate ranges of the error search, as fractions of the largest float output on the samples.
RANGE_FRACTIONS = np.linspace(0.02, 1.0, 99)
#: Float outputs the error search reads at most per layer (a strided subsample beyond).
SEARCH_VALUES = 1 << 18


def least_error_max(outputs, bits, max_value=None):
    """The activation range (float) whose ``bits``-bit quantization of ``outputs`` has the least squared error.

    ``outputs``: a ReLU's float outputs on samples (>= 0); the quantized
    value of y at step s = range / (2**bits - 1) is Akida's: s times
    ``clip(ceil(y / s - 1/2), 0, 2**bits - 1)`` (the threshold half a step
    up). Candidates: ``RANGE_FRACTIONS`` of the largest output (of
    ``max_value`` for a bounded ReLU, whose outputs never exceed it). None
    where no output is positive.
    """
    y = np.asarray(outputs, np.float64).ravel()
    if y.size > SEARCH_VALUES:
        y = y[::-(-y.size // SEARCH_VALUES)]
    top = float(y.max()) if max_value is None else min(float(y.max()), float(max_value))
    if not top > 0:
        return None
    levels = 2.0 ** bits - 1
    errors = []
    for fraction in RANGE_FRACTIONS:
        step = fraction * top / levels
        quantized = step * np.clip(np.ceil(y / step - 0.5), 0, levels)
        errors.append(np.mean((quantized - y) ** 2))
    return float(RANGE_FRACTIONS[int(np.argmin(errors))] * top)


def _least_error_steps(blocks, qblocks, chain, samples, calibration_bits):
    """``qblocks`` with the ReLU steps of blocks at <= ``calibration_bits`` activation bits set by least error."""
    chosen = [k for k, (b, q) in enumerate(zip(blocks, qblocks))
              if b.activation is not None and b.activation.kind == "ReLU" and q.act_bits <= calibration_bits]
    if samples is None or not chosen:
        return qblocks
    outputs = chain.outputs(samples, [blocks[k].position for k in chosen])
    qblocks = list(qblocks)
    for k in chosen:
        q = qblocks[k]
        max_value = least_error_max(outputs[blocks[k].position], q.act_bits,
                                    blocks[k].activation.config.get("max_value"))
        if max_value is not None:
            step = np.float32(max_value) / np.float32(2.0 ** q.act_bits - 1)
            qblocks[k] = dataclasses.replace(q, act_step=step, calibrated_max=max_value)
    return qblocks


def _refuse_clamped_steps(all_variables, caller, why):
    """Refuse act_steps the converter clamps to the hardware limit: the quantized forward does not model that fix-up."""
    clamped = [v.layer.name for v in all_variables if v.act_step_clamped]
    if clamped:
        raise ConversionError(
            f"{caller}: Akida layers {clamped} have an act_step above the hardware limit ({why}); the converter "
            f"would clamp it and rescale the next layer's weights, which the quantized forward does not model: "
            f"quantize with method='hardware' and samples (it fits the steps), a larger ReLU max_value or fewer "
            f"act_bits there")


def quantize(model, weights_bits=4, act_bits=4, input_weights_bits=None, samples=None, input_scaling=None,
             calibration_percentile=99.9, input_bits=4, method="hardware",
             error_calibration_bits=ERROR_CALIBRATION_BITS):
    """A Keras model whose forward is the Akida 1.0 conversion's, to fine-tune (quantization-aware training).

    ``model``: a float Keras model (Keras 3 or tf_keras) that ``convert``
    accepts; the arguments are ``convert``'s (bits as ints or dicts {Keras
    layer name: bits}, ``input_scaling`` or a first Rescaling, ``samples``
    calibrating, ``method``). The model starts from ``convert``'s
    post-training quantization: with ``samples`` and ``method="hardware"``
    (the default) its forward is, before any training, the integers of
    ``convert(model, samples=..., method="hardware")`` (error-searched
    activation ranges, clipping-searched weight ranges fitted to the
    registers, corrected biases); ``method="legacy"`` (or no samples) starts
    from the legacy ranges (max|w|; ReLU max_value or percentile), where the
    ReLUs of layers at ``error_calibration_bits`` activation bits or fewer
    (default 2) take the range whose quantization of their float outputs
    has the least squared error (``least_error_max``): at 1 bit the
    percentile's range puts the threshold so high that most neurons start
    silent (0 keeps ``convert``'s ranges). Fine-tuning trains the float
    weights, biases and weight clipping ranges; activation steps stay fixed.
    Returns a Keras model of the same flavour taking the same inputs: one block layer (``AkidaConv2D``,
    ``AkidaSeparableConv2D``, ``AkidaDense``) per Akida layer holding the
    float weights (BatchNormalization folded) and computing the integer
    forward with straight-through gradients. Hidden layers output activation
    levels (integers as float32); a last layer without activation outputs
    what ``Model.predict`` returns (Keras units of the float model's output).
    ``convert`` of it (after ``fit`` or not) gives an akida_sim Model with
    the integers of that forward. Save it with ``model.save`` and reload it
    with ``load_model`` after ``import akida_sim.conversion.qat_layers``.
    """
    if method not in METHODS:
        raise ConversionError(f"quantize: argument 'method' must be one of {METHODS}, got {method!r}")
    if isinstance(error_calibration_bits, bool) or not isinstance(error_calibration_bits, int):
        raise ConversionError(f"quantize: error_calibration_bits must be an int, got {error_calibration_bits!r}")
    if samples is not None:
        samples = float_samples(samples)
    flavour = _flavour(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, chain, input_shape, rescaling, (sigma, offset), blocks, calibrate = read_blocks(
            model, samples, input_scaling,
            {"weights_bits": weights_bits, "act_bits": act_bits, "input_weights_bits": input_weights_bits}, "quantize")
        qblocks, _ = post_training_blocks(model.name, chain, input_shape, rescaling, (sigma, offset), blocks,
                                          calibrate, samples, (weights_bits, act_bits, input_weights_bits),
                                          calibration_percentile, input_bits, method)
        if method == "legacy":
            qblocks = _least_error_steps(blocks, qblocks, chain, samples, error_calibration_bits)
        _, all_variables = emit_model(qblocks, input_shape, (sigma, offset), input_bits, "input")  # as convert
        _refuse_clamped_steps(all_variables, "quantize", f"method={method!r} quantizes it so")
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    from . import qat_layers
    keras_module = _keras_module(flavour)
    classes = qat_layers.layer_classes(flavour)
    inputs = keras_module.Input(input_shape)
    x, shape = inputs, tuple(input_shape)
    if rescaling is not None:  # sigma and offset apply to its output
        x = keras_module.layers.Rescaling(rescaling.config["scale"], rescaling.config.get("offset", 0.0),
                                          name=rescaling.name)(x)
    pending = []
    for k, qblock in enumerate(qblocks):
        wanted = tuple(qblock.block.neural.input_shape)
        if shape != wanted:
            reshape = keras_module.layers.Flatten() if len(wanted) == 1 else keras_module.layers.Reshape(wanted)
            x, shape = reshape(x), wanted
        layer, weights = _block_layer(classes, qblock, sigma, offset, k == len(qblocks) - 1, input_bits)
        x = layer(x)
        pending.append((layer, weights))
        shape = tuple(x.shape)[1:]
        if qblock.act_step is not None:
            sigma, offset = 1 / qblock.act_step, 0
    quantized = keras_module.Model(inputs, x, name=f"{model.name}_quantized")
    for layer, weights in pending:
        layer.set_weights(weights)
    return quantized


def is_quantized_model(model):
    """Whether ``model`` holds block layers of ``quantize`` (it is then converted by ``convert_quantized``)."""
    layers = getattr(model, "layers", None)
    return isinstance(layers, list) and any(type(layer).__name__ in BLOCK_LAYERS for layer in layers)


def _refuse_arguments(given):
    changed = {name: value for name, (value, default) in given.items() if value != default}
    if changed:
        raise ConversionError(
            f"convert: the model was made by akida_sim.quantize, whose layers fix the bit widths, input "
            f"scaling and quantization; give {sorted(changed)} to quantize() instead, got {changed}")


def _descriptions(layer, role, input_shape):
    """(neural, pool) KerasLayer descriptions of a block layer whose per-sample input is ``input_shape``."""
    if role == "dense":
        config, conv_shape = {}, (int(layer.units),)
    else:
        config = dict(kernel_size=layer.kernel_size, strides=layer.strides, padding=layer.padding)
        conv_shape = layer.conv_output_shape(input_shape)
    members = (layer.name,)
    neural = KerasLayer(layer.name, NEURAL_CLASS[role], config, (), tuple(input_shape), conv_shape, 0, members)
    if layer.pool is None:
        return neural, None
    kind = "GlobalAveragePooling2D" if layer.pool == "global" else "MaxPooling2D"
    pool_config = dict(pool_size=layer.pool_size, strides=layer.pool_strides, padding=layer.padding)
    return neural, KerasLayer(layer.name, kind, pool_config, (), conv_shape, conv_shape, 0, members)


def _quantized_block(layer, role, block):
    """The QuantizedBlock of a block layer's current float weights and clipping ranges (its forward's integers)."""
    weights = [np.asarray(w, np.float32) for w in layer.get_weights()]
    if not all(np.all(np.isfinite(w)) for w in weights):
        raise ConversionError(f"Keras layer '{layer.name}' ({type(layer).__name__}): its weights hold NaN or "
                              f"infinite values (a diverged fine-tuning?)")
    bits = layer.weights_bits
    act_step = None if layer.act_step is None else np.float32(layer.act_step)
    kernels, bias, ranges = (weights[:2], weights[2], weights[3:]) if role == "separable" else \
        (weights[:1], weights[1], weights[2:])
    scales = tuple(scale_of_range(r, bits) for r in ranges)
    ints = [kernel_integers(k, sc, bits) for k, sc in zip(kernels, scales)]
    scale = scales[0] * scales[1] if role == "separable" else scales[0]
    return QuantizedBlock(block, ints[0], ints[1] if role == "separable" else None, scale, bias, bits, layer.act_bits,
                          act_step, tuple(kernels), scales, None, tuple(ranges))


def _model_input_shape(model):
    shape = tuple(model.inputs[0].shape)[1:]
    return tuple(int(d) for d in shape)


def _read_blocks(model):
    """(QuantizedBlocks, first block layer, leading Rescaling or None) of a quantize() model.

    Refuses any layer such a model cannot hold.
    """
    shape = _model_input_shape(model)
    qblocks, first, chained = [], None, [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    rescaling = chained.pop(0) if chained and type(chained[0]).__name__ == "Rescaling" else None
    while chained and type(chained[-1]).__name__ in FINAL_ACTIVATION_KINDS:
        dropped = chained.pop()
        warnings.warn(f"convert: the final Keras layer '{dropped.name}' ({type(dropped).__name__}) is dropped: the "
                      f"converted model outputs the values before it", stacklevel=3)
    for layer in chained:
        kind = type(layer).__name__
        if kind in SKIPPED_KINDS:
            continue
        if kind in SHAPE_KINDS:
            shape = tuple(layer.compute_output_shape((None,) + shape))[1:]
            continue
        if kind not in BLOCK_LAYERS:
            raise ConversionError(
                f"Keras layer '{layer.name}' ({kind}): a model made by akida_sim.quantize may only hold its block "
                f"layers ({sorted(BLOCK_LAYERS)}), a first Rescaling, Flatten, Reshape and Dropout; quantize the float model again "
                f"with this layer in it")
        role = BLOCK_LAYERS[kind]
        neural, pool = _descriptions(layer, role, shape)
        block = Block(_PATTERN_BY_ROLE[role], neural, pool, None, 0, layer.first, bool(layer.input_conv))
        if layer.first != (first is None):
            raise ConversionError(f"Keras layer '{layer.name}' ({kind}): first={layer.first} but it is block "
                                  f"{len(qblocks) + 1} of the model; only the model's first block reads its input")
        first = first or layer
        qblocks.append(_quantized_block(layer, role, block))
        shape = tuple(int(d) for d in layer.compute_output_shape((None,) + shape)[1:])
    return qblocks, first, rescaling


def convert_quantized(model, quantization, samples=None, labels=None, return_report=False):
    """``convert`` of a model made by ``quantize``: the akida_sim Model with the integers of its forward.

    The bit widths, input scaling and quantization are the model's:
    ``quantization`` {convert argument: (value given, its default)} must
    keep every default. ``samples`` and ``labels`` add to the report the
    accuracy of the Keras model (``float_accuracy``) and of the converted one.
    """
    _refuse_arguments(quantization)
    qblocks, first, rescaling = _read_blocks(model)
    if labels is not None and samples is None:
        raise ConversionError("convert: 'labels' need 'samples'")
    input_shape = _model_input_shape(model)
    scaling = (first.input_scale, first.input_offset)
    akida_model, all_variables = emit_model(qblocks, input_shape, scaling, first.input_bits, model.layers[0].name)
    _refuse_clamped_steps(all_variables, "convert", "after fine-tuning")
    if not return_report:
        return akida_model
    rows = [dict(name=v.layer.name, akida_type=type(v.layer).__name__, keras_layers=[v.layer.name],
                 weights_bits=q.weights_bits, act_bits=q.act_bits,
                 act_step_keras=None if q.act_step is None else float(q.act_step), calibrated_max_value=None,
                 act_step_clamped=False, threshold_clipped=v.threshold_clipped, **weight_errors(q))
            for q, v in zip(qblocks, all_variables)]
    report = ConversionReport(rows, scaling)
    if samples is not None:
        samples = float_samples(samples)
        report.samples = len(samples)
        if labels is not None and qblocks[-1].act_step is None:
            labels = check_labels(labels, len(samples), int(np.prod(akida_model.output_shape)))
            bits = IMAGE_BITS if first.input_conv else first.input_bits
            first_inputs = samples if rescaling is None else np.asarray(rescaling(samples))
            x = np.rint(np.asarray(first_inputs, np.float64) * scaling[0] + scaling[1]).clip(0, 2 ** bits - 1)
            x = x.reshape((len(x),) + tuple(akida_model.input_shape)).astype(np.uint8)
            report.float_accuracy = accuracy(np.asarray(model.predict(samples, verbose=0)), labels)
            report.converted_accuracy = accuracy(akida_model.predict(x), labels)
    return akida_model, report
