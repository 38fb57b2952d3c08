"""Convert a Keras model quantized by quantizeml for Akida 1.0 into an akida_sim Model.

The vendor's current flow is ``quantizeml.models.quantize`` under
``cnn2snn.set_akida_version(AkidaVersion.v1)``, then
``cnn2snn.convert``. This module reads such a model through Keras' public
API only (class names, ``get_config``, ``weights``, shapes), without
quantizeml or cnn2snn, and gives the layers and integers of the vendor's
converter:

- blocks ``QuantizedConv2D | QuantizedSeparableConv2D | [QuantizedFlatten]
  QuantizedDense > [QuantizedMaxPool2D | QuantizedGlobalAveragePooling2D] >
  QuantizedReLU`` (the same table as float models: ``blocks.group_blocks``);
  the first block on a uint8 image (1 or 3 channels) becomes an
  InputConvolutional (4 or 8 weight bits, no flip, ``padding_value`` the
  quantized Keras padding value), the others Convolutional (kernel flipped),
  SeparableConvolutional (depthwise flipped) or FullyConnected (rows in
  Akida's column-major order after a Flatten); hidden weights 1, 2 or 4 bits;
- ``threshold = -bias`` (the bias aligned on the accumulator), times N for a
  GlobalAveragePooling2D of N pixels, plus ``round(step / 2)`` with an
  activation; ``act_step = step * 2**(act_bits - 4)``, step the
  accumulator units of one output level of the QuantizedReLU's output
  quantizer (``quantizeml_numbers.output_step``); a last block without
  activation gets ``act_step = 1 / (scales * 2**-frac_bits)`` of the final
  Dequantizer, so that ``predict`` returns Keras units;
- the vendor's act_step/threshold hardware fix-up (``emit.hardware_fix_up``).

The vendor's converted model starts with a software ``Quantizer`` layer;
akida_sim has no such layer. On the uint8 images such a model takes it is the
identity (scale 1, zero point 0: an InputQuantizer calibrated on [0, 255]),
so the akida_sim Model starts with the InputConvolutional itself and gives
the same outputs on the same uint8 images; any other InputQuantizer is
refused. Models quantized for Akida 2.0 (output quantizers on neural layers,
missing activation quantizers, 8-bit hidden weights, layers Akida 1.0
lacks) are refused, naming the layer. Per-channel activation ranges give
per-channel steps; the next layer's bias is aligned on the finest of them,
as quantizeml aligns its inputs (Akida 1.0 has no input shift: the vendor's
converter drops quantizeml's). ``samples``, ``labels`` and ``return_report``
give the conversion report (``quantizeml_report``); every other argument of
``convert`` quantizes, and is refused.
Source: cnn2snn 2.19.3 and quantizeml 1.2.5 (Apache-2.0);
../shared/reference/keras_conversion.md §4.
"""
import warnings
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from ..layers import InputConvolutional
from ..model import Model
from .blocks import group_blocks, is_image_input, strip_final_activations
from .emit import LayerVariables, _set, add_layer, akida_weights, hardware_fix_up
from .errors import ConversionError
from .keras_graph import KerasLayer, _chain_layers, _keras_flavour, _model_input_shape
from .quantizeml_numbers import F32, align_bias, input_frac_bits, output_step, quantize_weights, reciprocal
from .quantizeml_report import check_report_data, input_scaling, quantizeml_report, report_row

