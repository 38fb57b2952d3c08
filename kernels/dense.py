"""Fully connected potentials with the 20-bit saturation of the final sum."""
import numpy as np
from numba import prange

from .config import parallel_jit
from .fixed_point import POTENTIAL_MAX, POTENTIAL_MIN


@parallel_jit
def dense_potentials(x, weights, out):
    """``out[n, u] = clip(wrap32(sum_d x[n, d] * weights[d, u]), -2**19, 2**19-1)``.

    x: (N, D) uint8 activations (zeros are skipped).
    weights: (D, U) int32.
    out: (N, U) int32, written.
    """
    n_batch, depth = x.shape
    units = weights.shape[1]
    for n in prange(n_batch):
        acc = np.zeros(units, np.int32)
        for d in range(depth):
            xv = np.int32(x[n, d])
            if xv != 0:
                for u in range(units):
                    acc[u] += xv * weights[d, u]
        for u in range(units):
            out[n, u] = min(max(acc[u], POTENTIAL_MIN), POTENTIAL_MAX)
