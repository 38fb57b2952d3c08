"""Layers: arguments, parameters, output shapes and variables (no vendor package needed)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import akida_sim as ak
from tests import naive

EXAMPLES = settings().max_examples


def model_with(layer, input_shape=(8, 8, 2), input_bits=4):
    m = ak.Model()
    m.add(ak.InputData(input_shape=input_shape, input_bits=input_bits))
    m.add(layer)
    return m


# ----------------------------------------------------------------------------- defaults
def test_fresh_layer_defaults():
    conv = model_with(ak.Convolutional(kernel_size=(3, 3), filters=4)).layers[1]
    assert conv.get_variable_names() == ["act_step", "threshold", "weights"]
    w = conv.get_variable("weights")
    assert w.dtype == np.int8 and w.shape == (3, 3, 2, 4) and not w.any()
    t = conv.get_variable("threshold")
    assert t.dtype == np.int32 and t.shape == (4,) and not t.any()
    s = conv.get_variable("act_step")
    assert s.dtype == np.float32 and s.shape == (4,) and (s == 1.0).all()


def test_variable_shapes_per_layer_type():
    ic = ak.InputConvolutional(input_shape=(9, 9, 3), kernel_size=(5, 3), filters=6)
    assert ic.get_variable("weights").shape == (5, 3, 3, 6)  # known before joining a model
    assert ic.output_dims == [9, 9, 6]
    sep = model_with(ak.SeparableConvolutional(kernel_size=(3, 5), filters=7)).layers[1]
    assert sep.get_variable_names() == ["act_step", "threshold", "weights", "weights_pw"]
    assert sep.get_variable("weights").shape == (3, 5, 2, 1)
    assert sep.get_variable("weights_pw").shape == (1, 1, 2, 7)
    fc = model_with(ak.FullyConnected(units=5), input_shape=(3, 4, 2)).layers[1]
    assert fc.get_variable("weights").shape == (1, 1, 24, 5)
    assert fc.output_dims == [1, 1, 5]


def test_unbound_layer_has_no_name_and_no_variables():
    conv = ak.Convolutional(kernel_size=(3, 3), filters=4)
    assert conv.name == ""
    assert conv.output_dims == []
    with pytest.raises(ValueError, match="No such variable 'weights'"):
        conv.get_variable("weights")


def test_name_is_read_only():
    conv = ak.Convolutional(kernel_size=(3, 3), filters=4, name="c")
    with pytest.raises(AttributeError):
        conv.name = "d"


def test_parameters_use_vendor_names():
    conv = ak.Convolutional(kernel_size=(3, 5), filters=4, kernel_stride=(1, 2), weights_bits=4,
                            pool_type=ak.PoolType.Max, pool_size=(2, 3), pool_stride=(0, 2), act_bits=2,
                            padding=ak.Padding.Valid)
    p = conv.parameters
    assert (p.kernel_width, p.kernel_height, p.stride_x, p.stride_y) == (3, 5, 1, 2)
    assert (p.pooling_width, p.pooling_height) == (2, 3)
    # A 0 stride acts as the pool size but is shown as given, as the vendor shows it.
    assert (p.pooling_stride_x, p.pooling_stride_y) == (0, 2)
    assert p.filters == 4 and p.weights_bits == 4 and p.act_bits == 2 and p.activation is True
    assert p.padding == ak.Padding.Valid and p.pool_type == ak.PoolType.Max
    assert p.layer_type == ak.LayerType.Convolutional
    ic = ak.InputConvolutional(input_shape=(8, 6, 3), kernel_size=(3, 3), filters=2, padding_value=9)
    q = ic.parameters
    assert (q.input_width, q.input_height, q.input_channels, q.padding_value) == (8, 6, 3, 9)
    idata = ak.InputData(input_shape=(8, 6, 2), input_bits=3).parameters
    assert (idata.input_width, idata.input_height, idata.input_channels, idata.input_bits) == (8, 6, 2, 3)
    assert idata.input_signed is False or idata.input_signed == 0
    assert ak.InputData(input_shape=(8, 6, 2), input_bits=8).parameters.input_signed  # > 4 bits: signed
    fc = ak.FullyConnected(units=3, weights_bits=2, activation=False, act_bits=4).parameters
    assert (fc.units, fc.weights_bits, fc.activation, fc.act_bits) == (3, 2, False, 4)


def test_enum_arguments_accept_ints():
    conv = ak.Convolutional(kernel_size=(3, 3), filters=4, padding=0, activation=1)
    assert conv.parameters.padding == ak.Padding.Valid
    assert conv.parameters.activation is True


def test_legal_widths():
    for bits in (1, 2, 4, 8):
        ak.Convolutional(kernel_size=(3, 3), filters=1, weights_bits=bits)
        ak.SeparableConvolutional(kernel_size=(3, 3), filters=1, weights_bits=bits)
        ak.FullyConnected(units=1, weights_bits=bits)
    for bits in (-1, 0, 3, 5, 9, 16, 300):  # InputConvolutional accepts any width (full int8)
        ak.InputConvolutional(input_shape=(4, 4, 1), kernel_size=(1, 1), filters=1, weights_bits=bits)
    ak.InputConvolutional(input_shape=(4, 4, 1), kernel_size=(1, 1), filters=1, act_bits=3)
    for c in (1, 2, 3, 4, 5):
        ak.InputConvolutional(input_shape=(4, 4, c), kernel_size=(1, 1), filters=1)
    for bits in (1, 2, 3, 4, 8, 16):
        ak.InputData(input_shape=(4, 4, 1), input_bits=bits)


# ----------------------------------------------------------------------------- shapes
@st.composite
def conv_geometry(draw):
    k = (draw(st.sampled_from([1, 3, 5])), draw(st.sampled_from([1, 3, 5])))
    s = (draw(st.integers(1, k[0])), draw(st.integers(1, k[1])))
    same = draw(st.booleans())
    shape = (draw(st.integers(k[0], 20)), draw(st.integers(k[1], 20)), draw(st.integers(1, 4)))
    pool = draw(st.sampled_from(["none", "max", "avg"]))
    ps = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    pst = (draw(st.integers(-1, ps[0])), draw(st.integers(-1, ps[1])))
    return k, s, same, shape, pool, ps, pst


def expected_dims(k, s, same, shape, pool, ps, pst, filters):
    ox = naive.out_size(shape[0], k[0], s[0], same)
    oy = naive.out_size(shape[1], k[1], s[1], same)
    if pool == "avg":
        return [1, 1, filters]
    if pool == "max":
        st_ = [z if t <= 0 else t for z, t in zip(ps, pst)]
        if same:
            ox, oy = math.ceil(ox / st_[0]), math.ceil(oy / st_[1])
        else:
            ox, oy = (ox - ps[0]) // st_[0] + 1, (oy - ps[1]) // st_[1] + 1
    return [ox, oy, filters]


@settings(max_examples=EXAMPLES)
@given(conv_geometry(), st.sampled_from(["conv", "sep", "ic"]))
def test_output_dims(geom, kind):
    k, s, same, shape, pool, ps, pst = geom
    kwargs = dict(kernel_size=k, filters=3, kernel_stride=s,
                  padding=ak.Padding.Same if same else ak.Padding.Valid)
    if pool == "max":
        kwargs.update(pool_type=ak.PoolType.Max, pool_size=ps, pool_stride=pst)
    elif pool == "avg":
        kwargs.update(pool_type=ak.PoolType.Average)
    dims = expected_dims(k, s, same, shape, pool, ps, pst, 3)
    layer_cls = {"conv": ak.Convolutional, "sep": ak.SeparableConvolutional}.get(kind)
    if dims[0] < 1 or dims[1] < 1:
        with pytest.raises(RuntimeError, match="Computed output size would not be strictly positive"):
            if kind == "ic":
                ak.InputConvolutional(input_shape=shape, **kwargs)
            else:
                model_with(layer_cls(**kwargs), input_shape=shape)
        return
    if kind == "ic":
        layer = ak.InputConvolutional(input_shape=shape, **kwargs)
        m = ak.Model()
        m.add(layer)
    else:
        m = model_with(layer_cls(**kwargs), input_shape=shape)
    assert m.layers[-1].output_dims == dims
    assert m.output_shape == dims


def test_output_dims_examples():
    """Explicit cases of semantics §1/§4."""
    # Same kernel larger than the input is fine
    assert model_with(ak.Convolutional(kernel_size=(5, 5), filters=2), input_shape=(2, 2, 1)).output_shape == [2, 2, 2]
    # IC accepts stride > kernel
    ic = ak.InputConvolutional(input_shape=(8, 8, 1), kernel_size=(1, 1), filters=2, kernel_stride=(2, 2))
    assert ic.output_dims == [4, 4, 2]
    # Max 2x2 Same on a 9x9 map -> 5x5
    ic = ak.InputConvolutional(input_shape=(9, 9, 3), kernel_size=(3, 3), filters=8,
                               pool_type=ak.PoolType.Max, pool_size=(2, 2))
    assert ic.output_dims == [5, 5, 8]
    # non-square pooling, per-axis stride default
    c = model_with(ak.Convolutional(kernel_size=(3, 3), filters=4, pool_type=ak.PoolType.Max, pool_size=(2, 3)))
    assert c.output_shape == [4, 3, 4]
    c = model_with(ak.Convolutional(kernel_size=(3, 3), filters=4, pool_type=ak.PoolType.Max, pool_size=(3, 3),
                                    pool_stride=(1, 2)))
    assert c.output_shape == [8, 4, 4]
    # global average and FC
    g = model_with(ak.Convolutional(kernel_size=(3, 3), filters=4, pool_type=ak.PoolType.Average))
    assert g.output_shape == [1, 1, 4]
    f = model_with(ak.FullyConnected(units=7))
    assert f.output_shape == [1, 1, 7]
    # FC then Conv 3x3 Same -> [1, 1, F]
    f.add(ak.Convolutional(kernel_size=(3, 3), filters=5))
    assert f.output_shape == [1, 1, 5]


# ----------------------------------------------------------------------------- variables
def test_get_variable_returns_independent_copies():
    conv = model_with(ak.Convolutional(kernel_size=(3, 3), filters=4, weights_bits=4)).layers[1]
    a = conv.get_variable("weights")
    b = conv.get_variable("weights")
    assert a is not b and a.flags.c_contiguous and a.flags.writeable
    a[:] = 3
    assert not conv.get_variable("weights").any()
    src = np.full((3, 3, 2, 4), 2, np.int8)
    conv.set_variable("weights", src)
    src[:] = 5
    assert (conv.get_variable("weights") == 2).all()


def test_set_variable_accepts_fortran_and_strided_arrays():
    conv = model_with(ak.Convolutional(kernel_size=(3, 3), filters=4, weights_bits=8)).layers[1]
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, size=(3, 3, 2, 4)).astype(np.int8)
    conv.set_variable("weights", np.asfortranarray(w))
    np.testing.assert_array_equal(conv.get_variable("weights"), w)
    big = rng.integers(-128, 128, size=(6, 3, 4, 4)).astype(np.int8)
    conv.set_variable("weights", big[::2, :, ::2])
    np.testing.assert_array_equal(conv.get_variable("weights"), big[::2, :, ::2])


@pytest.mark.parametrize("bits, lo, hi", [(1, 0, 1), (2, -1, 1), (4, -7, 7), (8, -128, 127)])
@pytest.mark.parametrize("kind", ["conv", "sep", "sep_pw", "fc"])
def test_weight_ranges(bits, lo, hi, kind):
    layer = {"conv": lambda: ak.Convolutional(kernel_size=(1, 1), filters=1, weights_bits=bits),
             "sep": lambda: ak.SeparableConvolutional(kernel_size=(1, 1), filters=1, weights_bits=bits),
             "sep_pw": lambda: ak.SeparableConvolutional(kernel_size=(1, 1), filters=1, weights_bits=bits),
             "fc": lambda: ak.FullyConnected(units=1, weights_bits=bits)}[kind]()
    layer = model_with(layer, input_shape=(1, 1, 1)).layers[1]
    name = "weights_pw" if kind == "sep_pw" else "weights"
    shape = layer.get_variable(name).shape
    for v in range(-128, 128):
        arr = np.full(shape, v, np.int8)
        if lo <= v <= hi:
            layer.set_variable(name, arr)
            assert layer.get_variable(name).flat[0] == v
        else:
            bound = "Maximum" if v > hi else "Minimum"
            with pytest.raises(ValueError, match=f"Invalid value {v}. {bound} authorized value is {hi if v > hi else lo}"):
                layer.set_variable(name, arr)


@pytest.mark.parametrize("bits, lo, hi", [(1, 0, 1), (2, -1, 1), (4, -7, 7), (8, -128, 127), (3, -128, 127),
                                          (0, -128, 127), (16, -128, 127)])
def test_input_conv_weight_ranges(bits, lo, hi):
    ic = ak.InputConvolutional(input_shape=(2, 2, 1), kernel_size=(1, 1), filters=1, weights_bits=bits)
    for v in (-128, -8, -7, -2, -1, 0, 1, 2, 7, 8, 127):
        arr = np.full((1, 1, 1, 1), v, np.int8)
        if lo <= v <= hi:
            ic.set_variable("weights", arr)
        else:
            with pytest.raises(ValueError, match=f"Invalid value {v}"):
                ic.set_variable("weights", arr)


def test_threshold_accepts_any_int32():
    conv = model_with(ak.Convolutional(kernel_size=(1, 1), filters=3)).layers[1]
    t = np.array([-(2 ** 31), 0, 2 ** 31 - 1], np.int32)
    conv.set_variable("threshold", t)
    np.testing.assert_array_equal(conv.get_variable("threshold"), t)


@pytest.mark.parametrize("step", [1 / 16, 0.7, 1.0, 40.0, 2.0 ** 24 + 2, float(np.nextafter(np.float32(2 ** 27), 0))])
def test_act_step_legal_values_round_trip_bitwise(step):
    conv = model_with(ak.Convolutional(kernel_size=(1, 1), filters=2)).layers[1]
    s = np.array([step, 1.0], np.float32)
    conv.set_variable("act_step", s)
    assert conv.get_variable("act_step").tobytes() == s.tobytes()
