"""Separable convolution potentials: depthwise then pointwise, fused.

The depthwise result stays exact (no rounding, activation or saturation in
between); the pointwise sum wraps modulo 2**32 like the chip's int32
accumulator.
"""
import numpy as np
from numba import prange

from .config import parallel_for, parallel_jit, serial_jit
from .convolution import BLOCK_PIXELS, patch_dot


@serial_jit
def _separable_rows(x, depthwise, pointwise_t, stride, pad_before, out, lo, hi):
    """Output rows ``lo <= task < hi`` (task = n * OH + i) of ``separable_potentials``."""
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    kx, ky = depthwise.shape[0], depthwise.shape[1]
    out_h = out.shape[1]
    out_w = out.shape[2]
    sx, sy = stride[0], stride[1]
    px, py = pad_before[0], pad_before[1]
    # Consecutive tasks are consecutive pixel rows of the flattened output.
    flat = out.reshape(out.shape[0] * out_h * out_w, out.shape[3])
    block = max(1, BLOCK_PIXELS // out_w)
    dw = np.empty((block * out_w, channels), np.int32)
    for first in range(lo, hi, block):
        last = min(first + block, hi)
        dw[:] = 0
        for task in range(first, last):
            n = task // out_h
            i = task % out_h
            base = (task - first) * out_w
            for j in range(out_w):
                for u in range(kx):
                    a = i * sx + u - px
                    if a < 0 or a >= height:
                        continue
                    for v in range(ky):
                        b = j * sy + v - py
                        if b < 0 or b >= width:
                            continue
                        for c in range(channels):
                            dw[base + j, c] += np.int32(np.int32(x[n, a, b, c]) * depthwise[u, v, c])
        # Pointwise: dot products over contiguous channels, register-tiled.
        pixels = (last - first) * out_w
        patch_dot(dw[:pixels], pointwise_t, flat[first * out_w:first * out_w + pixels])


@parallel_jit
def _separable_rows_par(x, depthwise, pointwise_t, stride, pad_before, out, n_tasks, chunks):
    """``_separable_rows`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _separable_rows(x, depthwise, pointwise_t, stride, pad_before, out,
                        n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


def separable_potentials(x, depthwise, pointwise, stride, pad_before, out):
    """Depthwise cross-correlation of ``x`` then a 1x1 pointwise sum.

    x: (N, H, W, C) uint8 activations, C-contiguous; padded cells hold 0.
    depthwise: (KX, KY, C) int32, C-contiguous, cross-correlation orientation.
    pointwise: (C, F) int32, C-contiguous.
    stride, pad_before: (2,) int64, axis 1 then axis 2.
    out: (N, OH, OW, F) int32, C-contiguous, written.
    """
    work = out.size * pointwise.shape[0]
    parallel_for(_separable_rows, _separable_rows_par, out.shape[0] * out.shape[1], work,
                 x, depthwise, np.ascontiguousarray(pointwise.T), stride, pad_before, out)
