"""``convert``: a trained Keras model to an akida_sim Model, with a report.

Steps: read the Keras model into plain layer descriptions (keras_graph),
reorder and fold BatchNormalization (fold), cut into Akida blocks (blocks),
quantize weights and activations (quantize), emit the Akida layers and
variables (emit), then measure what quantization cost (report).
"""
import inspect
import math
import numbers
import warnings

import numpy as np

from ..layers import IMAGE_BITS, InputConvolutional
from ..model import Model
from .blocks import group_blocks, is_image_input, rescaling_input_scaling, split_rescaling, strip_final_activations
from .calibration import calibrate_blocks
from .checks import (INPUT_TOLERANCE, akida_values, check_labels, check_samples_range, check_samples_shape,
                     float_samples)
from .emit import emit_model
from .errors import ConversionError
from .fold import prepare
from .keras_graph import read_keras_model
from .quantize import DEFAULT_ACT_BITS, DEFAULT_WEIGHTS_BITS, quantize_block
from .quantizeml_reader import convert_quantizeml, is_quantizeml_model
from .report import ConversionReport, accuracy, error_statistics, weight_errors

#: The quantization methods of float layers (the first is the default).
METHODS = ("hardware", "legacy")


def _check_input_scaling(scaling, image_input, origin):
    """Refuse a (sigma, offset) the first Akida layer cannot take; ``origin`` names where it came from."""
    sigma, offset = scaling
    if not (math.isfinite(sigma) and sigma > 0):
        raise ConversionError(f"convert: {origin}: the scale must be finite and > 0 (akida_input = scale * x "
                              f"+ offset), got {sigma!r}")
    if not math.isfinite(offset):
        raise ConversionError(f"convert: {origin}: the offset must be finite, got {offset!r}")
    if not image_input and offset != 0:
        raise ConversionError(
            f"convert: {origin}: offset {offset} needs an image input (H, W, 1 or 3) and a first Conv2D "
            f"(InputConvolutional); an InputData input takes akida_input = scale * x")
    if image_input and not 0 <= int(offset) <= 2 ** IMAGE_BITS - 1:
        raise ConversionError(
            f"convert: {origin}: offset {offset} gives the InputConvolutional padding_value int(offset) = "
            f"{int(offset)}, outside the uint8 range [0, {2 ** IMAGE_BITS - 1}] of its inputs")


def _resolve_input_scaling(input_scaling, rescaling, image_input):
    """(sigma, offset) of the first neural layer's input, from the first Rescaling or ``input_scaling``."""
    if rescaling is not None:
        if input_scaling is not None:
            raise ConversionError(
                f"convert: the Keras model starts with the Rescaling '{rescaling.name}', which gives the input "
                f"scaling; argument 'input_scaling' must then be None, got {input_scaling!r}")
        scaling = rescaling_input_scaling(rescaling)
        origin = f"the Rescaling '{rescaling.name}' (scale={rescaling.config['scale']!r}, offset=" \
                 f"{rescaling.config.get('offset', 0.0)!r}) gives input_scaling {scaling}"
    elif input_scaling is None:
        return (1, 0)
    else:
        if isinstance(input_scaling, np.ndarray) and input_scaling.shape == (2,):
            input_scaling = tuple(input_scaling)  # numpy scalars: their dtype sets the arithmetic
        if (not isinstance(input_scaling, (tuple, list)) or len(input_scaling) != 2
                or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in input_scaling)):
            raise ConversionError(
                f"convert: argument 'input_scaling' must be (scale, offset) with akida_input = scale * "
                f"keras_input + offset, got {input_scaling!r}")
        scaling, origin = tuple(input_scaling), f"argument 'input_scaling' {tuple(input_scaling)!r}"
    _check_input_scaling(scaling, image_input, origin)
    return scaling


def _akida_inputs(first_inputs, sigma, offset, bits, akida_shape):
    """uint8 Akida inputs (N, x, y, c) sigma * x + offset of the first neural layer's float inputs x.

    ``akida_shape`` is the Akida model's input (x, y, c): a flat Keras input
    (N, F) becomes (N, 1, 1, F).
    """
    values = sigma * np.asarray(first_inputs, np.float64).reshape((len(first_inputs),) + tuple(akida_shape)) + offset
    rounded = np.rint(values)
    if np.max(np.abs(values - rounded), initial=0) > INPUT_TOLERANCE or rounded.min(initial=0) < 0 \
            or rounded.max(initial=0) > 2 ** bits - 1:
        raise ConversionError(
            f"convert: the samples are not Akida inputs: akida_input = {sigma} * x + {offset} (x the input of the "
            f"first neural layer) must be integers in [0, {2 ** bits - 1}], got values in "
            f"[{values.min():.4g}, {values.max():.4g}]; give 'input_scaling' (or a first Rescaling layer)")
    return rounded.astype(np.uint8)


