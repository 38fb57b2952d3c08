"""Forward throughput of akida_sim against the vendor's engine and TensorFlow float32.

Run by hand (needs the ``oracle`` extra for the vendor's engine and the
``keras`` extra for TensorFlow; either may be absent)::

    python benchmarks/bench_forward.py [--quick] [--workloads NAME ...] [--batches 1 128]
                                       [--calibrations realistic zoo] [--no-latency] [--no-memory]

Workloads (``benchmarks/workloads.py``): DS-CNN, AkidaNet-0.5 at 112x112 and
224x224, the MNIST-sized net, each in the ``realistic`` calibration (60 % of
every layer's activations zero) and the zoo's; and one 3x3 64->64
convolution on 56x56x64 at 1, 10, 50 and 100 % input density. For each
workload and batch size the same inputs run through akida_sim, the vendor's
package (the model copied with ``Model.to_akida``) and a float32 TensorFlow
function of the same shapes (``tf.function``, graph mode), one repetition of
each in turn so that all see the same machine load. Every repetition asserts
that akida_sim's output equals the vendor's. Reported per row: akida_sim's
median milliseconds per batch, the vendor's and TensorFlow's times divided by
akida_sim's (above 1: akida_sim is faster), akida_sim's MAC/s (dense MAC
count) and its share of the machine's int8 and fp32 peaks, and the mean
input density over the layers.

Peaks (``cpu_peaks``): cores used x clock x MACs per cycle per core. The
clock is the ``cpu MHz`` of /proc/cpuinfo (a virtual machine shows the
nominal clock); MACs per cycle assume two vector FMA pipes: fp32 = 2 x lanes
(16 with AVX-512, 8 with AVX2); int8 = 4 x that with VNNI (``vpdpbusd``:
four 8-bit products per 32-bit lane), 2 x without (``vpmaddubsw`` then a
widening add take two instructions per four products).

Then, in fresh interpreters: the time from a new process to the first DS-CNN
result, with the numba cache warm and with ``NUMBA_CACHE_DIR`` set to an
empty folder (every kernel compiled); and the peak resident memory of
AkidaNet-224 at batch 1024 (``VmHWM`` of /proc/self/status) beside that
of the process before its forward (model and inputs built).

Figures go to stdout only; they depend on the machine and its load.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads  # noqa: E402  (the benchmark folder is not a package)

from akida_sim import zoo  # noqa: E402
from kernels.config import num_threads  # noqa: E402

NET_NAMES = list(workloads.NETS)
CONV_NAMES = [f"conv56@{int(d * 100)}%" for d in workloads.CONV56_DENSITIES]

#: Repetitions per batch size: (normal, quick); heavy cases get fewer.
REPS = {1: (21, 5), 128: (7, 3)}
HEAVY = {("akidanet_05_224", 128): (3, 1)}
#: Pause between two timed calls, so that the previous engine's idle
#: worker threads (which spin for a while) stop competing for the cores.
SETTLE_S = 0.02

LATENCY_SCRIPT = r"""
import time
t0 = time.perf_counter()
import numpy as np
import akida_sim
from akida_sim import zoo
model = zoo.build("dscnn_kws")
x = np.zeros((1, *model.input_shape), np.uint8)
model.forward(x)
t1 = time.perf_counter()
model.forward(x)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""

MEMORY_SCRIPT = r"""
import sys
import numpy as np
sys.path.insert(0, {bench_dir!r})
import workloads


def peak_mib():
    # VmHWM: the high-water resident set of this process image (unlike
    # ru_maxrss, not carried over from the parent across fork and exec).
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024


model, density = workloads.build("akidanet_05_224", "realistic")
x = workloads.inputs(model, {batch}, np.random.default_rng(0), density)
before = peak_mib()
model.forward(x)
print(before, peak_mib())
"""


def cpu_peaks(threads):
    """(description, int8 MAC/s, fp32 MAC/s) of ``threads`` cores, from /proc/cpuinfo."""
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    flags = set(info.get("flags", "").split())
    hz = float(info.get("cpu MHz", "0")) * 1e6
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    fp32 = 2 * lanes
    int8 = fp32 * (4 if {"avx512_vnni", "avx_vnni"} & flags else 2)
    desc = (f"{info.get('model name', '?')}, {hz / 1e9:.2f} GHz, {threads} cores used, "
            f"{lanes} fp32 lanes, VNNI {'yes' if {'avx512_vnni', 'avx_vnni'} & flags else 'no'}")
    return desc, threads * hz * int8, threads * hz * fp32


