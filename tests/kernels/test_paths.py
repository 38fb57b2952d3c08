"""Every execution path forced, against the float64/int64 references of tests/naive.py.

Paths: the event and dense forms of the convolution and of the fully
connected layer (chosen per call from the input density), each kernel on the calling thread and split over the
thread pool, and the forward pass streaming the batch in chunks of any size.
"""
import contextlib

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import akida_sim
import akida_sim.inference as inference
import kernels.config as config
import kernels.convolution as convolution
import kernels.dense as dense
from kernels import isa
from akida_sim import zoo
from akida_sim.enums import PoolType
from kernels.activation import step_activation
from kernels.pooling import global_sum_pool, max_pool
from tests import naive
from tests.kernels.test_conv_kernels import (
    conv_cases, dense_cases, run_conv, run_dense, run_sep, sep_cases,
)

EXAMPLES = settings().max_examples
THREADING = {"serial": 10 ** 18, "parallel": 0}


@contextlib.contextmanager
def forced(threading_path):
    """Every kernel call on the calling thread ("serial") or split over the pool ("parallel")."""
    saved = config.MIN_PARALLEL_WORK
    config.MIN_PARALLEL_WORK = THREADING[threading_path]
    try:
        yield
    finally:
        config.MIN_PARALLEL_WORK = saved


each_threading_path = pytest.mark.parametrize("threading_path", sorted(THREADING))


