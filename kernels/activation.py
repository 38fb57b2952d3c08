"""The quantized step activation of Akida 1.0.

For a potential ``p``, threshold ``T``, step ``s`` (held as ``q = floor(16 s)``
sixteenths) and ``b`` activation bits::

    d = wrap_int32(p - T)
    a = clip(ceil(d * 2**b / q), 0, 2**b - 1)

Source: ../shared/reference/akida_v1_semantics.md §3 (observed).
"""
import numpy as np
from numba import prange

from .config import parallel_jit


@parallel_jit
def step_activation(pot, threshold, step_q, bits, out):
    """Quantize potentials into ``bits``-bit activations.

    pot: (M, F) int32 potentials (any leading shape flattened to M).
    threshold: (F,) int32. step_q: (F,) int64, floor(16 * act_step) >= 1.
    bits: activation bits (1, 2 or 4).
    out: (M, F) uint8, written.
    """
    rows, filters = pot.shape
    top = (1 << bits) - 1
    for r in prange(rows):
        for f in range(filters):
            d = np.int64(pot[r, f]) - np.int64(threshold[f])
            d = (d + 2147483648) % 4294967296 - 2147483648  # int32 wrap
            num = d << bits
            if num <= 0:
                out[r, f] = 0
            else:
                q = step_q[f]
                a = (num + q - 1) // q
                out[r, f] = min(a, top)
