"""The integer GEMM paths (kernels/gemm.py, kernels/isa.py) against tests/naive.py.

Every path runs here through ``model_tile`` (a Python model of its
instruction over the same packed operands and tiling), on every machine;
the paths this CPU supports also run natively; and each path's
micro-kernel is compiled (not run) for a CPU that has its instruction, and
its listing checked.
"""
import os
import pathlib
import subprocess
import sys

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llvmlite import ir
import llvmlite.binding as llvm

from kernels import gemm, isa
from kernels.convolution import conv2d_potentials, dense_packing
from kernels.dense import dense_potentials, fully_connected_packing
from kernels.separable import pointwise_packing, separable_potentials
from tests import naive
from tests.kernels.test_conv_kernels import conv_cases, run_conv, sep_cases

EXAMPLES = settings().max_examples
GEMM_PATHS = sorted(gemm.SPECS)
ROOT = pathlib.Path(__file__).resolve().parents[2]
NATIVE = isa.supported_paths(isa.target_features()) if not numba.config.DISABLE_JIT else ()


def native(path):
    """Skip unless this CPU (and a JIT) runs ``path``."""
    if path not in NATIVE:
        pytest.skip(f"this CPU or configuration does not run {path}")


def conv_gemm(x, weights, stride, same, pad_value, path, model):
    kx, ky, c, f = weights.shape
    pads = [naive.tf_pads(x.shape[1], kx, stride[0], same)[0], naive.tf_pads(x.shape[2], ky, stride[1], same)[0]]
    out = np.empty((x.shape[0], naive.out_size(x.shape[1], kx, stride[0], same),
                    naive.out_size(x.shape[2], ky, stride[1], same), f), np.int32)
    packed = gemm.pack_weights(weights.reshape(kx * ky * c, f), path)
    gemm.conv2d_gemm(np.ascontiguousarray(x), packed, kx, ky, np.array(stride, np.int64),
                     np.array(pads, np.int64), pad_value, out, model)
    return out


# ----------------------------------------------------------------------------- dispatch
AVX2 = {"avx", "avx2", "fma"}
AVX512 = AVX2 | {"avx512f", "avx512bw", "avx512vl", "avx512vnni"}


@pytest.mark.parametrize("features, paths", [
    (set(), ("reference",)),
    (AVX2, ("avx2", "reference")),
    (AVX2 | {"avxvnni"}, ("avxvnni", "avx2", "reference")),
    (AVX512, ("avx512vnni", "avxvnni", "avx2", "reference")),
    (AVX512 - {"avx512vl"}, ("avx512vnni", "avx2", "reference")),
])
def test_supported_paths_follow_the_features(features, paths):
    assert isa.supported_paths(features) == paths
    assert isa.choose_path("", features) == paths[0]
    assert isa.choose_path(None, features, jit=False) == "reference"
    for path in paths:
        assert isa.choose_path(path, features) == path


def test_a_forced_path_the_cpu_lacks_is_refused():
    with pytest.raises(isa.UnsupportedPathError, match="avx512vnni"):
        isa.choose_path("avx512vnni", AVX2)
    with pytest.raises(ValueError, match="AKIDA_SIM_KERNELS"):
        isa.choose_path("sse2", AVX512)


def test_the_process_path_is_supported_and_decided_once():
    path = isa.selected_path()
    assert path in isa.supported_paths(isa.target_features())
    assert isa.selected_path() is path


