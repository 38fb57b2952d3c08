"""Edge learning through the public API, against the slow reference of the rule.

Every model here is built with ``akida_sim`` only; the expected weights,
threshold_learning, thswap and fit outputs come from tests/naive_learning.py
(a line-by-line transcription of shared/reference/akida_learning.md), fed with
the starting weights the model drew at compile.

Resume after save/load: a reloaded model keeps its optimizer, weights,
threshold_learning and thswap, but the hidden selection counter restarts at 0
(as it does after any ``set_variable`` on the learning layer). Resuming is
therefore the uninterrupted run *with the counter reset at the reload point*,
which may choose other connections than the uninterrupted run.
"""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import akida_sim as ak
from tests.naive_learning import NaiveLearner, naive_constants

F32_01 = float(np.float32(0.1))  # the default min_plasticity, as a double

fractions = st.one_of(st.floats(0.0, 1.0, allow_nan=False), st.sampled_from([0.0, 0.1, F32_01, 0.25, 0.5, 1.0]))


# ---------------------------------------------------------------------------- helpers


def variables_of(layer):
    """A snapshot of every variable of ``layer``, by name."""
    return {name: layer.get_variable(name) for name in layer.get_variable_names()}


def flatten(x):
    """(S, X, Y, C) -> (S, X*Y*C): the FullyConnected input order, column-major over (x, y, c)."""
    return np.stack([sample.reshape(-1, order="F") for sample in x]).astype(np.int64)


def fc_model(shape, units, activation=False, weights_bits=1, input_bits=1):
    model = ak.Model()
    model.add(ak.InputData(input_shape=shape, input_bits=input_bits))
    model.add(ak.FullyConnected(units=units, weights_bits=weights_bits, activation=activation))
    return model


def conv_fc_model(shape, filters, units, activation, rng):
    """InputData 1-bit -> Convolutional 1-bit spikes (random weights/thresholds) -> FullyConnected."""
    model = ak.Model()
    model.add(ak.InputData(input_shape=shape, input_bits=1))
    model.add(ak.Convolutional(kernel_size=(3, 3), filters=filters, weights_bits=1, act_bits=1))
    model.add(ak.FullyConnected(units=units, weights_bits=1, activation=activation))
    conv = model.layers[1]
    w = conv.get_variable("weights")
    conv.set_variable("weights", (rng.random(w.shape) < 0.5).astype(np.int8))
    conv.set_variable("threshold", rng.integers(0, 5, filters).astype(np.int32))
    return model


def hidden_spikes(model, x):
    """What enters the learning (last) layer, computed by a model of the other layers."""
    if model.layer_count == 2:
        return x
    return ak.Model(layers=model.layers[:-1]).forward(x)


def reference(model, optimizer):
    """A NaiveLearner holding the model's current learning state (counter at 0)."""
    layer = model.layers[-1]
    units = layer.get_variable("thswap").shape[0]
    cfg = optimizer.get_config()
    _, dec, flo, cap = naive_constants(cfg["num_weights"], cfg["initial_plasticity"],
                                       cfg["learning_competition"], cfg["min_plasticity"],
                                       cfg["plasticity_decay"])
    return NaiveLearner(layer.get_variable("weights").reshape(-1, units), layer.get_variable("threshold_learning"),
                        layer.get_variable("thswap"), 0, cfg["num_classes"], dec, flo, cap)


def ref_labels(labels, n):
    """The per-sample labels the reference gets for what ``fit`` was given."""
    if labels is None or (isinstance(labels, list) and not labels):
        return [-1] * n
    arr = np.asarray(labels).ravel()
    return [int(arr[0])] * n if arr.size == 1 else [int(v) for v in arr]


def assert_state(model, ref):
    layer = model.layers[-1]
    units = len(ref.thswap)
    assert layer.get_variable("weights").reshape(-1, units).tolist() == ref.W
    assert layer.get_variable("threshold_learning").tolist() == ref.threshold_learning
    assert layer.get_variable("thswap").tolist() == ref.thswap


