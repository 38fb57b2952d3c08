"""Separable convolution potentials: depthwise then pointwise, fused.

The depthwise result stays exact (no rounding, activation or saturation in
between); the pointwise sum wraps modulo 2**32 like the chip's int32
accumulator.
"""
import numpy as np
from numba import prange

from .config import parallel_jit


@parallel_jit
def separable_potentials(x, depthwise, pointwise, stride, pad_before, out):
    """Depthwise cross-correlation of ``x`` then a 1x1 pointwise sum.

    x: (N, H, W, C) uint8 activations; padded cells hold 0.
    depthwise: (KX, KY, C) int32, cross-correlation orientation.
    pointwise: (C, F) int32.
    stride, pad_before: (2,) int64, axis 1 then axis 2.
    out: (N, OH, OW, F) int32, written.
    """
    n_batch, height, width, channels = x.shape
    kx, ky, _ = depthwise.shape
    filters = pointwise.shape[1]
    out_h = out.shape[1]
    out_w = out.shape[2]
    sx, sy = stride[0], stride[1]
    px, py = pad_before[0], pad_before[1]
    for task in prange(n_batch * out_h):
        n = task // out_h
        i = task % out_h
        dw = np.empty(channels, np.int32)
        acc = np.empty(filters, np.int32)
        for j in range(out_w):
            dw[:] = 0
            for u in range(kx):
                a = i * sx + u - px
                if a < 0 or a >= height:
                    continue
                for v in range(ky):
                    b = j * sy + v - py
                    if b < 0 or b >= width:
                        continue
                    for c in range(channels):
                        dw[c] += np.int32(x[n, a, b, c]) * depthwise[u, v, c]
            acc[:] = 0
            for c in range(channels):
                d = dw[c]
                if d != 0:
                    for f in range(filters):
                        acc[f] += d * pointwise[c, f]
            for f in range(filters):
                out[n, i, j, f] = acc[f]
