"""Dense 2-D convolution potentials (InputConvolutional and Convolutional).

The kernel is a cross-correlation; a caller that needs a true convolution
passes the weights flipped on both spatial axes. Zero inputs are skipped
(Akida is event-based: a zero activation costs nothing).
"""
import numpy as np
from numba import prange

from .config import parallel_jit


@parallel_jit
def conv2d_potentials(x, weights, stride, pad_before, pad_value, out):
    """Cross-correlate ``x`` with ``weights`` into ``out``.

    x: (N, H, W, C) uint8 activations.
    weights: (KX, KY, C, F) int32, cross-correlation orientation.
    stride, pad_before: (2,) int64, axis 1 then axis 2.
    pad_value: int, the value of every padded input cell (0..255).
    out: (N, OH, OW, F) int32, written; sums wrap modulo 2**32 like the
    chip's int32 accumulator.
    """
    n_batch, height, width, channels = x.shape
    kx, ky, _, filters = weights.shape
    out_h = out.shape[1]
    out_w = out.shape[2]
    sx, sy = stride[0], stride[1]
    px, py = pad_before[0], pad_before[1]
    pad = np.int32(pad_value)
    for task in prange(n_batch * out_h):
        n = task // out_h
        i = task % out_h
        acc = np.empty(filters, np.int32)
        for j in range(out_w):
            acc[:] = 0
            for u in range(kx):
                a = i * sx + u - px
                row_inside = 0 <= a < height
                for v in range(ky):
                    b = j * sy + v - py
                    if row_inside and 0 <= b < width:
                        for c in range(channels):
                            xv = np.int32(x[n, a, b, c])
                            if xv != 0:
                                for f in range(filters):
                                    acc[f] += xv * weights[u, v, c, f]
                    elif pad != 0:
                        for c in range(channels):
                            for f in range(filters):
                                acc[f] += pad * weights[u, v, c, f]
            for f in range(filters):
                out[n, i, j, f] = acc[f]
