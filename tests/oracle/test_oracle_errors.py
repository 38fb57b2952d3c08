"""Refusals: whatever the vendor's engine refuses, akida_sim refuses with an
exception that is an instance of the vendor's exception type.

Each case is a function of the package (``akida`` or ``akida_sim``) that
performs one illegal action. Inputs that crash the vendor's process are only
given to akida_sim (last section).
"""
import os

import numpy as np
import pytest
from hypothesis import given

import akida_sim
from model_specs import STATS, assert_same_failure, loose_specs, make_layer, oracle_settings, outcome

akida = pytest.importorskip("akida")
pytestmark = pytest.mark.oracle


def base_model(ak, input_bits=4, shape=(4, 4, 2), **conv):
    model = ak.Model()
    model.add(ak.InputData(input_shape=shape, input_bits=input_bits))
    args = dict(kernel_size=(3, 3), filters=2)
    args.update(conv)
    model.add(ak.Convolutional(**args))
    return model


def conv_layer(ak):
    return base_model(ak).layers[1]


def set_var(name, value, **conv):
    return lambda ak: base_model(ak, **conv).layers[1].set_variable(name, value)


def forward(x, **kw):
    return lambda ak: base_model(ak).forward(x, **kw)


def chain(*makers):
    def run(ak):
        model = ak.Model()
        for make in makers:
            model.add(make(ak))
    return run


INP4 = lambda ak: ak.InputData(input_shape=(6, 6, 2), input_bits=4)  # noqa: E731
CONV = lambda ak: ak.Convolutional(kernel_size=(3, 3), filters=2)  # noqa: E731
CONV_RAW = lambda ak: ak.Convolutional(kernel_size=(3, 3), filters=2, activation=False)  # noqa: E731
SEP = lambda ak: ak.SeparableConvolutional(kernel_size=(3, 3), filters=2)  # noqa: E731
FC = lambda ak: ak.FullyConnected(units=2)  # noqa: E731
FC_RAW = lambda ak: ak.FullyConnected(units=2, activation=False)  # noqa: E731
IC = lambda ak: ak.InputConvolutional(input_shape=(6, 6, 3), kernel_size=(3, 3), filters=2)  # noqa: E731
IC_RAW = lambda ak: ak.InputConvolutional(input_shape=(6, 6, 3), kernel_size=(3, 3), filters=2,  # noqa: E731
                                          activation=False)


def inp(bits):
    return lambda ak: ak.InputData(input_shape=(6, 6, 2), input_bits=bits)


def construct(cls, **given):
    def run(ak):
        kwargs = dict(given)
        for key, enum in (("padding", "Padding"), ("pool_type", "PoolType")):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = getattr(getattr(ak, enum), kwargs[key])
        return getattr(ak, cls)(**kwargs)
    return run


K = dict(kernel_size=(3, 3), filters=2)
IC_K = dict(input_shape=(8, 8, 3), kernel_size=(3, 3), filters=2)

