"""Fully connected potentials with the 20-bit saturation of the final sum."""
import numpy as np
from numba import prange

from .config import parallel_for, parallel_jit, serial_jit
from .fixed_point import POTENTIAL_MAX, POTENTIAL_MIN


@serial_jit
def _dense_rows(x, weights, out, lo, hi):
    """Samples ``lo <= n < hi`` of ``dense_potentials``."""
    depth = x.shape[1]
    units = weights.shape[1]
    acc = np.empty(units, np.int32)
    for n in range(lo, hi):
        acc[:] = 0
        for d in range(depth):
            xv = np.int32(x[n, d])
            if xv != 0:
                row = weights[d]
                for u in range(units):
                    acc[u] += np.int32(xv * row[u])
        for u in range(units):
            out[n, u] = min(max(acc[u], POTENTIAL_MIN), POTENTIAL_MAX)


@parallel_jit
def _dense_rows_par(x, weights, out, n_tasks, chunks):
    """``_dense_rows`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _dense_rows(x, weights, out, n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


def dense_potentials(x, weights, out):
    """``out[n, u] = clip(wrap32(sum_d x[n, d] * weights[d, u]), -2**19, 2**19-1)``.

    x: (N, D) uint8 activations, C-contiguous (zeros are skipped).
    weights: (D, U) int32, C-contiguous.
    out: (N, U) int32, written.
    """
    parallel_for(_dense_rows, _dense_rows_par, x.shape[0], x.size * weights.shape[1] // 2, x, weights, out)
