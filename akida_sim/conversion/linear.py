"""A block's neural layer as a plain NumPy linear map (no bias), for calibration.

``linear_map(block, x, kernels)`` applies the block's Conv2D, SeparableConv2D
(depthwise then pointwise, no rounding between) or Dense to a batch ``x``
(N, H, W, C) (Dense: (N, ...) flattened in C order, as Keras' Flatten) with
the given kernels in Keras layout, in float64, TensorFlow's padding
(``same``: pad_before = floor(total / 2), zeros) and strides. On integer
inputs and integer kernels the result is the exact integer potential of the
Akida layer before pooling and saturation. Pooling is not applied; callers
chunk large batches (the sliding windows hold N * OH * OW * C * kh * kw
values).
"""
import numpy as np

from .kinds import NEURAL_KINDS


def _pad(x, kernel_size, strides, padding):
    """``x`` (N, H, W, C) padded with zeros as TensorFlow pads for ``padding``."""
    if padding == "valid":
        return x
    pads = []
    for size, k, s in zip(x.shape[1:3], kernel_size, strides):
        out = -(-size // s)
        total = max((out - 1) * s + k - size, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))


def _windows(x, kernel_size, strides, padding):
    """Sliding windows (N, OH, OW, C, kh, kw) of ``x`` (N, H, W, C)."""
    padded = _pad(x, kernel_size, strides, padding)
    windows = np.lib.stride_tricks.sliding_window_view(padded, tuple(kernel_size), axis=(1, 2))
    return windows[:, ::strides[0], ::strides[1]]


def _conv(x, kernel, strides, padding):
    """Cross-correlation of ``x`` (N, H, W, Cin) with ``kernel`` (kh, kw, Cin, Cout)."""
    windows = _windows(x, kernel.shape[:2], strides, padding)
    return np.einsum("nhwcij,ijcf->nhwf", windows, kernel, optimize=True)


def _depthwise(x, kernel, strides, padding):
    """Depthwise cross-correlation of ``x`` (N, H, W, C) with ``kernel`` (kh, kw, C, 1)."""
    windows = _windows(x, kernel.shape[:2], strides, padding)
    return np.einsum("nhwcij,ijc->nhwc", windows, kernel[..., 0], optimize=True)


def _map(role, config, x, kernels):
    if role == "dense":
        return x.reshape(len(x), -1) @ kernels[0]
    strides, padding = tuple(config["strides"]), config["padding"]
    if role == "conv":
        return _conv(x, kernels[0], strides, padding)
    depthwise = _depthwise(x, kernels[0], strides, padding)
    return np.einsum("nhwc,cf->nhwf", depthwise, kernels[1][0, 0], optimize=True)


def linear_map(block, x, kernels):
    """float64 output (N, OH, OW, F) or (N, F) of the block's neural layer without bias.

    ``kernels``: (kernel,) for Conv2D/Dense, (depthwise, pointwise) for a
    SeparableConv2D, in Keras layout.
    """
    role = NEURAL_KINDS[block.neural.kind]
    kernels = tuple(np.asarray(k, np.float64) for k in kernels)
    return _map(role, block.neural.config, np.asarray(x, np.float64), kernels)