BAD_ARGUMENTS = {
    "conv kernel_size int": construct("Convolutional", kernel_size=3, filters=2),
    "conv kernel_stride int": construct("Convolutional", kernel_stride=2, **K),
    "conv pool_size int": construct("Convolutional", pool_type="Max", pool_size=2, **K),
    "conv kernel_size 1-tuple": construct("Convolutional", kernel_size=(3,), filters=2),
    "conv even kernel": construct("Convolutional", kernel_size=(2, 3), filters=2),
    "conv even kernel_height": construct("Convolutional", kernel_size=(3, 4), filters=2),
    "conv zero kernel": construct("Convolutional", kernel_size=(0, 3), filters=2),
    "conv negative kernel": construct("Convolutional", kernel_size=(-3, 3), filters=2),
    "ic even kernel": construct("InputConvolutional", input_shape=(8, 8, 3), kernel_size=(4, 3), filters=2),
    "sep even kernel": construct("SeparableConvolutional", kernel_size=(3, 2), filters=2),
    "conv filters 0": construct("Convolutional", kernel_size=(3, 3), filters=0),
    "sep filters 0": construct("SeparableConvolutional", kernel_size=(3, 3), filters=0),
    "fc units 0": construct("FullyConnected", units=0),
    "ic filters 0": construct("InputConvolutional", input_shape=(8, 8, 3), kernel_size=(3, 3), filters=0),
    "conv filters float": construct("Convolutional", kernel_size=(3, 3), filters=4.0),
    "fc units 4.5": construct("FullyConnected", units=4.5),
    "conv stride 0": construct("Convolutional", kernel_stride=(0, 1), **K),
    "conv stride_y -1": construct("Convolutional", kernel_stride=(1, -1), **K),
    "sep stride 0": construct("SeparableConvolutional", kernel_stride=(1, 0), **K),
    "conv stride > kernel": construct("Convolutional", kernel_size=(1, 1), filters=2, kernel_stride=(2, 1)),
    "sep stride > kernel": construct("SeparableConvolutional", kernel_size=(3, 3), filters=2, kernel_stride=(1, 4)),
    "nopool with pool_size": construct("Convolutional", pool_size=(2, 2), **K),
    "average with pool_size": construct("Convolutional", pool_type="Average", pool_size=(2, 2), **K),
    "max without pool_size": construct("Convolutional", pool_type="Max", **K),
    "max pool_size (2,0)": construct("Convolutional", pool_type="Max", pool_size=(2, 0), **K),
    "max pool_size (-1,2)": construct("Convolutional", pool_type="Max", pool_size=(-1, 2), **K),
    "max pool_stride without size": construct("Convolutional", pool_type="Max", pool_stride=(2, 2), **K),
    "nopool pool_size (-3,-3)": construct("Convolutional", pool_size=(-3, -3), **K),
    "pool_stride > pool_size": construct("Convolutional", pool_type="Max", pool_size=(2, 2), pool_stride=(3, 3), **K),
    "pool_stride_y > pool_size": construct("Convolutional", pool_type="Max", pool_size=(2, 2), pool_stride=(1, 3),
                                           **K),
    "nopool pool_stride (2,2)": construct("Convolutional", pool_stride=(2, 2), **K),
    "average pool_stride (0,0)": construct("Convolutional", pool_type="Average", pool_stride=(0, 0), **K),
    "ic pool_stride > pool_size": construct("InputConvolutional", pool_type="Max", pool_size=(2, 2),
                                            pool_stride=(3, 1), **IC_K),
    "conv weights_bits 3": construct("Convolutional", weights_bits=3, **K),
    "conv weights_bits 0": construct("Convolutional", weights_bits=0, **K),
    "sep weights_bits 16": construct("SeparableConvolutional", weights_bits=16, **K),
    "fc weights_bits -1": construct("FullyConnected", units=2, weights_bits=-1),
    "conv act_bits 3": construct("Convolutional", act_bits=3, **K),
    "conv act_bits 8 no activation": construct("Convolutional", act_bits=8, activation=False, **K),
    "fc act_bits 0": construct("FullyConnected", units=2, act_bits=0),
    "sep act_bits -1": construct("SeparableConvolutional", act_bits=-1, **K),
    "ic act_bits 0": construct("InputConvolutional", act_bits=0, **IC_K),
    "ic act_bits 5": construct("InputConvolutional", act_bits=5, **IC_K),
    "ic act_bits 8": construct("InputConvolutional", act_bits=8, **IC_K),
    "ic act_bits 5 and output size < 1": construct("InputConvolutional", input_shape=(1, 1, 1), kernel_size=(1, 3),
                                                   filters=1, padding="Valid", act_bits=5),
    "ic channels 0": construct("InputConvolutional", input_shape=(8, 8, 0), kernel_size=(3, 3), filters=2),
    "ic width 0": construct("InputConvolutional", input_shape=(0, 8, 3), kernel_size=(3, 3), filters=2),
    "ic 2-D shape": construct("InputConvolutional", input_shape=(8, 8), kernel_size=(3, 3), filters=2),
    "ic padding_value -1": construct("InputConvolutional", padding_value=-1, **IC_K),
    "ic padding_value 256": construct("InputConvolutional", padding_value=256, **IC_K),
    "conv name int": construct("Convolutional", name=5, **K),
    "fc name None": construct("FullyConnected", units=2, name=None),
    "inputdata name int": construct("InputData", input_shape=(8, 8, 2), name=5),
    "inputdata bits 0": construct("InputData", input_shape=(8, 8, 2), input_bits=0),
    "inputdata width 0": construct("InputData", input_shape=(0, 8, 2)),
    "inputdata channels 0": construct("InputData", input_shape=(8, 8, 0)),
    "inputdata 2-D shape": construct("InputData", input_shape=(8, 8)),
}