PACKAGE = "quantizeml"
#: quantizeml classes read, and the Keras kind the block table knows them by.
KINDS = {
    "QuantizedConv2D": "Conv2D", "QuantizedSeparableConv2D": "SeparableConv2D", "QuantizedDense": "Dense",
    "QuantizedMaxPool2D": "MaxPooling2D", "QuantizedGlobalAveragePooling2D": "GlobalAveragePooling2D",
    "QuantizedReLU": "ReLU", "QuantizedFlatten": "Flatten", "QuantizedReshape": "Reshape",
}
#: Layers that do nothing at inference.
SKIPPED = ("Dropout", "QuantizedDropout")
INPUT_QUANTIZER = "InputQuantizer"
#: A scale on the uint8 inputs (quantize's form of a first Rescaling; its offset became a padding value).
RESCALING = "QuantizedRescaling"
DEQUANTIZER = "Dequantizer"
#: Why some quantizeml classes have no Akida 1.0 layer.
AKIDA2_ONLY = {
    "QuantizedDepthwiseConv2D": "a depthwise convolution alone is an Akida 2.0 layer (Akida 1.0 has "
                                "SeparableConv2D: depthwise then pointwise)",
    "QuantizedActivation": "activations other than ReLU (look-up tables) are Akida 2.0's",
    "QuantizedAdd": "Akida 1.0 models are a single chain (no skip connections)",
    "QuantizedConcatenate": "Akida 1.0 models are a single chain (no Concatenate)",
    "QuantizedConv2DTranspose": "transposed convolutions are Akida 2.0's",
    "QuantizedDepthwiseConv2DTranspose": "transposed convolutions are Akida 2.0's",
}
#: Weight bits each Akida 1.0 layer takes from this flow.
INPUT_CONV_WEIGHT_BITS = (4, 8)
HIDDEN_WEIGHT_BITS = (1, 2, 4)
#: Activation bits of Akida 1.0 layers.
ACT_BITS = (1, 2, 4)
#: What to do instead, quoted by refusals of an Akida 2.0 quantization.
REQUANTIZE = "quantize the float model again under cnn2snn.set_akida_version(cnn2snn.AkidaVersion.v1)"
#: ``convert``'s arguments that feed the report of a quantizeml model (the others quantize: refused).
REPORT_ARGUMENTS = ("samples", "labels", "return_report")


#: Class-name marks of quantizeml's quantized layers (its other classes, e.g.
#: ``DepthwiseConv2DTranspose``, are float layers that the block rules name).
QUANTIZED_PREFIX = "Quantized"
QUANTIZED_SUFFIXES = ("Quantizer", "Dequantizer", "Observer", "Recorder")


def _is_quantized_class(layer):
    """Whether ``layer`` is one of quantizeml's quantized layer classes (read by class module and name)."""
    name = type(layer).__name__
    return type(layer).__module__.split(".")[0] == PACKAGE and (
        name.startswith(QUANTIZED_PREFIX) or name.endswith(QUANTIZED_SUFFIXES))


def is_quantizeml_model(model):
    """Whether any layer of the Keras model ``model`` (nested models expanded) is a quantized quantizeml class.

    Raises as ``read_keras_model`` for what is no Keras model or no chain.
    """
    _keras_flavour(model)
    return any(_is_quantized_class(layer) for layer in _chain_layers(model))


def _refuse(layer, rule):
    return ConversionError(f"Keras layer '{layer.name}' ({type(layer).__name__}): {rule}")


def _refuse_akida2(layer, what):
    return _refuse(layer, f"{what}: the model was quantized for Akida 2.0, which Akida 1.0 cannot run; "
                          f"{REQUANTIZE}")


def _named_weights(layer):
    """{short name: float32 array} of a layer's Keras weights ('kernel', 'bias', 'range_max', ...)."""
    return {weight.name.split("/")[-1].split(":")[0]: np.asarray(weight.numpy(), F32) for weight in layer.weights}


def _quant_config(layer):
    config = layer.get_config().get("quant_config") or {}
    return {key: dict(value) if hasattr(value, "keys") else value for key, value in config.items()}


@dataclass(frozen=True)
class QuantizedKernel:
    """A float32 Keras kernel, its int8 integers (same layout) and float32 scales (per output channel, or one):
    ``kernel ~ integers * scales``, as quantizeml's WeightQuantizer."""

    kernel: np.ndarray
    integers: np.ndarray
    scales: np.ndarray


