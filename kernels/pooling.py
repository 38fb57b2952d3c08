"""Max pooling and global sum ("average") pooling of potentials.

Both saturate the potentials to 20-bit signed, as the chip does when a
pooling stage is enabled.
"""
import numpy as np
from numba import prange

from .config import GLOBAL_SUM_COST, MAX_POOL_COST, parallel_for, parallel_jit, serial_jit
from .fixed_point import POTENTIAL_MAX, POTENTIAL_MIN


@serial_jit
def _max_pool_rows(pot, size, stride, pad_before, out, lo, hi):
    """Output rows ``lo <= task < hi`` (task = n * OH + i) of ``max_pool``."""
    height, width, filters = pot.shape[1], pot.shape[2], pot.shape[3]
    out_h = out.shape[1]
    out_w = out.shape[2]
    best = np.empty(filters, np.int32)
    for task in range(lo, hi):
        n = task // out_h
        i = task % out_h
        a0 = max(i * stride[0] - pad_before[0], 0)
        a1 = min(i * stride[0] - pad_before[0] + size[0], height)
        for j in range(out_w):
            b0 = max(j * stride[1] - pad_before[1], 0)
            b1 = min(j * stride[1] - pad_before[1] + size[1], width)
            best[:] = POTENTIAL_MIN
            for a in range(a0, a1):
                for b in range(b0, b1):
                    for f in range(filters):
                        best[f] = max(best[f], pot[n, a, b, f])
            for f in range(filters):
                out[n, i, j, f] = min(best[f], POTENTIAL_MAX)


@parallel_jit
def _max_pool_rows_par(pot, size, stride, pad_before, out, n_tasks, chunks):
    """``_max_pool_rows`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _max_pool_rows(pot, size, stride, pad_before, out,
                       n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


def max_pool(pot, size, stride, pad_before, out):
    """Max over windows of the 20-bit-saturated potentials.

    pot: (N, H, W, F) int32 potentials (after the convolution stride).
    size, stride, pad_before: (2,) int64, axis 1 then axis 2. Padded cells
    are ignored (they act as minus infinity); every window holds at least
    one real cell.
    out: (N, OH, OW, F) int32, written.
    """
    work = MAX_POOL_COST * out.size * int(size[0]) * int(size[1])
    parallel_for(_max_pool_rows, _max_pool_rows_par, out.shape[0] * out.shape[1], work,
                 pot, size, stride, pad_before, out)


@serial_jit
def _global_sum_rows(pot, out, lo, hi):
    """Samples ``lo <= n < hi`` of ``global_sum_pool``."""
    height, width, filters = pot.shape[1], pot.shape[2], pot.shape[3]
    acc = np.empty(filters, np.int32)
    for n in range(lo, hi):
        acc[:] = 0
        for a in range(height):
            for b in range(width):
                for f in range(filters):
                    s = np.int64(acc[f]) + np.int64(pot[n, a, b, f])
                    acc[f] = min(max(s, POTENTIAL_MIN), POTENTIAL_MAX)
        for f in range(filters):
            out[n, 0, 0, f] = acc[f]


@parallel_jit
def _global_sum_rows_par(pot, out, n_tasks, chunks):
    """``_global_sum_rows`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _global_sum_rows(pot, out, n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


def global_sum_pool(pot, out):
    """Sum over all positions with a running 20-bit saturation.

    pot: (N, H, W, F) int32. The sum runs axis 1 outer, axis 2 inner and is
    clipped to [-2**19, 2**19-1] after every addition; the individual
    potentials are not clipped first.
    out: (N, 1, 1, F) int32, written.
    """
    parallel_for(_global_sum_rows, _global_sum_rows_par, pot.shape[0], GLOBAL_SUM_COST * pot.size, pot, out)