BAD_CHAINS = {
    "fc after activation=False conv": chain(INP4, CONV_RAW, FC),
    "fc after activation=False ic": chain(IC_RAW, FC),
    "sep after activation=False conv": chain(INP4, CONV_RAW, SEP),
    "sep after activation=False ic": chain(IC_RAW, SEP),
    "conv after activation=False conv": chain(INP4, CONV_RAW, CONV),
    "conv after activation=False fc": chain(INP4, FC_RAW, CONV),
    "conv after activation=False ic": chain(IC_RAW, CONV),
    "conv after 8-bit inputdata": chain(inp(8), CONV),
    "conv after 5-bit inputdata": chain(inp(5), CONV),
    "sep after 8-bit inputdata": chain(inp(8), SEP),
    "fc after 8-bit inputdata": chain(inp(8), FC),
    "fc after 16-bit inputdata": chain(inp(16), FC),
    "conv after -1-bit inputdata": chain(inp(-1), CONV),
    "ic after inputdata": chain(INP4, IC),
    "ic after conv": chain(INP4, CONV, IC),
    "ic after ic": chain(IC, IC),
    "conv first": chain(CONV),
    "sep first": chain(SEP),
    "fc first": chain(FC),
    "inputdata after inputdata": chain(INP4, INP4),
    "inputdata after ic": chain(IC, INP4),
    "inputdata after conv": chain(INP4, CONV, inp(1)),
    "valid conv too small": chain(lambda ak: ak.InputData(input_shape=(2, 6, 1)),
                                  lambda ak: ak.Convolutional(kernel_size=(3, 3), filters=2,
                                                              padding=ak.Padding.Valid)),
    "valid max pool too small": chain(lambda ak: ak.InputData(input_shape=(3, 6, 1)),
                                      lambda ak: ak.Convolutional(kernel_size=(3, 3), filters=2,
                                                                  padding=ak.Padding.Valid,
                                                                  pool_type=ak.PoolType.Max, pool_size=(2, 2))),
    "valid ic too small": chain(lambda ak: ak.InputConvolutional(input_shape=(4, 4, 1), kernel_size=(5, 3),
                                                                 filters=2, padding=ak.Padding.Valid)),
    "duplicate name": chain(INP4, lambda ak: ak.Convolutional(kernel_size=(3, 3), filters=2, name="a"),
                            lambda ak: ak.Convolutional(kernel_size=(3, 3), filters=2, name="a")),
    "explicit name taken by a default": chain(INP4, CONV, lambda ak: ak.FullyConnected(units=2, name="Conv_2")),
}


def _same_layer_twice(ak):
    model = ak.Model()
    model.add(INP4(ak))
    layer = CONV(ak)
    model.add(layer)
    model.add(layer)


def _model_from(ak, order):
    model = base_model(ak, shape=(6, 6, 2))
    model.add(ak.FullyConnected(units=2))
    layers = model.layers
    return ak.Model(layers=[layers[i] for i in order])


def _add_with_two_inbounds(ak):
    model = base_model(ak)
    layers = model.layers
    model.add(ak.FullyConnected(units=2), inbound_layers=[layers[0], layers[1]])


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


BAD_MODEL_CALLS = {
    "add the same layer twice": _same_layer_twice,
    "add(5)": lambda ak: ak.Model().add(5),
    "add with two inbound layers": _add_with_two_inbounds,
    "get_layer missing name": lambda ak: base_model(ak).get_layer("missing"),
    "get_layer index out of range": lambda ak: base_model(ak).get_layer(3),
    "get_layer -1": lambda ak: base_model(ak).get_layer(-1),
    "get_layer None": lambda ak: base_model(ak).get_layer(None),
    "get_layer 1.0": lambda ak: base_model(ak).get_layer(1.0),
    "Model(layers) repeated": lambda ak: _model_from(ak, [1, 1]),
    "Model(layers) fresh conv": lambda ak: ak.Model(layers=[CONV(ak)]),
    "Model(123)": lambda ak: ak.Model(123),
    "get_variable(0)": lambda ak: conv_layer(ak).get_variable(0),
    "get_variable unknown": lambda ak: conv_layer(ak).get_variable("bias"),
    "set_variable unknown": lambda ak: conv_layer(ak).set_variable("bias", np.zeros(2, np.int32)),
    "get_variable before add": lambda ak: CONV(ak).get_variable("weights"),
}


