"""Max pooling and global sum ("average") pooling of potentials.

Both saturate the potentials to 20-bit signed, as the chip does when a
pooling stage is enabled.
"""
import numpy as np
from numba import prange

from .config import parallel_jit
from .fixed_point import POTENTIAL_MAX, POTENTIAL_MIN


@parallel_jit
def max_pool(pot, size, stride, pad_before, out):
    """Max over windows of the 20-bit-saturated potentials.

    pot: (N, H, W, F) int32 potentials (after the convolution stride).
    size, stride, pad_before: (2,) int64, axis 1 then axis 2. Padded cells
    are ignored (they act as minus infinity); every window holds at least
    one real cell.
    out: (N, OH, OW, F) int32, written.
    """
    n_batch, height, width, filters = pot.shape
    out_h = out.shape[1]
    out_w = out.shape[2]
    for task in prange(n_batch * out_h):
        n = task // out_h
        i = task % out_h
        a0 = max(i * stride[0] - pad_before[0], 0)
        a1 = min(i * stride[0] - pad_before[0] + size[0], height)
        for j in range(out_w):
            b0 = max(j * stride[1] - pad_before[1], 0)
            b1 = min(j * stride[1] - pad_before[1] + size[1], width)
            for f in range(filters):
                best = POTENTIAL_MIN
                for a in range(a0, a1):
                    for b in range(b0, b1):
                        v = pot[n, a, b, f]
                        if v > best:
                            best = v
                out[n, i, j, f] = min(best, POTENTIAL_MAX)


@parallel_jit
def global_sum_pool(pot, out):
    """Sum over all positions with a running 20-bit saturation.

    pot: (N, H, W, F) int32. The sum runs axis 1 outer, axis 2 inner and is
    clipped to [-2**19, 2**19-1] after every addition; the individual
    potentials are not clipped first.
    out: (N, 1, 1, F) int32, written.
    """
    n_batch, height, width, filters = pot.shape
    for n in prange(n_batch):
        acc = np.zeros(filters, np.int64)
        for a in range(height):
            for b in range(width):
                for f in range(filters):
                    s = acc[f] + pot[n, a, b, f]
                    acc[f] = min(max(s, POTENTIAL_MIN), POTENTIAL_MAX)
        for f in range(filters):
            out[n, 0, 0, f] = acc[f]
