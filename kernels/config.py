"""JIT and threading policy shared by every kernel.

Integer kernels never use ``fastmath``. ``cache=True`` stores the compiled
machine code next to the sources so a second process starts warm.

Kernels are compiled serial and ``nogil``; a kernel that splits its work
takes a half-open task range ``[lo, hi)`` as its last two arguments. Each
has a ``parallel_jit`` wrapper that splits ``[0, n_tasks)`` in one chunk per
thread and runs the chunks with Numba's ``prange``; ``parallel_for`` picks
the serial kernel for small calls and the wrapper otherwise. Chunks (not
single rows) keep each thread's scratch buffers allocated once per call.

OpenMP wait policy. Numba's ``omp`` threading layer (chosen when TBB is not
installed) uses GNU OpenMP, whose default ``OMP_WAIT_POLICY`` makes idle
workers spin for a while before sleeping. Spinning workers compete for the
cores with the calling thread and with the next parallel region, and on a
machine with few or busy cores a parallel call then costs about a
millisecond instead of microseconds, which dominates small layers and
batch-1 runs. libgomp reads the policy once, when Numba loads it (the first
parallel kernel call), so ``parallel_for`` loads the threading layer itself
with ``OMP_WAIT_POLICY=PASSIVE`` in the environment, unless the user has set
the variable (their setting wins), and then restores the environment: the
policy applies to Numba's OpenMP runtime only, not to OpenMP libraries
loaded later or to child processes. It has no effect if Numba's threading
layer was already running, or if the process had already loaded the same
libgomp, before the first kernel call.

The thread count follows ``numba.get_num_threads()`` (``NUMBA_NUM_THREADS``
or ``numba.set_num_threads``).
"""
import os
import threading

import numba
from numba import njit

#: Options for every kernel.
SERIAL = dict(cache=True, nogil=True)

#: Below this estimated work (multiply-accumulates or element operations)
#: a call runs on the calling thread alone. Waking the sleeping workers of
#: a passive pool and joining them costs tens to a hundred microseconds on
#: a virtualised 2-core machine, about what one core does of this much work
#: (measured: batch-1 DS-CNN forward 2.4x faster than with a threshold of
#: 200,000; batch-128 forwards unchanged, their layers are far above it).
#: Kernels state their work in multiply-accumulates of the dense convolution
#: form; the others convert with the costs below, measured on one core
#: against that form's (about 0.02 ns per multiply-accumulate).
MIN_PARALLEL_WORK = 10_000_000
#: One step activation of a potential (about 0.28 ns).
ACTIVATION_COST = 14
#: One window cell of max pooling (about 0.17 ns).
MAX_POOL_COST = 9
#: One potential of the global saturated sum (about 0.13 ns).
GLOBAL_SUM_COST = 6
#: One multiply-accumulate of the event form of the convolution (the
#: measured break-even at 30 to 35 % density puts it near 3).
EVENT_MAC_COST = 3

#: The OpenMP wait policy used when the user has not set ``OMP_WAIT_POLICY``.
OMP_WAIT_POLICY = "PASSIVE"

_launch_lock = threading.Lock()
_launched = False
_parent_pid = None


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


def parallel_jit(func):
    """Compile a ``prange`` wrapper with the kernel options and ``parallel=True``."""
    return njit(parallel=True, **SERIAL)(func)


def _launch_threads():
    """Load Numba's threading layer with the default OpenMP wait policy."""
    global _launched, _parent_pid
    with _launch_lock:
        if _launched:
            return
        saved = os.environ.get("OMP_WAIT_POLICY")
        if saved is None:
            os.environ["OMP_WAIT_POLICY"] = OMP_WAIT_POLICY
        try:
            numba.get_num_threads()  # loads the layer (libgomp reads the variable now)
        finally:
            if saved is None:
                os.environ.pop("OMP_WAIT_POLICY", None)
        _parent_pid = os.getpid()
        _launched = True


def num_threads():
    """Threads a kernel call may use (``numba.get_num_threads()``, at least 1).

    In a child forked after the parent ran a parallel kernel this is 1:
    GNU OpenMP is not fork-safe, so such a child runs every kernel serially.
    """
    if not _launched:
        _launch_threads()
    if os.getpid() != _parent_pid:
        return 1
    return max(1, numba.get_num_threads())


def parallel_for(serial, parallel, n_tasks, work, *args):
    """Run ``serial(*args, lo, hi)`` over ``[0, n_tasks)``, in parallel if it pays.

    serial: a kernel whose last two arguments are a task range; tasks must
    write disjoint parts of the output. parallel: its ``parallel_jit``
    wrapper, called as ``parallel(*args, n_tasks, chunks)``. work: estimated
    total work, used to stay on the calling thread when threads would not pay.
    """
    if n_tasks <= 1 or work < MIN_PARALLEL_WORK or numba.config.DISABLE_JIT:
        serial(*args, 0, n_tasks)
        return
    chunks = min(num_threads(), n_tasks)
    if chunks <= 1:
        serial(*args, 0, n_tasks)
    else:
        parallel(*args, n_tasks, chunks)