def _check_layer_names(blocks, settings):
    """Refuse a per-layer bits dict naming no Keras layer of the converted blocks."""
    known = [name for block in blocks for name in block.keras_names]
    for argument, setting in settings.items():
        if isinstance(setting, dict):
            unknown = [name for name in setting if name not in known]
            if unknown:
                raise ConversionError(f"convert: argument '{argument}' names {unknown}, which are not Keras layers "
                                      f"of the converted blocks; known layers: {known}")


#: The vendor's argument names accepted as aliases.
VENDOR_ALIASES = {"weights_bits": "weight_quantization", "act_bits": "activ_quantization",
                  "input_weights_bits": "input_weight_quantization"}


def _check_aliases(given, own):
    """Refuse a vendor alias given together with a different value of the argument it names.

    ``given``: {argument: alias value} of the aliases passed; ``own``:
    {argument: (value passed, its default)}.
    """
    for argument, alias_value in given.items():
        value, default = own[argument]
        if value != default and value != alias_value:
            raise ConversionError(f"convert: '{VENDOR_ALIASES[argument]}'={alias_value!r} and '{argument}'={value!r} "
                                  f"name the same bit width; give one of them")


def _report_positions(chain, blocks, first_position):
    """FloatChain positions the report reads: each block's output, the model output, the first neural input."""
    positions = [b.position for b in blocks] + [len(chain.steps) - 1]
    return positions if first_position is None else positions + [first_position]


def _report(akida_model, qblocks, all_variables, float_outputs, samples, labels, first_position,
            output_position, input_scaling, bits, caught):
    rows = []
    for qblock, variables in zip(qblocks, all_variables):
        block = qblock.block
        row = dict(name=variables.layer.name, akida_type=type(variables.layer).__name__,
                   keras_layers=list(block.keras_names), weights_bits=qblock.weights_bits,
                   act_bits=qblock.act_bits,
                   act_step_keras=None if qblock.act_step is None else float(qblock.act_step),
                   calibrated_max_value=qblock.calibrated_max,
                   act_step_clamped=variables.act_step_clamped, threshold_clipped=variables.threshold_clipped)
        row.update(weight_errors(qblock))
        rows.append(row)
    report = ConversionReport(rows, tuple(input_scaling), warnings=[str(w.message) for w in caught])
    if samples is None:
        return report
    first_inputs = samples if first_position is None else float_outputs[first_position]
    x = _akida_inputs(first_inputs, *input_scaling, bits, akida_model.input_shape)
    report.samples = len(samples)
    layers = akida_model.layers
    offset = len(layers) - len(qblocks)
    for k, (qblock, row, variables) in enumerate(zip(qblocks, rows, all_variables)):
        partial = Model(layers=layers[:offset + k + 1])
        if qblock.act_step is None:
            keras_units = partial.predict(x).astype(np.float64)
        else:
            keras_units = partial.forward(x).astype(np.float64) * (np.float64(qblock.act_step) / variables.step_ratio)
        exact = float_outputs[qblock.block.position]
        row.update(error_statistics(keras_units.reshape(exact.shape), exact, "output"))
    if labels is not None:
        report.float_accuracy = accuracy(float_outputs[output_position], labels)
        if qblocks[-1].act_step is None:
            report.converted_accuracy = accuracy(akida_model.predict(x), labels)
    return report


def _scaling_text(scaling, rescaling):
    """How the chip's input comes from the samples, for messages."""
    if rescaling is not None:
        return f"the samples themselves (the Rescaling '{rescaling.name}' becomes the input scaling {scaling})"
    return f"akida_input = {scaling[0]} * x + {scaling[1]} (input_scaling)"


def _hardware_blocks(qblocks, blocks, float_outputs, samples, first_position, akida_inputs, input_shape, scaling,
                     input_bits, input_name):
    """The blocks quantized by ``calibration.calibrate_blocks`` on the samples."""
    akida_shape = (1, 1, input_shape[0]) if len(input_shape) == 1 else tuple(input_shape)
    akida_inputs = akida_inputs.reshape((len(akida_inputs),) + akida_shape)

    def run_prefix(done):
        prefix, _ = emit_model(done, input_shape, scaling, input_bits, input_name)
        return prefix.forward(akida_inputs)

    first_inputs = samples if first_position is None else float_outputs[first_position]
    return calibrate_blocks(qblocks, first_inputs, akida_inputs, [float_outputs[b.position] for b in blocks],
                            scaling, run_prefix)


