"""Per layer kind: the dense kernels on each GEMM path this CPU runs, beside TensorFlow float32.

Run by hand::

    python benchmarks/bench_gemm.py [--threads 1] [--repeats 5] [--batch-scale 1.0]

TensorFlow fixes its thread count once per process: run once per count.

Layers (4-bit weights, 4-bit inputs, half of them zero, the dense form
forced): a 3x3 64->64 convolution on 56x56, a 3x3 512->512 convolution on
7x7, a fully connected 1024->1000 layer at batch 128 and a separable 3x3
128->128 layer on 28x28 (its depthwise and pointwise steps together). Each
runs on every path of ``kernels.isa.supported_paths`` (the "reference" path
is the portable Numba kernels) and, if TensorFlow is installed, as a float32
``tf.function`` of the same shapes; the calls are interleaved, one
repetition of each in turn, and the medians reported: GMAC/s on the layer's
dense multiply-accumulate count, its share of the CPU's int8 peak
(``bench_forward.cpu_peaks``), and each path's speed against the reference
and against TensorFlow (above 1: faster). Every path's result is checked
equal to the reference's. The CPU, its features and the path the process
would pick are printed first. Figures go to stdout only.
"""
import argparse
import os
import statistics
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_forward import cpu_peaks, isa_line  # noqa: E402

from kernels import isa  # noqa: E402
from kernels.convolution import conv2d_potentials, dense_packing  # noqa: E402
from kernels.dense import dense_potentials, fully_connected_packing  # noqa: E402
from kernels.separable import pointwise_packing, separable_potentials  # noqa: E402


def layer_cases(scale):
    """(label, make(path) -> call, MACs, TF function builder) per layer kind."""
    rng = np.random.default_rng(0)

    def acts(shape):
        x = rng.integers(0, 16, size=shape, dtype=np.uint8)
        x[rng.random(shape) < 0.5] = 0
        return x

    def conv(n, size, c, f):
        x = acts((n, size, size, c))
        w = rng.integers(-8, 8, size=(3, 3, c, f)).astype(np.int32)
        out = np.empty((n, size, size, f), np.int32)
        one = np.ones(2, np.int64)

        def make(path):
            packed = dense_packing(w.reshape(-1, f), path)
            return lambda: conv2d_potentials(x, w, one, one, 0, out, "dense", packed) or out

        def tf_fn(tf):
            xt, wt = tf.constant(x.astype(np.float32)), tf.constant(w.astype(np.float32))
            return tf.function(lambda: tf.nn.conv2d(xt, wt, 1, "SAME"))
        return make, out.size * 9 * c, tf_fn

    def fc(n, d, u):
        x = acts((n, d))
        w = rng.integers(-8, 8, size=(d, u)).astype(np.int32)
        out = np.empty((n, u), np.int32)

        def make(path):
            packed = fully_connected_packing(w, path)
            return lambda: dense_potentials(x, w, out, "dense", packed) or out

        def tf_fn(tf):
            xt, wt = tf.constant(x.astype(np.float32)), tf.constant(w.astype(np.float32))
            return tf.function(lambda: tf.matmul(xt, wt))
        return make, out.size * d, tf_fn

    def separable(n, size, c, f):
        x = acts((n, size, size, c))
        dw = rng.integers(-8, 8, size=(3, 3, c)).astype(np.int32)
        pw = rng.integers(-8, 8, size=(c, f)).astype(np.int32)
        out = np.empty((n, size, size, f), np.int32)
        one = np.ones(2, np.int64)

        def make(path):
            packed = pointwise_packing(pw, path)
            return lambda: separable_potentials(x, dw, pw, one, one, out, packed) or out

        def tf_fn(tf):
            xt = tf.constant(x.astype(np.float32))
            dt, pt = tf.constant(dw[..., None].astype(np.float32)), tf.constant(pw[None, None].astype(np.float32))
            return tf.function(lambda: tf.nn.separable_conv2d(xt, dt, pt, [1, 1, 1, 1], "SAME"))
        return make, out.size * (c + 9 * c / f), tf_fn

    def batch(n):
        return max(1, int(round(n * scale)))

    return [("conv 3x3 64->64 @56x56", *conv(batch(8), 56, 64, 64)),
            ("conv 3x3 512->512 @7x7", *conv(batch(32), 7, 512, 512)),
            ("fc 1024->1000", *fc(batch(128), 1024, 1000)),
            ("separable 3x3 128 @28x28", *separable(batch(8), 28, 128, 128))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads of the kernels and of TensorFlow")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-scale", type=float, default=1.0, help="multiply every batch size")
    args = parser.parse_args(argv)
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf
    except ImportError:
        tf = None
    paths = isa.supported_paths(isa.target_features())
    print(f"CPU as LLVM sees it: {isa_line()}")
    threads = min(args.threads, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    if tf is not None:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    peaks = cpu_peaks(threads)
    print(f"{threads} thread(s); {peaks[0]}; int8 peak {peaks[1] / 1e9:.0f} GMAC/s")
    print(f"{'layer':26s} {'path':11s} {'GMAC/s':>8s} {'%int8':>6s} {'/ref':>6s} {'/tf':>6s}")
    for label, make, macs, tf_fn in layer_cases(args.batch_scale):
        calls = {path: make(path) for path in paths}
        if tf is not None:
            calls["tf float32"] = tf_fn(tf)
        expected = calls["reference"]().copy()
        for path in paths:
            np.testing.assert_array_equal(calls[path](), expected)
        if tf is not None:
            calls["tf float32"]()
        times = {name: [] for name in calls}
        for _ in range(args.repeats):
            for name, call in calls.items():
                t0 = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - t0)
        median = {name: statistics.median(t) for name, t in times.items()}
        for name in calls:
            tf_ratio = f"{median['tf float32'] / median[name]:6.2f}" if tf is not None else "     -"
            print(f"{label:26s} {name:11s} {macs / median[name] / 1e9:8.1f} "
                  f"{100 * macs / median[name] / peaks[1]:6.1f} {median['reference'] / median[name]:6.2f} "
                  f"{tf_ratio}")


if __name__ == "__main__":
    main()