def _file_cases():
    cases = {
        "load missing file": lambda ak, d: ak.Model(os.path.join(d, "missing.fbz")),
        "load empty path": lambda ak, d: ak.Model(""),
        "load empty file": lambda ak, d: ak.Model(_write(os.path.join(d, "empty.fbz"), b"")),
        "load a directory": lambda ak, d: ak.Model(d),
        "load random bytes": lambda ak, d: ak.Model(
            _write(os.path.join(d, "r.fbz"), np.random.default_rng(0).integers(0, 256, 1000, np.uint8).tobytes())),
        "load a text file": lambda ak, d: ak.Model(_write(os.path.join(d, "t.fbz"), b"hello model\n" * 20)),
        "save into a missing dir": lambda ak, d: base_model(ak).save(os.path.join(d, "nope", "m.fbz")),
        "save onto a directory": lambda ak, d: base_model(ak).save(d),
    }
    return cases


W = (3, 3, 2, 2)
BAD_VARIABLES = {
    "weights float32": set_var("weights", np.zeros(W, np.float32)),
    "weights int32": set_var("weights", np.zeros(W, np.int32)),
    "weights uint8": set_var("weights", np.zeros(W, np.uint8)),
    "weights list": set_var("weights", np.zeros(W, np.int8).tolist()),
    "weights bool": set_var("weights", np.zeros(W, bool)),
    "threshold int64": set_var("threshold", np.zeros(2, np.int64)),
    "threshold float32": set_var("threshold", np.zeros(2, np.float32)),
    "act_step float64": set_var("act_step", np.ones(2, np.float64)),
    "act_step int32": set_var("act_step", np.ones(2, np.int32)),
    "weights wrong shape": set_var("weights", np.zeros((5, 3, 2, 2), np.int8)),
    "weights 3-D": set_var("weights", np.zeros((3, 3, 4), np.int8)),
    "weights 1-D": set_var("weights", np.zeros(36, np.int8)),
    "weights 0-d": set_var("weights", np.int8(0)),
    "weights 5-D": set_var("weights", np.zeros((1,) + W, np.int8)),
    "threshold (3,)": set_var("threshold", np.zeros(3, np.int32)),
    "threshold (2,1)": set_var("threshold", np.zeros((2, 1), np.int32)),
    "act_step (1,2)": set_var("act_step", np.ones((1, 2), np.float32)),
    "act_step 0-d": set_var("act_step", np.float32(1)),
    "weights 1-bit out of range": set_var("weights", np.full(W, -1, np.int8)),
    "weights 2-bit out of range": set_var("weights", np.full(W, 2, np.int8), weights_bits=2),
    "weights 4-bit out of range": set_var("weights", np.full(W, -8, np.int8), weights_bits=4),
    "act_step 0.05": set_var("act_step", np.full(2, 0.05, np.float32)),
    "act_step just below 1/16": set_var("act_step", np.full(2, np.nextafter(np.float32(1 / 16), np.float32(0)))),
    "act_step 0": set_var("act_step", np.zeros(2, np.float32)),
    "act_step -0.0": set_var("act_step", np.full(2, -0.0, np.float32)),
    "act_step -inf": set_var("act_step", np.full(2, -np.inf, np.float32)),
    "act_step denormal": set_var("act_step", np.full(2, 1e-40, np.float32)),
    "act_step one element small": set_var("act_step", np.array([1, 0.01], np.float32)),
}


def _sep_pw_out_of_range(ak):
    model = base_model(ak)
    model.add(ak.SeparableConvolutional(kernel_size=(3, 3), filters=2, weights_bits=4))
    model.layers[2].set_variable("weights_pw", np.full((1, 1, 2, 2), 8, np.int8))


def _fc_out_of_range(ak):
    model = base_model(ak)
    model.add(ak.FullyConnected(units=2, weights_bits=2))
    model.layers[2].set_variable("weights", np.full((1, 1, 32, 2), -2, np.int8))


def _ic_out_of_range(ak):
    layer = ak.InputConvolutional(weights_bits=4, **IC_K)
    layer.set_variable("weights", np.full((3, 3, 3, 2), 8, np.int8))