@dataclass(frozen=True)
class QmlLayer:
    """A quantizeml layer read as plain data: its description, quantization config and named weights."""

    description: KerasLayer
    quant_config: dict
    weights: dict


def _identity_input(layer, input_shape):
    """Refuse an InputQuantizer (per tensor or per channel) that is not the identity on uint8 images."""
    config, weights = layer.get_config(), _named_weights(layer)
    range_min, range_max = np.atleast_1d(weights["range_min"]), np.atleast_1d(weights["range_max"])
    bits, signed = config.get("bitwidth", 8), config.get("signed", True)
    frac_bits = [int(input_frac_bits(bits, signed, low, high)) for low, high in zip(range_min, range_max)]
    if not is_image_input(input_shape) or signed or bits != 8 or any(frac_bits) or np.any(range_min != 0):
        raise _refuse(layer, f"akida_sim reads quantizeml models on uint8 images (H, W, 1 or 3), whose "
                             f"InputQuantizer is the identity (8 unsigned bits calibrated on [0, 255]); got input "
                             f"{input_shape}, bitwidth={bits}, signed={signed}, ranges from {range_min.tolist()} to "
                             f"{range_max.tolist()} (frac_bits {frac_bits}); quantize with "
                             f"QuantizationParams(input_dtype='uint8') and uint8 calibration samples")


def _check_layer(layer, kind, quant_config):
    """Refuse what the Akida 1.0 target of quantizeml never produces."""
    if kind in ("Conv2D", "SeparableConv2D", "Dense") and quant_config.get("output_quantizer"):
        raise _refuse_akida2(layer, "a neural layer with its own output quantizer")
    if kind == "GlobalAveragePooling2D" and quant_config.get("output_quantizer"):
        raise _refuse_akida2(layer, "a GlobalAveragePooling2D with its own output quantizer")
    if kind != "ReLU":
        return
    out = quant_config.get("output_quantizer")
    if not out:
        raise _refuse_akida2(layer, "a QuantizedReLU without output quantizer")
    if out.get("bitwidth") not in ACT_BITS:
        raise _refuse_akida2(layer, f"activations of {out.get('bitwidth')} bits (Akida 1.0 takes "
                                    f"{', '.join(map(str, ACT_BITS))})")
    if layer.get_config().get("max_value") is None:
        raise _refuse(layer, "an unbounded QuantizedReLU cannot be an Akida 1.0 activation (give it a max_value)")


def _shape(shape):
    return tuple(int(d) for d in shape[1:])


def _description(layer, kind, position):
    config = dict(layer.get_config())
    if kind in ("Conv2D", "SeparableConv2D") and (config.get("padding_value") is not None
                                                  or tuple(config["kernel_size"]) == (1, 1)):
        config["padding"] = "same"  # a padding value pads 'same'; a 1x1 kernel pads nothing either way
    return KerasLayer(layer.name, kind, config, (), _shape(layer.input_shape), _shape(layer.output_shape),
                      position, (layer.name,))


def _rescaling_scale(layer, read):
    """The scale (its config's float) a QuantizedRescaling puts on the uint8 inputs (refused after a neural layer)."""
    if read:
        raise _refuse(layer, f"a Rescaling is only accepted before the first neural layer; it follows "
                             f"'{read[-1].description.name}'")
    return layer.get_config()["scale"]


