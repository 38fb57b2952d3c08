"""Dense 2-D convolution potentials (InputConvolutional and Convolutional).

The kernel is a cross-correlation; a caller that needs a true convolution
passes the weights flipped on both spatial axes.

Two exact forms, chosen by the density of the input:

* event form (sparse inputs), as on Akida: for each output row the non-zero
  inputs of the rows it reads are gathered once into (channel, value) event
  lists, and every event adds one contiguous weight row to the accumulators
  of the filters. Zero inputs cost nothing.
* dense form: output rows are gathered into input patches (im2col,
  ``kernels.im2col``) and multiplied with the weights packed once per layer
  by the integer GEMM of the process's path (``kernels.gemm``,
  ``kernels.isa``: ``vpdpbusd`` with AVX-512 VNNI or AVX-VNNI, ``vpmaddwd``
  with AVX2). On the "reference" path (no such CPU feature, or
  ``AKIDA_SIM_KERNELS=reference``) every filter is instead a register-tiled
  dot product (``patch_dot``, shared with the pointwise step of the
  separable kernel). Either does every multiply-accumulate.

The event form wins below a density that grows with the channel count
(``event_crossover``): with few channels the per-event bookkeeping weighs
more against the filters each event feeds.

All wrap their int32 sums modulo 2**32, so they agree bit for bit.

Measured and not used, for the reference dense form: a float32 GEMM
through numpy's OpenBLAS (exact while every partial sum stays below
2**24), with or without im2col, ran the 56x56x64 3x3 convolution at about
half the dense form's speed, and OpenBLAS's own worker threads slowed the
kernels' pool when both ran in turn; int16 operands (hoping for 16-bit
multiply-adds) and a 4x4 register tile were no faster than the int32 4x2
tile below.
"""
import numpy as np
from numba import prange

from .config import EVENT_MAC_COST, parallel_for, parallel_jit, serial_jit
from .gemm import PackedWeights, conv2d_gemm, pack_weights
from .im2col import gather_patches
from . import isa

#: Measured break-even density of the event and dense forms
#: (``benchmarks/bench_crossover.py``, 3x3 kernels, 4-bit inputs and weights):
#: (density at 16 channels, increase per doubling of the channels, range).
#: "reference": the ``patch_dot`` dense form, one AVX-512 machine: 0.10 to
#: 0.15 at 16 channels, 0.25 to 0.30 at 64, 0.30 to 0.35 at 128. "gemm": the
#: GEMM dense form, ``vpmaddwd`` on a shared 2-core AVX2 machine (noisy):
#: below 0.05 at 16 channels, 0.05 to 0.10 at 64, 0.10 to 0.15 at 128; the
#: VNNI paths' dense form is faster still, so their break-even is lower.
#: ``event_crossover`` interpolates in log2(channels) and clips to the range.
CROSSOVER = {
    "reference": (0.12, 0.08, (0.05, 0.35)),
    "gemm": (0.03, 0.03, (0.02, 0.12)),
}

FORMS = ("event", "dense")

#: Output pixels the dense form gathers before one ``patch_dot``: whole
#: rows are grouped up to about this many pixels (shared with the separable
#: kernel's pointwise step).
BLOCK_PIXELS = 64

#: The dense form pads the dot products' depth with zeros to a multiple of
#: this (16 int32 lanes, one 512-bit vector): a depth such as 9 or 27 then
#: runs in full vectors instead of a scalar remainder loop.
DEPTH_MULTIPLE = 16


def event_crossover(channels, path="reference"):
    """Input density below which the event form beats the dense form of ``path``."""
    at_16, per_doubling, bounds = CROSSOVER["reference" if path == "reference" else "gemm"]
    d = at_16 + per_doubling * np.log2(max(channels, 1) / 16)
    return float(np.clip(d, *bounds))