def isa_line():
    """The LLVM CPU name, its integer dot-product features and the kernels' GEMM path."""
    import llvmlite.binding as llvm
    from kernels import isa
    features = isa.target_features()
    shown = sorted(features & {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512vnni", "avxvnni"})
    return (f"{llvm.get_host_cpu_name()}, {' '.join(shown) or 'none of avx2/avx512/vnni'}; "
            f"GEMM path {isa.selected_path()} (supported: {', '.join(isa.supported_paths(features))}; "
            f"{isa.ENV_VARIABLE} forces one)")


def workload_list(names, calibrations):
    """(label, name, calibration, density) of each requested workload."""
    out = []
    for name in names:
        if name in CONV_NAMES:
            density = workloads.CONV56_DENSITIES[CONV_NAMES.index(name)]
            out.append((name, "conv56", "realistic", density))
        else:
            out += [(f"{name}/{cal}", name, cal, None) for cal in calibrations]
    return out


def timed(fn, arg):
    time.sleep(SETTLE_S)
    t0 = time.perf_counter()
    out = fn(arg)
    return time.perf_counter() - t0, out


def run_workload(label, name, calibration, density, batches, quick, akida, tf_ok, peaks):
    model, density = workloads.build(name, calibration, density)
    vendor = model.to_akida(akida) if akida is not None else None
    macs = workloads.macs_per_sample(model)
    rng = np.random.default_rng(1)
    for batch in batches:
        x = workloads.inputs(model, batch, rng, density)
        mean_density = float(np.mean(workloads.layer_densities(model, x[:8])))
        engines = [("sim", model.forward, x)]
        if vendor is not None:
            engines.append(("vendor", vendor.forward, x))
        if tf_ok:
            forward, tx = workloads.tf_twin(model, batch)
            engines.append(("tf", forward, tx))
        times = {e: [] for e, _, _ in engines}
        reps = HEAVY.get((name, batch), REPS.get(batch, (5, 2)))[1 if quick else 0]
        for rep in range(reps + 1):  # the first repetition warms up (JIT, caches, graph tracing)
            outs = {}
            for engine, fn, arg in engines:
                elapsed, outs[engine] = timed(fn, arg)
                if rep:
                    times[engine].append(elapsed)
            if vendor is not None:
                a, b = outs["sim"], outs["vendor"]
                assert a.dtype == b.dtype and np.array_equal(a, b), f"{label}: akida_sim and vendor outputs differ"
        t = {e: statistics.median(v) for e, v in times.items()}
        rate = batch * macs / t["sim"]
        ratio = lambda e: f"{t[e] / t['sim']:8.2f}" if e in t else f"{'-':>8}"  # noqa: E731
        print(f"{label:28s} {batch:5d} {t['sim'] * 1e3:10.2f} {ratio('vendor')} {ratio('tf')} "
              f"{rate / 1e9:8.1f} {100 * rate / peaks[1]:6.1f}% {100 * rate / peaks[2]:6.1f}% "
              f"{mean_density:6.2f} {reps:4d}", flush=True)


def fresh(script, env=None):
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          check=True).stdout.split()


def latency():
    fresh(LATENCY_SCRIPT)  # populate the default cache
    warm = fresh(LATENCY_SCRIPT)
    with tempfile.TemporaryDirectory(prefix="akida_sim_numba_") as cold_dir:
        cold = fresh(LATENCY_SCRIPT, dict(os.environ, NUMBA_CACHE_DIR=cold_dir))
    for label, (first, second) in (("warm cache", warm), ("cold cache", cold)):
        print(f"DS-CNN, {label}: new process to first result {float(first):6.2f} s, "
              f"second forward {float(second) * 1e3:7.2f} ms")


def memory(batch):
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    before, after = fresh(MEMORY_SCRIPT.format(bench_dir=bench_dir, batch=batch))
    print(f"AkidaNet-224 at batch {batch}: peak resident memory {float(after):7.0f} MiB "
          f"(before the forward, model and inputs built: {float(before):7.0f} MiB)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--workloads", nargs="+", default=NET_NAMES + CONV_NAMES, choices=NET_NAMES + CONV_NAMES)
    parser.add_argument("--calibrations", nargs="+", default=["realistic", "zoo"], choices=["realistic", "zoo"])
    parser.add_argument("--batches", nargs="+", type=int, default=[128, 1])
    parser.add_argument("--no-latency", action="store_true", help="skip the first-result timing")
    parser.add_argument("--no-memory", action="store_true", help="skip the batch-1024 memory run")
    parser.add_argument("--memory-batch", type=int, default=1024)
    args = parser.parse_args(argv)

    import numba
    import akida_sim
    try:
        import akida  # the vendor's engine: benchmarks and oracle tests only
    except ImportError:
        akida = None
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow  # noqa: F401
        tf_ok = True
    except ImportError:
        tf_ok = False
    threads = num_threads()  # starts the kernels' thread pool with their OpenMP wait policy
    peaks = cpu_peaks(threads)
    print(f"akida_sim {akida_sim.__version__}, numba {numba.__version__}, python {platform.python_version()}, "
          f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}, vendor {'yes' if akida else 'absent'}, "
          f"TensorFlow {'yes' if tf_ok else 'absent'}")
    print(f"CPU: {peaks[0]}: int8 peak {peaks[1] / 1e9:.0f} GMAC/s, fp32 peak {peaks[2] / 1e9:.0f} GMAC/s")
    print(f"CPU as LLVM sees it: {isa_line()}")
    print(f"{'workload':28s} {'batch':>5s} {'sim ms':>10s} {'vendor/':>8s} {'tf/':>8s} {'GMAC/s':>8s} "
          f"{'%int8':>7s} {'%fp32':>7s} {'dens':>6s} {'reps':>4s}")
    for label, name, calibration, density in workload_list(args.workloads, args.calibrations):
        run_workload(label, name, calibration, density, args.batches, args.quick, akida, tf_ok, peaks)
    if not args.no_latency:
        latency()
    if not args.no_memory:
        memory(args.memory_batch)


if __name__ == "__main__":
    main()
