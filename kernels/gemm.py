"""Dense integer GEMM through the CPU's dot-product instructions.

``C[m, f] = wrap32(sum_k A[m, k] * B[k, f])`` for the dense forms of the
convolution and fully connected kernels: A holds im2col patches (uint8, or
int16 for ``avx2``), B the layer's weights packed once (``pack_weights``).

Paths (``kernels.isa``), each one instruction in the inner loop:

* ``avx512vnni``: ``vpdpbusd`` zmm, ``acc += sum of 4 uint8 x int8``,
  16 lanes, a tile of 8 pixels x 32 filters (16 accumulators);
* ``avxvnni``: ``vpdpbusd`` ymm, 8 lanes, 6 pixels x 16 filters;
* ``avx2``: ``vpmaddwd`` ymm then ``vpaddd``, ``acc += sum of 2 int16 x
  int16``, 6 pixels x 16 filters (12 accumulators of the 16 registers).

uint8 activations and int8 weights fit either operand exactly (``vpmaddubsw``,
which saturates its int16 pair sums above 32767, is not used). A 32-bit
word of A holds one group of ``group`` consecutive k (4 bytes or 2 int16);
the micro-kernel broadcasts it to every lane and multiplies it with the
weights of ``group`` k for ``lanes`` filters. Packed weights are
(tiles, groups, width) int32 words: tile t, group g, filter t*width + f holds
B[g*group + e, t*width + f] in its byte (or int16) e, zeros past K and F.
Every step adds into int32 lanes with wraparound (the non-saturating
``vpdpbusd``; ``vpaddd``), so the result equals the int32 wrap of the exact
sum, as the chip's accumulator.

The micro-kernel is LLVM IR built here (``emit_tile``) and called through a
Numba ``@intrinsic``, one module-level intrinsic per micro-kernel. The
drivers (``_multiply``, ``_conv_rows``, ``_separable_rows`` and their
parallel wrappers) are module-level ``cache=True`` functions like every
kernel, taking the micro-kernel's number (``kernel_kind``) as an argument:
a second process loads them from Numba's disk cache and compiles nothing.
They hold every path's intrinsic; an intrinsic whose path the compile
target lacks compiles to ``llvm.trap`` (never reached: ``drivers`` refuses
such a path), so a CPU never sees an instruction it lacks, and the cache
(keyed by the target CPU and its features) is never shared across CPUs.
(Closures over a per-path intrinsic, the first design, could not be
cached: Numba keys a closure by its pickled cells, which for an intrinsic
differ in every process, so the cache missed on every run and grew.)
``model_tile`` is the same micro-kernel in plain Python over the same
packed operands, modelling each instruction's lanes and wraps: with
``NUMBA_DISABLE_JIT=1``, or ``model=True``, the drivers run it instead, so
the packing and tiling are tested on every CPU.

Measured (``benchmarks/bench_gemm.py``, 4-bit weights and inputs, half
zero, one thread of a shared 2-vCPU AMD EPYC Zen 3, AVX2 only, medians of
5): the ``avx2`` path ran a 3x3 64->64 convolution at 56x56 at 52 GMAC/s
(1.8x the reference dense form and TensorFlow float32), a 3x3 512->512 at
7x7 at 46 (2.3x, 2.1x), a fully connected 1024->1000 at batch 128 at 42
(3.2x, 3.3x) and a 3x3 128->128 separable layer at 28x28 at 31 (1.7x,
1.9x). The VNNI paths are checked through ``model_tile`` and their
listings, not timed here.
"""
from collections import namedtuple

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

from . import isa
from .config import parallel_for
from .im2col import depthwise_block, gather_patches

#: One path's micro-kernel: lanes (int32 per vector), elem (bytes of one
#: operand of A), pixels x vectors accumulators, the LLVM intrinsic.
Spec = namedtuple("Spec", "lanes elem pixels vectors intrinsic")

SPECS = {
    "avx512vnni": Spec(16, 1, 8, 2, "llvm.x86.avx512.vpdpbusd.512"),
    "avxvnni": Spec(8, 1, 6, 2, "llvm.x86.avx512.vpdpbusd.256"),
    "avx2": Spec(8, 2, 6, 2, "llvm.x86.avx2.pmadd.wd"),
}