BAD_VARIABLES.update({
    "sep weights_pw out of range": _sep_pw_out_of_range,
    "fc weights out of range": _fc_out_of_range,
    "ic weights out of range": _ic_out_of_range,
})

X = np.zeros((1, 4, 4, 2), np.uint8)
BAD_INPUTS = {
    "5-D": forward(np.zeros((1, 1, 4, 4, 2), np.uint8)),
    "0-d": forward(np.uint8(0) * np.ones((), np.uint8)),
    "1-D": forward(np.zeros(32, np.uint8)),
    "2-D": forward(np.zeros((4, 2), np.uint8)),
    "3-D": forward(np.zeros((4, 4, 2), np.uint8)),
    "wrong width": forward(np.zeros((1, 5, 4, 2), np.uint8)),
    "wrong channels": forward(np.zeros((1, 4, 4, 3), np.uint8)),
    "empty batch": forward(np.zeros((0, 4, 4, 2), np.uint8)),
    "int8": forward(X.astype(np.int8)),
    "int16": forward(X.astype(np.int16)),
    "float32": forward(X.astype(np.float32)),
    "float64": forward(X.astype(np.float64)),
    "int32": forward(X.astype(np.int32)),
    "uint16": forward(X.astype(np.uint16)),
    "bool": forward(X.astype(bool)),
    "list": forward(X.tolist()),
    "value above 4 bits": forward(np.full((1, 4, 4, 2), 16, np.uint8)),
    "value 255": forward(np.where(np.arange(32).reshape(1, 4, 4, 2) == 31, 255, 0).astype(np.uint8)),
    "batch_size -1": forward(X, batch_size=-1),
    "batch_size None": forward(X, batch_size=None),
    "batch_size 2.0": forward(X, batch_size=2.0),
    "predict batch_size -1": lambda ak: base_model(ak, activation=False).predict(X, batch_size=-1),
    "predict with activation": lambda ak: base_model(ak).predict(X),
    "predict 3-D": lambda ak: base_model(ak, activation=False).predict(X[0]),
    "predict value above 4 bits": lambda ak: base_model(ak, activation=False).predict(X + 16),
    "empty model forward": lambda ak: ak.Model().forward(X),
    "inputdata-only forward": lambda ak: chain_model(ak, INP4).forward(np.zeros((1, 6, 6, 2), np.uint8)),
    "inputdata-only forward bad dtype": lambda ak: chain_model(ak, INP4).forward(np.zeros((1, 6, 6, 2), np.int8)),
    "inputdata-only predict": lambda ak: chain_model(ak, INP4).predict(np.zeros((1, 6, 6, 2), np.uint8)),
    "1-bit input value 2": lambda ak: base_model(ak, input_bits=1).forward(X + 2),
    "3-bit input value 8": lambda ak: base_model(ak, input_bits=3).forward(X + 8),
    "ic int8 input": lambda ak: chain_model(ak, IC).forward(np.zeros((1, 6, 6, 3), np.int8)),
    "ic wrong channels": lambda ak: chain_model(ak, IC).forward(np.zeros((1, 6, 6, 1), np.uint8)),
}


def chain_model(ak, *makers):
    model = ak.Model()
    for make in makers:
        model.add(make(ak))
    return model


#: Known divergences (akida_sim bugs): case -> reason. Each stays an xfail(strict=True) until fixed.
KNOWN = {
    "conv after -1-bit inputdata": "akida_sim refuses InputData(input_bits=-1) with a ValueError at construction; "
                                   "the vendor accepts it and raises RuntimeError when a Conv is added",
    "ic act_bits 5 and output size < 1": "check order: the vendor's InputConvolutional raises the output-size "
                                         "RuntimeError before the act_bits ValueError; akida_sim the reverse",
}


def cases(table):
    return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN[name])) if name in KNOWN
            else name for name in table]


