"""Property tests of kernels/learning.py against the naive reference (tests/naive_learning.py)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernels.learning import (
    draw_initial_weights,
    fit_batch,
    fit_kernel,
    learning_constants,
    learning_histogram,
)
from tests.naive_learning import NaiveLearner, naive_constants

F32_01 = float(np.float32(0.1))  # vendor default min_plasticity, as a double

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])

params = st.one_of(
    st.floats(0.0, 1.0, allow_nan=False),
    st.sampled_from([0.0, 0.1, F32_01, 0.25, 0.5, 0.75, 1.0]),
)


@st.composite
def scenarios(draw, max_inputs=40, max_per_class=5, max_samples=10):
    """A layer, its starting state, and a few sequential fit calls."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_inputs = draw(st.integers(1, max_inputs))
    num_classes = draw(st.integers(0, 4))
    per_class = draw(st.integers(1, max_per_class))
    units = num_classes * per_class if num_classes >= 1 else per_class
    k = draw(st.integers(1, n_inputs))
    p0, lc, pmin, d = (draw(params) for _ in range(4))
    th0, dec, flo, cap = learning_constants(k, p0, lc, pmin, d)
    if draw(st.booleans()):
        weights = draw_initial_weights(n_inputs, units, k, rng)
    else:  # arbitrary binary weights: any number of connections per neuron
        weights = (rng.random((n_inputs, units)) < rng.random()).astype(np.uint8)
    if draw(st.booleans()):  # state right after compile
        tl = np.zeros(units, np.int32)
        thswap = np.full(units, th0, np.int32)
        counter = np.zeros(1, np.int64)
    else:  # some state reached later
        tl = rng.integers(0, k + 1, units).astype(np.int32)
        thswap = rng.integers(0, k + 3, units).astype(np.int32)
        counter = rng.integers(0, 100, 1).astype(np.int64)
    label_mode = draw(st.sampled_from(["none", "labelled", "mixed"]))
    n_calls = draw(st.integers(1, 4))
    calls = []
    for _ in range(n_calls):
        n_samples = draw(st.integers(0, max_samples))
        density = rng.random()
        x = (rng.random((n_samples, n_inputs)) < density).astype(np.uint8)
        top = num_classes if num_classes > 1 else 4  # C <= 1 ignores labels
        if label_mode == "none":
            labels = np.full(n_samples, -1, np.int32)
        elif label_mode == "labelled":
            labels = rng.integers(0, top, n_samples).astype(np.int32)
        else:
            labels = rng.integers(-1, top, n_samples).astype(np.int32)
        calls.append((x, labels))
    return dict(weights=weights, tl=tl, thswap=thswap, counter=counter, C=num_classes,
                consts=(dec, flo, cap), calls=calls, K=k)


def _kernel_call(sc, x, labels, weights, tl, thswap, counter):
    dec, flo, cap = sc["consts"]
    out = np.empty((x.shape[0], weights.shape[1]), np.int32)
    fit_kernel(x, labels, weights, tl, thswap, counter, sc["C"], dec, flo, cap, out)
    return out


def _state(sc):
    return (sc["weights"].copy(), sc["tl"].copy(), sc["thswap"].copy(), sc["counter"].copy())


@settings(max_examples=300, **SETTINGS)
@given(scenarios())
def test_kernel_matches_naive(sc):
    _check_against_naive(sc)


@settings(max_examples=15, **SETTINGS)
@given(scenarios(max_inputs=300, max_per_class=15, max_samples=40))
def test_kernel_matches_naive_larger(sc):
    _check_against_naive(sc)


def _check_against_naive(sc):
    weights, tl, thswap, counter = _state(sc)
    dec, flo, cap = sc["consts"]
    ref = NaiveLearner(sc["weights"], sc["tl"], sc["thswap"], int(sc["counter"][0]),
                       sc["C"], dec, flo, cap)
    for x, labels in sc["calls"]:
        out = _kernel_call(sc, x, labels, weights, tl, thswap, counter)
        ref_out = ref.fit(x, labels)
        assert out.tolist() == [list(p) for p in ref_out]
        assert weights.tolist() == ref.W
        assert tl.tolist() == ref.threshold_learning
        assert thswap.tolist() == ref.thswap
        assert int(counter[0]) == ref.t