#: The micro-kernels over int16 A (the separable layers' signed depthwise
#: sums): ``vpdpwssd`` (``acc += sum of 2 int16 x int16``, one instruction)
#: on the VNNI paths, ``vpmaddwd`` then ``vpaddd`` on AVX2.
WIDE_SPECS = {
    "avx512vnni": Spec(16, 2, 8, 2, "llvm.x86.avx512.vpdpwssd.512"),
    "avxvnni": Spec(8, 2, 6, 2, "llvm.x86.avx512.vpdpwssd.256"),
    "avx2": SPECS["avx2"],
}

#: Output pixels gathered per block: whole output rows up to about this many.
BLOCK_PIXELS = 96

#: Weights of one layer packed for one path: ``data`` (tiles, groups, width)
#: int32, ``depth`` K and ``filters`` F of the unpacked (K, F) matrix,
#: ``wide``: for the int16 micro-kernel of the path (``WIDE_SPECS``).
PackedWeights = namedtuple("PackedWeights", "path data depth filters wide", defaults=(False,))


def group(spec):
    """Consecutive k in one 32-bit word of A (4 bytes or 2 int16)."""
    return 4 // spec.elem


def width(spec):
    """Filters per tile: ``lanes * vectors``."""
    return spec.lanes * spec.vectors


def a_dtype(spec):
    """dtype of A (the patches): uint8 for vpdpbusd, int16 for vpmaddwd."""
    return np.uint8 if spec.elem == 1 else np.int16


