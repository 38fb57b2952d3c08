"""The ConversionReport of a model quantized by quantizeml (``convert(..., return_report=True)``).

Such a model has set its own integers: the report records them rather than
a quantization's choices (``method = "quantizeml"``, no calibrated range).
A row's weight error compares each kernel's dequantized integers
(``integers * scales``, quantizeml's WeightQuantizer) with the float kernel
the quantizeml layer holds. A row's ``act_step_keras`` is the value of one
output level of the block's QuantizedReLU in the quantizeml model
(2**-frac_bits of its FixedPoint output; a list per channel where
per-channel ranges give the channels different steps). The report has no
output errors: quantizeml's layers pass quantized tensors (QTensor) between
them, whose values only quantizeml reads, so the quantizeml model's
intermediate outputs are not read.

With ``samples`` (the quantizeml model's inputs, uint8 images: its
InputQuantizer is the identity on them, and a QuantizedRescaling's scale is
in the Akida layers' integers) the Akida inputs are the samples themselves,
rounded and clipped to 0..255 as the InputQuantizer does (samples that need
it warn). With ``labels``, ``float_accuracy`` is that of the quantizeml
model's own predictions (``model.predict``) and ``converted_accuracy`` that
of the akida_sim model's ``predict`` on the Akida inputs (None when the last
Akida layer has an activation, as for float models).
"""
import math

import numpy as np

from ..layers import IMAGE_BITS
from .checks import check_labels, check_samples_range, check_samples_shape, float_samples
from .errors import ConversionError
from .report import ConversionReport, accuracy, error_statistics

METHOD = "quantizeml"
#: How the chip's input comes from the samples, for the range warning.
INPUT_ORIGIN = "the samples themselves (the quantizeml model's InputQuantizer is the identity on uint8 images)"


def check_report_data(samples, labels, input_shape):
    """``samples`` as a float32 batch (N, *input_shape) of finite Keras inputs (or None); refuse labels alone."""
    if labels is not None and samples is None:
        raise ConversionError("convert: 'labels' need 'samples'")
    if samples is None:
        return None
    samples = float_samples(samples)
    check_samples_shape(samples, input_shape, "convert")
    return samples


def input_scaling(rescalings):
    """(sigma, 0) of akida_input = sigma * x, x the first neural layer's input: 1 / the QuantizedRescalings' scales."""
    return (1 / math.prod(rescalings), 0.0)


def kernel_errors(kernels):
    """Weight error statistics of a neural layer's QuantizedKernels (``weight_pw_*`` for a separable's pointwise).

    Each kernel's float64 ``integers * scales`` against its float32 ``kernel``.
    """
    stats = {}
    for prefix, kernel in zip(("weight", "weight_pw"), kernels):
        dequantized = kernel.integers.astype(np.float64) * np.asarray(kernel.scales, np.float64)
        stats.update(error_statistics(dequantized, kernel.kernel, prefix))
    return stats


def _step_value(keras_step):
    """A float32 step array (per channel or one) as a float, or a list of floats where the channels differ."""
    if keras_step is None:
        return None
    steps = np.atleast_1d(keras_step)
    return float(steps[0]) if np.all(steps == steps[0]) else steps.tolist()


def report_row(variables, keras_layers, kernels, keras_step):
    """The report row of one emitted Akida layer (``variables``: its LayerVariables after the hardware fix-up).

    ``keras_layers``: the quantizeml layer names of its block; ``kernels``:
    the block's QuantizedKernels; ``keras_step``: float32 Keras value of one
    output level (per channel or one), None without activation.
    """
    layer = variables.layer
    return dict(name=layer.name, akida_type=type(layer).__name__, keras_layers=list(keras_layers),
                weights_bits=layer.parameters.weights_bits, act_bits=variables.act_bits,
                act_step_keras=_step_value(keras_step), calibrated_max_value=None,
                act_step_clamped=variables.act_step_clamped, threshold_clipped=variables.threshold_clipped,
                **kernel_errors(kernels))


def _accuracies(report, model, akida_model, samples, labels):
    """Set the report's float (quantizeml model) and converted (akida_sim model) accuracies on ``samples``."""
    labels = check_labels(labels, len(samples), int(np.prod(akida_model.output_shape)))
    report.float_accuracy = accuracy(np.asarray(model.predict(samples, verbose=0)), labels)
    if akida_model.layers[-1].parameters.activation:
        return
    images = check_samples_range(np.asarray(samples, np.float64), IMAGE_BITS, INPUT_ORIGIN)
    report.converted_accuracy = accuracy(akida_model.predict(images.reshape((len(images),) +
                                                                           tuple(akida_model.input_shape))), labels)


def quantizeml_report(model, akida_model, rows, scaling, samples, labels):
    """The ConversionReport of ``akida_model``, converted from the quantizeml ``model`` (its warnings not set).

    ``rows``: ``report_row`` of each Akida layer; ``scaling``: the input
    scaling (``input_scaling``); ``samples``: ``check_report_data``'s batch
    or None; ``labels``: as given to ``convert`` (or None).
    """
    report = ConversionReport(rows, scaling, method=METHOD)
    if samples is not None:
        report.samples = len(samples)
        if labels is not None:
            _accuracies(report, model, akida_model, samples, labels)
    return report