@settings(max_examples=150, **SETTINGS)
@given(scenarios())
def test_call_boundaries_do_not_matter(sc):
    """One batch == the same samples one per call, and int8 weights == uint8 weights."""
    xs = [x for x, _ in sc["calls"]]
    ls = [lab for _, lab in sc["calls"]]
    x_all = np.concatenate(xs) if xs else np.zeros((0, sc["weights"].shape[0]), np.uint8)
    l_all = np.concatenate(ls)
    w1, tl1, ts1, c1 = _state(sc)
    out1 = _kernel_call(sc, x_all, l_all, w1, tl1, ts1, c1)
    w2, tl2, ts2, c2 = _state(sc)
    w2 = w2.astype(np.int8)
    outs = [_kernel_call(sc, x_all[s:s + 1], l_all[s:s + 1], w2, tl2, ts2, c2)
            for s in range(x_all.shape[0])]
    out2 = np.concatenate(outs) if outs else out1
    np.testing.assert_array_equal(out1, out2)
    np.testing.assert_array_equal(w1, w2.astype(np.uint8))
    np.testing.assert_array_equal(tl1, tl2)
    np.testing.assert_array_equal(ts1, ts2)
    np.testing.assert_array_equal(c1, c2)


@settings(max_examples=200, **SETTINGS)
@given(scenarios())
def test_per_sample_invariants(sc):
    weights, tl, thswap, counter = _state(sc)
    units = weights.shape[1]
    num_classes = sc["C"]
    _, flo, _ = sc["consts"]
    for x_call, l_call in sc["calls"]:
        for x, label in zip(x_call, l_call):
            before = (weights.copy(), tl.copy(), thswap.copy(), counter.copy())
            out = _kernel_call(sc, x[None], np.array([label], np.int32),
                               weights, tl, thswap, counter)
            pot = x.astype(np.int64) @ before[0].astype(np.int64)
            np.testing.assert_array_equal(out[0], pot)
            if num_classes > 1 and label >= 0:
                block = units // num_classes
                competing = np.arange(label * block, (label + 1) * block)
            else:
                competing = np.arange(units)
            eligible = competing[pot[competing] > before[1][competing]]
            # Each neuron keeps its number of connections; weights stay binary.
            np.testing.assert_array_equal(weights.sum(axis=0), before[0].sum(axis=0))
            assert set(np.unique(weights)) <= {0, 1}
            if eligible.size == 0:  # nothing changes, counter included
                np.testing.assert_array_equal(weights, before[0])
                np.testing.assert_array_equal(tl, before[1])
                np.testing.assert_array_equal(thswap, before[2])
                np.testing.assert_array_equal(counter, before[3])
                continue
            winner = eligible[np.argmax(pot[eligible])]  # first max = lowest index
            others = np.arange(units) != winner
            np.testing.assert_array_equal(weights[:, others], before[0][:, others])
            np.testing.assert_array_equal(tl[others], before[1][others])
            np.testing.assert_array_equal(thswap[others], before[2][others])
            # The winner's thswap never ends below the floor M.
            assert thswap[winner] >= flo
            # Swaps: removed only inactive connections, added only active ones, at most thswap.
            col_old, col_new = before[0][:, winner], weights[:, winner]
            removed = np.flatnonzero((col_old == 1) & (col_new == 0))
            added = np.flatnonzero((col_old == 0) & (col_new == 1))
            assert removed.size == added.size <= max(int(before[2][winner]), 0)
            assert not x[removed].any() and x[added].all()
            if removed.size == 0:
                assert tl[winner] == before[1][winner]


# ---------------------------------------------------------------------------- constants