ODD_BUT_ACCEPTED = {
    "kernel_size 3-tuple": chain(INP4, lambda ak: ak.Convolutional(kernel_size=(3, 3, 3), filters=2)),
    "inputdata 4-D shape": chain(lambda ak: ak.InputData(input_shape=(8, 8, 2, 1)), CONV),
    "inputdata 16 bits alone": chain(inp(16)),
    "inputdata -1 bits alone": chain(inp(-1)),
    "ic act_bits 8 without activation": chain(lambda ak: ak.InputConvolutional(activation=False, act_bits=8, **IC_K)),
    "ic act_bits 0 without activation": chain(lambda ak: ak.InputConvolutional(activation=False, act_bits=0, **IC_K)),
    "ic weights_bits 300": chain(lambda ak: ak.InputConvolutional(weights_bits=300, **IC_K)),
    "ic weights_bits -1": chain(lambda ak: ak.InputConvolutional(weights_bits=-1, **IC_K)),
    "ic 5 channels": chain(lambda ak: ak.InputConvolutional(input_shape=(8, 8, 5), kernel_size=(3, 3), filters=2)),
    "ic stride > kernel": chain(lambda ak: ak.InputConvolutional(input_shape=(8, 8, 3), kernel_size=(1, 1),
                                                                 filters=2, kernel_stride=(3, 2))),
    "nopool pool_stride (-5,-5)": chain(INP4, lambda ak: ak.Convolutional(pool_stride=(-5, -5), **K)),
    "max pool_stride (0,1)": chain(INP4, lambda ak: ak.Convolutional(pool_type=ak.PoolType.Max, pool_size=(2, 2),
                                                                     pool_stride=(0, 1), **K)),
    "padding as int": chain(INP4, lambda ak: ak.Convolutional(padding=0, **K)),
    "activation as int": chain(INP4, lambda ak: ak.Convolutional(activation=0, **K)),
    "weights_bits 8": chain(INP4, lambda ak: ak.Convolutional(weights_bits=8, **K)),
    "same kernel larger than input": chain(lambda ak: ak.InputData(input_shape=(2, 2, 1)),
                                           lambda ak: ak.Convolutional(kernel_size=(5, 5), filters=2)),
    "fc after fc": chain(INP4, FC, FC),
    "conv after fc": chain(INP4, FC, CONV),
    "fc after global average": chain(INP4, lambda ak: ak.Convolutional(pool_type=ak.PoolType.Average, **K), FC),
    "conv after 3-bit ic": chain(lambda ak: ak.InputConvolutional(act_bits=3, **IC_K), CONV),
    "name empty string": chain(lambda ak: ak.InputData(input_shape=(4, 4, 1), name=""), CONV),
    "empty model": lambda ak: ak.Model(),
    "pop_layer on empty model": lambda ak: ak.Model().pop_layer(),
    "Model(layers=[])": lambda ak: ak.Model(layers=[]),
}
KNOWN.update({
    "inputdata -1 bits alone": "akida_sim refuses InputData(input_bits=-1) (ValueError); the vendor accepts it",
})


@pytest.mark.parametrize("case", cases(ODD_BUT_ACCEPTED))
def test_odd_but_accepted(case):
    """Arguments the vendor accepts although they look wrong: akida_sim accepts them too."""
    action = ODD_BUT_ACCEPTED[case]
    _, vendor_exc = outcome(lambda: action(akida))
    assert vendor_exc is None, f"the vendor refused this ({vendor_exc!r}): the case is wrong"
    _, sim_exc = outcome(lambda: action(akida_sim))
    assert_same_failure(sim_exc, None, case)


def check_refused(table, case):
    """``table[case]`` raises in both packages; akida_sim's exception is an instance of the vendor's type."""
    action = table[case]
    _, vendor_exc = outcome(lambda: action(akida))
    assert vendor_exc is not None, f"{case}: the vendor accepted this, the case is wrong"
    _, sim_exc = outcome(lambda: action(akida_sim))
    assert_same_failure(sim_exc, vendor_exc, case)
    STATS["errors: refusals compared"] += 1


@pytest.mark.parametrize("case", cases(BAD_ARGUMENTS))
def test_bad_arguments(case):
    check_refused(BAD_ARGUMENTS, case)


@pytest.mark.parametrize("case", cases(BAD_CHAINS))
def test_bad_chains(case):
    check_refused(BAD_CHAINS, case)


@pytest.mark.parametrize("case", cases(BAD_MODEL_CALLS))
def test_bad_model_calls(case):
    check_refused(BAD_MODEL_CALLS, case)


