"""JIT policy shared by every kernel.

Integer kernels never use ``fastmath``. ``cache=True`` stores the compiled
machine code next to the sources so a second process starts warm.
"""
from numba import njit

#: Options for serial kernels.
SERIAL = dict(cache=True, nogil=True)
#: Options for kernels that split work over batch and rows with ``prange``.
PARALLEL = dict(cache=True, nogil=True, parallel=True)


def serial_jit(func):
    """Compile ``func`` with the serial options."""
    return njit(**SERIAL)(func)


def parallel_jit(func):
    """Compile ``func`` with the parallel options."""
    return njit(**PARALLEL)(func)