def read_quantizeml_layers(model):
    """(input_shape, [QmlLayer] in chain order, Dequantizer found?, [scales of the QuantizedRescalings]) of a
    quantizeml-quantized Keras model."""
    _keras_flavour(model)
    input_shape = _model_input_shape(model)
    layers = _chain_layers(model)
    if layers and type(layers[0]).__name__ == INPUT_QUANTIZER:
        _identity_input(layers[0], input_shape)
        layers = layers[1:]
    read, dequantized, rescalings = [], False, []
    for k, layer in enumerate(layers):
        name = type(layer).__name__
        if name == RESCALING:
            rescalings.append(_rescaling_scale(layer, read))
            continue
        if name == DEQUANTIZER:
            dropped = [f"'{later.name}' ({type(later).__name__})" for later in layers[k + 1:]]
            if dropped:
                warnings.warn(f"convert: the layers after the Dequantizer '{layer.name}' run in float and are "
                              f"dropped: {', '.join(dropped)}", stacklevel=3)
            dequantized = True
            break
        if name in SKIPPED:
            continue
        if name in AKIDA2_ONLY:
            raise _refuse(layer, f"{AKIDA2_ONLY[name]}; it has no Akida 1.0 equivalent")
        if name not in KINDS or type(layer).__module__.split(".")[0] != PACKAGE:
            raise _refuse(layer, f"a model quantized by quantizeml for Akida 1.0 holds only "
                                 f"{', '.join(KINDS)} (and Dropout), between an InputQuantizer and a Dequantizer; "
                                 f"this layer has no Akida 1.0 equivalent")
        kind, quant_config = KINDS[name], _quant_config(layer)
        _check_layer(layer, kind, quant_config)
        read.append(QmlLayer(_description(layer, kind, len(read)), quant_config, _named_weights(layer)))
    return input_shape, read, dequantized, rescalings


def _weight_bits(qml, input_conv):
    """The Akida weights_bits of a block's neural layer, refused when Akida 1.0 lacks them."""
    layer = qml.description
    if layer.kind == "SeparableConv2D":
        bits = qml.quant_config["dw_weight_quantizer"]["bitwidth"]
        pointwise = qml.quant_config["pw_weight_quantizer"]["bitwidth"]
        if pointwise != bits:
            raise ConversionError(f"Keras layer '{layer.name}' (QuantizedSeparableConv2D): depthwise weights of "
                                  f"{bits} bits and pointwise weights of {pointwise} bits; an Akida 1.0 "
                                  f"SeparableConvolutional has one weights_bits")
    else:
        bits = qml.quant_config["weight_quantizer"]["bitwidth"]
    accepted = INPUT_CONV_WEIGHT_BITS if input_conv else HIDDEN_WEIGHT_BITS
    if bits not in accepted:
        where = "the InputConvolutional" if input_conv else "a hidden Akida 1.0 layer"
        raise ConversionError(f"Keras layer '{layer.name}' (Quantized{layer.kind}): weights of {bits} bits; "
                              f"{where} takes {' or '.join(map(str, accepted))} bits (8-bit hidden weights are "
                              f"Akida 2.0's); {REQUANTIZE} and weight_bits=4")
    return bits


def _per_channel(quantizer_config):
    axis = quantizer_config.get("axis", -1)
    if axis not in (-1, None):
        raise ConversionError(f"a weight quantizer with axis={axis!r} (per output channel -1 or per tensor None "
                              f"expected)")
    return axis == -1


def _kernels(qml):
    """[QuantizedKernel] of a neural layer: its kernel, or a separable's depthwise then pointwise kernels."""
    weights, config = qml.weights, qml.quant_config
    if qml.description.kind == "SeparableConv2D":
        depthwise, pointwise = weights["depthwise_kernel"], weights["pointwise_kernel"]
        pw_config = config["pw_weight_quantizer"]
        return [QuantizedKernel(depthwise, *quantize_weights(depthwise, config["dw_weight_quantizer"]["bitwidth"],
                                                             per_channel=False)),
                QuantizedKernel(pointwise, *quantize_weights(pointwise, pw_config["bitwidth"],
                                                             _per_channel(pw_config)))]
    kernel, w_config = weights["kernel"], config["weight_quantizer"]
    return [QuantizedKernel(kernel, *quantize_weights(kernel, w_config["bitwidth"], _per_channel(w_config)))]


def _integers(kernels, channels):
    """(weights (Keras layout), weights_pw or None, float32 accumulator scales (channels,)) of a neural layer's
    ``_kernels``."""
    if len(kernels) == 2:
        depthwise, pointwise = kernels
        return depthwise.integers, pointwise.integers, (depthwise.scales * pointwise.scales).astype(F32)
    return kernels[0].integers, None, np.broadcast_to(kernels[0].scales, (channels,)).astype(F32)


