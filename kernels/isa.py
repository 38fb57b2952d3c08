"""Which integer GEMM path the dense kernels use, decided once per process.

Paths, fastest first (``PATHS``):

* ``avx512vnni``: ``vpdpbusd`` on 512-bit vectors (uint8 x int8, four
  products per 32-bit lane and instruction);
* ``avxvnni``: the same instruction on 256-bit vectors (AVX-VNNI, or
  AVX-512 VNNI with VL);
* ``avx2``: ``vpmaddwd`` on 256-bit vectors (int16 x int16, two products
  per lane, then ``vpaddd``);
* ``reference``: the portable Numba kernels (no explicit intrinsics).

The host's features come from LLVM (``llvmlite.binding.get_host_cpu_features``),
or from ``NUMBA_CPU_FEATURES`` when ``NUMBA_CPU_NAME`` names a CPU other
than "host" (Numba then compiles for that CPU, not the host). The environment variable
``AKIDA_SIM_KERNELS`` forces a path; a path the CPU lacks is refused with
``UnsupportedPathError`` rather than compiled (LLVM cannot select an
instruction the target lacks). Without it the fastest supported path is
used. With ``NUMBA_DISABLE_JIT=1`` the default is ``reference`` (a forced
path then runs through ``kernels.gemm``'s Python model of its instruction).
"""
import functools
import os

import llvmlite.binding as llvm
import numba

#: Every path, fastest first.
PATHS = ("avx512vnni", "avxvnni", "avx2", "reference")

#: LLVM feature names a path needs.
REQUIRED_FEATURES = {
    "avx512vnni": ("avx512f", "avx512bw", "avx512vnni"),
    "avxvnni": ("avx2", "avxvnni"),  # or avx2 + avx512vnni + avx512vl
    "avx2": ("avx2",),
    "reference": (),
}

#: The environment variable that forces a path.
ENV_VARIABLE = "AKIDA_SIM_KERNELS"


class UnsupportedPathError(RuntimeError):
    """A forced path needs CPU features the compile target lacks."""


def _avxvnni_ok(features):
    """256-bit vpdpbusd: AVX-VNNI, or AVX-512 VNNI with 256-bit (VL) encodings."""
    return "avx2" in features and ("avxvnni" in features or {"avx512vnni", "avx512vl"} <= features)


def target_features():
    """The set of LLVM feature names Numba compiles for (host, or NUMBA_CPU_FEATURES)."""
    if numba.config.CPU_NAME and numba.config.CPU_NAME != "host":
        flags = (numba.config.CPU_FEATURES or "").split(",")
        return {f[1:] for f in flags if f.startswith("+")}
    return {name for name, on in llvm.get_host_cpu_features().items() if on}


def supported_paths(features):
    """The paths a CPU with ``features`` (a set of LLVM feature names) can run, fastest first."""
    ok = []
    for path in PATHS:
        if path == "avxvnni":
            if _avxvnni_ok(features):
                ok.append(path)
        elif set(REQUIRED_FEATURES[path]) <= features:
            ok.append(path)
    return tuple(ok)


def choose_path(forced, features, jit=True):
    """The path for a process: ``forced`` (a name or None/"") if supported, else the fastest.

    Raises ``ValueError`` for an unknown name and ``UnsupportedPathError``
    for a path the CPU lacks.
    """
    ok = supported_paths(features)
    if forced:
        if forced not in PATHS:
            raise ValueError(f"{ENV_VARIABLE}: expected one of {PATHS}, got {forced!r}")
        if forced not in ok:
            raise UnsupportedPathError(
                f"{ENV_VARIABLE}={forced} needs CPU features {REQUIRED_FEATURES[forced]}; "
                f"this CPU supports the paths {ok}")
        return forced
    return ok[0] if jit else "reference"


@functools.cache
def selected_path():
    """The process's path (``AKIDA_SIM_KERNELS``, else the fastest supported), decided once."""
    return choose_path(os.environ.get(ENV_VARIABLE, "").strip().lower(), target_features(),
                       jit=not numba.config.DISABLE_JIT)
