"""Density at which the event form of the convolution overtakes the dense form.

Run by hand::

    python benchmarks/bench_crossover.py [--batch 8] [--repeats 9]

For a few convolution shapes of the zoo's networks (3x3, 4-bit weights and
inputs) it times ``conv2d_potentials`` with each form forced (through
its ``form`` argument) at input densities from 1 % to 100 %, the two forms
interleaved, and prints the median time of each, the highest density at
which the event form was still faster, and the density at which
``kernels.convolution.event_crossover`` switches for that channel count
(the constants it interpolates come from this measurement). Figures go to
stdout only.
"""
import argparse
import statistics
import time

import numpy as np

import kernels.convolution as conv

#: (height, width, channels, filters) of 3x3 stride-1 Same convolutions.
SHAPES = [(112, 112, 16, 32), (56, 56, 64, 64), (28, 28, 128, 128), (14, 14, 64, 64)]
DENSITIES = (0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.7, 1.0)


def run(x, weights, form):
    n, h, w, _ = x.shape
    out = np.empty((n, h, w, weights.shape[3]), np.int32)
    t0 = time.perf_counter()
    conv.conv2d_potentials(x, weights, np.array([1, 1], np.int64), np.array([1, 1], np.int64), 0, out, form)
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for h, w, c, f in SHAPES:
        weights = rng.integers(-7, 8, size=(3, 3, c, f)).astype(np.int32)
        crossover = 0.0
        print(f"{h}x{w}x{c} -> {f}, batch {args.batch}: density  event ms  dense ms")
        for density in DENSITIES:
            x = rng.integers(1, 16, size=(args.batch, h, w, c), dtype=np.uint8)
            x[rng.random(x.shape) >= density] = 0
            times = {"event": [], "dense": []}
            for form in times:  # warm-up (JIT or cache load)
                run(x, weights, form)
            for _ in range(args.repeats):
                for form in times:
                    times[form].append(run(x, weights, form))
            event, dense = (statistics.median(times[k]) for k in ("event", "dense"))
            if event < dense:
                crossover = density
            print(f"    {density:5.2f} {event * 1e3:9.2f} {dense * 1e3:9.2f}")
        print(f"    event form faster up to density {crossover:.2f}; "
              f"event_crossover({c}) = {conv.event_crossover(c):.2f}")


if __name__ == "__main__":
    main()
