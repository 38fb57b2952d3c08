"""Forward throughput of akida_sim against the vendor's engine, and JIT latency.

Run by hand (needs the ``oracle`` extra, ``pip install -e '.[oracle]'``)::

    python benchmarks/bench_forward.py [--quick] [--models NAME ...] [--batches 1 128]

For every zoo model and batch size the same inputs run through akida_sim and
through the vendor's package (the model copied with ``zoo.copy_into``),
alternating one repetition of each; the median time of each gives the frames
per second. Every repetition checks that both outputs are identical. Then
akida_sim's first-call latency (import, then the first forward that compiles
or loads the kernels) is measured in fresh subprocesses, once with the numba
cache warm and once with an empty cache (``NUMBA_CACHE_DIR`` set to a new
temporary folder).

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

import akida_sim
from akida_sim import zoo
from kernels.config import OMP_WAIT_POLICY

MODELS = ["dscnn_kws", "mnist", "akidanet_05_96", "akidanet_05_224"]

#: Repetitions per (model, batch): (normal, quick). Heavy cases get fewer.
REPS = {1: (21, 5), 128: (7, 3)}
HEAVY = {("akidanet_05_224", 128): (3, 1)}

LATENCY_SCRIPT = r"""
import time
t0 = time.perf_counter()
import numpy as np
import akida_sim
from akida_sim import zoo
t1 = time.perf_counter()
model = akida_sim.Model()
for layer in zoo.MODELS[{name!r}][0]():
    model.add(layer)
x = np.zeros((1, *model.input_shape), np.uint8)
t2 = time.perf_counter()
model.forward(x)
t3 = time.perf_counter()
model.forward(x)
t4 = time.perf_counter()
print(t1 - t0, t3 - t2, t4 - t3)
"""


def time_pair(sim, vendor, x, reps):
    """Median seconds per forward of each model, alternating, outputs checked."""
    t_sim, t_vendor = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        a = sim.forward(x)
        t1 = time.perf_counter()
        b = vendor.forward(x)
        t2 = time.perf_counter()
        assert np.array_equal(a, b) and a.dtype == b.dtype, "akida_sim and vendor outputs differ"
        t_sim.append(t1 - t0)
        t_vendor.append(t2 - t1)
    return statistics.median(t_sim), statistics.median(t_vendor)


def throughput(models, batches, quick):
    import akida  # the vendor's engine: benchmarks only

    rows = []
    for name in models:
        sim = zoo.build(name)
        vendor = zoo.copy_into(sim, akida)
        rng = np.random.default_rng(1)
        for batch in batches:
            x = zoo.random_inputs(sim, batch, rng)
            reps = HEAVY.get((name, batch), REPS.get(batch, (5, 2)))[1 if quick else 0]
            time_pair(sim, vendor, x, 1)  # warm-up (JIT, caches)
            t_sim, t_vendor = time_pair(sim, vendor, x, reps)
            row = (name, batch, batch / t_sim, batch / t_vendor, t_vendor / t_sim, reps)
            print("%-16s %6d %12.1f %12.1f %7.2f %5d" % row, flush=True)
            rows.append(row)
    return rows


def first_call(name, cache_dir=None):
    """(import s, first forward s, second forward s) in a fresh interpreter."""
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", LATENCY_SCRIPT.format(name=name)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return tuple(float(v) for v in out.split())


def latency(name):
    first_call(name)  # make sure the default cache is populated
    warm = first_call(name)
    with tempfile.TemporaryDirectory(prefix="akida_sim_numba_") as cold_dir:
        cold = first_call(name, cold_dir)
    for label, (t_import, t_first, t_second) in (("warm cache", warm), ("cold cache", cold)):
        print("%-16s %-11s import %6.2f s   first forward %6.2f s   second forward %8.4f s"
              % (name, label, t_import, t_first, t_second))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 128])
    parser.add_argument("--latency-model", default="akidanet_05_96", choices=MODELS,
                        help="model whose first forward is timed (akidanet uses every kernel)")
    args = parser.parse_args(argv)

    import numba
    print(f"akida_sim {akida_sim.__version__}, "
          f"numba {numba.__version__}, python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}")
    print("%-16s %6s %12s %12s %7s %5s" % ("model", "batch", "sim fps", "vendor fps", "ratio", "reps"))
    throughput(args.models, args.batches, args.quick)
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel ran
        layer = "not started"
    policy = os.environ.get("OMP_WAIT_POLICY", f"unset (kernels use {OMP_WAIT_POLICY})")
    print(f"numba threading layer: {layer}, OMP_WAIT_POLICY: {policy}")
    print("\nfirst-call latency (fresh process, batch 1)")
    latency(args.latency_model)


if __name__ == "__main__":
    main()
