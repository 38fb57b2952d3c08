"""ConversionReport: what quantization cost, layer by layer, as plain data.

Errors are measured against the float Keras model. A layer's weight error
compares its dequantized weights ``w_int / sf`` with the float weights it
quantized (BatchNormalization folded); its output error compares, on the
calibration ``samples``, the converted model's output of that layer in Keras
units (activation level * step, or ``predict`` for a last layer without
activation) with the float model's output at the same point: errors there
accumulate over the layers before.
"""
from dataclasses import dataclass, field

import numpy as np


def _rms(values):
    return float(np.sqrt(np.mean(np.square(values, dtype=np.float64)))) if values.size else 0.0


def error_statistics(approximate, exact, prefix):
    """{prefix_rms_error, prefix_max_abs_error, prefix_relative_error} of two arrays."""
    difference = np.asarray(approximate, np.float64) - np.asarray(exact, np.float64)
    reference = _rms(np.asarray(exact, np.float64))
    rms = _rms(difference)
    return {
        f"{prefix}_rms_error": rms,
        f"{prefix}_max_abs_error": float(np.max(np.abs(difference))) if difference.size else 0.0,
        f"{prefix}_relative_error": rms / reference if reference > 0 else float(rms > 0),
    }


def weight_errors(qblock):
    """Weight error statistics of a quantized block (``weight_pw_*`` for a separable's pointwise)."""
    kernels = (qblock.weights,) if qblock.weights_pw is None else (qblock.weights, qblock.weights_pw)
    stats = {}
    for prefix, ints, scale, exact in zip(("weight", "weight_pw"), kernels, qblock.kernel_scales,
                                          qblock.float_weights):
        stats.update(error_statistics(ints / scale, exact, prefix))
    return stats


def accuracy(scores, labels):
    """Fraction of rows of ``scores`` (N, ...) whose largest value is at the class ``labels`` (N,) give."""
    return float(np.mean(np.argmax(scores.reshape(len(scores), -1), axis=1) == labels))


def _number_text(value):
    """A scale or offset as a reader writes it: 255 for 255.0, 0 for -0.0, else the float's shortest form."""
    value = float(value) + 0.0  # -0.0 + 0.0 is 0.0
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass
class ConversionReport:
    """The conversion's record: one dict per Akida layer in ``layers``.

    Each row has ``name``, ``akida_type``, ``keras_layers``, ``weights_bits``,
    ``act_bits`` (None without activation), ``act_step_keras`` (the Keras
    value of one activation level), ``calibrated_max_value`` (when calibrated),
    ``weight_rms_error``/``weight_max_abs_error``/``weight_relative_error`` (and
    ``weight_pw_*`` for a separable's pointwise kernel),
    and with samples ``output_rms_error``/``output_max_abs_error``/
    ``output_relative_error`` in Keras units, plus ``act_step_clamped`` and
    ``threshold_clipped`` (hardware fix-up). ``float_accuracy`` and
    ``converted_accuracy`` are set when labels were given (the converted one
    needs a last layer without activation). ``input_scaling`` is (sigma,
    offset) of akida_input = sigma * x + offset, x the input of the first
    neural layer. ``warnings`` lists what the conversion warned about.
    ``method`` is how float layers were quantized (``"hardware"`` or
    ``"legacy"``, see ``convert``), or ``"quantizeml"`` for a model
    quantizeml quantized (see ``quantizeml_report``: no calibrated range, no
    output errors).
    """

    layers: list
    input_scaling: tuple
    samples: int = 0
    float_accuracy: object = None
    converted_accuracy: object = None
    warnings: list = field(default_factory=list)
    method: str = "legacy"

    def to_dataframe(self):
        """The ``layers`` rows as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("ConversionReport.to_dataframe needs pandas: pip install akida-sim[sweeps]") from exc
        return pd.DataFrame(self.layers)

    @property
    def output_error(self):
        """RMS error of the converted model's output (last layer) vs the float model, Keras units."""
        if not self.layers or "output_rms_error" not in self.layers[-1]:
            return None
        return self.layers[-1]["output_rms_error"]

    def __str__(self):
        lines = [f"ConversionReport: {len(self.layers)} layers, {self.samples} samples, "
                 f"input_scaling=({', '.join(map(_number_text, self.input_scaling))}), method={self.method}"]
        for row in self.layers:
            text = (f"  {row['name']:<20} {row['akida_type']:<22} w{row['weights_bits']} "
                    f"a{row['act_bits'] if row['act_bits'] is not None else '-'} "
                    f"weight rel. err {row['weight_relative_error']:.4f}")
            if "output_relative_error" in row:
                text += f", output rel. err {row['output_relative_error']:.4f}"
            lines.append(text)
        if self.float_accuracy is not None:
            converted = None if self.converted_accuracy is None else round(self.converted_accuracy, 4)
            lines.append(f"  accuracy: float {self.float_accuracy:.4f}, converted {converted}")
        return "\n".join(lines)
