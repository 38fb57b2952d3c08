"""Model forward/predict against the naive model of tests/naive.py; batching, layouts, names, copies."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import akida_sim as ak
from tests import naive

EXAMPLES = settings().max_examples

WEIGHT_RANGE = {1: (0, 1), 2: (-1, 1), 4: (-7, 7), 8: (-128, 127)}


# ----------------------------------------------------------------------------- random models
def _pooling(draw, allow_avg=True):
    kind = draw(st.sampled_from(["none", "max", "avg"] if allow_avg else ["none", "max"]))
    if kind == "max":
        size = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        stride = (draw(st.integers(-1, size[0])), draw(st.integers(-1, size[1])))
        return dict(pool_type=ak.PoolType.Max, pool_size=size, pool_stride=stride)
    if kind == "avg":
        return dict(pool_type=ak.PoolType.Average)
    return {}


def _conv_args(draw, allow_avg=True):
    k = (draw(st.sampled_from([1, 3, 5])), draw(st.sampled_from([1, 3])))
    args = dict(kernel_size=k, filters=draw(st.integers(1, 5)),
                padding=draw(st.sampled_from([ak.Padding.Same, ak.Padding.Valid])),
                kernel_stride=(draw(st.integers(1, k[0])), draw(st.integers(1, k[1]))),
                act_bits=draw(st.sampled_from([1, 2, 4])))
    args.update(_pooling(draw, allow_avg))
    return args


@st.composite
def model_specs(draw, max_layers=3):
    """A list of (class, kwargs) and the input (shape, bits); the last layer may have no activation."""
    shape = (draw(st.integers(5, 9)), draw(st.integers(5, 9)), draw(st.integers(1, 3)))
    specs = []
    if draw(st.booleans()):
        args = _conv_args(draw)
        args["act_bits"] = draw(st.sampled_from([1, 2, 3, 4]))
        specs.append((ak.InputConvolutional, dict(input_shape=shape, weights_bits=draw(st.sampled_from([2, 4, 8, 3])),
                                                  padding_value=draw(st.sampled_from([0, 0, 7, 255])), **args)))
        input_bits = 8
    else:
        input_bits = draw(st.integers(1, 4))
        specs.append((ak.InputData, dict(input_shape=shape, input_bits=input_bits)))
    for _ in range(draw(st.integers(1, max_layers))):
        kind = draw(st.sampled_from(["conv", "sep", "fc"]))
        wb = draw(st.sampled_from([1, 2, 4, 8]))
        if kind == "fc":
            specs.append((ak.FullyConnected, dict(units=draw(st.integers(1, 6)), weights_bits=wb,
                                                  act_bits=draw(st.sampled_from([1, 2, 4])))))
        else:
            cls = ak.Convolutional if kind == "conv" else ak.SeparableConvolutional
            specs.append((cls, dict(weights_bits=wb, **_conv_args(draw))))
    if draw(st.booleans()):
        specs[-1][1]["activation"] = False
    seed = draw(st.integers(0, 2 ** 32 - 1))
    n = draw(st.integers(1, 4))
    return specs, input_bits, seed, n


def build(specs, seed):
    """Add the layers (skipping a spec whose output would be empty) and fill random variables.

    Thresholds and steps are calibrated on the naive potentials so that activations are
    spread over the levels, with some neurons pushed to extremes.
    """
    rng = np.random.default_rng(seed)
    model = ak.Model()
    for cls, kwargs in specs:
        try:
            model.add(cls(**kwargs))
        except RuntimeError as exc:  # output size would not be strictly positive
            assert "strictly positive" in str(exc)
            if model.layer_count == 0:
                return None
            break
    if len([l for l in model.layers if not isinstance(l, ak.InputData)]) == 0:
        return None
    x = random_inputs(model, 6, rng)
    for layer in model.layers:
        if isinstance(layer, ak.InputData):
            continue
        p = layer.parameters
        is_ic = isinstance(layer, ak.InputConvolutional)
        lo, hi = WEIGHT_RANGE.get(p.weights_bits, (-128, 127)) if not is_ic or p.weights_bits in (1, 2, 4) \
            else (-128, 127)
        for name in ("weights", "weights_pw"):
            if name in layer.get_variable_names():
                shape = layer.get_variable(name).shape
                layer.set_variable(name, rng.integers(lo, hi + 1, size=shape).astype(np.int8))
        pot = naive.layer_potentials(layer, x).reshape(-1, p.filters if hasattr(p, "filters") else p.units)
        f = pot.shape[1]
        threshold = np.floor(np.quantile(pot, 0.4, axis=0)).astype(np.int64)
        threshold += rng.integers(-3, 4, size=f)
        spread = np.maximum(np.quantile(pot, 0.95, axis=0) - threshold, 1)
        step = spread / (2 ** p.act_bits - 1) / 2 ** (4 - p.act_bits) * rng.uniform(0.5, 1.5, size=f)
        step = np.clip(step, 1 / 16, 2 ** 20).astype(np.float32)
        layer.set_variable("threshold", np.clip(threshold, -(2 ** 31), 2 ** 31 - 1).astype(np.int32))
        layer.set_variable("act_step", step)
        if p.activation:
            x = naive.activate(naive.layer_potentials(layer, x), layer.get_variable("threshold"),
                               layer.get_variable("act_step"), p.act_bits)
    return model


def random_inputs(model, n, rng):
    bits = model.layers[0].input_bits
    x = rng.integers(0, 2 ** bits, size=(n, *model.input_shape), dtype=np.uint8)
    x[rng.random(x.shape) < 0.3] = 0
    return x


@settings(max_examples=EXAMPLES)
@given(model_specs())
def test_forward_matches_naive(spec):
    specs, _, seed, n = spec
    model = build(specs, seed)
    if model is None:
        return
    x = random_inputs(model, n, np.random.default_rng(seed + 1))
    out = model.forward(x)
    expected = naive.forward(model, x)
    last = model.layers[-1]
    assert out.shape == (n, *model.output_shape)
    assert out.dtype == (np.uint8 if last.parameters.activation else np.int32)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)
    if not last.parameters.activation:
        pred = model.predict(x)
        assert pred.dtype == np.float32 and pred.shape == out.shape
        np.testing.assert_array_equal(pred, naive.predict(model, x))
    # batching does not change anything
    k = int(np.random.default_rng(seed).integers(1, n + 2))
    np.testing.assert_array_equal(model.forward(x, batch_size=k), out)


@settings(max_examples=max(5, EXAMPLES // 4))
@given(model_specs(max_layers=2), st.integers(1, 6))
def test_forward_batch_size_and_layouts(spec, batch_size):
    specs, _, seed, _ = spec
    model = build(specs, seed)
    if model is None:
        return
    rng = np.random.default_rng(seed)
    x = random_inputs(model, 5, rng)
    ref = model.forward(x)
    for k in (0, 1, 2, batch_size, 5, 100, np.int64(3)):
        np.testing.assert_array_equal(model.forward(x, batch_size=k), ref)
    np.testing.assert_array_equal(model.forward(np.asfortranarray(x)), ref)
    # a strided (non-contiguous) view of a bigger array
    big = np.zeros((10, x.shape[1] * 2, x.shape[2], x.shape[3] + 1), np.uint8)
    big[::2, ::2, :, :-1] = x
    view = big[::2, ::2, :, :-1]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(model.forward(view), ref)
    # a transposed view with the right logical shape
    t = np.ascontiguousarray(x.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0)
    np.testing.assert_array_equal(model.forward(t), ref)
    # forward does not modify its input
    np.testing.assert_array_equal(x, random_inputs(model, 5, np.random.default_rng(seed)))


def test_output_dtypes_every_act_bits():
    for bits in (1, 2, 4):
        m = ak.Model()
        m.add(ak.InputData(input_shape=(4, 4, 2)))
        m.add(ak.Convolutional(kernel_size=(3, 3), filters=3, act_bits=bits, weights_bits=4))
        m.layers[1].set_variable("weights", np.full((3, 3, 2, 3), 7, np.int8))
        out = m.forward(np.full((2, 4, 4, 2), 15, np.uint8))
        assert out.dtype == np.uint8 and out.max() == 2 ** bits - 1
    m.pop_layer()
    m.add(ak.FullyConnected(units=3, activation=False))
    out = m.forward(np.ones((2, 4, 4, 2), np.uint8))
    assert out.dtype == np.int32 and out.shape == (2, 1, 1, 3)


def test_activation_false_returns_raw_potential_ignoring_threshold():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(1, 1, 3)))
    m.add(ak.FullyConnected(units=2, weights_bits=8, activation=False))
    fc = m.layers[1]
    fc.set_variable("weights", np.array([[[[1, -2], [3, 4], [5, -6]]]], np.int8))
    fc.set_variable("threshold", np.array([100, -7], np.int32))
    fc.set_variable("act_step", np.array([0.7, 3.0], np.float32))
    x = np.array([2, 3, 4], np.uint8).reshape(1, 1, 1, 3)
    pot = m.forward(x)
    assert pot.tolist() == [[[[2 + 9 + 20, -4 + 12 - 24]]]]
    pred = m.predict(x)
    expected = np.array([(np.float32(31) - np.float32(100)) / np.float32(0.7),
                         (np.float32(-16) - np.float32(-7)) / np.float32(3.0)], np.float32)
    assert pred.dtype == np.float32
    np.testing.assert_array_equal(pred.ravel(), expected)  # raw step, not the truncated 0.6875


def test_predict_uses_saturated_potential():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(1, 1, 1000)))
    m.add(ak.FullyConnected(units=1, weights_bits=8, activation=False))
    m.layers[1].set_variable("weights", np.full((1, 1, 1000, 1), -128, np.int8))
    x = np.full((1, 1, 1, 1000), 15, np.uint8)
    assert m.forward(x)[0, 0, 0, 0] == naive.SAT_MIN
    assert m.predict(x)[0, 0, 0, 0] == np.float32(naive.SAT_MIN)


def test_int32_wrap_through_input_conv_model():
    """IC 3x3 Valid on 3x3x8000 at 255*127: 2.33e9 wraps like int32 (no pooling, no clip)."""
    c = 8000
    m = ak.Model()
    m.add(ak.InputConvolutional(input_shape=(3, 3, c), kernel_size=(3, 3), filters=1, weights_bits=8,
                                padding=ak.Padding.Valid, activation=False))
    m.layers[0].set_variable("weights", np.full((3, 3, c, 1), 127, np.int8))
    out = m.forward(np.full((1, 3, 3, c), 255, np.uint8))
    assert out[0, 0, 0, 0] == naive.wrap32(9 * c * 255 * 127)


def test_max_pool_clips_before_activation():
    """Sep 8-bit + Max: the activation sees the 20-bit-clipped potential (semantics §4)."""
    m = ak.Model()
    m.add(ak.InputData(input_shape=(4, 4, 300)))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=1, weights_bits=8, pool_type=ak.PoolType.Max,
                           pool_size=(2, 2), act_bits=4))
    conv = m.layers[1]
    conv.set_variable("weights", np.full((3, 3, 300, 1), 127, np.int8))
    conv.set_variable("threshold", np.array([472_687], np.int32))
    conv.set_variable("act_step", np.array([4000], np.float32))
    x = np.full((1, 4, 4, 300), 15, np.uint8)
    out = m.forward(x)
    # clipped: ceil((524287 - 472687) * 16 / 64000) = 13; unclipped would give 15
    assert out.max() == 13
    np.testing.assert_array_equal(out, naive.forward(m, x))


def test_padding_value_in_model():
    m = ak.Model()
    m.add(ak.InputConvolutional(input_shape=(3, 3, 1), kernel_size=(3, 3), filters=1, weights_bits=8,
                                padding_value=5, activation=False))
    m.layers[0].set_variable("weights", np.ones((3, 3, 1, 1), np.int8))
    out = m.forward(np.zeros((1, 3, 3, 1), np.uint8))
    assert out[0, :, :, 0].tolist() == [[25, 15, 25], [15, 0, 15], [25, 15, 25]]


def test_conv_is_true_convolution_and_ic_a_correlation():
    """Impulse at (3,3) with W[0,1]=1: IC output at (4,3), Conv and Sep at (2,3) (semantics §1)."""
    x = np.zeros((1, 8, 8, 1), np.uint8)
    x[0, 3, 3, 0] = 1
    w = np.zeros((3, 3, 1, 1), np.int8)
    w[0, 1, 0, 0] = 1
    ic = ak.Model()
    ic.add(ak.InputConvolutional(input_shape=(8, 8, 1), kernel_size=(3, 3), filters=1, activation=False, weights_bits=8))
    ic.layers[0].set_variable("weights", w)
    assert list(zip(*np.nonzero(ic.forward(x)[0, :, :, 0]))) == [(4, 3)]
    for cls, extra in ((ak.Convolutional, {}), (ak.SeparableConvolutional, {})):
        m = ak.Model()
        m.add(ak.InputData(input_shape=(8, 8, 1), input_bits=1))
        m.add(cls(kernel_size=(3, 3), filters=1, activation=False, weights_bits=1, **extra))
        m.layers[1].set_variable("weights", w.astype(np.int8))
        if cls is ak.SeparableConvolutional:
            m.layers[1].set_variable("weights_pw", np.ones((1, 1, 1, 1), np.int8))
        assert list(zip(*np.nonzero(m.forward(x)[0, :, :, 0]))) == [(2, 3)]


def test_forward_caches_follow_set_variable():
    """Setting a variable after a forward is seen by the next forward."""
    m = ak.Model()
    m.add(ak.InputData(input_shape=(4, 4, 1)))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=1, weights_bits=4, activation=False))
    x = np.ones((1, 4, 4, 1), np.uint8)
    assert not m.forward(x).any()
    m.layers[1].set_variable("weights", np.ones((3, 3, 1, 1), np.int8))
    assert m.forward(x)[0, 1, 1, 0] == 9
    m.pop_layer()
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=1, weights_bits=4, act_bits=4))
    m.layers[1].set_variable("weights", np.ones((3, 3, 1, 1), np.int8))
    m.layers[1].set_variable("act_step", np.array([0.5], np.float32))
    assert m.forward(x)[0, 1, 1, 0] == 15
    m.layers[1].set_variable("act_step", np.array([100.0], np.float32))
    assert m.forward(x)[0, 1, 1, 0] == 1


# ----------------------------------------------------------------------------- structure
def _conv(name=""):
    return ak.Convolutional(kernel_size=(1, 1), filters=2, name=name)


def _names(explicit):
    m = ak.Model()
    m.add(ak.InputData(input_shape=(4, 4, 2)))
    for n in explicit:
        if n and n.startswith("Fully"):
            m.add(ak.FullyConnected(units=2, name=n))
        else:
            m.add(_conv(n or ""))
    return [l.name for l in m.layers]


@pytest.mark.parametrize("explicit, expected", [
    (["Conv_5", None, None, None], ["Conv_5", "Conv_3", "Conv_4", "Conv_6"]),
    (["Conv_4", None, None], ["Conv_4", "Conv_3", "Conv_5"]),
    (["Conv_3", None], ["Conv_3", "Conv_4"]),
    (["Fully_3", None], ["Fully_3", "Conv_3"]),
    ([None, ""], ["Conv_2", "Conv_3"]),
])
def test_default_names(explicit, expected):
    """FINDINGS Q1: k = 1-based position, raised while <Type>_k is taken."""
    assert _names(explicit) == ["InputData_1"] + expected


def test_default_name_prefixes():
    m = ak.Model()
    m.add(ak.InputConvolutional(input_shape=(4, 4, 3), kernel_size=(3, 3), filters=2))
    m.add(_conv())
    m.add(ak.FullyConnected(units=2))
    assert [l.name for l in m.layers] == ["InputConv_1", "Conv_2", "Fully_3"]
    m = ak.Model()
    m.add(ak.InputData(input_shape=(4, 4, 2)))
    m.add(_conv())
    m.add(ak.SeparableConvolutional(kernel_size=(3, 3), filters=2))
    m.add(ak.FullyConnected(units=2))
    assert [l.name for l in m.layers] == ["InputData_1", "Conv_2", "SepConv_3", "Fully_4"]
    # pop keeps the other names; a re-added layer gets the name of its position
    m.pop_layer()
    m.add(ak.FullyConnected(units=3))
    assert m.layers[-1].name == "Fully_4"
    m.pop_layer()
    m.pop_layer()
    m.add(_conv())
    assert [l.name for l in m.layers] == ["InputData_1", "Conv_2", "Conv_3"]


def test_failed_add_leaves_model_and_layer_unchanged():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(4, 4, 2)))
    m.add(_conv("c"))
    bad = ak.Convolutional(kernel_size=(5, 5), filters=2, padding=ak.Padding.Valid)
    with pytest.raises(RuntimeError):
        m.add(bad)
    assert m.layer_count == 2 and bad.name == "" and bad.output_dims == []
    with pytest.raises(ValueError):
        m.add(_conv("c"))
    assert [l.name for l in m.layers] == ["InputData_1", "c"]


def test_get_layer_and_pop_layer():
    m = ak.Model()
    assert m.pop_layer() is None and m.layer_count == 0
    m.add(ak.InputData(input_shape=(4, 4, 2)))
    m.add(_conv("c"))
    assert m.get_layer("c") is m.layers[1]
    assert m.get_layer(0).name == "InputData_1"
    assert m.get_layer(np.int64(1)).name == "c"
    with pytest.raises(ValueError, match="The layer named 'zz' doesn't exist"):
        m.get_layer("zz")
    with pytest.raises(ValueError, match="No layer at index 2"):
        m.get_layer(2)
    for bad in (-1, None, 1.0):
        with pytest.raises(TypeError, match="get_layer"):
            m.get_layer(bad)
    m.pop_layer()
    assert m.layer_count == 1 and m.output_shape == [4, 4, 2]
    m.pop_layer()
    assert m.layer_count == 0
    m.pop_layer()
    assert m.layer_count == 0


def _two_layer_model():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(4, 4, 2), input_bits=2))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=3, name="c", weights_bits=2))
    m.add(ak.FullyConnected(units=3, name="f", activation=False, weights_bits=4))
    rng = np.random.default_rng(1)
    m.get_layer("c").set_variable("weights", rng.integers(-1, 2, size=(3, 3, 2, 3)).astype(np.int8))
    m.get_layer("f").set_variable("weights", rng.integers(-7, 8, size=(1, 1, 48, 3)).astype(np.int8))
    m.get_layer("c").set_variable("threshold", np.array([0, 1, -1], np.int32))
    return m


def test_model_from_layers_copies():
    m = _two_layer_model()
    m2 = ak.Model(layers=m.layers)
    assert [l.name for l in m2.layers] == ["InputData_1", "c", "f"]
    assert all(a is not b for a, b in zip(m.layers, m2.layers))
    for a, b in zip(m.layers, m2.layers):
        for name in a.get_variable_names():
            np.testing.assert_array_equal(a.get_variable(name), b.get_variable(name))
    x = np.random.default_rng(0).integers(0, 4, size=(3, 4, 4, 2), dtype=np.uint8)
    np.testing.assert_array_equal(m2.forward(x), m.forward(x))
    # later changes to the original are not seen by the copy
    m.get_layer("c").set_variable("weights", np.zeros((3, 3, 2, 3), np.int8))
    assert m2.get_layer("c").get_variable("weights").any()


def test_model_from_tail_creates_input_data():
    m = _two_layer_model()
    m3 = ak.Model(layers=m.layers[1:])
    assert [l.name for l in m3.layers] == ["InputData", "c", "f"]
    idata = m3.layers[0]
    assert isinstance(idata, ak.InputData)
    assert idata.parameters.input_bits == 2 and m3.input_shape == [4, 4, 2]
    x = np.random.default_rng(0).integers(0, 4, size=(3, 4, 4, 2), dtype=np.uint8)
    np.testing.assert_array_equal(m3.forward(x), m.forward(x))
    m4 = ak.Model(layers=[m.get_layer("f")])
    assert [(l.name, l.output_dims) for l in m4.layers] == [("InputData", [4, 4, 3]), ("f", [1, 1, 3])]
    assert m4.layers[0].parameters.input_bits == 1  # the act_bits of 'c'
    assert ak.Model(layers=[]).layer_count == 0
    fresh = ak.Model(layers=[ak.InputData(input_shape=(4, 4, 2)), _conv()])
    assert [l.name for l in fresh.layers] == ["InputData_1", "Conv_2"]


def test_model_from_fresh_non_input_layer_fails():
    with pytest.raises(RuntimeError, match="Cannot get input size before it is set"):
        ak.Model(layers=[_conv()])


def test_model_from_layers_out_of_order_fails():
    m = _two_layer_model()
    with pytest.raises(ValueError):
        ak.Model(layers=[m.get_layer("f"), m.get_layer("c")])


def test_adding_a_layer_of_another_model_copies_it():
    m = _two_layer_model()
    c = m.get_layer("c")
    before = c.get_variable("weights")
    mm = ak.Model()
    mm.add(ak.InputData(input_shape=(4, 4, 2), input_bits=2))
    mm.add(c)
    assert m.get_layer("c") is c
    np.testing.assert_array_equal(c.get_variable("weights"), before)
    np.testing.assert_array_equal(mm.get_layer("c").get_variable("weights"), before)


def test_model_properties():
    m = _two_layer_model()
    assert m.layer_count == 3 == len(m.layers)
    assert m.input_shape == [4, 4, 2] and m.output_shape == [1, 1, 3]
    layers = m.layers
    layers.pop()
    assert m.layer_count == 3  # .layers is a new list


def test_predict_with_full_int32_thresholds():
    """predict = float32(wrap32(p - T)) / s: p - T is exact and wraps like int32 before the single rounding."""
    m = ak.Model()
    m.add(ak.InputData(input_shape=(1, 1, 1)))
    m.add(ak.FullyConnected(units=4, weights_bits=8, activation=False))
    fc = m.layers[1]
    fc.set_variable("weights", np.array([[[[127, -128, 1, 0]]]], np.int8))
    threshold = np.array([-(2 ** 31), 2 ** 31 - 1, 16_777_217, -3], np.int32)
    fc.set_variable("threshold", threshold)
    fc.set_variable("act_step", np.array([1.0, 3.0, 1.0, 0.1], np.float32))
    x = np.array([[[[15]]]], np.uint8)
    pot = m.forward(x)
    assert pot.ravel().tolist() == [1905, -1920, 15, 0]
    pred = m.predict(x).ravel()
    assert pred.dtype == np.float32
    np.testing.assert_array_equal(pred, naive.predict_values(pot, threshold, fc.get_variable("act_step")).ravel())
    assert pred[0] == np.float32(1905 - 2 ** 31) < 0  # 1905 + 2**31 wraps negative
    assert pred[1] == np.float32(np.float32(-1920 - (2 ** 31 - 1) + 2 ** 32) / np.float32(3.0)) > 0  # wraps positive
    assert pred[2] == np.float32(15 - 16_777_217)  # exact difference, one rounding