@pytest.mark.parametrize("case", list(_file_cases()))
def test_bad_files(case, tmp_path):
    action = _file_cases()[case]
    vendor_dir, sim_dir = tmp_path / "vendor", tmp_path / "sim"
    vendor_dir.mkdir()
    sim_dir.mkdir()
    _, vendor_exc = outcome(lambda: action(akida, str(vendor_dir)))
    assert vendor_exc is not None
    _, sim_exc = outcome(lambda: action(akida_sim, str(sim_dir)))
    assert_same_failure(sim_exc, vendor_exc, case)


@pytest.mark.parametrize("case", cases(BAD_VARIABLES))
def test_bad_variables(case):
    check_refused(BAD_VARIABLES, case)


@pytest.mark.parametrize("case", cases(BAD_INPUTS))
def test_bad_inputs(case):
    check_refused(BAD_INPUTS, case)


def test_failed_add_leaves_model_unchanged():
    for ak in (akida, akida_sim):
        model = chain_model(ak, INP4, CONV_RAW)
        with pytest.raises(RuntimeError):
            model.add(FC(ak))
        assert [layer.name for layer in model.layers] == ["InputData_1", "Conv_2"]
        assert model.output_shape == [6, 6, 2]


# ----------------------------------------------------------------------
# random (often illegal) architectures


@oracle_settings(300)
@given(specs=loose_specs())
def test_random_arguments_refused_alike(specs):
    """Construct and add each layer in turn: the same step fails in both
    packages, with a compatible exception type; when all succeed the
    models have the same names and dims."""
    models = {ak: ak.Model() for ak in (akida, akida_sim)}
    for i, spec in enumerate(specs):
        vendor_layer, vendor_exc = outcome(lambda: make_layer(akida, spec))
        sim_layer, sim_exc = outcome(lambda: make_layer(akida_sim, spec))
        if (spec.kind == "ic" and isinstance(vendor_exc, RuntimeError) and sim_exc is not None
                and "output size" in str(vendor_exc)):
            # known divergence "ic act_bits 5 and output size < 1": the vendor's InputConvolutional checks
            # its output size before its other arguments
            STATS["loose specs: known IC check-order divergence"] += 1
            return
        assert_same_failure(sim_exc, vendor_exc, f"constructing layer {i} {spec}")
        if vendor_exc is not None:
            STATS["loose specs: refused at construction"] += 1
            return
        _, vendor_exc = outcome(lambda: models[akida].add(vendor_layer))
        _, sim_exc = outcome(lambda: models[akida_sim].add(sim_layer))
        assert_same_failure(sim_exc, vendor_exc, f"adding layer {i} {spec}")
        if vendor_exc is not None:
            STATS["loose specs: refused at add"] += 1
            return
    vendor, sim = models[akida], models[akida_sim]
    assert [layer.name for layer in sim.layers] == [layer.name for layer in vendor.layers]
    assert [layer.output_dims for layer in sim.layers] == [layer.output_dims for layer in vendor.layers]
    STATS["loose specs: accepted"] += 1


# ----------------------------------------------------------------------
# inputs that kill the vendor's process: akida_sim only


def _sim_forward_with_step(step):
    model = base_model(akida_sim)
    model.layers[1].set_variable("act_step", np.full(2, step, np.float32))
    model.forward(X)


@pytest.mark.parametrize("step", [np.nan, -np.nan, np.inf, 2.0 ** 27, 2.0 ** 31, 2.0 ** 24, 3 * 2.0 ** 24,
                                  2.0 ** 28, 1e30, float(np.finfo(np.float32).max)])
def test_sim_refuses_act_steps_that_crash_the_vendor(step):
    """The vendor's forward dies of SIGFPE with these steps (never run there)."""
    with pytest.raises(ValueError):
        _sim_forward_with_step(step)


@pytest.mark.parametrize("stride", [(0, 1), (1, 0), (-1, 1), (1, -2)])
def test_sim_refuses_input_convolutional_stride_below_1(stride):
    """The vendor's InputConvolutional takes these and may segfault later (never run there)."""
    with pytest.raises(ValueError):
        akida_sim.InputConvolutional(kernel_stride=stride, **IC_K)


def test_sim_refuses_negative_filters():
    """The vendor constructs filters=-1 and exhausts memory at add (never run there)."""
    for cls in ("Convolutional", "SeparableConvolutional"):
        with pytest.raises(ValueError):
            getattr(akida_sim, cls)(**dict(K, filters=-1))
    with pytest.raises(ValueError):
        akida_sim.FullyConnected(units=-1)
