"""Density at which the event forms of the convolution and fully connected kernels overtake the dense ones.

Run by hand::

    python benchmarks/bench_crossover.py [--batch 8] [--repeats 9]

For a few convolution shapes of the zoo's networks (3x3, 4-bit weights and
inputs) it times ``conv2d_potentials`` with each form forced (through
its ``form`` argument) at input densities from 1 % to 100 %, the two forms
interleaved, and prints the median time of each, the highest density at
which the event form was still faster, and the density at which
``kernels.convolution.event_crossover`` switches for that channel count
(the constants it interpolates come from this measurement). Then the same
for ``dense_potentials`` (fully connected) at a few input and unit counts,
beside the form its rule (``kernels.dense.EVENT_MIN_UNITS`` and
``EVENT_DENSITY``) picks. The dense forms run on the process's GEMM path
(``kernels.isa``; ``AKIDA_SIM_KERNELS`` forces one), weights packed once.
Figures go to stdout only.
"""
import argparse
import statistics
import time

import numpy as np

import kernels.convolution as conv
import kernels.dense as dense
from kernels import isa

#: (height, width, channels, filters) of 3x3 stride-1 Same convolutions.
SHAPES = [(112, 112, 16, 32), (56, 56, 64, 64), (28, 28, 128, 128), (14, 14, 64, 64)]
DENSITIES = (0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.7, 1.0)
#: (inputs, units) of fully connected layers (batch 128).
FC_SHAPES = [(3136, 10), (64, 33), (512, 1000), (1024, 500)]


def run(x, weights, packed, form):
    n, h, w, _ = x.shape
    out = np.empty((n, h, w, weights.shape[3]), np.int32)
    t0 = time.perf_counter()
    conv.conv2d_potentials(x, weights, np.array([1, 1], np.int64), np.array([1, 1], np.int64), 0, out, form, packed)
    return time.perf_counter() - t0


def run_fc(x, weights, packed, form):
    out = np.empty((x.shape[0], weights.shape[1]), np.int32)
    t0 = time.perf_counter()
    dense.dense_potentials(x, weights, out, form, packed)
    return time.perf_counter() - t0


def crossover(run, make_x, repeats):
    """(density, event s, dense s) rows and the highest density where the event form won."""
    rows, last = [], 0.0
    for density in DENSITIES:
        x = make_x(density)
        times = {"event": [], "dense": []}
        for form in times:  # warm-up (JIT or cache load)
            run(x, form)
        for _ in range(repeats):
            for form in times:
                times[form].append(run(x, form))
        event, dense_s = (statistics.median(times[k]) for k in ("event", "dense"))
        if event < dense_s:
            last = density
        rows.append((density, event, dense_s))
    return rows, last


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"dense form: GEMM path {isa.selected_path()} ({isa.ENV_VARIABLE} forces one)")

    def sparse(shape, density):
        x = rng.integers(1, 16, size=shape, dtype=np.uint8)
        x[rng.random(shape) >= density] = 0
        return x

    for h, w, c, f in SHAPES:
        weights = rng.integers(-7, 8, size=(3, 3, c, f)).astype(np.int32)
        packed = conv.dense_packing(weights.reshape(-1, f))
        rows, last = crossover(lambda x, form: run(x, weights, packed, form),
                               lambda d: sparse((args.batch, h, w, c), d), args.repeats)
        print(f"conv {h}x{w}x{c} -> {f}, batch {args.batch}: density  event ms  dense ms")
        for density, event, dense_s in rows:
            print(f"    {density:5.2f} {event * 1e3:9.2f} {dense_s * 1e3:9.2f}")
        print(f"    event form faster up to density {last:.2f}; event_crossover({c}) = "
              f"{conv.event_crossover(c, isa.selected_path()):.2f}")
    for depth, units in FC_SHAPES:
        weights = rng.integers(-7, 8, size=(depth, units)).astype(np.int32)
        packed = dense.fully_connected_packing(weights)
        rows, last = crossover(lambda x, form: run_fc(x, weights, packed, form),
                               lambda d: sparse((128, depth), d), args.repeats)
        print(f"fully connected {depth} -> {units}, batch 128: density  event ms  dense ms")
        for density, event, dense_s in rows:
            print(f"    {density:5.2f} {event * 1e3:9.3f} {dense_s * 1e3:9.3f}")
        below = dense.EVENT_DENSITY["reference" if packed.path == "reference" else "gemm"]
        rule = f"event below {below:.2f}" if units >= dense.EVENT_MIN_UNITS else "dense always"
        print(f"    event form faster up to density {last:.2f}; the rule: {rule}")


if __name__ == "__main__":
    main()