def pack_weights(weights, path, wide=False):
    """Pack (K, F) integer weights in -128..127 for ``path`` (a key of ``SPECS``).

    wide: for the path's int16 micro-kernel (``WIDE_SPECS``).
    """
    spec = (WIDE_SPECS if wide else SPECS)[path]
    weights = np.asarray(weights)
    if weights.ndim != 2 or weights.size and (weights.min() < -128 or weights.max() > 127):
        raise ValueError("pack_weights: expected a (K, F) matrix of values in -128..127")
    depth, filters = weights.shape
    g, w = group(spec), width(spec)
    groups = max(1, -(-depth // g))
    tiles = max(1, -(-filters // w))
    padded = np.zeros((groups * g, tiles * w), np.int8 if spec.elem == 1 else np.int16)
    padded[:depth, :filters] = weights
    # [g*group + e, t*width + f] -> [t, g, f, e], then e packed into one word.
    data = padded.reshape(groups, g, tiles, w).transpose(2, 0, 3, 1)
    return PackedWeights(path, np.ascontiguousarray(data).view(np.int32)[..., 0], depth, filters, wide)


# ----------------------------------------------------------------------------- the micro-kernel, LLVM IR
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_I8P = ir.IntType(8).as_pointer()


def _i64(value):
    return ir.Constant(_I64, value)


def _multiply_add(builder, spec, acc, a, b):
    """``acc`` plus the dot products of ``a`` and ``b`` per 32-bit lane, in IR."""
    vec = acc.type
    if ".vpdp" in spec.intrinsic:  # vpdpbusd, vpdpwssd: the products and the sum in one
        fn = builder.module.declare_intrinsic(spec.intrinsic, fnty=ir.FunctionType(vec, [vec, vec, vec]))
        return builder.call(fn, [acc, a, b])
    half = ir.VectorType(ir.IntType(16), 2 * spec.lanes)
    fn = builder.module.declare_intrinsic(spec.intrinsic, fnty=ir.FunctionType(vec, [half, half]))
    return builder.add(acc, builder.call(fn, [builder.bitcast(a, half), builder.bitcast(b, half)]))


def emit_tile(builder, spec, a_base, a_stride, b_base, groups, c_base, c_stride):
    """Emit ``C[p, f] = sum_g A[p, g] . B[g, f]`` for one tile at the builder's position.

    a_base: i8* to the tile's first row of A; a_stride: i64 bytes between
    rows; b_base: i8* to the tile's packed weights (groups x width words);
    groups: i64 >= 0; c_base: i8* to C[first row, first filter]; c_stride:
    i64 bytes between rows of C. The ``pixels * vectors`` accumulators stay
    in registers across the loop over groups.
    """
    vec = ir.VectorType(_I32, spec.lanes)
    zero = ir.Constant(vec, None)
    undef = ir.Constant(vec, ir.Undefined)
    splat = ir.Constant(ir.VectorType(_I32, spec.lanes), [0] * spec.lanes)
    rows = [builder.gep(a_base, [builder.mul(_i64(p), a_stride)]) for p in range(spec.pixels)]
    entry = builder.block
    loop = builder.append_basic_block("tile.loop")
    done = builder.append_basic_block("tile.done")
    builder.cbranch(builder.icmp_signed(">", groups, _i64(0)), loop, done)

    builder.position_at_end(loop)
    g = builder.phi(_I64)
    accs = [builder.phi(vec) for _ in range(spec.pixels * spec.vectors)]
    b_group = builder.gep(b_base, [builder.mul(g, _i64(4 * width(spec)))])
    bs = [builder.load(builder.bitcast(builder.gep(b_group, [_i64(4 * spec.lanes * t)]), vec.as_pointer()), align=4)
          for t in range(spec.vectors)]
    a_offset = builder.mul(g, _i64(4))
    sums = []
    for p, row in enumerate(rows):
        word = builder.load(builder.bitcast(builder.gep(row, [a_offset]), _I32.as_pointer()), align=spec.elem)
        a = builder.shuffle_vector(builder.insert_element(undef, word, ir.Constant(_I32, 0)), undef, splat)
        sums += [_multiply_add(builder, spec, accs[p * spec.vectors + t], a, bs[t]) for t in range(spec.vectors)]
    g_next = builder.add(g, _i64(1))
    loop_end = builder.block
    builder.cbranch(builder.icmp_signed("<", g_next, groups), loop, done)
    g.add_incoming(_i64(0), entry)
    g.add_incoming(g_next, loop_end)
    for acc, new in zip(accs, sums):
        acc.add_incoming(zero, entry)
        acc.add_incoming(new, loop_end)

    builder.position_at_end(done)
    finals = []
    for new in sums:
        finals.append(builder.phi(vec))
        finals[-1].add_incoming(zero, entry)
        finals[-1].add_incoming(new, loop_end)
    for p in range(spec.pixels):
        c_row = builder.gep(c_base, [builder.mul(_i64(p), c_stride)])
        for t in range(spec.vectors):
            ptr = builder.bitcast(builder.gep(c_row, [_i64(4 * spec.lanes * t)]), vec.as_pointer())
            builder.store(finals[p * spec.vectors + t], ptr, align=4)


def _path_compiles(path):
    """Whether the compile target has the features of ``path`` (``kernels.isa``)."""
    return path in isa.supported_paths(isa.target_features())


def tile_intrinsic(spec, path):
    """A Numba intrinsic ``tile(a, a_row, b, b_tile, groups, c, c_row, c_col)`` running ``emit_tile``.

    a: (M, >= groups*group) A, rows a_row .. a_row+pixels-1 read; b: packed
    weights (tiles, >= groups, width) int32, tile b_tile read; c: (M', F')
    int32, rows c_row .. c_row+pixels-1 and columns c_col .. c_col+width-1
    written. All C-contiguous; no bounds are checked (the drivers size them).
    Where the compile target lacks the features of ``path`` the intrinsic
    compiles to ``llvm.trap`` instead (the drivers hold every path's
    intrinsic and reach only a supported one: ``conv2d_gemm`` refuses the
    others), so LLVM never sees an instruction the CPU lacks.
    """
    @intrinsic
    def tile(typingctx, a, a_row, b, b_tile, groups, c, c_row, c_col):
        sig = types.void(a, a_row, b, b_tile, groups, c, c_row, c_col)

        def codegen(context, builder, signature, args):
            if not _path_compiles(path):
                trap = builder.module.declare_intrinsic("llvm.trap", fnty=ir.FunctionType(ir.VoidType(), []))
                builder.call(trap, [])
                return context.get_dummy_value()

            def index(i):
                return context.cast(builder, args[i], signature.args[i], types.intp)

            arr_a, arr_b, arr_c = (context.make_array(signature.args[i])(context, builder, args[i]) for i in (0, 2, 5))
            a_stride = builder.extract_value(arr_a.strides, 0)
            b_stride = builder.extract_value(arr_b.strides, 0)
            c_stride = builder.extract_value(arr_c.strides, 0)
            a_base = builder.gep(builder.bitcast(arr_a.data, _I8P), [builder.mul(index(1), a_stride)])
            b_base = builder.gep(builder.bitcast(arr_b.data, _I8P), [builder.mul(index(3), b_stride)])
            c_offset = builder.add(builder.mul(index(6), c_stride), builder.mul(index(7), _i64(4)))
            c_base = builder.gep(builder.bitcast(arr_c.data, _I8P), [c_offset])
            emit_tile(builder, spec, a_base, a_stride, b_base, index(4), c_base, c_stride)
            return context.get_dummy_value()

        return sig, codegen

    return tile


# ----------------------------------------------------------------------------- the same, modelled in Python
@njit(nogil=True, cache=True)
def _model_tile(lanes, elem, pixels, vectors, a, a_row, b, b_tile, groups, c, c_row, c_col):
    """``tile`` of the spec ``(lanes, elem, pixels, vectors)``, one instruction's semantics at a time."""
    tile_width, per_word = lanes * vectors, 4 // elem
    bits = 8 * elem
    mask = (1 << bits) - 1
    sign = 1 << (bits - 1)
    for p in range(pixels):
        for f in range(tile_width):
            acc = np.int64(0)
            for g in range(groups):
                word = np.int64(b[b_tile, g, f])
                total = np.int64(0)
                for e in range(per_word):
                    w = (word >> (bits * e)) & mask
                    if w >= sign:
                        w -= 2 * sign
                    total += np.int64(a[a_row + p, g * per_word + e]) * w
                total = ((total + 2 ** 31) & 0xFFFFFFFF) - 2 ** 31
                acc = ((acc + total + 2 ** 31) & 0xFFFFFFFF) - 2 ** 31
            c[c_row + p, c_col + f] = acc


def model_tile(spec):
    """``tile`` of ``tile_intrinsic(spec, path)`` in plain Python, one instruction's semantics at a time.

    vpdpbusd: each lane adds the exact sum of its four uint8 x int8 products
    to the accumulator, wrapping modulo 2**32 (no saturation). vpmaddwd:
    each lane's pair of int16 x int16 products is summed and wrapped to
    int32 (only -32768 * -32768 twice wraps), then vpaddd adds it with
    wraparound; vpdpwssd gives the same sum in one instruction.
    """
    def tile(a, a_row, b, b_tile, groups, c, c_row, c_col):
        _model_tile(spec.lanes, spec.elem, spec.pixels, spec.vectors, a, a_row, b, b_tile, groups, c, c_row, c_col)

    return tile


# ----------------------------------------------------------------------------- drivers
#: Every micro-kernel by number, the drivers' ``kind``: (path, wide). The
#: ``avx2`` path has one micro-kernel for both operands (int16 A). ``kind +
#: len(KERNELS)`` runs ``_model_tile`` of the same spec instead.
KERNELS = (("avx512vnni", False), ("avxvnni", False), ("avx2", False), ("avx512vnni", True), ("avxvnni", True))
_KERNEL_SPECS = tuple((WIDE_SPECS if wide else SPECS)[path] for path, wide in KERNELS)
#: (lanes, elem, pixels, vectors) per kind, models included.
_SPEC_FIELDS = tuple((s.lanes, s.elem, s.pixels, s.vectors) for s in _KERNEL_SPECS) * 2

# One module-level intrinsic per micro-kernel, never rebound: the drivers
# below refer to them as globals, which Numba's disk cache keys by the
# drivers' own code (a closure over an intrinsic is keyed by its pickled
# cells, which differ in every process: the cache missed on every run).
_tile_avx512vnni = tile_intrinsic(_KERNEL_SPECS[0], "avx512vnni")
_tile_avxvnni = tile_intrinsic(_KERNEL_SPECS[1], "avxvnni")
_tile_avx2 = tile_intrinsic(_KERNEL_SPECS[2], "avx2")
_tile_wide_avx512vnni = tile_intrinsic(_KERNEL_SPECS[3], "avx512vnni")
_tile_wide_avxvnni = tile_intrinsic(_KERNEL_SPECS[4], "avxvnni")


def kernel_kind(path, wide=False, model=False):
    """The drivers' ``kind`` of ``path``'s micro-kernel (``wide``: over int16 A; ``model``: its model)."""
    kind = KERNELS.index((path, bool(wide) and path != "avx2"))
    return kind + len(KERNELS) if model else kind


@njit(nogil=True, cache=True)
def block_shape(out_w, pixels):
    """(output rows per block, rows of A): whole rows up to about ``BLOCK_PIXELS``
    pixels, the rows of A rounded up to a multiple of ``pixels``."""
    block = max(1, BLOCK_PIXELS // out_w)
    return block, -(-(block * out_w) // pixels) * pixels


@njit(nogil=True, cache=True)
def _multiply(kind, a, count, packed, acc, out):
    """``out[:count] = (a @ B)[:count, :F]`` through the micro-kernel ``kind``.

    a: (R, groups*group) A, R a multiple of the kernel's pixels >= count;
    packed: (tiles, groups, width) int32; acc: (R, tiles*width) int32
    scratch; out: (>= count, F) int32. Runs the micro-kernel over every tile
    of filters and every ``pixels`` rows of A (rows past count computed and
    dropped).
    """
    tiles, groups, tile_width = packed.shape
    lanes, elem, pixels, vectors = _SPEC_FIELDS[kind]
    # One loop per micro-kernel: the kind is tested once per tile of filters
    # and each loop steps by its kernel's pixels.
    for t in range(tiles):
        c_col = t * tile_width
        if kind == 0:
            for r in range(0, count, _SPEC_FIELDS[0][2]):
                _tile_avx512vnni(a, r, packed, t, groups, acc, r, c_col)
        elif kind == 1:
            for r in range(0, count, _SPEC_FIELDS[1][2]):
                _tile_avxvnni(a, r, packed, t, groups, acc, r, c_col)
        elif kind == 2:
            for r in range(0, count, _SPEC_FIELDS[2][2]):
                _tile_avx2(a, r, packed, t, groups, acc, r, c_col)
        elif kind == 3:
            for r in range(0, count, _SPEC_FIELDS[3][2]):
                _tile_wide_avx512vnni(a, r, packed, t, groups, acc, r, c_col)
        elif kind == 4:
            for r in range(0, count, _SPEC_FIELDS[4][2]):
                _tile_wide_avxvnni(a, r, packed, t, groups, acc, r, c_col)
        else:
            for r in range(0, count, pixels):
                _model_tile(lanes, elem, pixels, vectors, a, r, packed, t, groups, acc, r, c_col)
    for r in range(count):
        for f in range(out.shape[1]):
            out[r, f] = acc[r, f]


@njit(nogil=True, cache=True)
def _conv_rows(kind, a_type, x, packed, kx, ky, stride, pad_before, pad_value, out, lo, hi):
    """Output rows ``lo <= task < hi`` (task = n * OH + i) of ``conv2d_gemm``.

    kind: ``kernel_kind``; a_type: the dtype of A (``a_dtype``)."""
    tiles, groups, tile_width = packed.shape
    per_word, pixels = 4 // _SPEC_FIELDS[kind][1], _SPEC_FIELDS[kind][2]
    out_h, out_w, filters = out.shape[1], out.shape[2], out.shape[3]
    flat = out.reshape(out.shape[0] * out_h * out_w, filters)
    block, rows = block_shape(out_w, pixels)
    # Columns past KX*KY*C stay zero; rows past a block's pixels are
    # computed and dropped.
    patch = np.zeros((rows, groups * per_word), a_type)
    acc = np.empty((rows, tiles * tile_width), np.int32)
    for first in range(lo, hi, block):
        last = min(first + block, hi)
        gather_patches(x, kx, ky, stride, pad_before, pad_value, out_h, out_w, first, last, patch)
        _multiply(kind, patch, (last - first) * out_w, packed, acc, flat[first * out_w:])


@njit(nogil=True, parallel=True, cache=True)
def _conv_rows_par(kind, a_type, x, packed, kx, ky, stride, pad_before, pad_value, out, n_tasks, chunks):
    """``_conv_rows`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _conv_rows(kind, a_type, x, packed, kx, ky, stride, pad_before, pad_value, out,
                   n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


@njit(nogil=True, cache=True)
def _separable_rows(kind, x, depthwise, packed, stride, pad_before, out, lo, hi):
    """Output rows ``lo <= task < hi`` (task = n * OH + i) of ``separable_gemm`` (int16 A)."""
    tiles, groups, tile_width = packed.shape
    per_word, pixels = 4 // _SPEC_FIELDS[kind][1], _SPEC_FIELDS[kind][2]
    channels = x.shape[3]
    out_h, out_w, filters = out.shape[1], out.shape[2], out.shape[3]
    flat = out.reshape(out.shape[0] * out_h * out_w, filters)
    block, rows = block_shape(out_w, pixels)
    # Columns past C stay zero; rows past a block's pixels are computed
    # and dropped.
    sums = np.zeros((rows, groups * per_word), np.int16)
    acc = np.empty((rows, tiles * tile_width), np.int32)
    for first in range(lo, hi, block):
        last = min(first + block, hi)
        count = (last - first) * out_w
        sums[:count, :channels] = 0
        depthwise_block(x, depthwise, stride, pad_before, out_h, out_w, first, last, sums)
        _multiply(kind, sums, count, packed, acc, flat[first * out_w:])


@njit(nogil=True, parallel=True, cache=True)
def _separable_rows_par(kind, x, depthwise, packed, stride, pad_before, out, n_tasks, chunks):
    """``_separable_rows`` over ``[0, n_tasks)`` in ``chunks`` parallel ranges."""
    for k in prange(chunks):
        _separable_rows(kind, x, depthwise, packed, stride, pad_before, out,
                        n_tasks * k // chunks, n_tasks * (k + 1) // chunks)


def drivers(path, model=False, wide=False):
    """(kind, serial, parallel): the micro-kernel number and drivers for ``path``.

    wide: the separable drivers (int16 A, ``WIDE_SPECS``), else the
    convolution drivers. model: run ``_model_tile`` instead of the
    instruction (always so with ``NUMBA_DISABLE_JIT=1``, where no intrinsic
    can run). The drivers are module-level and cached on disk like every
    kernel; they hold each path's intrinsic, which compiles to a trap where
    the target lacks its features, so a path the target lacks is refused
    here (``isa.UnsupportedPathError``) unless modelled.
    """
    model = bool(model or numba.config.DISABLE_JIT)
    if not model and not _path_compiles(path):
        raise isa.UnsupportedPathError(f"the compile target lacks the features of the GEMM path {path}")
    kind = kernel_kind(path, wide, model)
    return (kind, _separable_rows, _separable_rows_par) if wide else (kind, _conv_rows, _conv_rows_par)


def conv2d_gemm(x, packed, kx, ky, stride, pad_before, pad_value, out, model=False):
    """Cross-correlate ``x`` with packed weights into ``out`` (the GEMM dense form).

    x: (N, H, W, C) uint8, C-contiguous. packed: ``pack_weights`` of the
    (KX*KY*C, F) weights flattened in (u, v, c) order. stride, pad_before:
    (2,) int64. pad_value: 0..255. out: (N, OH, OW, F) int32, C-contiguous,
    written with the int32 wrap of each sum. model: see ``drivers``.
    """
    kind, serial, parallel = drivers(packed.path, model, wide=False)
    a_type = np.dtype(a_dtype(SPECS[packed.path]))
    parallel_for(serial, parallel, out.shape[0] * out.shape[1], out.size * packed.depth,
                 kind, a_type, x, packed.data, kx, ky, stride, pad_before, int(pad_value), out)


#: Largest depthwise sum the int16 operand holds.
INT16_MAX = 2 ** 15 - 1


@njit(nogil=True, cache=True)
def fits_int16(x, depthwise):
    """Whether every partial depthwise sum of ``x`` provably fits int16.

    x: (N, H, W, C) uint8; depthwise: (KX, KY, C) int32. True when
    ``max(x) * max_c sum_{u,v} |depthwise[u, v, c]| <= INT16_MAX``.
    """
    x_max = 0
    for v in x.ravel():
        x_max = max(x_max, np.int64(v))
    worst = 0
    for c in range(depthwise.shape[2]):
        total = 0
        for u in range(depthwise.shape[0]):
            for v in range(depthwise.shape[1]):
                total += abs(np.int64(depthwise[u, v, c]))
        worst = max(worst, total)
    return x_max * worst <= INT16_MAX


def separable_gemm(x, depthwise, packed, stride, pad_before, out, model=False):
    """Depthwise sums of ``x`` as int16, then the pointwise GEMM with packed weights.

    x: (N, H, W, C) uint8, C-contiguous, padded cells 0. depthwise: (KX, KY,
    C) int32, C-contiguous, with ``fits_int16(x, depthwise)`` (the caller
    checks). packed: ``pack_weights(pointwise, path,
    wide=True)`` of the (C, F) pointwise weights. stride, pad_before: (2,)
    int64. out: (N, OH, OW, F) int32, C-contiguous, written with the int32
    wrap of each sum. model: see ``drivers``.
    """
    kind, serial, parallel = drivers(packed.path, model, wide=True)
    kx, ky = depthwise.shape[0], depthwise.shape[1]
    work = out.size * packed.depth + out.shape[0] * out.shape[1] * out.shape[2] * kx * ky * x.shape[3]
    parallel_for(serial, parallel, out.shape[0] * out.shape[1], work, kind, x, depthwise, packed.data, stride, pad_before, out)