@serial_jit
def patch_dot(patch, weights_t, out_row):
    """``out_row[j, f] = wrap32(sum_k patch[j, k] * weights_t[f, k])``.

    patch: (OW, K) int32, one output row's input patches.
    weights_t: (F, K) int32. out_row: (OW, F) int32, written.
    Register tiling: four pixels by two filters per pass over ``k``, so the
    eight partial sums stay in vector registers and each patch and weight
    entry is loaded once per pass. int32 sums wrap modulo 2**32.
    """
    out_w = out_row.shape[0]
    filters, depth = weights_t.shape
    j = 0
    while j + 4 <= out_w:
        d0 = patch[j]
        d1 = patch[j + 1]
        d2 = patch[j + 2]
        d3 = patch[j + 3]
        f = 0
        while f + 2 <= filters:
            ra = weights_t[f]
            rb = weights_t[f + 1]
            s0 = np.int32(0)
            s1 = np.int32(0)
            s2 = np.int32(0)
            s3 = np.int32(0)
            t0 = np.int32(0)
            t1 = np.int32(0)
            t2 = np.int32(0)
            t3 = np.int32(0)
            for c in range(depth):
                w = ra[c]
                z = rb[c]
                e0 = d0[c]
                e1 = d1[c]
                e2 = d2[c]
                e3 = d3[c]
                s0 = np.int32(s0 + e0 * w)
                s1 = np.int32(s1 + e1 * w)
                s2 = np.int32(s2 + e2 * w)
                s3 = np.int32(s3 + e3 * w)
                t0 = np.int32(t0 + e0 * z)
                t1 = np.int32(t1 + e1 * z)
                t2 = np.int32(t2 + e2 * z)
                t3 = np.int32(t3 + e3 * z)
            out_row[j, f] = s0
            out_row[j + 1, f] = s1
            out_row[j + 2, f] = s2
            out_row[j + 3, f] = s3
            out_row[j, f + 1] = t0
            out_row[j + 1, f + 1] = t1
            out_row[j + 2, f + 1] = t2
            out_row[j + 3, f + 1] = t3
            f += 2
        while f < filters:
            row = weights_t[f]
            s0 = np.int32(0)
            s1 = np.int32(0)
            s2 = np.int32(0)
            s3 = np.int32(0)
            for c in range(depth):
                w = row[c]
                s0 = np.int32(s0 + d0[c] * w)
                s1 = np.int32(s1 + d1[c] * w)
                s2 = np.int32(s2 + d2[c] * w)
                s3 = np.int32(s3 + d3[c] * w)
            out_row[j, f] = s0
            out_row[j + 1, f] = s1
            out_row[j + 2, f] = s2
            out_row[j + 3, f] = s3
            f += 1
        j += 4
    while j < out_w:
        # Leftover pixels: one pixel by four filters per pass.
        d0 = patch[j]
        f = 0
        while f + 4 <= filters:
            ra = weights_t[f]
            rb = weights_t[f + 1]
            rc = weights_t[f + 2]
            rd = weights_t[f + 3]
            s0 = np.int32(0)
            s1 = np.int32(0)
            s2 = np.int32(0)
            s3 = np.int32(0)
            for c in range(depth):
                e0 = d0[c]
                s0 = np.int32(s0 + e0 * ra[c])
                s1 = np.int32(s1 + e0 * rb[c])
                s2 = np.int32(s2 + e0 * rc[c])
                s3 = np.int32(s3 + e0 * rd[c])
            out_row[j, f] = s0
            out_row[j, f + 1] = s1
            out_row[j, f + 2] = s2
            out_row[j, f + 3] = s3
            f += 4
        while f < filters:
            row = weights_t[f]
            s0 = np.int32(0)
            for c in range(depth):
                s0 = np.int32(s0 + d0[c] * row[c])
            out_row[j, f] = s0
            f += 1
        j += 1


@serial_jit
def _conv_rows_events(x, weights, stride, pad_before, pad_value, out, lo, hi):
    """Output rows ``lo <= task < hi`` (task = n * OH + i) of ``conv2d_potentials``,
    event form: the non-zero inputs are gathered once per row into
    (channel, value) lists and each event adds a weight row to the filters."""
    n_batch, height, width, channels = x.shape
    kx, ky, _, filters = weights.shape
    out_h = out.shape[1]
    out_w = out.shape[2]
    sx, sy = stride[0], stride[1]
    px, py = pad_before[0], pad_before[1]
    pad = np.int32(pad_value)
    # Padded columns read by one output row: bb = b + py, 0 <= bb < span.
    span = (out_w - 1) * sy + ky
    ev_idx = np.empty((kx, span, channels), np.int32)
    ev_val = np.empty((kx, span, channels), np.int32)
    ev_cnt = np.empty((kx, span), np.int32)
    acc = np.empty(filters, np.int32)
    for task in range(lo, hi):
        n = task // out_h
        i = task % out_h
        for u in range(kx):
            a = i * sx + u - px
            for bb in range(span):
                b = bb - py
                k = 0
                if 0 <= a < height and 0 <= b < width:
                    for c in range(channels):
                        xv = np.int32(x[n, a, b, c])
                        ev_idx[u, bb, k] = c
                        ev_val[u, bb, k] = xv
                        k += xv != 0
                elif pad != 0:
                    for c in range(channels):
                        ev_idx[u, bb, c] = c
                        ev_val[u, bb, c] = pad
                    k = channels
                ev_cnt[u, bb] = k
        for j in range(out_w):
            acc[:] = 0
            for u in range(kx):
                for v in range(ky):
                    bb = j * sy + v
                    count = ev_cnt[u, bb]
                    e = 0
                    # Four events per pass: one load/store of the accumulators.
                    while e + 4 <= count:
                        x0 = ev_val[u, bb, e]
                        x1 = ev_val[u, bb, e + 1]
                        x2 = ev_val[u, bb, e + 2]
                        x3 = ev_val[u, bb, e + 3]
                        r0 = weights[u, v, ev_idx[u, bb, e]]
                        r1 = weights[u, v, ev_idx[u, bb, e + 1]]
                        r2 = weights[u, v, ev_idx[u, bb, e + 2]]
                        r3 = weights[u, v, ev_idx[u, bb, e + 3]]
                        for f in range(filters):
                            acc[f] += np.int32(np.int32(x0 * r0[f]) + np.int32(x1 * r1[f])
                                               + np.int32(x2 * r2[f]) + np.int32(x3 * r3[f]))
                        e += 4
                    while e < count:
                        x0 = ev_val[u, bb, e]
                        r0 = weights[u, v, ev_idx[u, bb, e]]
                        for f in range(filters):
                            acc[f] += np.int32(x0 * r0[f])
                        e += 1
            for f in range(filters):
                out[n, i, j, f] = acc[f]