# ----------------------------------------------------------------------------- packing
@pytest.mark.parametrize("path", GEMM_PATHS)
@settings(max_examples=max(EXAMPLES // 2, 5))
@given(depth=st.integers(1, 40), filters=st.integers(1, 40), seed=st.integers(0, 2 ** 32 - 1))
def test_packing_puts_each_weight_in_its_lane(path, depth, filters, seed):
    spec = gemm.SPECS[path]
    w = np.random.default_rng(seed).integers(-128, 128, size=(depth, filters))
    packed = gemm.pack_weights(w, path)
    tiles, groups, tile_width = packed.data.shape
    assert tile_width == spec.lanes * spec.vectors and groups * gemm.group(spec) >= depth
    lanes = packed.data.view(gemm.a_dtype(spec) if spec.elem == 2 else np.int8).reshape(
        tiles, groups, tile_width, gemm.group(spec))
    unpacked = lanes.transpose(1, 3, 0, 2).reshape(groups * gemm.group(spec), tiles * tile_width)
    np.testing.assert_array_equal(unpacked[:depth, :filters], w)
    assert not unpacked[depth:].any() and not unpacked[:, filters:].any()


def test_packing_refuses_weights_beyond_int8():
    with pytest.raises(ValueError, match="-128..127"):
        gemm.pack_weights(np.array([[128]]), "avx2")


# ----------------------------------------------------------------------------- every path, modelled and native
@pytest.mark.parametrize("path", GEMM_PATHS)
@settings(max_examples=max(EXAMPLES // 2, 5))
@given(case=conv_cases(max_c=9, max_f=20))
def test_model_of_each_path_matches_naive(path, case):
    x, weights, stride, same, pad_value = case
    expected = naive.wrap32(naive.correlate(x, weights, stride, same, pad_value))
    np.testing.assert_array_equal(conv_gemm(x, weights, stride, same, pad_value, path, True), expected)


@pytest.mark.parametrize("path", GEMM_PATHS)
@settings(max_examples=EXAMPLES)
@given(case=conv_cases(max_c=40, max_f=70))
def test_native_path_matches_naive(path, case):
    native(path)
    x, weights, stride, same, pad_value = case
    expected = naive.wrap32(naive.correlate(x, weights, stride, same, pad_value))
    np.testing.assert_array_equal(conv_gemm(x, weights, stride, same, pad_value, path, False), expected)


def wrapping_case():
    """One fully connected layer whose sums pass +-2**31 (255 x +-128 over 70,000 inputs)."""
    rng = np.random.default_rng(5)
    x = np.full((7, 70_000), 255, np.uint8)
    x[3] = rng.integers(0, 256, 70_000)
    w = np.empty((70_000, 3), np.int32)
    w[:, 0], w[:, 1], w[:, 2] = 127, -128, rng.integers(-128, 128, 70_000)
    return x, w, naive.wrap32(x.astype(np.int64) @ w.astype(np.int64))


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="70,000-deep sums in the Python model take minutes")
@pytest.mark.parametrize("path", GEMM_PATHS)
@pytest.mark.parametrize("model", [True, False], ids=["model", "native"])
def test_sums_wrap_at_int32_on_each_path(path, model):
    if not model:
        native(path)
    x, w, expected = wrapping_case()
    assert np.abs(x.astype(np.int64) @ w.astype(np.int64)).max() > 2 ** 31
    out = np.empty(expected.shape, np.int32)
    packed = gemm.pack_weights(w, path)
    one = np.ones(2, np.int64)
    gemm.conv2d_gemm(x.reshape(7, 1, 1, -1), packed, 1, 1, one, one - 1, 0, out.reshape(7, 1, 1, 3), model)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("path", isa.PATHS)
@settings(max_examples=max(EXAMPLES // 4, 5))
@given(case=conv_cases(max_c=8, max_f=9))
def test_conv2d_dense_form_on_each_path(path, case):
    """conv2d_potentials with weights packed for each path (natively where supported)."""
    if path != "reference":
        native(path)
    x, weights, stride, same, pad_value = case
    kx, ky, c, f = weights.shape
    packed = dense_packing(weights.reshape(-1, f).astype(np.int32), path)
    pads = [naive.tf_pads(x.shape[1], kx, stride[0], same)[0], naive.tf_pads(x.shape[2], ky, stride[1], same)[0]]
    out = np.empty_like(run_conv(x, weights, stride, same, pad_value, "event"))
    conv2d_potentials(x, np.ascontiguousarray(weights.astype(np.int32)), np.array(stride, np.int64),
                      np.array(pads, np.int64), pad_value, out, "dense", packed)
    np.testing.assert_array_equal(out, naive.wrap32(naive.correlate(x, weights, stride, same, pad_value)))


@pytest.mark.parametrize("path", isa.PATHS)
@settings(max_examples=max(EXAMPLES // 4, 5))
@given(n=st.integers(1, 20), depth=st.integers(1, 300), units=st.integers(1, 40), seed=st.integers(0, 2 ** 32 - 1))
def test_fully_connected_dense_form_on_each_path(path, n, depth, units, seed):
    """The 20-bit saturation after the GEMM, with sums beyond it in both directions."""
    if path != "reference":
        native(path)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, depth), dtype=np.uint8)
    w = rng.integers(-128, 128, size=(depth, units)).astype(np.int32)
    out = np.empty((n, units), np.int32)
    dense_potentials(x, w, out, "dense", fully_connected_packing(w, path))
    np.testing.assert_array_equal(out, naive.sat20(naive.wrap32(x.astype(np.int64) @ w.astype(np.int64))))


# ----------------------------------------------------------------------------- separable layers (int16 A)
@st.composite
def int16_sep_cases(draw):
    """A separable case whose depthwise weights are shifted right until its sums fit int16."""
    x, wd, wpw, stride, same = draw(sep_cases())
    while not gemm.fits_int16(x, np.ascontiguousarray(wd[..., 0].astype(np.int32))):
        wd = wd >> 1
    return x, wd, wpw, stride, same


def sep_gemm(x, wd, wpw, stride, same, path, model):
    kx, ky = wd.shape[:2]
    pads = [naive.tf_pads(x.shape[1], kx, stride[0], same)[0], naive.tf_pads(x.shape[2], ky, stride[1], same)[0]]
    out = np.empty((x.shape[0], naive.out_size(x.shape[1], kx, stride[0], same),
                    naive.out_size(x.shape[2], ky, stride[1], same), wpw.shape[3]), np.int32)
    packed = gemm.pack_weights(wpw[0, 0], path, wide=True)
    gemm.separable_gemm(x, np.ascontiguousarray(wd[::-1, ::-1, :, 0].astype(np.int32)), packed,
                        np.array(stride, np.int64), np.array(pads, np.int64), out, model)
    return out


@pytest.mark.parametrize("path", GEMM_PATHS)
@pytest.mark.parametrize("model", [True, False], ids=["model", "native"])
@settings(max_examples=max(EXAMPLES // 2, 5))
@given(case=int16_sep_cases())
def test_separable_gemm_matches_naive(path, model, case):
    if not model:
        native(path)
    np.testing.assert_array_equal(sep_gemm(*case, path, model), naive.separable(*case))


@pytest.mark.parametrize("path", isa.PATHS)
@settings(max_examples=max(EXAMPLES // 4, 5))
@given(case=sep_cases())
def test_separable_potentials_on_each_path(path, case):
    """Through the int16 GEMM where the bound allows, else the reference kernel."""
    if path != "reference":
        native(path)
    x, wd, wpw, stride, same = case
    kx, ky = wd.shape[:2]
    pads = [naive.tf_pads(x.shape[1], kx, stride[0], same)[0], naive.tf_pads(x.shape[2], ky, stride[1], same)[0]]
    expected = naive.separable(x, wd, wpw, stride, same)
    out = np.empty(expected.shape, np.int32)
    pw = np.ascontiguousarray(wpw[0, 0].astype(np.int32))
    separable_potentials(x, np.ascontiguousarray(wd[::-1, ::-1, :, 0].astype(np.int32)), pw,
                         np.array(stride, np.int64), np.array(pads, np.int64), out, pointwise_packing(pw, path))
    np.testing.assert_array_equal(out, expected)


@settings(max_examples=EXAMPLES)
@given(case=sep_cases())
def test_int16_check_is_the_worst_partial_sum(case):
    x, wd, _, _, _ = case
    worst = int(x.max(initial=0)) * np.abs(wd[..., 0].astype(np.int64)).sum(axis=(0, 1)).max(initial=0)
    assert gemm.fits_int16(x, np.ascontiguousarray(wd[..., 0].astype(np.int32))) == (worst <= gemm.INT16_MAX)


@pytest.mark.parametrize("path", GEMM_PATHS)
@pytest.mark.parametrize("model", [True, False], ids=["model", "native"])
def test_pointwise_sums_wrap_at_int32(path, model):
    """1024 channels of depthwise sums -32640 times pointwise -128 pass 2**31."""
    if not model:
        native(path)
    x = np.full((1, 2, 3, 1024), 255, np.uint8)
    wd = np.full((1, 1, 1024, 1), -128, np.int8)
    wpw = np.full((1, 1, 1024, 3), -128, np.int8)
    wpw[..., 1] = 127
    np.testing.assert_array_equal(sep_gemm(x, wd, wpw, (1, 1), False, path, model),
                                  naive.separable(x, wd, wpw, (1, 1), False))
    assert np.abs(naive.separable(x, wd, wpw, (1, 1), False)).max() < 2 ** 31 < 1024 * 32640 * 128


# ----------------------------------------------------------------------------- compiled for a CPU that has it
#: path: (a CPU with it, the uint8 kernel's instruction, the int16 kernel's
#: (LLVM lowers vpdpwssd ymm to vpmaddwd + vpaddd for Alder Lake, where the
#: pair is faster; either is exact), the vector registers).
TARGET_CPUS = {"avx512vnni": ("icelake-server", ("vpdpbusd",), ("vpdpwssd",), "zmm"),
               "avxvnni": ("alderlake", ("vpdpbusd",), ("vpdpwssd", "vpmaddwd"), "ymm"),
               "avx2": ("haswell", ("vpmaddwd",), ("vpmaddwd",), "ymm")}


def tile_listing(spec, cpu):
    """Assembly of a function holding only ``emit_tile`` for ``spec``, compiled for ``cpu``."""
    module = ir.Module(name="tile")
    i8p, i64 = ir.IntType(8).as_pointer(), ir.IntType(64)
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [i8p, i64, i8p, i64, i8p, i64]), name="tile")
    builder = ir.IRBuilder(fn.append_basic_block("entry"))
    gemm.emit_tile(builder, spec, *fn.args)
    builder.ret_void()
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    parsed = llvm.parse_assembly(str(module))
    parsed.verify()
    machine = llvm.Target.from_triple(llvm.get_process_triple()).create_target_machine(cpu=cpu, opt=3)
    return machine.emit_assembly(parsed)


@pytest.mark.skipif(not llvm.get_process_triple().startswith("x86_64"), reason="an x86-64 LLVM target")
@pytest.mark.parametrize("path", GEMM_PATHS)
@pytest.mark.parametrize("wide", [False, True], ids=["uint8", "int16"])
def test_micro_kernel_lowers_to_the_instruction(path, wide):
    cpu, mnemonics, wide_mnemonics, register = TARGET_CPUS[path]
    spec = (gemm.WIDE_SPECS if wide else gemm.SPECS)[path]
    listing = tile_listing(spec, cpu)
    body = [line.split() for line in listing.splitlines()
            if any(m in line for m in (wide_mnemonics if wide else mnemonics))]
    expected = spec.pixels * spec.vectors
    assert len(body) >= expected, listing
    assert all(register in " ".join(words) for words in body)
    # Nothing else multiplies: no widening to 32-bit lanes before the products.
    assert "vpmulld" not in listing


@pytest.mark.parametrize("cpu_name, cpu_features, expected", [
    ("generic", "", set()),
    ("haswell", "+avx2,+fma,-avx512f", {"avx2", "fma"}),
])
def test_features_follow_numba_cpu_name(monkeypatch, cpu_name, cpu_features, expected):
    """NUMBA_CPU_NAME (a portable build) decides the features, not the host."""
    monkeypatch.setattr(numba.config, "CPU_NAME", cpu_name)
    monkeypatch.setattr(numba.config, "CPU_FEATURES", cpu_features)
    assert isa.target_features() == expected


# ----------------------------------------------------------------------------- disk cache
CACHE_PROBE = """
import numpy as np
from kernels import gemm, isa
path = isa.selected_path()
model = path not in gemm.SPECS
path = "avx2" if model else path
x = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3) % 7
one, zero = np.ones(2, np.int64), np.zeros(2, np.int64)
out = np.empty((2, 4, 4, 5), np.int32)
gemm.conv2d_gemm(x, gemm.pack_weights(np.ones((3, 5), np.int8), path), 1, 1, one, zero, 0, out, model)
gemm.separable_gemm(x, np.ones((1, 1, 3), np.int32), gemm.pack_weights(np.ones((3, 5), np.int8), path, wide=True),
                    one, zero, out, model)
stats = [gemm._conv_rows.stats, gemm._separable_rows.stats]
print(sum(sum(s.cache_hits.values()) for s in stats), sum(sum(s.cache_misses.values()) for s in stats))
"""


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="no compiled code to cache")
def test_drivers_load_from_the_disk_cache_in_a_second_process(tmp_path):
    """A second process finds the GEMM drivers of the first in Numba's disk cache (none recompiled)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    runs = [subprocess.run([sys.executable, "-c", CACHE_PROBE], env=env, cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split() for _ in range(2)]
    assert runs[0] == ["0", "2"]  # both compiled and saved
    assert runs[1] == ["2", "0"]  # both loaded