def post_training_blocks(name, chain, input_shape, rescaling, scaling, blocks, positions, samples, bits,
                         calibration_percentile, input_bits, method):
    """(QuantizedBlocks, float outputs) of the blocks of ``read_blocks`` quantized by ``method``.

    ``positions``: FloatChain positions whose float outputs on ``samples``
    are wanted besides the ones quantization reads (returned as
    {position: array}); ``bits``: (weights_bits, act_bits,
    input_weights_bits) as given; ``name``: the Keras model's (names the
    Akida input layer). Without samples: the legacy quantization. Samples
    outside the Akida input range warn.
    """
    hardware = method == "hardware" and samples is not None
    first_position = None if rescaling is None else rescaling.position
    if hardware:
        positions = list(positions) + _report_positions(chain, blocks, first_position)
    float_outputs = chain.outputs(samples, sorted(set(positions))) if samples is not None else {}
    qblocks = [quantize_block(b, *bits, float_outputs.get(b.position), calibration_percentile) for b in blocks]
    if samples is None:
        return qblocks, float_outputs
    image_bits = IMAGE_BITS if blocks[0].akida_class is InputConvolutional else input_bits
    akida_inputs = check_samples_range(akida_values(samples, rescaling, scaling), image_bits,
                                       _scaling_text(scaling, rescaling))
    if hardware:
        qblocks = _hardware_blocks(qblocks, blocks, float_outputs, samples, first_position, akida_inputs,
                                   input_shape, scaling, input_bits, f"{name}_input")
    return qblocks, float_outputs


def read_blocks(model, samples, input_scaling, bits, caller):
    """Read the Keras ``model`` into Akida blocks: the steps ``convert`` and ``quantize`` share.

    samples: float samples or None (their per-sample shape must be the model's input shape);
    bits: ``{"weights_bits": ..., "act_bits": ..., "input_weights_bits": ...}`` as given (layer names checked);
    caller: the function named in errors. Returns ``(layers, chain, input_shape, rescaling, scaling, blocks,
    calibrate)``: ``scaling`` the Akida input's (sigma, offset), ``calibrate`` the positions of the blocks whose
    unbounded ReLU needs the samples' float outputs.
    """
    layers, chain, input_shape = read_keras_model(model)
    if samples is not None:
        check_samples_shape(samples, input_shape, caller)
    rescaling, neural = split_rescaling(layers)
    image_input = is_image_input(input_shape)
    scaling = _resolve_input_scaling(input_scaling, rescaling, image_input)
    blocks = group_blocks(strip_final_activations(prepare(neural)), image_input)
    _check_layer_names(blocks, bits)
    calibrate = [b.position for b in blocks if b.activation is not None and b.activation.kind == "ReLU"
                 and b.activation.config.get("max_value") is None]
    return layers, chain, input_shape, rescaling, scaling, blocks, calibrate


