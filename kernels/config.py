"""JIT and threading policy shared by every kernel.

Integer kernels never use ``fastmath``. ``cache=True`` stores the compiled
machine code next to the sources so a second process starts warm.

Kernels are compiled serial and ``nogil``; a kernel that splits its work
takes a half-open task range ``[lo, hi)`` as its last two arguments and
``parallel_for`` runs the chunks on a small thread pool. This replaces
Numba's ``parallel=True``: its OpenMP threading layer can cost milliseconds
per call to wake its workers (measured on a 2-core VM), which dominated
small layers and batch-1 runs, while a Python thread pool over ``nogil``
kernels wakes in tens of microseconds, is safe to call from several threads
and compiles faster. The thread count follows ``NUMBA_NUM_THREADS``.
"""
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
from numba import njit

#: Options for every kernel.
SERIAL = dict(cache=True, nogil=True)

#: Below this estimated work (multiply-accumulates or element operations)
#: a call runs on the calling thread alone: a thread hand-off costs about as
#: much as this much work.
MIN_PARALLEL_WORK = 200_000

_pool = None
_pool_lock = threading.Lock()


def serial_jit(func):
    """Compile ``func`` with the kernel options."""
    return njit(**SERIAL)(func)


def vector_jit(func):
    """Compile ``func`` with the kernel options and ``error_model="numpy"``.

    For kernels whose divisors the caller guarantees non-zero: Numba then
    emits no zero-division check (which raises, and so keeps a loop holding
    a division from vectorizing). Results are unchanged otherwise.
    """
    return njit(error_model="numpy", **SERIAL)(func)


def num_threads():
    """Threads a kernel call may use (``NUMBA_NUM_THREADS``, at least 1)."""
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


def _executor(workers):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="akida_sim")
        return _pool


def parallel_for(kernel, n_tasks, work, *args):
    """Run ``kernel(*args, lo, hi)`` over ``[0, n_tasks)`` split in chunks.

    kernel: a ``nogil`` kernel whose last two arguments are a task range;
    chunks must write disjoint parts of the output. work: estimated total
    work, used to stay on the calling thread when threads would not pay.
    The calling thread runs the first chunk itself.
    """
    threads = min(num_threads(), n_tasks)
    if threads <= 1 or work < MIN_PARALLEL_WORK or numba.config.DISABLE_JIT:
        kernel(*args, 0, n_tasks)
        return
    bounds = [n_tasks * k // threads for k in range(threads + 1)]
    pool = _executor(threads - 1)
    futures = [pool.submit(kernel, *args, bounds[k], bounds[k + 1]) for k in range(1, threads)]
    kernel(*args, bounds[0], bounds[1])
    for future in futures:
        future.result()