def _padding_value(qml, frac_bits, input_scale):
    """The InputConvolutional padding_value: the Keras padding value aligned on the (scaled) uint8 inputs."""
    layer = qml.description
    value = layer.config.get("padding_value")
    if value is None:
        return 0
    bits = qml.quant_config["weight_quantizer"]["bitwidth"]
    aligned = align_bias(np.atleast_1d(np.asarray(value, F32)), bits, input_scale, frac_bits)
    if np.any(aligned != aligned[0]) or not 0 <= aligned[0] <= 255:
        raise ConversionError(f"Keras layer '{layer.name}' (QuantizedConv2D): padding_value {value!r} gives "
                              f"{aligned.tolist()} on the uint8 inputs; an InputConvolutional takes one uint8 "
                              f"padding value")
    return int(aligned[0])


@dataclass
class _Step:
    """A block's (threshold, act_step) before the hardware fix-up, the frac_bits of its output and the
    float32 Keras value of one output level (2**-frac_bits, per channel or one; None without activation)."""

    threshold: np.ndarray
    act_step: np.ndarray
    frac_bits: object
    keras_step: object = None


def _neuron_variables(block, qml_by_name, scales, frac_bits, dequantized):
    """threshold (int32), act_step (float32) and output frac_bits of a block, as the vendor's converter."""
    neural = qml_by_name[block.neural.name]
    channels = block.neural.output_shape[-1]
    threshold = np.zeros(channels, np.int32)
    if "bias" in neural.weights:
        bits = neural.quant_config.get("bias_quantizer", {}).get("bitwidth", 8)
        threshold = (-align_bias(neural.weights["bias"], bits, scales, frac_bits)).astype(np.int32)
    gap = block.gap_pixels
    if gap != 1:
        threshold = threshold * np.int32(gap)
        scales = (scales * reciprocal(gap)).astype(F32)
    if block.activation is None:
        act_step = np.ones(channels, F32)
        if dequantized:
            act_step = (act_step / (scales / np.power(F32(2), F32(frac_bits)))).astype(F32)
        return _Step(threshold, act_step, None)
    relu = qml_by_name[block.activation.name]
    out = relu.quant_config["output_quantizer"]
    step, out_frac_bits = output_step(scales, frac_bits, out["bitwidth"], relu.weights["range_max"],
                                      relu.weights.get("rescaling_rate", 1.0), out.get("scale_bits", 8))
    threshold = threshold + np.round(F32(0.5) * step).astype(np.int32)
    act_step = (step * F32(2.0 ** (out["bitwidth"] - 4))).astype(F32)
    keras_step = np.power(F32(2), -np.asarray(out_frac_bits, F32))
    return _Step(threshold, act_step, np.max(out_frac_bits), keras_step)  # the next layer aligns on the finest


def _check_first_block(block, image_input):
    if image_input and (block.activation is None or block.gap_pixels != 1):
        raise ConversionError(f"Keras layers {list(block.keras_names)}: the first block on a uint8 image becomes "
                              f"the InputConvolutional, which Akida 1.0 builds from QuantizedConv2D > "
                              f"[QuantizedMaxPool2D] > QuantizedReLU only (no GlobalAveragePooling2D, an activation)")
    if not image_input:
        raise ConversionError(f"Keras layers {list(block.keras_names)}: akida_sim reads quantizeml models on uint8 "
                              f"images (H, W, 1 or 3) only, which start with an InputConvolutional")


def _refuse_arguments(arguments, defaults):
    """Refuse quantization arguments given for a model quantizeml has quantized already."""
    given = [name for name, value in arguments.items() if name not in REPORT_ARGUMENTS
             and (value is not None if defaults[name] is None else value != defaults[name])]
    if given:
        raise ConversionError(f"convert: the Keras model is quantized by quantizeml already (its integers and "
                              f"input scaling are set); argument(s) {given} do not apply to it")