def test_learning_constants_vendor_defaults():
    # K=40, initial_plasticity=1, learning_competition=0, min=float32(0.1), decay=0.25
    assert learning_constants(40, 1.0, 0.0, F32_01, 0.25) == (40, 10, 5, 40)
    assert learning_constants(40, 1.0, 0.0, np.float32(0.1), 0.25) == (40, 10, 5, 40)
    # a user-passed Python 0.1 gives the floor 4
    assert learning_constants(40, 1.0, 0.0, 0.1, 0.25) == (40, 10, 4, 40)
    # learning_competition: lc=1 -> cap 0, lc=0.5 -> cap round-half-up(20)
    assert learning_constants(40, 1.0, 1.0, 0.1, 0.25)[3] == 0
    assert learning_constants(41, 1.0, 0.5, 0.1, 0.25)[3] == 21  # floor(20.5 + 0.5)
    assert learning_constants(41, 0.5, 0.0, 0.1, 0.25)[0] == 21  # th0 half-up


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2000), params, params, params, params)
def test_learning_constants_match_naive(k, p0, lc, pmin, d):
    assert learning_constants(k, p0, lc, pmin, d) == naive_constants(k, p0, lc, pmin, d)


@pytest.mark.parametrize("args, what", [
    ((40, 1.5, 0.0, 0.1, 0.25), "initial plasticity"),
    ((40, 1.0, -0.1, 0.1, 0.25), "learning competition"),
    ((40, 1.0, 0.0, 2.0, 0.25), "minimum plasticity"),
    ((40, 1.0, 0.0, 0.1, 1.01), "plasticity decay"),
    ((0, 1.0, 0.0, 0.1, 0.25), "number of weights"),
])
def test_learning_constants_rejects(args, what):
    with pytest.raises(ValueError, match=what):
        learning_constants(*args)


def _single_neuron_events(min_plasticity, n_events=6):
    """K=40 neuron fed an all-ones input: it learns every sample without any swap."""
    th0, dec, flo, cap = learning_constants(40, 1.0, 0.0, min_plasticity, 0.25)
    weights = np.zeros((100, 1), np.uint8)
    weights[:40] = 1
    tl = np.zeros(1, np.int32)
    thswap = np.full(1, th0, np.int32)
    counter = np.zeros(1, np.int64)
    seq = [int(thswap[0])]
    for _ in range(n_events):
        out = np.empty((1, 1), np.int32)
        fit_kernel(np.ones((1, 100), np.uint8), np.array([-1], np.int32), weights, tl, thswap,
                   counter, 1, dec, flo, cap, out)
        assert out[0, 0] == 40
        seq.append(int(thswap[0]))
    # k = 0 (no inactive connection): no swap, threshold unchanged, counter unchanged
    assert tl[0] == 0 and counter[0] == 0 and weights[:40].all() and not weights[40:].any()
    return seq


def test_thswap_decay_sequence():
    assert _single_neuron_events(F32_01) == [40, 30, 20, 10, 5, 5, 5]
    assert _single_neuron_events(0.1) == [40, 30, 20, 10, 4, 4, 4]


# ---------------------------------------------------------------------------- worked cases


def test_hand_worked_swap():
    # N=8, one neuron connected to inputs 0..3; active inputs 2..7 -> pot 2.
    # inact=[0,1], cand=[4,5,6,7], k=min(4,2,4)=2.
    # remove select(2,2), t: 0->pick 0, t=1 -> 1%1=0 -> pick 1, t=1  => remove 0,1
    # add select(4,2), chunks of 2: t=1 -> pick 1, t=2 -> 2%2=0 -> pick 2, t=1  => add 5,6
    weights = np.zeros((8, 1), np.uint8)
    weights[:4] = 1
    tl = np.zeros(1, np.int32)
    thswap = np.full(1, 4, np.int32)
    counter = np.zeros(1, np.int64)
    x = np.array([[0, 0, 1, 1, 1, 1, 1, 1]], np.uint8)
    out = np.empty((1, 1), np.int32)
    fit_kernel(x, np.array([-1], np.int32), weights, tl, thswap, counter, 0, 1, 1, 3, out)
    assert out[0, 0] == 2
    assert np.flatnonzero(weights[:, 0]).tolist() == [2, 3, 5, 6]
    assert counter[0] == 1 and tl[0] == 2 and thswap[0] == 3
    # same through the reference
    ref = NaiveLearner(np.r_[np.ones((4, 1)), np.zeros((4, 1))], [0], [4], 0, 0, 1, 1, 3)
    ref.fit(x)
    assert ref.W == weights.tolist() and ref.t == 1


