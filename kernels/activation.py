"""The quantized step activation of Akida 1.0.

For a potential ``p``, threshold ``T``, step ``s`` (held as the 28-bit field
``q = floor(16 s) mod 2**28`` of sixteenths) and ``b`` activation bits::

    d = wrap_int32(p - T)
    a = 0                                                   if d <= 0
    a = min(((d * 2**b - 1) mod 2**28) // q + 1, 2**b - 1)  otherwise

which is ``clip(ceil(d * 2**b / q), 0, 2**b - 1)`` while ``d * 2**b <= 2**28``;
beyond, the chip's 28-bit numerator wraps. Source: observed on the vendor's
engine (0 mismatches on about 50,000 neurons, steps 1/16 .. 2**27).
"""
import numpy as np
from numba import prange

from .config import parallel_jit
from .fixed_point import STEP_FIELD_BITS

NUMERATOR_MASK = (1 << STEP_FIELD_BITS) - 1


@parallel_jit
def step_activation(pot, threshold, step_q, bits, out):
    """Quantize potentials into ``bits``-bit activations.

    pot: (M, F) int32 potentials (any leading shape flattened to M).
    threshold: (F,) int32. step_q: (F,) int64, floor(16 * act_step) mod 2**28,
    >= 1. bits: activation bits (1 to 4).
    out: (M, F) uint8, written.
    """
    rows, filters = pot.shape
    top = (1 << bits) - 1
    for r in prange(rows):
        for f in range(filters):
            d = np.int64(pot[r, f]) - np.int64(threshold[f])
            d = (d + 2147483648) % 4294967296 - 2147483648  # int32 wrap
            if d <= 0:
                out[r, f] = 0
            else:
                a = (((d << bits) - 1) & NUMERATOR_MASK) // step_q[f] + 1
                out[r, f] = min(a, top)
