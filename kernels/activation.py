"""The quantized step activation of Akida 1.0.

For a potential ``p``, threshold ``T``, step ``s`` (held as the 28-bit field
``q = floor(16 s) mod 2**28`` of sixteenths) and ``b`` activation bits::

    d = wrap_int32(p - T)
    a = 0                                                   if d <= 0
    a = min(((d * 2**b - 1) mod 2**28) // q + 1, 2**b - 1)  otherwise

which is ``clip(ceil(d * 2**b / q), 0, 2**b - 1)`` while ``d * 2**b <= 2**28``;
beyond, the chip's 28-bit numerator wraps. Source: ../shared/reference/
akida_v1_semantics.md §3, with the 28-bit numerator established since.
"""
import numpy as np
from numba import prange

from .config import ACTIVATION_COST, parallel_for, parallel_jit, vector_jit
from .fixed_point import STEP_FIELD_BITS

NUMERATOR_MASK = (1 << STEP_FIELD_BITS) - 1


@vector_jit
def _activation_rows(pot, threshold, step_q, bits, out, lo, hi):
    """Rows ``lo <= r < hi`` of ``step_activation``."""
    filters = pot.shape[1]
    top = np.int64((1 << bits) - 1)
    # float64 division is exact here: numerator and step are < 2**28, so a
    # quotient just below an integer k + 1 stays more than 2**-29 (relative)
    # below it, far above the 2**-53 rounding of the division.
    q = np.empty(filters, np.float64)
    for f in range(filters):
        q[f] = np.float64(step_q[f])
    for r in range(lo, hi):
        for f in range(filters):
            d = np.int64(pot[r, f]) - np.int64(threshold[f])
            # int32 wrap of a difference of two int32 values (branch-free
            # selects, so the loop vectorizes).
            d = d - 4294967296 if d > 2147483647 else d
            d = d + 4294967296 if d < -2147483648 else d
            num = np.float64(((d << bits) - 1) & NUMERATOR_MASK)
            # Truncation is the floor: the quotient is >= 0.
            a = min(np.int64(num / q[f]) + 1, top)
            out[r, f] = a if d > 0 else 0


@parallel_jit
def _activation_rows_par(pot, threshold, step_q, bits, out, n_tasks, chunks):
    """``_activation_rows`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _activation_rows(pot, threshold, step_q, bits, out,
                         n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


def step_activation(pot, threshold, step_q, bits, out):
    """Quantize potentials into ``bits``-bit activations.

    pot: (M, F) int32 potentials (any leading shape flattened to M).
    threshold: (F,) int32. step_q: (F,) int64, floor(16 * act_step) mod 2**28,
    >= 1. bits: activation bits (1 to 4).
    out: (M, F) uint8, written.
    """
    parallel_for(_activation_rows, _activation_rows_par, pot.shape[0], ACTIVATION_COST * pot.size,
                 pot, threshold, step_q, int(bits), out)