def fit_and_check(model, ref, x, labels, activation, threshold):
    """One fit call on both; compares the outputs and the state."""
    out = model.fit(x, labels) if labels is not None else model.fit(x)
    pots = np.array(ref.fit(flatten(hidden_spikes(model, x)), ref_labels(labels, len(x))), np.int64)
    units = pots.shape[1]
    assert out.shape == (len(x), 1, 1, units)
    if activation:
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out.reshape(len(x), units), (pots > threshold).astype(np.uint8))
    else:
        assert out.dtype == np.int32
        np.testing.assert_array_equal(out.reshape(len(x), units), pots)
    assert_state(model, ref)
    return out


# ---------------------------------------------------------------------------- scenarios


@st.composite
def scenarios(draw, conv=None):
    seed = draw(st.integers(0, 2**32 - 1))
    use_conv = draw(st.booleans()) if conv is None else conv
    if use_conv:
        shape = (draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3)))
        filters = draw(st.integers(1, 6))
        n_inputs = shape[0] * shape[1] * filters
    else:
        shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 12)))
        filters = None
        n_inputs = shape[0] * shape[1] * shape[2]
    num_classes = draw(st.integers(0, 4))
    units = max(num_classes, 1) * draw(st.integers(1, 5))
    k = draw(st.integers(1, n_inputs))
    opt = dict(num_weights=k, num_classes=num_classes, initial_plasticity=draw(fractions),
               learning_competition=draw(fractions), min_plasticity=draw(fractions),
               plasticity_decay=draw(fractions))
    activation = draw(st.booleans())
    threshold = draw(st.integers(0, 3)) if activation else 0
    label_mode = draw(st.sampled_from(["none", "empty", "scalar", "array", "list", "mixed"]))
    calls = []
    rng = np.random.default_rng(seed)
    top = max(num_classes, 1) if num_classes > 1 else 3  # C <= 1 ignores any label
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(1, 10))
        x = (rng.random((n,) + shape) < rng.uniform(0.1, 0.9)).astype(np.uint8)
        labels = {"none": None, "empty": [], "scalar": int(rng.integers(0, top)),
                  "array": rng.integers(0, top, n).astype(np.int32),
                  "list": [int(v) for v in rng.integers(0, top, n)],
                  "mixed": rng.integers(-1, top, n)}[label_mode]
        calls.append((x, labels))
    return dict(seed=seed, conv=use_conv, shape=shape, filters=filters, units=units, opt=opt,
                activation=activation, threshold=threshold, calls=calls)


def build(sc):
    rng = np.random.default_rng(sc["seed"] + 1)
    if sc["conv"]:
        model = conv_fc_model(sc["shape"], sc["filters"], sc["units"], sc["activation"], rng)
    else:
        model = fc_model(sc["shape"], sc["units"], sc["activation"])
    if sc["threshold"]:
        model.layers[-1].set_variable("threshold", np.full(sc["units"], sc["threshold"], np.int32))
    optimizer = ak.AkidaUnsupervised(**sc["opt"], seed=sc["seed"])
    model.compile(optimizer)
    return model, optimizer