def convert(model, input_scaling=None, weights_bits=4, act_bits=4, input_weights_bits=None, samples=None,
            labels=None, calibration_percentile=99.9, input_bits=4, return_report=False,
            weight_quantization=None, activ_quantization=None, input_weight_quantization=None, method="hardware"):
    """Convert a Keras model (Keras 3 or tf_keras) to an akida_sim Model.

    ``model``: Sequential, or functional with a single chain, of blocks
    ``neural (Conv2D | SeparableConv2D | Dense) > [MaxPooling2D | GlobalAveragePooling2D]
    > [BatchNormalization] > ReLU(max_value)`` (the last block may end without
    activation; a final Activation/Softmax is dropped with a warning). Float
    layers are quantized after training (per output channel, ``weights_bits``;
    ``input_weights_bits`` for the first neural layer, as the vendor's
    ``input_weight_quantization``: by default 8 for an InputConvolutional and
    ``weights_bits`` for a first layer after InputData); layers quantized by
    the vendor's legacy flow (QuantizedConv2D, QuantizedReLU, ...) keep their
    quantizers and convert to the same integers as the vendor's converter.
    ``weights_bits`` and ``act_bits`` may be dicts {Keras layer name: bits}
    (the block's neural or activation layer; unnamed blocks take 4).

    ``input_scaling=(scale, offset)``: akida_input = scale * x + offset, x the
    input of the first neural layer (default (1, 0); given by a first
    ``Rescaling`` instead). On a (H, W, 1 or 3) input the first layer is an
    InputConvolutional on uint8 images; otherwise an InputData of
    ``input_bits`` (offset 0).

    ``method`` chooses how float layers are quantized when ``samples`` are
    given. ``"hardware"`` (the default) quantizes for the chip, block after
    block on the samples (see ``conversion.calibration``): each activation's
    range by an error search (at most the ReLU's max_value), weight scales by
    a clipping search, then reduced per channel so that potentials, pooled
    sums and thresholds fit the chip's registers (nothing saturates or is
    clipped on the samples), and biases corrected so that each channel's mean
    pre-activation matches the float model's. It is the default because the
    legacy arithmetic loses accuracy where the hardware saturates (global
    average pooling, 8-bit weights) and at low bit widths. ``"legacy"``
    reproduces the integers of the vendor's legacy flow
    (``cnn2snn.quantize`` then ``cnn2snn.convert``): weight scales
    ``kmax / max|w|``, activation ranges from the ReLU's max_value (an
    unbounded ReLU: the ``calibration_percentile``-th percentile of that
    block's float outputs on ``samples``). Without samples both give the
    legacy integers; layers quantized by cnn2snn keep their quantizers with
    either method.

    ``samples``: Keras-model inputs (N, ...), scaled as the model's own
    inputs, used to calibrate and to measure the report's output errors;
    samples whose Akida inputs are not integers in the input range warn.
    ``labels`` (N,) class indices (or one-hot (N, classes)) add
    float/converted accuracy; they must be finite integers within the
    model's outputs.

    Returns the akida_sim Model, or (Model, ConversionReport) with
    ``return_report=True``. The Model's ``predict`` returns Keras units when
    its last layer has no activation. ``weight_quantization``,
    ``activ_quantization`` and ``input_weight_quantization`` are the vendor's
    names for the three bit widths.

    A model quantized by quantizeml for Akida 1.0 (the vendor's current
    flow) converts to the layers and integers of the vendor's converter
    (see ``quantizeml_reader``); it takes no quantization argument, only
    ``samples``, ``labels`` and ``return_report`` (see ``quantizeml_report``).
    """
    if is_quantizeml_model(model):
        arguments = dict(locals())
        del arguments["model"]
        defaults = {name: p.default for name, p in inspect.signature(convert).parameters.items()}
        return convert_quantizeml(model, arguments, defaults)
    aliases = dict(zip(VENDOR_ALIASES, (weight_quantization, activ_quantization, input_weight_quantization)))
    given = {name: value for name, value in aliases.items() if value is not None}
    _check_aliases(given, {"weights_bits": (weights_bits, DEFAULT_WEIGHTS_BITS),
                           "act_bits": (act_bits, DEFAULT_ACT_BITS), "input_weights_bits": (input_weights_bits, None)})
    weights_bits = given.get("weights_bits", weights_bits)
    act_bits = given.get("act_bits", act_bits)
    input_weights_bits = given.get("input_weights_bits", input_weights_bits)
    if (isinstance(calibration_percentile, bool) or not isinstance(calibration_percentile, numbers.Real)
            or not 0 < calibration_percentile <= 100):
        raise ConversionError(f"convert: calibration_percentile must be in (0, 100], got {calibration_percentile!r}")
    if method not in METHODS:
        raise ConversionError(f"convert: argument 'method' must be one of {METHODS}, got {method!r}")
    if samples is not None:
        samples = float_samples(samples)
    if labels is not None and samples is None:
        raise ConversionError("convert: 'labels' need 'samples'")
    from .qat import convert_quantized, is_quantized_model  # qat reads this module's helpers
    if is_quantized_model(model):
        defaults = {name: p.default for name, p in inspect.signature(convert).parameters.items()}
        given = dict(input_scaling=input_scaling, weights_bits=weights_bits, act_bits=act_bits,
                     input_weights_bits=input_weights_bits, calibration_percentile=calibration_percentile,
                     input_bits=input_bits, method=method)
        return convert_quantized(model, {name: (value, defaults[name]) for name, value in given.items()}, samples,
                                 labels, return_report)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers, chain, input_shape, rescaling, scaling, blocks, calibrate = read_blocks(
            model, samples, input_scaling,
            {"weights_bits": weights_bits, "act_bits": act_bits, "input_weights_bits": input_weights_bits}, "convert")
        if labels is not None:
            labels = check_labels(labels, len(samples), int(np.prod(layers[-1].output_shape)))
        first_position = None if rescaling is None else rescaling.position
        reported = _report_positions(chain, blocks, first_position) if return_report else []
        qblocks, float_outputs = post_training_blocks(
            model.name, chain, input_shape, rescaling, scaling, blocks, calibrate + reported, samples,
            (weights_bits, act_bits, input_weights_bits), calibration_percentile, input_bits, method)
        akida_model, all_variables = emit_model(qblocks, input_shape, scaling, input_bits,
                                                f"{model.name}_input")
        bits = IMAGE_BITS if blocks[0].akida_class is InputConvolutional else input_bits
        report = _report(akida_model, qblocks, all_variables, float_outputs, samples, labels, first_position,
                         len(chain.steps) - 1, scaling, bits, caught) if return_report else None
        if report is not None:
            report.method = method if samples is not None else "legacy"
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return (akida_model, report) if return_report else akida_model