@serial_jit
def _conv_rows_dense(x, weights_t, kx, ky, stride, pad_before, pad_value, out, lo, hi):
    """Output rows ``lo <= task < hi`` of ``conv2d_potentials``, dense form.

    weights_t: (F, D) int32, the weights flattened then transposed, D >=
    KX*KY*C with zero columns past KX*KY*C. Each output row gathers its
    (OW, KX*KY*C) input patches (padding included), kernel row by kernel row
    where a row lies inside the input, then every filter is a dot product
    over contiguous patch entries (``patch_dot``).
    """
    filters, depth = weights_t.shape
    out_h = out.shape[1]
    out_w = out.shape[2]
    # Consecutive tasks are consecutive pixel rows of the flattened output;
    # whole rows are grouped so that narrow maps still fill the pixel tiles.
    flat = out.reshape(out.shape[0] * out_h * out_w, filters)
    block = max(1, BLOCK_PIXELS // out_w)
    # Columns past KX*KY*C (padding of the depth, zero weights) stay zero.
    patch = np.zeros((block * out_w, depth), np.int32)
    for first_task in range(lo, hi, block):
        last_task = min(first_task + block, hi)
        gather_patches(x, kx, ky, stride, pad_before, pad_value, out_h, out_w, first_task, last_task, patch)
        pixels = (last_task - first_task) * out_w
        patch_dot(patch[:pixels], weights_t, flat[first_task * out_w:first_task * out_w + pixels])


@parallel_jit
def _conv_rows_events_par(x, weights, stride, pad_before, pad_value, out, n_tasks, chunks):
    """``_conv_rows_events`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _conv_rows_events(x, weights, stride, pad_before, pad_value, out,
                          n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


@parallel_jit
def _conv_rows_dense_par(x, weights_t, kx, ky, stride, pad_before, pad_value, out, n_tasks, chunks):
    """``_conv_rows_dense`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _conv_rows_dense(x, weights_t, kx, ky, stride, pad_before, pad_value, out,
                         n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


def conv2d_potentials(x, weights, stride, pad_before, pad_value, out, form=None, packed=None):
    """Cross-correlate ``x`` with ``weights`` into ``out``.

    x: (N, H, W, C) uint8 activations, C-contiguous.
    weights: (KX, KY, C, F) int32, C-contiguous, cross-correlation orientation.
    stride, pad_before: (2,) int64, axis 1 then axis 2.
    pad_value: int, the value of every padded input cell (0..255).
    out: (N, OH, OW, F) int32, C-contiguous, written; sums wrap modulo 2**32 like the
    chip's int32 accumulator.
    form: "event", "dense", or None to choose from the input's density
    (``event_crossover`` of the dense form's path). All give the same result.
    packed: the dense form's weights packed for a GEMM path
    (``dense_packing``); None packs them for the process's path on each
    dense call. The "reference" path runs ``_conv_rows_dense``.
    """
    kx, ky, channels, filters = weights.shape
    n_tasks = out.shape[0] * out.shape[1]
    work = out.size * kx * ky * channels
    density = np.count_nonzero(x) / max(x.size, 1)
    if form is None:
        path = packed.path if packed is not None else isa.selected_path()
        form = "event" if density < event_crossover(channels, path) else "dense"
    if form == "event":
        parallel_for(_conv_rows_events, _conv_rows_events_par, n_tasks, EVENT_MAC_COST * work * density,
                     x, weights, stride, pad_before, int(pad_value), out)
    elif form == "dense":
        if packed is None:
            packed = dense_packing(weights.reshape(kx * ky * channels, filters))
        if packed.path == "reference":
            parallel_for(_conv_rows_dense, _conv_rows_dense_par, n_tasks, work,
                         x, packed.data, kx, ky, stride, pad_before, int(pad_value), out)
        else:
            conv2d_gemm(x, packed, kx, ky, stride, pad_before, pad_value, out)
    else:
        raise ValueError(f"conv2d_potentials: argument 'form' must be one of {FORMS} or None, got {form!r}")


def dense_packing(weights, path=None, depth_multiple=DEPTH_MULTIPLE):
    """(K, F) integer weights in the layout of ``path``'s dense form (default: the process's).

    "reference": a ``PackedWeights`` whose data is the (F, D) int32
    transpose, the depth padded with zeros to a multiple of
    ``depth_multiple`` (``patch_dot``); another path: ``gemm.pack_weights``.
    """
    path = path or isa.selected_path()
    if path != "reference":
        return pack_weights(weights, path)
    depth, filters = weights.shape
    weights_t = np.zeros((filters, -(-depth // depth_multiple) * depth_multiple), np.int32)
    weights_t[:, :depth] = weights.T
    return PackedWeights(path, weights_t, depth, filters)