def test_uneven_chunks():
    # select(10, 3) from t=0: chunks 4,3,3 -> picks ranks 0, 4+1, 7+2; t ends at 3
    ref = NaiveLearner([[0]], [0], [0], 0, 0, 0, 0, 0)
    assert ref.select(10, 3) == [0, 5, 9] and ref.t == 3
    # from t=3: 3%4=3 -> rank 3; 4%3=1 -> rank 4+1; 2%3=2 -> rank 7+2; t ends at 3
    assert ref.select(10, 3) == [3, 5, 9] and ref.t == 3


def test_winner_tie_and_threshold_cap():
    # two identical neurons: the lowest index wins; cap limits threshold_learning
    weights = np.zeros((6, 2), np.uint8)
    weights[:3] = 1
    tl = np.zeros(2, np.int32)
    thswap = np.full(2, 3, np.int32)
    counter = np.zeros(1, np.int64)
    x = np.array([[1, 1, 0, 1, 0, 0]], np.uint8)
    out = np.empty((1, 2), np.int32)
    fit_kernel(x, np.array([-1], np.int32), weights, tl, thswap, counter, 1, 1, 0, 1, out)
    assert out.tolist() == [[2, 2]]
    assert tl.tolist() == [1, 0] and thswap.tolist() == [2, 3]
    assert weights[:, 1].tolist() == [1, 1, 1, 0, 0, 0]
    assert weights[:, 0].tolist() == [1, 1, 0, 1, 0, 0]


def test_no_eligible_neuron_changes_nothing():
    rng = np.random.default_rng(1)
    weights = draw_initial_weights(20, 6, 5, rng)
    tl = np.full(6, 5, np.int32)  # pot <= K = 5 never exceeds
    thswap = np.full(6, 5, np.int32)
    counter = np.array([7], np.int64)
    snapshot = (weights.copy(), tl.copy(), thswap.copy(), counter.copy())
    x = (rng.random((30, 20)) < 0.6).astype(np.uint8)
    x[0] = 0  # pot 0 never learns
    out = fit_batch(x, None, weights, tl, thswap, counter, 3, 1, 1, 5)
    np.testing.assert_array_equal(out, x.astype(np.int32) @ weights.astype(np.int32))
    for a, b in zip((weights, tl, thswap, counter), snapshot):
        np.testing.assert_array_equal(a, b)
    # zero threshold but all-zero inputs: still nothing
    tl[:] = 0
    fit_batch(np.zeros((3, 20), np.uint8), [0, 1, 2], weights, tl, thswap, counter, 3, 1, 1, 5)
    for a, b in zip((weights, thswap, counter), (snapshot[0], snapshot[2], snapshot[3])):
        np.testing.assert_array_equal(a, b)


def test_labels_restrict_competition():
    # neuron 0 (class 0) has the higher potential, but label 1 makes neuron 1 learn
    weights = np.zeros((4, 2), np.uint8)
    weights[:2, 0] = 1
    weights[1:3, 1] = 1
    tl = np.zeros(2, np.int32)
    thswap = np.full(2, 2, np.int32)
    counter = np.zeros(1, np.int64)
    x = np.array([[1, 1, 0, 1]], np.uint8)
    fit_batch(x, [1], weights, tl, thswap, counter, 2, 1, 0, 2)
    assert tl.tolist() == [0, 1] and thswap.tolist() == [2, 1]
    assert weights[:, 0].tolist() == [1, 1, 0, 0]
    assert weights[:, 1].tolist() == [0, 1, 0, 1]