@each_threading_path
@settings(max_examples=max(EXAMPLES // 4, 5))
@given(case=conv_cases(), form=st.sampled_from(convolution.FORMS))
def test_conv_forms_on_each_threading_path(threading_path, case, form):
    with forced(threading_path):
        x, weights, stride, same, pad_value = case
        expected = naive.wrap32(naive.correlate(x, weights, stride, same, pad_value))
        np.testing.assert_array_equal(run_conv(x, weights, stride, same, pad_value, form), expected)


@each_threading_path
@settings(max_examples=max(EXAMPLES // 4, 5))
@given(case=sep_cases())
def test_separable_on_each_threading_path(threading_path, case):
    with forced(threading_path):
        x, wd, wpw, stride, same = case
        np.testing.assert_array_equal(run_sep(x, wd, wpw, stride, same), naive.separable(x, wd, wpw, stride, same))


@each_threading_path
@settings(max_examples=max(EXAMPLES // 4, 5))
@given(case=dense_cases(), form=st.sampled_from(dense.FORMS))
def test_dense_forms_on_each_threading_path(threading_path, case, form):
    with forced(threading_path):
        x, wt = case
        np.testing.assert_array_equal(run_dense(x, wt, form), naive.fully_connected(x, wt))


@each_threading_path
@settings(max_examples=max(EXAMPLES // 4, 5))
@given(seed=st.integers(0, 2 ** 32 - 1), size=st.integers(1, 4), same=st.booleans())
def test_pooling_and_activation_on_each_threading_path(threading_path, seed, size, same):
    with forced(threading_path):
        rng = np.random.default_rng(seed)
        pot = rng.integers(-2 ** 21, 2 ** 21, size=(3, 9, 7, 5)).astype(np.int32)
        stride = (size, max(1, size - 1))
        expected = naive.max_pool(pot, (size, size), stride, same)
        out = np.empty(expected.shape, np.int32)
        pads = [naive.tf_pads(9, size, stride[0], same)[0], naive.tf_pads(7, size, stride[1], same)[0]]
        max_pool(pot, np.array([size, size], np.int64), np.array(stride, np.int64), np.array(pads, np.int64), out)
        np.testing.assert_array_equal(out, expected)
        total = np.empty((3, 1, 1, 5), np.int32)
        global_sum_pool(pot, total)
        np.testing.assert_array_equal(total, naive.global_sum(pot))
        threshold = rng.integers(-1000, 1000, size=5).astype(np.int32)
        steps = rng.uniform(1 / 16, 300, size=5).astype(np.float32)
        acts = np.empty((3 * 9 * 7, 5), np.uint8)
        q = np.array([naive.step_q(s) % 2 ** 28 for s in steps], np.int64)
        step_activation(pot.reshape(-1, 5), threshold, q, 4, acts)
        np.testing.assert_array_equal(acts.reshape(pot.shape), naive.activate(pot, threshold, steps, 4))


@pytest.mark.parametrize("path", isa.PATHS)
def test_crossover_grows_with_channels_within_the_measured_range(path):
    values = [convolution.event_crossover(c, path) for c in (1, 3, 16, 32, 64, 128, 1024)]
    assert values == sorted(values)
    at_16, _, (lo, hi) = convolution.CROSSOVER["reference" if path == "reference" else "gemm"]
    assert lo <= values[0] and values[-1] <= hi
    assert convolution.event_crossover(16, path) == pytest.approx(at_16)


def test_unknown_form_is_rejected():
    x = np.zeros((1, 3, 3, 1), np.uint8)
    with pytest.raises(ValueError, match="form"):
        run_conv(x, np.zeros((1, 1, 1, 1), np.int8), (1, 1), False, 0, "gemm")
    with pytest.raises(ValueError, match="form"):
        run_dense(x, np.zeros((1, 1, 9, 2), np.int8), "gemm")


# ----------------------------------------------------------------------------- whole forward passes
def small_models():
    """Tiny networks covering every layer type, pooling and padding kind."""
    a = [akida_sim.InputData(input_shape=(8, 7, 3), input_bits=4, name="in"),
         akida_sim.Convolutional(kernel_size=(3, 3), filters=6, name="c", weights_bits=4, act_bits=4,
                                 pool_type=PoolType.Max, pool_size=(2, 2)),
         akida_sim.SeparableConvolutional(kernel_size=(3, 3), filters=5, name="s", weights_bits=4, act_bits=2),
         akida_sim.FullyConnected(units=4, name="fc", weights_bits=4, activation=False)]
    b = [akida_sim.InputConvolutional(input_shape=(9, 9, 3), kernel_size=(3, 3), filters=8, name="ic",
                                      kernel_stride=(2, 2), weights_bits=8, act_bits=4, padding_value=7),
         akida_sim.SeparableConvolutional(kernel_size=(3, 3), filters=6, name="s", weights_bits=8, act_bits=4,
                                          pool_type=PoolType.Average),
         akida_sim.FullyConnected(units=3, name="fc", weights_bits=2, act_bits=1)]
    models = []
    for seed, layers in enumerate((a, b)):
        model = akida_sim.Model()
        for layer in layers:
            model.add(layer)
        models.append(zoo.randomize(model, np.random.default_rng(seed)))
    return models


@pytest.mark.parametrize("form", ["event", "dense"])
@pytest.mark.parametrize("stream_bytes", [1, 10 ** 12], ids=["one sample per chunk", "whole batch"])
def test_forward_on_every_path_matches_naive(monkeypatch, form, stream_bytes):
    """Forced convolution form and chunking of the batch: the naive forward pass's result."""
    monkeypatch.setattr(convolution, "event_crossover", lambda channels, path: 2.0 if form == "event" else -1.0)
    monkeypatch.setattr(inference, "STREAM_BYTES", stream_bytes)
    rng = np.random.default_rng(3)
    for model in small_models():
        x = zoo.random_inputs(model, 5, rng)
        np.testing.assert_array_equal(model.forward(x), naive.forward(model, x))


def test_stream_chunks_bound_the_potentials():
    for model in small_models():
        layers = [l for l in model.layers if type(l).__name__ != "InputData"]
        largest = max(inference._potential_bytes(l) for l in layers)
        chunk = inference.stream_samples(layers)
        assert chunk == 1 or chunk * largest <= inference.STREAM_BYTES


@pytest.mark.parametrize("path", isa.PATHS)
def test_forward_on_each_gemm_path_matches_naive(monkeypatch, path):
    """Every layer's weights packed for ``path`` (natively where this CPU runs it, else skipped)."""
    if path not in isa.supported_paths(isa.target_features()) or (path != "reference" and numba.config.DISABLE_JIT):
        pytest.skip(f"this CPU or configuration does not run {path}")
    monkeypatch.setattr(isa, "selected_path", lambda: path)
    monkeypatch.setattr(convolution, "event_crossover", lambda channels, path: -1.0)
    rng = np.random.default_rng(4)
    for model in small_models():
        x = zoo.random_inputs(model, 7, rng)
        np.testing.assert_array_equal(model.forward(x), naive.forward(model, x))