@settings(max_examples=80)
@given(scenarios())
def test_fit_matches_reference(sc):
    model, optimizer = build(sc)
    ref = reference(model, optimizer)
    units = sc["units"]
    for x, labels in sc["calls"]:
        fit_and_check(model, ref, x, labels, sc["activation"], sc["threshold"])
    # forward / predict_classes after learning use the learned weights
    x = np.concatenate([x for x, _ in sc["calls"]])
    pots = flatten(hidden_spikes(model, x)) @ np.array(ref.W, np.int64)
    out = model.forward(x).reshape(len(x), units)
    if sc["activation"]:  # predict_classes needs a last layer without activation (see the xfail below)
        np.testing.assert_array_equal(out, (pots > sc["threshold"]).astype(np.uint8))
        return
    np.testing.assert_array_equal(out, pots)
    np.testing.assert_array_equal(model.predict_classes(x), pots.argmax(axis=1))
    c = sc["opt"]["num_classes"]
    if c >= 1:
        np.testing.assert_array_equal(model.predict_classes(x, num_classes=c), pots.argmax(axis=1) // (units // c))


@settings(max_examples=25)
@given(scenarios(conv=True))
def test_fit_multilayer_learns_last_layer_only(sc):
    model, optimizer = build(sc)
    conv_before = variables_of(model.layers[1])
    ref = reference(model, optimizer)
    for x, labels in sc["calls"]:
        fit_and_check(model, ref, x, labels, sc["activation"], sc["threshold"])
    for name, value in variables_of(model.layers[1]).items():
        np.testing.assert_array_equal(value, conv_before[name])
    assert model.layers[1].get_variable_names() == ["act_step", "threshold", "weights"]


def test_flatten_is_column_major():
    # one neuron connected to a single input; only the (x, y, c) position that maps to that row fires it
    model = fc_model((2, 3, 4), 1)
    model.compile(ak.AkidaUnsupervised(num_weights=1, seed=0))
    weights = np.zeros((1, 1, 24, 1), np.int8)
    weights[0, 0, 1 + 2 * 2 + 6 * 3, 0] = 1  # x=1, y=2, c=3
    model.layers[1].set_variable("weights", weights)
    x = np.zeros((2, 2, 3, 4), np.uint8)
    x[0, 1, 2, 3] = 1
    x[1, 1, 2, 2] = 1
    out = model.fit(x)
    assert out.ravel().tolist() == [1, 0]


def _predict_case(activation):
    rng = np.random.default_rng(0)
    model = fc_model((1, 1, 16), 6, activation=activation)
    layer = model.layers[1]
    layer.set_variable("weights", (rng.random((1, 1, 16, 6)) < 0.5).astype(np.int8))
    layer.set_variable("threshold", rng.integers(0, 6, 6).astype(np.int32))
    if not activation:
        layer.set_variable("act_step", rng.uniform(0.5, 3, 6).astype(np.float32))
    return model, (rng.random((10, 1, 1, 16)) < 0.5).astype(np.uint8)


def test_predict_classes_ranks_predict_outputs():
    model, x = _predict_case(activation=False)
    scores = model.predict(x).reshape(len(x), -1)
    np.testing.assert_array_equal(model.predict_classes(x), scores.argmax(axis=1))
    np.testing.assert_array_equal(model.predict_classes(x, num_classes=3), scores.argmax(axis=1) // 2)


def test_predict_classes_needs_no_activation():
    model, x = _predict_case(activation=True)
    with pytest.raises(RuntimeError, match="activation"):
        model.predict_classes(x)


# ---------------------------------------------------------------------------- invariants


@settings(max_examples=60)
@given(scenarios(conv=False))
def test_invariants_per_sample(sc):
    model, optimizer = build(sc)
    layer = model.layers[-1]
    units, k, c = sc["units"], sc["opt"]["num_weights"], sc["opt"]["num_classes"]
    th0, _, floor, _ = optimizer.constants()
    w = layer.get_variable("weights").reshape(-1, units)
    assert w.dtype == np.int8 and set(np.unique(w)) <= {0, 1}
    assert (w.sum(axis=0) == k).all()
    assert (layer.get_variable("thswap") == th0).all() and not layer.get_variable("threshold_learning").any()
    for x_call, l_call in sc["calls"]:
        labels = ref_labels(l_call, len(x_call))
        for x, label in zip(x_call, labels):
            w0 = layer.get_variable("weights").reshape(-1, units)
            tl0, ts0 = layer.get_variable("threshold_learning"), layer.get_variable("thswap")
            model.fit(x[None], [label])
            w1 = layer.get_variable("weights").reshape(-1, units)
            tl1, ts1 = layer.get_variable("threshold_learning"), layer.get_variable("thswap")
            assert (w1.sum(axis=0) == k).all() and set(np.unique(w1)) <= {0, 1}
            changed = np.flatnonzero((w1 != w0).any(axis=0) | (tl1 != tl0) | (ts1 != ts0))
            assert changed.size <= 1
            pot = flatten(x[None])[0] @ w0.astype(np.int64)
            block = range(units) if c <= 1 or label < 0 else range(label * units // c, (label + 1) * units // c)
            eligible = [j for j in block if pot[j] > tl0[j]]
            if not eligible:
                assert changed.size == 0
                continue
            winner = max(eligible, key=lambda j: (pot[j], -j))
            assert set(changed) <= {winner}
            assert ts1[winner] >= floor and ts1[winner] == max(ts0[winner] - optimizer.constants()[1], floor)
            others = np.arange(units) != winner
            assert (ts1[others] == ts0[others]).all()
            # thswap only ever holds th0 (never learned) or values >= the floor
            assert all(v == th0 or v >= floor for v in ts1)


# ---------------------------------------------------------------------------- seeds


def _weights(model):
    return model.layers[-1].get_variable("weights")


def test_seed_reproducibility():
    def compiled(opt_seed=None, compile_seed=None):
        model = fc_model((1, 1, 256), 8)
        model.compile(ak.AkidaUnsupervised(num_weights=10, seed=opt_seed), seed=compile_seed)
        return model

    np.testing.assert_array_equal(_weights(compiled(opt_seed=5)), _weights(compiled(opt_seed=5)))
    np.testing.assert_array_equal(_weights(compiled(compile_seed=5)), _weights(compiled(compile_seed=5)))
    # compile(seed=) takes precedence over the optimizer's seed
    np.testing.assert_array_equal(_weights(compiled(opt_seed=1, compile_seed=5)), _weights(compiled(opt_seed=5)))
    assert not np.array_equal(_weights(compiled(opt_seed=5)), _weights(compiled(opt_seed=6)))
    # no seed: a fresh draw each compile
    assert not np.array_equal(_weights(compiled()), _weights(compiled()))
    # the seed is part of the optimizer's configuration
    assert ak.AkidaUnsupervised(num_weights=3, seed=7).get_config()["seed"] == 7


def test_seeded_runs_learn_identically():
    rng = np.random.default_rng(3)
    x = (rng.random((60, 1, 1, 64)) < 0.3).astype(np.uint8)
    labels = rng.integers(0, 4, 60)
    runs = []
    for _ in range(2):
        model = fc_model((1, 1, 64), 8)
        model.compile(ak.AkidaUnsupervised(num_weights=12, num_classes=4), seed=11)
        runs.append((model.fit(x, labels), variables_of(model.layers[1])))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    for name in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][name], runs[1][1][name])


# ---------------------------------------------------------------------------- counter resets


SENSITIVE_OPT = dict(num_weights=16, num_classes=3, initial_plasticity=0.8, learning_competition=0.3,
                     min_plasticity=0.25, plasticity_decay=0.3)


def _counter_sensitive_case():
    """A seeded run whose second half learns differently with the counter reset at half-time."""
    for seed in range(50):
        rng = np.random.default_rng(seed)
        x = (rng.random((40, 1, 1, 48)) < 0.4).astype(np.uint8)
        labels = rng.integers(-1, 3, 40)
        model = fc_model((1, 1, 48), 6)
        opt = ak.AkidaUnsupervised(**SENSITIVE_OPT, seed=seed)
        model.compile(opt)
        plain = reference(model, opt)
        reset = reference(model, opt)
        plain.fit(flatten(x[:20]), labels[:20])
        reset.fit(flatten(x[:20]), labels[:20])
        reset.t = 0
        plain.fit(flatten(x[20:]), labels[20:])
        reset.fit(flatten(x[20:]), labels[20:])
        if plain.W != reset.W:
            return seed, x, labels
    raise AssertionError("no seed makes the counter matter")


@pytest.mark.parametrize("variable", ["weights", "threshold_learning", "thswap", "threshold", "act_step"])
def test_set_variable_resets_counter(variable):
    seed, x, labels = _counter_sensitive_case()
    model = fc_model((1, 1, 48), 6)
    opt = ak.AkidaUnsupervised(**SENSITIVE_OPT, seed=seed)
    model.compile(opt)
    ref = reference(model, opt)
    fit_and_check(model, ref, x[:20], labels[:20], False, 0)
    layer = model.layers[1]
    layer.set_variable(variable, layer.get_variable(variable))  # same values: only the counter changes
    ref.t = 0
    fit_and_check(model, ref, x[20:], labels[20:], False, 0)


def test_set_weights_after_compile():
    model = fc_model((1, 1, 20), 4)
    opt = ak.AkidaUnsupervised(num_weights=5, num_classes=2, seed=0)
    model.compile(opt)
    w = np.zeros((1, 1, 20, 4), np.int8)
    for j in range(4):
        w[0, 0, 5 * j:5 * j + 5, j] = 1
    model.layers[1].set_variable("weights", w)
    np.testing.assert_array_equal(_weights(model), w)
    ref = reference(model, opt)
    x = (np.random.default_rng(0).random((15, 1, 1, 20)) < 0.5).astype(np.uint8)
    fit_and_check(model, ref, x, [0, 1, -1] * 5, False, 0)
    with pytest.raises(ValueError, match=r"Invalid value 2.*weights"):
        model.layers[1].set_variable("weights", w * 2)


# ---------------------------------------------------------------------------- save / load


@pytest.mark.parametrize("via", ["file", "buffer"])
def test_save_load_resumes_with_counter_reset(tmp_path, via):
    seed, x, labels = _counter_sensitive_case()
    opt = ak.AkidaUnsupervised(**SENSITIVE_OPT, seed=seed)
    model = fc_model((1, 1, 48), 6)
    model.compile(opt)
    plain = reference(model, opt)
    fit_and_check(model, plain, x[:20], labels[:20], False, 0)
    if via == "file":
        model.save(str(tmp_path / "m.fbz"))
        loaded = ak.Model(str(tmp_path / "m.fbz"))
    else:
        loaded = ak.Model.from_buffer(model.to_buffer())
    assert loaded.learning is not None
    assert loaded.learning.get_config() == opt.get_config()
    for name, value in variables_of(model.layers[1]).items():
        np.testing.assert_array_equal(loaded.layers[1].get_variable(name), value)
    assert loaded.layers[1].get_variable_names() == model.layers[1].get_variable_names()
    with pytest.raises(RuntimeError, match="already compiled"):
        loaded.compile(ak.AkidaUnsupervised(num_weights=3))
    resumed = reference(loaded, opt)  # counter at 0
    # uninterrupted model: counter kept; reloaded model: counter restarted
    fit_and_check(model, plain, x[20:], labels[20:], False, 0)
    fit_and_check(loaded, resumed, x[20:], labels[20:], False, 0)
    assert plain.W != resumed.W  # this case is one where the reset matters


def test_resume_equals_uninterrupted_run_with_counter_reset(tmp_path):
    rng = np.random.default_rng(8)
    x = (rng.random((30, 2, 2, 8)) < 0.4).astype(np.uint8)
    opt = ak.AkidaUnsupervised(num_weights=9, num_classes=2, seed=4)
    a = fc_model((2, 2, 8), 4)
    a.compile(opt)
    b = ak.Model.from_buffer(a.to_buffer())  # b: a copy at the same point
    a.fit(x[:12], 1)
    a.save(str(tmp_path / "a.fbz"))
    a2 = ak.Model(str(tmp_path / "a.fbz"))
    b.fit(x[:12], 1)
    b.layers[1].set_variable("weights", b.layers[1].get_variable("weights"))  # reset b's counter
    np.testing.assert_array_equal(a2.fit(x[12:]), b.fit(x[12:]))
    for name in ("weights", "threshold_learning", "thswap"):
        np.testing.assert_array_equal(a2.layers[1].get_variable(name), b.layers[1].get_variable(name))


# ---------------------------------------------------------------------------- histogram and summary


def test_learning_histogram():
    model = fc_model((1, 1, 40), 6)
    with pytest.raises((RuntimeError, ValueError)):
        model.layers[1].get_learning_histogram()
    model.compile(ak.AkidaUnsupervised(num_weights=12, num_classes=3, seed=2))
    hist = model.layers[1].get_learning_histogram()
    assert hist.shape == (0, 2)
    rng = np.random.default_rng(2)
    model.fit((rng.random((25, 1, 1, 40)) < 0.5).astype(np.uint8), rng.integers(0, 3, 25))
    tl = model.layers[1].get_variable("threshold_learning")
    assert (tl > 0).any()
    expected = {}
    for v in tl[tl > 0]:
        expected[100 * int(v) // 12] = expected.get(100 * int(v) // 12, 0) + 1
    assert model.layers[1].get_learning_histogram().tolist() == [[b, n] for b, n in sorted(expected.items())]


def test_learning_summary(capsys):
    model = fc_model((2, 2, 8), 4)
    model.summary()
    assert "Learning Summary" not in capsys.readouterr().out
    model.compile(ak.AkidaUnsupervised(num_weights=7, num_classes=2))
    model.summary()
    text = capsys.readouterr().out
    assert "Learning Summary" in text
    header = re.search(r"Learning Layer\s+# Input Conn\.\s+# Weights", text)
    assert header is not None
    row = text[header.end():].splitlines()
    values = [line.split() for line in row if line.strip() and not set(line.strip()) <= set("=_")][0]
    assert values == [model.layers[1].name, "32", "7"]


def test_optimizer_reads_back():
    opt = ak.AkidaUnsupervised(num_weights=12, num_classes=3, initial_plasticity=0.5, learning_competition=0.2,
                               plasticity_decay=0.3)
    assert opt.num_weights == 12 and opt.num_classes == 3 and opt.min_plasticity == F32_01
    assert type(opt.num_weights) is int and type(opt.num_classes) is int and repr(opt.num_classes) == "3"
    assert opt.initial_plasticity == 0.5 and opt.learning_competition == 0.2 and opt.plasticity_decay == 0.3
    model = fc_model((1, 1, 24), 6)
    assert model.learning is None
    model.compile(opt)
    assert model.learning is opt
    th0, dec, flo, cap = opt.constants()
    assert (th0, dec, flo, cap) == naive_constants(12, 0.5, 0.2, F32_01, 0.3)
    assert (model.layers[1].get_variable("thswap") == th0).all()


def test_fit_batch_size_does_not_matter():
    rng = np.random.default_rng(5)
    x = (rng.random((23, 1, 1, 30)) < 0.4).astype(np.uint8)
    labels = rng.integers(-1, 2, 23)
    results = []
    for batch_size in (0, 1, 5):
        model = fc_model((1, 1, 30), 4)
        model.compile(ak.AkidaUnsupervised(num_weights=8, num_classes=2, seed=1))
        results.append((model.fit(x, labels, batch_size=batch_size), variables_of(model.layers[1])))
    for out, variables in results[1:]:
        np.testing.assert_array_equal(out, results[0][0])
        for name, value in variables.items():
            np.testing.assert_array_equal(value, results[0][1][name])


def test_labels_ignored_with_one_class():
    rng = np.random.default_rng(6)
    x = (rng.random((20, 1, 1, 30)) < 0.4).astype(np.uint8)
    runs = []
    for labels in (None, [7] * 20, 3):
        for c in (0, 1):
            model = fc_model((1, 1, 30), 4)
            model.compile(ak.AkidaUnsupervised(num_weights=8, num_classes=c, seed=1))
            model.fit(x, labels) if labels is not None else model.fit(x)
            runs.append(_weights(model))
    for w in runs[1:]:
        np.testing.assert_array_equal(w, runs[0])


# ---------------------------------------------------------------------------- errors (reference §7)


def _model(**kw):
    args = dict(shape=(1, 1, 32), units=4)
    args.update(kw)
    return fc_model(**args)


def _conv_model(act_bits=1, last="fc"):
    model = ak.Model()
    model.add(ak.InputData(input_shape=(4, 4, 2), input_bits=1))
    model.add(ak.Convolutional(kernel_size=(3, 3), filters=4, weights_bits=1, act_bits=act_bits))
    if last == "fc":
        model.add(ak.FullyConnected(units=4, weights_bits=1))
    return model


def _input_only():
    model = ak.Model()
    model.add(ak.InputData(input_shape=(4, 4, 2), input_bits=1))
    return model


def _compiled(num_classes=2):
    model = _model()
    model.compile(ak.AkidaUnsupervised(num_weights=4, num_classes=num_classes, seed=0))
    return model


X = np.ones((3, 1, 1, 32), np.uint8)

COMPILE_ERRORS = [
    ("weights_bits 2", lambda: _model(weights_bits=2), dict(num_weights=4), ValueError,
     r"Only layers with binary weights can be trained.*weights_bits"),
    ("weights_bits 4", lambda: _model(weights_bits=4), dict(num_weights=4), ValueError,
     r"Only layers with binary weights can be trained.*weights_bits"),
    ("input_bits 4", lambda: _model(input_bits=4), dict(num_weights=4), ValueError,
     r"Only layers receiving binary inputs can be trained.*4-bit"),
    ("previous act_bits 2", lambda: _conv_model(act_bits=2), dict(num_weights=4), ValueError,
     r"Only layers receiving binary inputs can be trained.*2-bit"),
    ("last layer conv", lambda: _conv_model(last="conv"), dict(num_weights=4), ValueError,
     r"The last layer of the model is not trainable.*Convolutional"),
    ("input only", _input_only, dict(num_weights=4), ValueError,
     r"The last layer of the model is not trainable.*InputData"),
    ("num_weights > inputs", _model, dict(num_weights=33), IndexError,
     r"Cannot set 33 values for a tensor of size 32.*num_weights"),
    ("units % classes", _model, dict(num_weights=4, num_classes=3), ValueError,
     r"The number of neurons must be a multiple of the number of classes.*num_classes"),
]


@pytest.mark.parametrize("make, opt, exc, match", [c[1:] for c in COMPILE_ERRORS], ids=[c[0] for c in COMPILE_ERRORS])
def test_compile_errors(make, opt, exc, match):
    model = make()
    with pytest.raises(exc, match=match):
        model.compile(ak.AkidaUnsupervised(**opt))
    assert model.learning is None


@pytest.mark.parametrize("name, words", [
    ("initial_plasticity", "initial plasticity"), ("learning_competition", "learning competition"),
    ("min_plasticity", "minimum plasticity"), ("plasticity_decay", "plasticity decay")])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_optimizer_fraction_errors(name, words, value):
    with pytest.raises(ValueError, match=rf"The {words} must be between 0 and 1.*'{name}'"):
        ak.AkidaUnsupervised(num_weights=4, **{name: value})


def test_optimizer_count_errors():
    with pytest.raises(ValueError, match=r"number of weights must be strictly positive.*'num_weights'"):
        ak.AkidaUnsupervised(num_weights=0)
    with pytest.raises(TypeError, match="num_weights"):
        ak.AkidaUnsupervised(num_weights=-1)
    with pytest.raises(TypeError, match="num_weights"):
        ak.AkidaUnsupervised(num_weights=4.0)
    with pytest.raises(TypeError, match="num_classes"):
        ak.AkidaUnsupervised(num_weights=4, num_classes=-1)


def test_accepted_edge_arguments():
    model = _model()
    model.compile(ak.AkidaUnsupervised(num_weights=32, seed=0))  # num_weights == inputs
    assert (_weights(model) == 1).all()
    model = _model()
    model.compile(ak.AkidaUnsupervised(num_weights=4, num_classes=0, seed=0))
    model = _model()
    model.compile(ak.AkidaUnsupervised(num_weights=4, min_plasticity=0.9, initial_plasticity=0.1, seed=0))
    model.fit(X)
    model = _conv_model()  # 3 layers: compiles, learns the last one
    model.compile(ak.AkidaUnsupervised(num_weights=4, seed=0))


def test_compile_state_errors():
    model = _compiled()
    with pytest.raises(RuntimeError, match="Model was already compiled"):
        model.compile(ak.AkidaUnsupervised(num_weights=4))
    with pytest.raises(TypeError, match="optimizer"):
        _model().compile("AkidaUnsupervised")
    with pytest.raises(RuntimeError, match="To fit a model, last layer should be compiled"):
        _model().fit(X)


FIT_ERRORS = [
    ("value 2", lambda m: m.fit(X * 2), RuntimeError, r"Input values must be in the range \(0, 1\)\. Got 2\."),
    ("float32", lambda m: m.fit(X.astype(np.float32)), ValueError,
     r"Unsupported input type float32\. Input type should be uint8\."),
    ("shape", lambda m: m.fit(np.ones((1, 1, 1, 31), np.uint8)), ValueError,
     r"Input shape must be \(N, 1, 1, 32\) but got \(1, 1, 1, 31\)\."),
    ("label count", lambda m: m.fit(X, [0, 1]), ValueError,
     r"Number of input labels must match number of inputs: 3"),
    ("float labels", lambda m: m.fit(X, np.array([0.0, 1.0, 0.0])), TypeError,
     r"fit method expects integers as labels"),
    ("float label list", lambda m: m.fit(X, [0.5, 1.0, 0.0]), TypeError, r"fit method expects integers as labels"),
    ("label >= classes", lambda m: m.fit(X, [0, 2, 0]), RuntimeError,
     r"Input Label is larger than allowed for the configured number of classes.*num_classes=2"),
    ("empty batch", lambda m: m.fit(np.zeros((0, 1, 1, 32), np.uint8)), RuntimeError, r"dimension 0"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in FIT_ERRORS], ids=[c[0] for c in FIT_ERRORS])
def test_fit_errors_leave_state_unchanged(call, exc, match):
    model = _compiled()
    model.fit(X[:1], 0)
    before = variables_of(model.layers[1])
    with pytest.raises(exc, match=match):
        call(model)
    for name, value in variables_of(model.layers[1]).items():
        np.testing.assert_array_equal(value, before[name])


def test_fit_on_a_mapped_model_costs_the_learning():
    """fit on a mapped model updates statistics: per learned sample, the learning layer's work added."""
    rng = np.random.default_rng(0)
    model = conv_fc_model((8, 8, 2), 16, 10, False, rng)
    model.compile(ak.AkidaUnsupervised(num_weights=12, seed=0))
    model.map(ak.AKD1000())
    x = (rng.random((6, 8, 8, 2)) < 0.5).astype(np.uint8)
    model.forward(x)
    inference = model.statistics
    model.fit(x)
    learning = model.statistics
    assert learning.learning and not inference.learning and learning.inference_frames == 6
    assert learning.fps > 0 and learning.energy > 0
    fc = [c for q in learning.counts if q.hardware for c in q.layers if c.kind == "fully_connected"]
    assert fc[-1].learn_ops == 10 + 12   # winner search over 10 neurons, 12 synapses rewired
    assert learning.chip.first_frame_clk > inference.chip.first_frame_clk
    assert learning.dynamic_mj_per_frame > inference.dynamic_mj_per_frame
    assert "learned sample" in str(learning) and not learning.cold and inference.cold
    unmapped = conv_fc_model((8, 8, 2), 16, 10, False, rng)
    unmapped.compile(ak.AkidaUnsupervised(num_weights=12, seed=0))
    unmapped.forward(x[:1])
    before = unmapped.statistics
    unmapped.fit(x)
    assert unmapped.statistics is not before and unmapped.statistics.inference_clk is None
