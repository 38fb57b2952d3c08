"""Separable convolution potentials: depthwise then pointwise, fused.

The depthwise result stays exact (no rounding, activation or saturation in
between); the pointwise sum wraps modulo 2**32 like the chip's int32
accumulator.
"""
import numpy as np
from numba import prange

from .config import parallel_for, parallel_jit, serial_jit
from .convolution import BLOCK_PIXELS, patch_dot
from . import gemm
from .im2col import depthwise_block
from . import isa


@serial_jit
def _separable_rows(x, depthwise, pointwise_t, stride, pad_before, out, lo, hi):
    """Output rows ``lo <= task < hi`` (task = n * OH + i) of ``separable_potentials``."""
    out_h = out.shape[1]
    out_w = out.shape[2]
    # Consecutive tasks are consecutive pixel rows of the flattened output.
    flat = out.reshape(out.shape[0] * out_h * out_w, out.shape[3])
    block = max(1, BLOCK_PIXELS // out_w)
    dw = np.empty((block * out_w, x.shape[3]), np.int32)
    for first in range(lo, hi, block):
        last = min(first + block, hi)
        dw[:] = 0
        depthwise_block(x, depthwise, stride, pad_before, out_h, out_w, first, last, dw)
        # Pointwise: dot products over contiguous channels, register-tiled.
        pixels = (last - first) * out_w
        patch_dot(dw[:pixels], pointwise_t, flat[first * out_w:first * out_w + pixels])


@parallel_jit
def _separable_rows_par(x, depthwise, pointwise_t, stride, pad_before, out, n_tasks, chunks):
    """``_separable_rows`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _separable_rows(x, depthwise, pointwise_t, stride, pad_before, out,
                        n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


def separable_potentials(x, depthwise, pointwise, stride, pad_before, out, packed=None):
    """Depthwise cross-correlation of ``x`` then a 1x1 pointwise sum.

    x: (N, H, W, C) uint8 activations, C-contiguous; padded cells hold 0.
    depthwise: (KX, KY, C) int32, C-contiguous, cross-correlation orientation.
    pointwise: (C, F) int32, C-contiguous.
    stride, pad_before: (2,) int64, axis 1 then axis 2.
    out: (N, OH, OW, F) int32, C-contiguous, written.
    packed: ``pointwise_packing(pointwise)``, or None to pack on each call.

    On a GEMM path the depthwise sums go to the int16 micro-kernel when
    they provably fit int16 for this input (``gemm.fits_int16``), else,
    as on the "reference" path, to ``_separable_rows``.
    """
    if packed is None:
        packed = pointwise_packing(pointwise)
    work = out.size * pointwise.shape[0]
    if packed.path != "reference" and gemm.fits_int16(x, depthwise):
        gemm.separable_gemm(x, depthwise, packed, stride, pad_before, out)
    else:
        pointwise_t = packed.data if packed.path == "reference" else np.ascontiguousarray(pointwise.T)
        parallel_for(_separable_rows, _separable_rows_par, out.shape[0] * out.shape[1], work,
                     x, depthwise, pointwise_t, stride, pad_before, out)


def pointwise_packing(pointwise, path=None):
    """(C, F) pointwise weights for ``path`` (default: the process's): the int16
    micro-kernel's packing, or for "reference" the (F, C) int32 transpose."""
    path = path or isa.selected_path()
    if path == "reference":
        return gemm.PackedWeights(path, np.ascontiguousarray(pointwise.T), *pointwise.shape, True)
    return gemm.pack_weights(pointwise, path, wide=True)
