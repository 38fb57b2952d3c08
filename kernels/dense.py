"""Fully connected potentials with the 20-bit saturation of the final sum.

Two exact forms, chosen from the input density and the number of units:

* event form: each non-zero input adds its weight row to the accumulators
  of all units (zeros cost nothing; the add runs over contiguous units);
* dense form: the integer GEMM of the process's path (``kernels.gemm``,
  the samples as the pixels of a 1x1 convolution), or on the "reference"
  path every unit a register-tiled dot product over the inputs of four
  samples at a time (``patch_dot``), zeros included.

Measured (``benchmarks/bench_crossover.py``, batch 128): with tens of units
the dense form wins at any density (the event form's add over ten units is
mostly loop overhead); with 500 to 1000 units the event form wins below
about 15 % of the inputs non-zero against the reference dense form, and
below about 5 to 10 % against the GEMM's (``vpmaddwd``, a shared 2-core
AVX2 machine, noisy). All wrap their int32 sums modulo 2**32
before the saturation, so they agree bit for bit.
"""
import numpy as np
from numba import prange

from . import isa
from .config import EVENT_MAC_COST, parallel_for, parallel_jit, serial_jit
from .convolution import dense_packing, patch_dot
from .fixed_point import POTENTIAL_MAX, POTENTIAL_MIN
from .gemm import conv2d_gemm

#: The event form needs at least this many units to pay ...
EVENT_MIN_UNITS = 256
#: ... and fewer non-zero inputs than this fraction (per dense form: the
#: reference path's, the GEMM paths').
EVENT_DENSITY = {"reference": 0.15, "gemm": 0.08}

FORMS = ("event", "dense")

#: Stride and padding of the dense form's GEMM (a 1x1 convolution).
_ONES = np.ones(2, np.int64)
_ZEROS = np.zeros(2, np.int64)


@serial_jit
def _dense_rows_events(x, weights, out, lo, hi):
    """Samples ``lo <= n < hi`` of ``dense_potentials``, event form."""
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


@serial_jit
def _dense_rows_dots(x, weights_t, out, lo, hi):
    """Samples ``lo <= n < hi`` of ``dense_potentials``, dense form."""
    patch_dot(x[lo:hi], weights_t, out[lo:hi])
    for n in range(lo, hi):
        for u in range(out.shape[1]):
            out[n, u] = min(max(out[n, u], POTENTIAL_MIN), POTENTIAL_MAX)


@parallel_jit
def _dense_rows_events_par(x, weights, out, n_tasks, chunks):
    """``_dense_rows_events`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _dense_rows_events(x, weights, out, n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


@parallel_jit
def _dense_rows_dots_par(x, weights_t, out, n_tasks, chunks):
    """``_dense_rows_dots`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _dense_rows_dots(x, weights_t, out, n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


def dense_potentials(x, weights, out, form=None, packed=None):
    """``out[n, u] = clip(wrap32(sum_d x[n, d] * weights[d, u]), -2**19, 2**19-1)``.

    x: (N, D) uint8 activations, C-contiguous.
    weights: (D, U) int32, C-contiguous (read by the event form).
    out: (N, U) int32, C-contiguous, written.
    form: "event", "dense", or None to choose from the density and units.
    packed: the dense form's weights, ``fully_connected_packing(weights)``;
    None packs them on each dense call.
    """
    units = weights.shape[1]
    events = np.count_nonzero(x)
    if form is None:
        path = packed.path if packed is not None else isa.selected_path()
        below = EVENT_DENSITY["reference" if path == "reference" else "gemm"]
        form = "dense" if units < EVENT_MIN_UNITS or events >= below * x.size else "event"
    if form == "event":
        parallel_for(_dense_rows_events, _dense_rows_events_par, x.shape[0], EVENT_MAC_COST * events * units,
                     x, weights, out)
    elif form == "dense":
        if packed is None:
            packed = fully_connected_packing(weights)
        if packed.path == "reference":
            parallel_for(_dense_rows_dots, _dense_rows_dots_par, x.shape[0], x.size * units, x, packed.data, out)
        else:
            conv2d_gemm(x.reshape(x.shape[0], 1, 1, x.shape[1]), packed, 1, 1, _ONES, _ZEROS, 0,
                        out.reshape(out.shape[0], 1, 1, units))
            np.clip(out, POTENTIAL_MIN, POTENTIAL_MAX, out=out)
    else:
        raise ValueError(f"dense_potentials: argument 'form' must be one of {FORMS} or None, got {form!r}")


def fully_connected_packing(weights, path=None):
    """(D, U) weights packed for the dense form of ``path`` (default: the process's)."""
    return dense_packing(weights, path, depth_multiple=1)
