"""forward and predict of akida_sim against the vendor's engine, bit for bit."""
import numpy as np
import pytest
from hypothesis import given

import akida_sim
from akida_sim import zoo
from model_specs import (
    STATS, LayerSpec, ModelCase, assert_identical, assert_predict_close, build_case, fix_act_step, model_cases,
    oracle_settings,
)

akida = pytest.importorskip("akida")
pytestmark = pytest.mark.oracle


def compare_case(case):
    """Build ``case`` in both packages and compare forward (and predict)."""
    vendor = build_case(akida, case)
    sim = build_case(akida_sim, case)
    assert sim.output_shape == vendor.output_shape
    vendor_out = vendor.forward(case.inputs, batch_size=case.batch_size)
    sim_out = sim.forward(case.inputs, batch_size=case.batch_size)
    assert_identical(sim_out, vendor_out)
    STATS["forward: models compared"] += 1
    STATS["forward: values compared"] += vendor_out.size
    if not case.last_activation:
        assert_predict_close(sim.predict(case.inputs, batch_size=case.batch_size),
                             vendor.predict(case.inputs, batch_size=case.batch_size))
    return sim_out


# ----------------------------------------------------------------------
# random models


@oracle_settings(400)
@given(case=model_cases())
def test_random_model_forward_identical(case):
    compare_case(case)


@oracle_settings(100)
@given(case=model_cases(max_layers=5, max_size=40, max_batch=3))
def test_random_larger_model_forward_identical(case):
    compare_case(case)


@oracle_settings(25)
@given(case=model_cases(max_layers=2, max_size=24, max_batch=7))
def test_batch_size_does_not_change_outputs(case):
    """Every batch_size gives the vendor's batch_size=0 result."""
    vendor = build_case(akida, case)
    sim = build_case(akida_sim, case)
    expected = vendor.forward(case.inputs)
    n = case.inputs.shape[0]
    for batch_size in sorted({0, 1, 2, max(1, n - 1), n, n + 1, 2 ** 31}):
        assert_identical(sim.forward(case.inputs, batch_size=batch_size), expected, f"batch_size={batch_size}")


# ----------------------------------------------------------------------
# the built-in example models


@pytest.mark.parametrize("name", ["dscnn_kws", "mnist", "akidanet_05_96"])
@pytest.mark.parametrize("seed", [0, 1])
def test_zoo_model_identical(name, seed):
    sim = zoo.build(name, seed=seed)
    vendor = sim.to_akida(akida)
    x = zoo.random_inputs(sim, 4, np.random.default_rng(seed + 100))
    assert_identical(sim.forward(x), vendor.forward(x))
    assert_predict_close(sim.predict(x), vendor.predict(x))
    # every hidden layer too: the model truncated after each layer
    for i in range(1, len(sim.layers) - 1):
        head = akida_sim.Model(layers=sim.layers[: i + 1])
        vendor_head = akida.Model(layers=vendor.layers[: i + 1])
        assert_identical(head.forward(x), vendor_head.forward(x), f"{name} up to layer {sim.layers[i].name}")


# ----------------------------------------------------------------------
# wrap, saturation and large-value extremes


def single_layer_case(kind, args, input_shape, input_bits, weights, threshold=None, act_step=None, inputs=None):
    f = args.get("filters", args.get("units"))
    variables = {"threshold": np.zeros(f, np.int32) if threshold is None else np.asarray(threshold, np.int32),
                 "act_step": np.ones(f, np.float32) if act_step is None else np.asarray(act_step, np.float32)}
    variables.update(weights)
    layers = [LayerSpec("inp", dict(input_shape=input_shape, input_bits=input_bits)), LayerSpec(kind, args)]
    return ModelCase(layers=layers, variables=[{}, variables], inputs=inputs)


def test_separable_int32_wrap():
    """Sep 3x3 over 1000 channels, all weights 127, inputs 15: the pointwise sum wraps in int32."""
    c, f = 1000, 3
    weights = {"weights": np.full((3, 3, c, 1), 127, np.int8), "weights_pw": np.full((1, 1, c, f), 127, np.int8)}
    x = np.full((2, 3, 3, c), 15, np.uint8)
    x[1, 0, 0, :500] = 0
    args = dict(kernel_size=(3, 3), filters=f, weights_bits=8, activation=False)
    out = compare_case(single_layer_case("sep", args, (3, 3, c), 4, weights, inputs=x))
    assert out.min() < 0  # the wrap happened (the exact sum is positive)


