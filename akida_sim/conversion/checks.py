"""Checks of ``convert``'s data arguments: the batch, shape and range of ``samples``, the ``labels``.

``samples`` are Keras-model inputs; the chip sees ``akida_input = sigma * x
+ offset`` of them (x the first neural layer's input: after a first
Rescaling, that is the samples themselves), integers in [0, 2**bits - 1]. Samples
that are not (or use only [0, 1] of an 8-bit or 4-bit range: images divided
by 255 once too often) calibrate the conversion on inputs the model never
sees: a UserWarning says so. ``labels`` must be one finite integer class
per sample, within the model's outputs.
"""
import warnings

import numpy as np

from .errors import ConversionError

#: How far (in Akida input units) a sample may be from an integer.
INPUT_TOLERANCE = 1e-3
#: Input ranges at least this large are suspicious when the samples use only [0, 1] of them.
WIDE_RANGE = 15


def akida_values(samples, rescaling, input_scaling):
    """float64 ``sigma * x + offset`` of the samples, x the first neural layer's input (Keras units)."""
    if rescaling is not None:
        return np.asarray(samples, np.float64)
    sigma, offset = input_scaling
    return float(sigma) * np.asarray(samples, np.float64) + float(offset)


def check_samples_range(values, bits, origin):
    """Warn when Akida input ``values`` are not integers in [0, 2**bits - 1]; their clipped integers (uint8).

    ``origin`` says where the model's input scaling comes from.
    """
    top = 2 ** bits - 1
    low, high = float(values.min()), float(values.max())
    off_grid = float(np.max(np.abs(values - np.rint(values))))
    problem = None
    if low < 0 or high > top:
        problem = f"values in [{low:.4g}, {high:.4g}], outside 0..{top}"
    elif off_grid > INPUT_TOLERANCE:
        problem = f"non-integer values in [{low:.4g}, {high:.4g}] (up to {off_grid:.3g} from an integer)"
    elif top >= WIDE_RANGE and high <= 1:
        problem = f"values in [{low:.4g}, {high:.4g}] only, a sliver of 0..{top}"
    if problem is not None:
        warnings.warn(f"convert: argument 'samples' does not match the model's input: the chip sees {origin}, "
                      f"integers in 0..{top} ({bits}-bit), and these samples give {problem}; are they scaled "
                      f"as the Keras model's own inputs (e.g. uint8 images, not images / 255)?", UserWarning,
                      stacklevel=3)
    return np.clip(np.rint(values), 0, top).astype(np.uint8)


def check_labels(labels, count, classes):
    """``labels`` as int64 (count,): one finite integer class in [0, classes) per sample (one-hot rows accepted)."""
    try:
        array = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise ConversionError(f"convert: argument 'labels' must be an array of class indices, got "
                              f"{type(labels).__name__}: {exc}") from exc
    if array.dtype.kind not in "iuf":
        raise ConversionError(f"convert: argument 'labels' must hold numbers (class indices 0..{classes - 1}), got "
                              f"dtype {array.dtype}")
    if array.ndim == 2 and array.shape == (count, classes):
        if not np.all(np.isfinite(array)):
            raise ConversionError("convert: argument 'labels' (one-hot) holds NaN or infinite values")
        array = np.argmax(array, axis=1)
    if array.shape != (count,):
        raise ConversionError(f"convert: argument 'labels' must hold one class per sample, shape ({count},) (or "
                              f"one-hot ({count}, {classes})), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ConversionError(f"convert: argument 'labels' holds {int(np.sum(~np.isfinite(array)))} NaN or "
                              f"infinite value(s); expected class indices 0..{classes - 1}")
    if np.any(array != np.rint(array)):
        raise ConversionError(f"convert: argument 'labels' holds non-integer values (e.g. "
                              f"{array[array != np.rint(array)][0]!r}); expected class indices 0..{classes - 1}")
    if array.size and (array.min() < 0 or array.max() >= classes):
        raise ConversionError(f"convert: argument 'labels' holds classes in [{int(array.min())}, {int(array.max())}], "
                              f"the model has {classes} outputs (classes 0..{classes - 1})")
    return array.astype(np.int64)


def float_samples(samples):
    """``samples`` as a float32 batch (N, ...) of finite Keras inputs."""
    try:
        values = np.asarray(samples, np.float32)
    except (TypeError, ValueError) as exc:
        raise ConversionError(f"convert: 'samples' must be a numeric array (N, ...) of Keras inputs, got "
                              f"{type(samples).__name__}: {exc}") from exc
    if values.ndim < 2 or len(values) == 0:
        raise ConversionError(f"convert: 'samples' must be a batch (N, ...) of Keras inputs, got shape "
                              f"{values.shape}")
    if not np.all(np.isfinite(values)):
        raise ConversionError(f"convert: 'samples' must be finite, got {int(np.sum(~np.isfinite(values)))} "
                              f"NaN or infinite value(s)")
    return values


def check_samples_shape(samples, input_shape, caller):
    """Refuse a batch ``samples`` (N, ...) whose per-sample shape is not the model's ``input_shape``."""
    if samples.shape[1:] != tuple(input_shape):
        raise ConversionError(f"{caller}: 'samples' have shape {samples.shape[1:]} per sample, the model input "
                              f"is {tuple(input_shape)}")
