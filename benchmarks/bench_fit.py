"""Edge-learning throughput: ``Model.fit`` of akida_sim against the vendor's engine.

Setup: 1024 binary inputs -> FullyConnected learning layer of 10 classes x 50
neurons, num_weights 100, default plasticity parameters; 2000 samples drawn
around 10 class prototypes. Both packages start from the same connections
(the vendor's initial draw, copied into both) and learn the same samples, once
with labels and once without. Runs are interleaved (sim, vendor, sim, ...) and
the median of the repetitions is reported; after each run the learned
weights, threshold_learning and thswap of the two packages must be identical.

    python benchmarks/bench_fit.py [--samples 2000] [--repeats 5]

Prints samples/s for both and the ratio; figures go to stdout only. Without
the vendor's package installed, only akida_sim is timed.
"""
import argparse
import statistics
import time

import numpy as np

import akida_sim

try:
    import akida
except ImportError:  # the benchmark still times akida_sim
    akida = None

N_INPUTS, CLASSES, PER_CLASS, NUM_WEIGHTS = 1024, 10, 50, 100
LEARNED = ("weights", "threshold_learning", "thswap")


def dataset(n_samples, seed=0):
    """Binary samples around random class prototypes (about 12% active inputs)."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((CLASSES, N_INPUTS)) < 0.1
    labels = rng.integers(0, CLASSES, n_samples).astype(np.int32)
    flips = rng.random((n_samples, N_INPUTS)) < 0.03
    x = (prototypes[labels] ^ flips).astype(np.uint8).reshape(n_samples, 1, 1, N_INPUTS)
    return x, labels


def compiled_model(ak, start_weights):
    model = ak.Model()
    model.add(ak.InputData(input_shape=(1, 1, N_INPUTS), input_bits=1))
    model.add(ak.FullyConnected(units=CLASSES * PER_CLASS, weights_bits=1, activation=False))
    model.compile(ak.AkidaUnsupervised(num_weights=NUM_WEIGHTS, num_classes=CLASSES))
    if start_weights is not None:
        model.layers[1].set_variable("weights", start_weights)
    return model


def timed_fit(ak, start_weights, x, labels):
    model = compiled_model(ak, start_weights)
    t0 = time.perf_counter()
    out = model.fit(x) if labels is None else model.fit(x, labels)
    elapsed = time.perf_counter() - t0
    return elapsed, out, {name: model.layers[1].get_variable(name) for name in LEARNED}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    x, labels = dataset(args.samples)
    if akida is not None:
        start = compiled_model(akida, None).layers[1].get_variable("weights")
    else:
        start = compiled_model(akida_sim, None).layers[1].get_variable("weights")
    # warm-up: JIT compilation (or cache load) of akida_sim's kernels
    t0 = time.perf_counter()
    timed_fit(akida_sim, start, x[:2], labels[:2])
    print(f"akida_sim first fit call (JIT/cache warm-up): {time.perf_counter() - t0:.2f} s")

    packages = [("akida_sim", akida_sim)] + ([("vendor", akida)] if akida is not None else [])
    print(f"fit: {args.samples} samples, {N_INPUTS} binary inputs, {CLASSES} classes x {PER_CLASS} neurons, "
          f"num_weights {NUM_WEIGHTS}, median of {args.repeats} interleaved runs")
    for mode, lab in (("labelled", labels), ("unlabelled", None)):
        times = {name: [] for name, _ in packages}
        for _ in range(args.repeats):
            results = {}
            for name, ak in packages:
                elapsed, out, state = timed_fit(ak, start, x, lab)
                times[name].append(elapsed)
                results[name] = (out, state)
            if "vendor" in results:
                (out_s, st_s), (out_v, st_v) = results["akida_sim"], results["vendor"]
                assert np.array_equal(out_s, out_v), f"{mode}: fit outputs differ"
                for var in LEARNED:
                    assert np.array_equal(st_s[var], st_v[var]), f"{mode}: learned {var} differ"
        rates = {name: args.samples / statistics.median(t) for name, t in times.items()}
        line = f"{mode:>10}: akida_sim {rates['akida_sim']:10.0f} samples/s"
        if "vendor" in rates:
            line += (f" | vendor {rates['vendor']:10.0f} samples/s | ratio {rates['akida_sim'] / rates['vendor']:.2f}x"
                     f" | learned state identical")
        print(line)


if __name__ == "__main__":
    main()