def test_separable_wrap_then_activation():
    c, f = 1000, 4
    rng = np.random.default_rng(3)
    weights = {"weights": np.full((3, 3, c, 1), 127, np.int8),
               "weights_pw": rng.choice(np.array([127, -128, 100], np.int8), (1, 1, c, f))}
    x = np.full((2, 5, 5, c), 15, np.uint8)
    args = dict(kernel_size=(3, 3), filters=f, weights_bits=8, act_bits=4)
    compare_case(single_layer_case("sep", args, (5, 5, c), 4, weights, threshold=[0, -5, 10 ** 6, -(2 ** 31)],
                                   act_step=[1, 3.3, 4000, 2 ** 20], inputs=x))


@pytest.mark.parametrize("kernel", [(1, 1), (7, 7)])
def test_convolutional_large_potentials(kernel):
    """Conv with many channels and no pooling: exact int32 potentials (wrapping beyond 2**31)."""
    kx, ky = kernel
    c = 24000 if kernel == (7, 7) else 3000
    weights = {"weights": np.full((kx, ky, c, 2), 127, np.int8)}
    weights["weights"][..., 1] = -128
    x = np.full((1, kx, ky, c), 15, np.uint8)
    args = dict(kernel_size=kernel, filters=2, weights_bits=8, activation=False, padding=0)
    compare_case(single_layer_case("conv", args, (kx, ky, c), 4, weights, inputs=x))


@pytest.mark.parametrize("kind", ["conv", "sep"])
@pytest.mark.parametrize("activation", [False, True])
def test_max_pooling_20_bit_clip(kind, activation):
    """Max pooling saturates the potentials to 20-bit signed before the max."""
    c, f = 300, 3
    rng = np.random.default_rng(7)
    if kind == "conv":
        weights = {"weights": rng.choice(np.array([127, -128], np.int8), (3, 3, c, f))}
        weights["weights"][..., 0] = 127
        weights["weights"][..., 1] = -128
    else:
        weights = {"weights": np.full((3, 3, c, 1), 127, np.int8),
                   "weights_pw": rng.choice(np.array([127, -128, 5], np.int8), (1, 1, c, f))}
    x = rng.choice(np.array([0, 15, 15], np.uint8), (2, 6, 6, c))
    args = dict(kernel_size=(3, 3), filters=f, weights_bits=8, pool_type=1, pool_size=(2, 3), pool_stride=(1, 2),
                activation=activation, act_bits=4)
    out = compare_case(single_layer_case(kind, args, (6, 6, c), 4, weights, threshold=[472_687, 0, -(2 ** 20)],
                                         act_step=[4000, 2 ** 15, 7.5], inputs=x))
    if not activation:
        assert out.max() <= 2 ** 19 - 1 and out.min() >= -(2 ** 19)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("activation", [False, True])
