"""The Akida Execution Engine user guide's argument names (akida_sim.seed_names): deprecated
aliases of today's, giving the same model (same to_dict, same forward integers)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import akida_sim as ak


@st.composite
def layer_cases(draw):
    """A layer type and its arguments in today's names, the same in the seed guide's names, and
    the initial threshold and act_step."""
    kind = draw(st.sampled_from(["InputConvolutional", "Convolutional", "SeparableConvolutional", "FullyConnected"]))
    bits = draw(st.sampled_from([1, 2, 4]))
    threshold = draw(st.integers(-40, 40))
    step = draw(st.sampled_from([0.0625, 0.5, 1.0, 2.5, 7.0]))
    today, seed = {"act_bits": bits}, {"threshold_fire_bits": bits, "threshold_fire": threshold,
                                       "threshold_fire_step": step}
    if kind != "FullyConnected":
        pool = draw(st.sampled_from(["none", "max", "global"]))
        if pool == "max":
            size = draw(st.integers(1, 2))
            stride = draw(st.integers(1, size))
            today.update(pool_type=ak.PoolType.Max, pool_size=(size, size), pool_stride=(stride, stride))
            seed.update(pooling_type=ak.PoolType.Max, pooling_width=size, pooling_height=size,
                        pooling_stride_x=stride, pooling_stride_y=stride)
        elif pool == "global":
            today.update(pool_type=ak.PoolType.Average)
            seed.update(pooling_type=int(ak.PoolType.Average))
    return kind, today, seed, threshold, step


def _build(kind, kwargs, seed_rng):
    model = ak.Model()
    fixed = {"name": "l", "weights_bits": 4}
    if kind == "InputConvolutional":
        model.add(ak.InputConvolutional(input_shape=(7, 6, 3), kernel_size=(3, 3), filters=5, **fixed, **kwargs))
    else:
        model.add(ak.InputData(input_shape=(7, 6, 3), input_bits=4))
        if kind == "FullyConnected":
            model.add(ak.FullyConnected(units=5, **fixed, **kwargs))
        else:
            model.add(getattr(ak, kind)(kernel_size=(3, 3), filters=5, **fixed, **kwargs))
    layer = model.layers[-1]
    rng = np.random.default_rng(seed_rng)
    for name in layer.get_variable_names():
        if name.startswith("weights"):
            layer.set_variable(name, rng.integers(-7, 8, layer.get_variable(name).shape).astype(np.int8))
    return model


@settings(max_examples=40, deadline=None)
@given(case=layer_cases(), seed_rng=st.integers(0, 2 ** 16))
def test_seed_names_build_the_same_model_as_todays(case, seed_rng):
    kind, today, seed, threshold, step = case
    with pytest.warns(DeprecationWarning):
        old = _build(kind, seed, seed_rng)
    new = _build(kind, today, seed_rng)
    layer = new.layers[-1]
    layer.set_variable("threshold", np.full(layer.get_variable("threshold").shape, threshold, np.int32))
    layer.set_variable("act_step", np.full(layer.get_variable("act_step").shape, step, np.float32))
    assert old.to_dict() == new.to_dict()
    x = np.random.default_rng(seed_rng).integers(0, 16 if kind != "InputConvolutional" else 256,
                                                 (3, 7, 6, 3)).astype(np.uint8)
    assert np.array_equal(old.forward(x), new.forward(x))


@pytest.mark.parametrize("seed, current", [
    ("threshold_fire_bits", "'act_bits'"), ("pooling_type", "'pool_type'"),
    ("threshold_fire", "the initial 'threshold' variable"), ("threshold_fire_step", "the initial 'act_step' variable")])
def test_each_seed_name_warns_naming_todays_spelling(seed, current):
    value = {"threshold_fire_bits": 2, "pooling_type": ak.PoolType.Average, "threshold_fire": 3,
             "threshold_fire_step": 0.5}[seed]
    with pytest.warns(DeprecationWarning, match=f"'{seed}'.*use {current}") as record:
        ak.Convolutional(kernel_size=(3, 3), filters=2, name="c", **{seed: value})
    assert record[0].filename == __file__   # points at the caller


def test_pooling_width_and_height_name_pool_size():
    with pytest.warns(DeprecationWarning) as record:
        conv = ak.Convolutional(kernel_size=(3, 3), filters=2, pooling_type=ak.PoolType.Max, pooling_width=3,
                                pooling_height=2, pooling_stride_x=2)
    assert any("'pooling_height'" in str(w.message) and "'pool_size' (element 1)" in str(w.message) for w in record)
    assert conv.parameters.pooling_width == 3 and conv.parameters.pooling_height == 2
    assert conv.parameters.pooling_stride_x == 2 and conv.parameters.pooling_stride_y == 2


def test_seed_values_survive_a_second_allocation_and_a_compile():
    with pytest.warns(DeprecationWarning):
        fc = ak.FullyConnected(units=4, weights_bits=1, activation=False, name="fc", threshold_fire=6)
    model = ak.Model()
    model.add(ak.InputData(input_shape=(1, 1, 8), input_bits=1))
    model.add(fc)
    assert (fc.get_variable("threshold") == 6).all()
    model.compile(ak.AkidaUnsupervised(num_weights=4, num_classes=2))
    assert (fc.get_variable("threshold") == 6).all()


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(act_bits=2, threshold_fire_bits=4), "'act_bits' and 'threshold_fire_bits'.*act_bits=2, threshold_fire_bits=4"),
    (dict(pool_type=ak.PoolType.Max, pool_size=(2, 2), pooling_type=ak.PoolType.Max, pooling_height=3),
     "'pool_size' and 'pooling_height'"),
    (dict(pool_type=ak.PoolType.Average, pooling_type=ak.PoolType.Max, pooling_width=2, pooling_height=2),
     "'pool_type' and 'pooling_type'"),
    (dict(pool_type=ak.PoolType.Max, pool_size=(2, 2), pool_stride=(1, 1), pooling_stride_x=2),
     "'pool_stride' and 'pooling_stride_x'"),
    (dict(pooling_type=ak.PoolType.Max, pooling_width=2), "'pooling_height' is missing"),
    (dict(pooling_type=ak.PoolType.Max), "global pooling .* is PoolType.Average"),
    (dict(threshold_fire_step=0.01), "act_step"),
    (dict(threshold_fire=2 ** 31), "'threshold_fire' must fit an int32"),
])
def test_conflicting_or_bad_seed_names_are_refused(kwargs, fragment):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match=fragment) as info:
            ak.Convolutional(kernel_size=(3, 3), filters=2, name="conv", **kwargs)
    assert "Convolutional 'conv'" in str(info.value)


def test_same_value_under_both_spellings_is_accepted():
    with pytest.warns(DeprecationWarning):
        conv = ak.Convolutional(kernel_size=(3, 3), filters=2, act_bits=2, threshold_fire_bits=2,
                                pool_type=ak.PoolType.Max, pool_size=(2, 2), pooling_type=1, pooling_width=2,
                                pooling_height=2)
    assert conv.parameters.act_bits == 2 and conv.parameters.pool_type == ak.PoolType.Max


@pytest.mark.parametrize("kwargs, exc, fragment", [
    (dict(threshold_fire=1.5), TypeError, "'threshold_fire' must be an int"),
    (dict(threshold_fire_step="1"), TypeError, "'threshold_fire_step' must be a float"),
    (dict(pooling_type=1), TypeError, "FullyConnected 'fc': the layer has no pooling .*'pooling_type'"),
])
def test_seed_name_types_on_fully_connected(kwargs, exc, fragment):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(exc, match=fragment):
            ak.FullyConnected(units=2, name="fc", **kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"name": "join"}, {"inbound_layers": [], "name": 3}])
def test_concat_is_refused_naming_the_akida_1_layers(kwargs):
    with pytest.raises(NotImplementedError, match="sequential.*InputData, InputConvolutional, Convolutional, "
                                                  "SeparableConvolutional, FullyConnected") as info:
        ak.Concat(**kwargs)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ak.SimNotImplementedError)
    assert str(info.value).startswith("Concat 'join'" if kwargs.get("name") == "join" else "Concat:")