# ---------------------------------------------------------------------------- helpers


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 30), st.integers(1, 8), st.data())
def test_draw_initial_weights(n_inputs, units, data):
    k = data.draw(st.integers(1, n_inputs))
    w = draw_initial_weights(n_inputs, units, k, np.random.default_rng(data.draw(st.integers(0, 99))))
    assert w.dtype == np.uint8 and w.shape == (n_inputs, units)
    assert set(np.unique(w)) <= {0, 1}
    assert (w.sum(axis=0) == k).all()


def test_draw_initial_weights_errors_and_uniformity():
    rng = np.random.default_rng(0)
    with pytest.raises(IndexError, match="Cannot set 33 values for a tensor of size 32"):
        draw_initial_weights(32, 2, 33, rng)
    with pytest.raises(ValueError):
        draw_initial_weights(32, 2, 0, rng)
    usage = draw_initial_weights(64, 2000, 8, rng).sum(axis=1)
    assert abs(usage.mean() - 2000 * 8 / 64) < 1e-9
    assert usage.std() < 3 * np.sqrt(250 * (1 - 8 / 64))  # binomial sd ~ 14.8


def test_learning_histogram():
    h = learning_histogram(np.array([0, 40, 20, 39, 0, 40, 1], np.int32), 40)
    assert h.tolist() == [[2, 1], [50, 1], [97, 1], [100, 2]]
    assert learning_histogram(np.zeros(5, np.int32), 40).shape == (0, 2)


# ---------------------------------------------------------------------------- wrapper


def test_fit_batch_validation():
    w = np.zeros((8, 4), np.uint8)
    w[:2] = 1
    tl = np.zeros(4, np.int32)
    ts = np.full(4, 2, np.int32)
    c = np.zeros(1, np.int64)
    x = np.ones((2, 8), np.uint8)
    with pytest.raises(ValueError, match="larger than allowed"):
        fit_batch(x, [0, 2], w, tl, ts, c, 2, 1, 0, 2)
    with pytest.raises(ValueError, match="range"):
        fit_batch(x * 2, None, w, tl, ts, c, 2, 1, 0, 2)
    with pytest.raises(ValueError, match="match number of inputs"):
        fit_batch(x, [0], w, tl, ts, c, 2, 1, 0, 2)
    with pytest.raises(TypeError):
        fit_batch(x, [0.5, 1.0], w, tl, ts, c, 2, 1, 0, 2)
    with pytest.raises(ValueError, match="multiple"):
        fit_batch(x, None, w, tl, ts, c, 3, 1, 0, 2)
    with pytest.raises(ValueError):
        fit_batch(np.ones((2, 7), np.uint8), None, w, tl, ts, c, 2, 1, 0, 2)
    with pytest.raises(TypeError):
        fit_batch(x, None, w.astype(np.int32), tl, ts, c, 2, 1, 0, 2)
    # nothing was modified by the rejected calls
    assert w.sum() == 8 and not tl.any() and (ts == 2).all() and c[0] == 0
    # scalar label applies to all samples; (S, 1, 1, N)-shaped input is flattened
    out = fit_batch(x.reshape(2, 1, 1, 8), 1, w, tl, ts, c, 2, 1, 0, 2)
    assert out.shape == (2, 4) and out.dtype == np.int32
    # neuron 2 wins both samples (tie with 3) but has no inactive connection: k=0, so only
    # thswap decays
    assert not tl.any() and ts.tolist() == [2, 2, 0, 2] and c[0] == 0
    np.testing.assert_array_equal(out, np.full((2, 4), 2))


def test_kernel_rejects_out_of_range_label():
    w = np.ones((4, 2), np.uint8)
    out = np.empty((1, 2), np.int32)
    with pytest.raises(ValueError):
        fit_kernel(np.ones((1, 4), np.uint8), np.array([2], np.int32), w, np.zeros(2, np.int32),
                   np.ones(2, np.int32), np.zeros(1, np.int64), 2, 1, 0, 4, out)