def test_global_average_running_saturation(seed, activation):
    """Global "average" pooling: a running 20-bit saturated sum in row-major order."""
    rng = np.random.default_rng(seed)
    c, f = 200, 4
    weights = {"weights": rng.choice(np.array([127, -128, 60, 0], np.int8), (1, 1, c, f))}
    x = rng.integers(0, 16, (3, 6, 5, c)).astype(np.uint8)
    # rows of very different signs make the running saturation order-dependent
    x[:, :3, :, : c // 2] = 15
    x[:, :3, :, c // 2:] = 0
    x[:, 3:, :, : c // 2] = 0
    x[:, 3:, :, c // 2:] = 15
    args = dict(kernel_size=(1, 1), filters=f, weights_bits=8, pool_type=2, activation=activation, act_bits=2)
    compare_case(single_layer_case("conv", args, (6, 5, c), 4, weights, threshold=rng.integers(-1000, 1000, f),
                                   act_step=[1, 100, 2 ** 12, 2 ** 17], inputs=x))


@pytest.mark.parametrize("activation", [False, True])
def test_fully_connected_20_bit_clip(activation):
    """FC: the final sum saturates to 20 bits (not a running clip)."""
    n_in, units = 1000, 5
    w = np.zeros((1, 1, n_in, units), np.int8)
    w[..., 0] = 127
    w[..., 1] = -128
    w[0, 0, :400, 2] = 127
    w[0, 0, 400:700, 2] = -128
    w[0, 0, :, 3] = np.where(np.arange(n_in) % 2, 127, -128)
    w[0, 0, :, 4] = 3
    x = np.full((2, 10, 10, 10), 15, np.uint8)
    x[1, ::2] = 0
    args = dict(units=units, weights_bits=8, activation=activation, act_bits=4)
    out = compare_case(single_layer_case("fc", args, (10, 10, 10), 4, {"weights": w},
                                         threshold=[0, 0, 10, -7, 2 ** 31 - 1], act_step=[2 ** 14, 1, 9.9, 0.0625, 1],
                                         inputs=x))
    if not activation:
        assert out.max() == 2 ** 19 - 1 and out.min() == -(2 ** 19)


@pytest.mark.parametrize("act_bits", [1, 2, 4])
@pytest.mark.parametrize("seed", range(3))
def test_activation_large_steps_and_thresholds(act_bits, seed):
    """Many FC neurons with |p - T| up to 2**31 and act_step up to 2**27: the 28-bit division region."""
    rng = np.random.default_rng(seed)
    units = 2000
    w = rng.integers(-128, 128, (1, 1, 4, units)).astype(np.int8)
    magnitudes = rng.choice([2 ** 8, 2 ** 16, 2 ** 24, 2 ** 28, 2 ** 31], units)
    t = np.clip(rng.integers(-(2 ** 31), 2 ** 31, units) % magnitudes * rng.choice([-1, 1], units),
                -(2 ** 31), 2 ** 31 - 1).astype(np.int32)
    t[:8] = [-(2 ** 31), 2 ** 31 - 1, -(2 ** 24 + 1), -(2 ** 24), -(2 ** 25 + 1), -(2 ** 30 + 5), -(2 ** 27 + 1), 0]
    s = 2.0 ** rng.uniform(-4, 27, units)
    s = np.asarray([fix_act_step(v) for v in s], np.float32)
    s[:8] = 1
    x = rng.integers(0, 16, (3, 1, 1, 4)).astype(np.uint8)
    args = dict(units=units, weights_bits=8, act_bits=act_bits)
    compare_case(single_layer_case("fc", args, (1, 1, 4), 4, {"weights": w}, threshold=t, act_step=s, inputs=x))


@pytest.mark.parametrize("act_bits", [1, 2, 3, 4])
def test_input_convolutional_extremes(act_bits):
    """IC with full-range 8-bit weights, padding_value 255, big strides and large thresholds/steps."""
    rng = np.random.default_rng(act_bits)
    f = 64
    args = dict(input_shape=(9, 11, 4), kernel_size=(7, 5), filters=f, kernel_stride=(9, 2), weights_bits=8,
                padding_value=255, act_bits=act_bits, pool_type=1, pool_size=(1, 2))
    w = rng.choice(np.array([127, -128, 0, 1], np.int8), (7, 5, 4, f))
    t = rng.integers(-(2 ** 20), 2 ** 20, f).astype(np.int32)
    s = np.asarray([fix_act_step(v) for v in 2.0 ** rng.uniform(-4, 20, f)], np.float32)
    x = rng.integers(0, 256, (2, 9, 11, 4)).astype(np.uint8)
    case = ModelCase(layers=[LayerSpec("ic", args)], variables=[{"weights": w, "threshold": t, "act_step": s}],
                     inputs=x)
    compare_case(case)


# ----------------------------------------------------------------------
# known mismatches (minimal cases)


def _potential_case(potential, thresholds, steps):
    """Conv 1x1 (activation=False) whose potential is exactly ``potential`` for
    every filter: 1-bit inputs all 1, weights 127 then 1."""
    k, r = divmod(potential, 127)
    c = k + r
    w = np.zeros((1, 1, c, len(thresholds)), np.int8)
    w[0, 0, :k] = 127
    w[0, 0, k:] = 1
    args = dict(kernel_size=(1, 1), filters=len(thresholds), weights_bits=8, activation=False)
    return single_layer_case("conv", args, (1, 1, c), 1, {"weights": w}, threshold=thresholds, act_step=steps,
                             inputs=np.ones((1, 1, 1, c), np.uint8))


def _predicts(case):
    vendor = build_case(akida, case)
    sim = build_case(akida_sim, case)
    assert_identical(sim.forward(case.inputs), vendor.forward(case.inputs))
    return sim.predict(case.inputs), vendor.predict(case.inputs)


def test_predict_wraps_p_minus_threshold_in_int32():
    """p = 0, T = -2**31: predict is -2**31 / s, because p - T wraps in int32."""
    w = np.zeros((1, 1, 1, 2), np.int8)
    args = dict(kernel_size=(1, 1), filters=2, weights_bits=1, activation=False)
    case = single_layer_case("conv", args, (1, 1, 1), 1, {"weights": w}, threshold=[-(2 ** 31), -(2 ** 31) + 5],
                             act_step=[1.0, 10.408264], inputs=np.ones((1, 1, 1, 1), np.uint8))
    sim, vendor = _predicts(case)
    assert_identical(sim, vendor, "predict")


def test_predict_rounds_once_for_potentials_above_2_24():
    """p = 2**24 + 1 (not a float32), T = 5 and T = -(2**24 + 5), s = 1: bit-identical predict."""
    case = _potential_case(2 ** 24 + 1, [5, -(2 ** 24 + 5)], [1.0, 1.0])
    sim, vendor = _predicts(case)
    assert_identical(sim, vendor, "predict")