def _input_scale(rescalings):
    """The float32 scale of the uint8 inputs: the product of the QuantizedRescalings' scales (1 without)."""
    scale = F32(1)
    for rescaling in rescalings:
        scale = scale * F32(rescaling)
    return scale


def _layer_arguments(block, qml_by_name, frac_bits, input_scale):
    """The Akida layer arguments of a block (``block.pattern``'s, with its bit widths and padding value)."""
    neural = qml_by_name[block.neural.name]
    input_conv = block.akida_class is InputConvolutional
    arguments = block.pattern.arguments(block)
    arguments["weights_bits"] = _weight_bits(neural, input_conv)
    if block.activation is None:
        arguments["activation"] = False
    else:
        arguments["act_bits"] = qml_by_name[block.activation.name].quant_config["output_quantizer"]["bitwidth"]
    if input_conv:
        arguments["padding_value"] = _padding_value(neural, frac_bits, input_scale)
    return arguments


def _emit(blocks, qml_by_name, dequantized, input_scale):
    """(Model, report rows) of the blocks: the Akida layers with their variables (hardware-fixed) set."""
    akida_model, all_variables, reads, frac_bits = Model(), [], [], F32(0)
    for block in blocks:
        arguments = _layer_arguments(block, qml_by_name, frac_bits, input_scale)
        layer = add_layer(akida_model, block, arguments)
        kernels = _kernels(qml_by_name[block.neural.name])
        weights, weights_pw, scales = _integers(kernels, block.neural.output_shape[-1])
        if block is blocks[0]:
            scales = (input_scale * scales).astype(F32)  # the accumulator of scaled inputs
        step = _neuron_variables(block, qml_by_name, scales, frac_bits, dequantized)
        laid_out = akida_weights(SimpleNamespace(weights=weights), layer)
        all_variables.append(LayerVariables(layer, block, laid_out, weights_pw, step.threshold, step.act_step,
                                            arguments.get("act_bits")))
        reads.append((block.keras_names, kernels, step.keras_step))
        frac_bits = step.frac_bits
    hardware_fix_up(all_variables)
    for variables in all_variables:
        _set(variables)
    rows = [report_row(variables, *read) for variables, read in zip(all_variables, reads)]
    return akida_model, rows


def _convert(model, samples, labels, return_report):
    """(Model, ConversionReport or None) of a quantizeml model; ``samples``/``labels`` as ``convert`` takes them."""
    samples = check_report_data(samples, labels, _model_input_shape(model))
    input_shape, qml_layers, dequantized, rescalings = read_quantizeml_layers(model)
    image_input = is_image_input(input_shape)
    blocks = group_blocks(strip_final_activations([qml.description for qml in qml_layers]), image_input)
    _check_first_block(blocks[0], image_input)
    qml_by_name = {qml.description.name: qml for qml in qml_layers}
    akida_model, rows = _emit(blocks, qml_by_name, dequantized, _input_scale(rescalings))
    if not return_report:
        return akida_model, None
    return akida_model, quantizeml_report(model, akida_model, rows, input_scaling(rescalings), samples, labels)


def convert_quantizeml(model, arguments, defaults):
    """The akida_sim Model of a Keras model quantized by quantizeml for Akida 1.0 (see the module doc).

    ``arguments``: {name: value} of ``akida_sim.convert``'s other arguments,
    ``defaults`` their defaults: each but ``samples``, ``labels`` and
    ``return_report`` must keep its default (they quantize). With
    ``return_report`` it returns (Model, ConversionReport), see
    ``quantizeml_report``; ``samples`` and ``labels`` only feed the report.
    """
    _refuse_arguments(arguments, defaults)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        akida_model, report = _convert(model, arguments["samples"], arguments["labels"], arguments["return_report"])
    if report is not None:
        report.warnings = [str(warning.message) for warning in caught]
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return akida_model if report is None else (akida_model, report)
