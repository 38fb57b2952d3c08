"""Pooling and step-activation kernels against tests/naive.py and the activation rule."""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from kernels.activation import step_activation
from kernels.pooling import global_sum_pool, max_pool
from tests import naive

EXAMPLES = settings().max_examples

INT32 = st.integers(-(2 ** 31), 2 ** 31 - 1)
BITS = st.sampled_from([1, 2, 3, 4])
#: float32 steps >= 1/16 that the API accepts (finite, < 2**27), including exact k/16 and their neighbours.
STEPS = st.one_of(
    st.floats(1 / 16, 2 ** 27, exclude_max=True, width=32),
    st.integers(1, 64 * 16).map(lambda k: float(np.float32(k / 16))),
    st.integers(1, 64 * 16).map(lambda k: float(np.nextafter(np.float32(k / 16), np.float32(np.inf)))),
    st.integers(2, 64 * 16).map(lambda k: float(np.nextafter(np.float32(k / 16), np.float32(0)))),
)


def run_activation(pot, threshold, steps, bits):
    pot = np.asarray(pot, np.int32).reshape(-1, len(threshold))
    q = np.array([naive.step_q(s) % 2 ** 28 for s in steps], np.int64)
    out = np.empty(pot.shape, np.uint8)
    step_activation(pot, np.asarray(threshold, np.int32), q, bits, out)
    return out


def one(p, t, s, b):
    return int(run_activation([[p]], [t], [s], b)[0, 0])


# ----------------------------------------------------------------------------- activation
@settings(max_examples=EXAMPLES * 3)
@given(INT32, INT32, STEPS, BITS)
@example(0, -(2 ** 24 + 1), 1.0, 4)   # FINDINGS Q8: numerator wraps mod 2**28 -> 1
@example(0, -(2 ** 24), 1.0, 4)       # -> 15
@example(0, -(2 ** 30 + 5), 1.0, 4)   # -> 5
@example(0, -(2 ** 27 + 1), 1.0, 2)   # -> 1
@example(0, -(10 ** 8), 2e6, 4)        # -> 9 (the "open uncertainty" case of the semantics note)
@example(-2, 2 ** 31 - 1, 1.0, 4)     # p - T wraps positive -> 15
@example(2 ** 31 - 1, -(2 ** 31), 1 / 16, 4)
def test_step_activation_matches_naive(p, t, s, b):
    assert one(p, t, s, b) == naive.activation_value(p, t, s, b)


@pytest.mark.parametrize("p, t, s, b, expected", [
    (0, -(2 ** 24 + 1), 1.0, 4, 1),
    (0, -(2 ** 24), 1.0, 4, 15),
    (0, -(2 ** 25 + 1), 1.0, 4, 1),
    (0, -(2 ** 30 + 5), 1.0, 4, 5),
    (0, -(2 ** 27 + 1), 1.0, 2, 1),
    (0, -(2 ** 30 + 5), 1.0, 2, 2),
    (0, -(10 ** 8), 2e6, 4, 9),
    (-2, 2 ** 31 - 1, 1.0, 4, 15),
    (11, 0, 0.7, 4, 15),      # 0.7 acts as 0.6875 = 11/16 -> ceil(11*16/11) = 16 -> 15
    (10, 0, 0.7, 4, 15),      # ceil(160/11) = 15
    (1, 0, 0.7, 4, 2),        # ceil(16/11) = 2
])
def test_step_activation_observed_values(p, t, s, b, expected):
    """Values observed on the vendor's engine (semantics §3, FINDINGS Q8)."""
    assert one(p, t, s, b) == expected == naive.activation_value(p, t, s, b)


@settings(max_examples=EXAMPLES * 2)
@given(st.integers(-(2 ** 20), 2 ** 20), st.integers(-(2 ** 20), 2 ** 20), STEPS, BITS, st.data())
def test_activation_interval_rule(t, p, s, b, data):
    """T + n*s_eff < p <= T + (n+1)*s_eff  =>  a = n+1, with s_eff = floor(16 s)/16 * 2**(4-b)
    (while d * 2**b <= 2**28, where the chip's numerator does not wrap)."""
    assume(s < 2 ** 20)
    d = p - t
    assume(d * 2 ** b <= 2 ** 28)
    s_eff = Fraction(naive.step_q(s), 16) * Fraction(2) ** (4 - b)
    a = one(p, t, s, b)
    top = 2 ** b - 1
    if d <= 0:
        assert a == 0
        return
    n = math.ceil(Fraction(d) / s_eff) - 1  # the n with n*s_eff < d <= (n+1)*s_eff
    assert t + n * s_eff < p <= t + (n + 1) * s_eff
    assert a == min(n + 1, top)
    assert a == naive.activation_ceil(p, t, s, b)
    # the two ends of the interval of a drawn level n2, where they hold integers
    n2 = data.draw(st.integers(0, top - 1))
    lower, upper = t + n2 * s_eff, t + (n2 + 1) * s_eff
    if (upper - t) * 2 ** b <= 2 ** 28:
        first, last = math.floor(lower) + 1, math.floor(upper)
        if first <= last:
            assert one(first, t, s, b) == n2 + 1
            assert one(last, t, s, b) == n2 + 1
            if n2 + 1 < top:
                assert one(last + 1, t, s, b) >= n2 + 2


@given(INT32, STEPS, BITS)
def test_activation_zero_at_threshold(t, s, b):
    assert one(t, t, s, b) == 0


@given(INT32, INT32, STEPS)
def test_activation_one_bit_is_p_greater_than_t(p, t, s):
    d = naive.wrap32(p - t)
    assert one(p, t, s, 1) == int(d > 0)


@settings(max_examples=EXAMPLES)
@given(st.integers(-(2 ** 16), 2 ** 16), STEPS, BITS, st.integers(0, 2 ** 16))
def test_activation_monotone_in_p(t, s, b, span):
    """Non-decreasing in p over the unwrapped region."""
    assume(span * 2 ** b <= 2 ** 28)
    p = np.arange(t - 64, t + span + 1, max(1, span // 200), dtype=np.int64)
    a = run_activation(p.reshape(-1, 1), [t], [s], b)[:, 0]
    assert np.all(np.diff(a.astype(int)) >= 0)
    assert a.max() <= 2 ** b - 1


def test_activation_step_truncated_to_sixteenths():
    """0.7 and 0.6875 give identical activations; 0.75 does not (semantics §3)."""
    p = np.arange(-5, 40, dtype=np.int32).reshape(-1, 1)
    a07 = run_activation(p, [0], [np.float32(0.7)], 4)
    a06875 = run_activation(p, [0], [0.6875], 4)
    a075 = run_activation(p, [0], [0.75], 4)
    np.testing.assert_array_equal(a07, a06875)
    assert not np.array_equal(a07, a075)


@settings(max_examples=EXAMPLES)
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 50), st.integers(1, 8), BITS)
def test_activation_vectorised_matches_naive(seed, rows, filters, b):
    rng = np.random.default_rng(seed)
    pot = rng.integers(-(2 ** 31), 2 ** 31, size=(rows, filters)).astype(np.int32)
    pot[: rows // 2] //= 4096
    threshold = rng.integers(-(2 ** 31), 2 ** 31, size=filters).astype(np.int32)
    threshold[: filters // 2] //= 4096
    steps = np.exp(rng.uniform(np.log(1 / 16), np.log(2 ** 26), size=filters)).astype(np.float32)
    np.testing.assert_array_equal(run_activation(pot, threshold, steps, b),
                                  naive.activate(pot, threshold, steps, b))


# ----------------------------------------------------------------------------- max pooling
@st.composite
def pool_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    px, py = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sx, sy = draw(st.integers(1, px)), draw(st.integers(1, py))
    same = draw(st.booleans())
    h = draw(st.integers(1 if same else px, 11))
    w = draw(st.integers(1 if same else py, 11))
    n, f = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    scale = draw(st.sampled_from([2 ** 8, 2 ** 19, 2 ** 20, 2 ** 31]))
    pot = rng.integers(-scale, scale, size=(n, h, w, f)).clip(-(2 ** 31), 2 ** 31 - 1).astype(np.int32)
    if draw(st.booleans()):
        pot = -np.abs(pot) - 1  # all negative: padding must not win with a 0
    return pot, (px, py), (sx, sy), same


def run_max_pool(pot, size, stride, same):
    oh = naive.out_size(pot.shape[1], size[0], stride[0], same)
    ow = naive.out_size(pot.shape[2], size[1], stride[1], same)
    pads = [naive.tf_pads(pot.shape[1], size[0], stride[0], same)[0],
            naive.tf_pads(pot.shape[2], size[1], stride[1], same)[0]]
    out = np.empty((pot.shape[0], oh, ow, pot.shape[3]), np.int32)
    max_pool(pot, np.array(size, np.int64), np.array(stride, np.int64), np.array(pads, np.int64), out)
    return out


@settings(max_examples=EXAMPLES)
@given(pool_cases())
def test_max_pool_matches_naive(case):
    pot, size, stride, same = case
    np.testing.assert_array_equal(run_max_pool(pot, size, stride, same), naive.max_pool(pot, size, stride, same))


@pytest.mark.parametrize("values, expected", [
    ([-391_680, -587_520], -391_680),        # IC with -128 weights (semantics §4)
    ([3_429_000, 0], naive.SAT_MAX),          # Conv 3x3x300 with Max 2x2
    ([-(2 ** 31), -(2 ** 31)], naive.SAT_MIN),
    ([naive.SAT_MAX, naive.SAT_MAX + 1], naive.SAT_MAX),
    ([naive.SAT_MIN, naive.SAT_MIN - 1], naive.SAT_MIN),
])
def test_max_pool_20_bit_edges(values, expected):
    pot = np.array(values, np.int32).reshape(1, 1, 2, 1)
    assert run_max_pool(pot, (1, 2), (1, 2), False)[0, 0, 0, 0] == expected


def test_max_pool_same_padding_is_minus_infinity():
    pot = np.full((1, 3, 3, 1), -5, np.int32)
    out = run_max_pool(pot, (2, 2), (2, 2), True)
    assert out.shape == (1, 2, 2, 1)
    assert (out == -5).all()


# ----------------------------------------------------------------------------- global sum
@st.composite
def sum_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    n, h, w, f = (draw(st.integers(1, 3)), draw(st.integers(1, 7)), draw(st.integers(1, 7)),
                  draw(st.integers(1, 4)))
    scale = draw(st.sampled_from([2 ** 10, 2 ** 17, 2 ** 19, 2 ** 24, 2 ** 31]))
    pot = rng.integers(-scale, scale, size=(n, h, w, f)).astype(np.int32)
    return pot


def run_global_sum(pot):
    out = np.empty((pot.shape[0], 1, 1, pot.shape[3]), np.int32)
    global_sum_pool(pot, out)
    return out


@settings(max_examples=EXAMPLES)
@given(sum_cases())
def test_global_sum_matches_naive(pot):
    np.testing.assert_array_equal(run_global_sum(pot), naive.global_sum(pot))


def test_global_sum_running_saturation_order():
    """p28: +571,500 then -576,000 gives -51,713; the reversed order (axis 1 outer) gives 47,212."""
    pot = np.array([571_500, -576_000], np.int32).reshape(1, 1, 2, 1)
    assert run_global_sum(pot)[0, 0, 0, 0] == -51_713
    assert run_global_sum(pot[:, :, ::-1].copy())[0, 0, 0, 0] == 47_212
    # axis 1 outer, axis 2 inner: the same pair laid out on axis 1 reads in the same order
    assert run_global_sum(pot.reshape(1, 2, 1, 1))[0, 0, 0, 0] == -51_713
    two_d = np.array([[571_500, 0], [-576_000, 0]], np.int32).reshape(1, 2, 2, 1)
    assert run_global_sum(two_d)[0, 0, 0, 0] == -51_713
    assert run_global_sum(two_d.transpose(0, 2, 1, 3).copy())[0, 0, 0, 0] == -51_713


def test_global_sum_exact_without_saturation():
    pot = np.arange(-12, 12, dtype=np.int32).reshape(1, 4, 6, 1) * 1000
    assert run_global_sum(pot)[0, 0, 0, 0] == pot.sum()


def test_large_calls_split_over_threads_match_naive():
    rng = np.random.default_rng(3)
    pot = rng.integers(-(2 ** 21), 2 ** 21, size=(4, 40, 40, 32)).astype(np.int32)
    for size, stride, same in [((2, 2), (2, 2), True), ((3, 3), (2, 1), False)]:
        np.testing.assert_array_equal(run_max_pool(pot, size, stride, same), naive.max_pool(pot, size, stride, same))
    big = rng.integers(-(2 ** 14), 2 ** 14, size=(8, 30, 30, 8)).astype(np.int32)
    np.testing.assert_array_equal(run_global_sum(big), naive.global_sum(big))
    flat = pot.reshape(-1, 32)[:20000]
    threshold = rng.integers(-1000, 1000, size=32).astype(np.int32)
    steps = rng.uniform(1 / 16, 5000, size=32).astype(np.float32)
    got = run_activation(flat, threshold, steps, 4)
    # vectorised int64 form of the rule (checked against naive.activation_value elsewhere)
    d = naive.wrap32(flat.astype(np.int64) - threshold)
    q = np.array([naive.step_q(s) for s in steps], np.int64)
    expected = np.where(d <= 0, 0, np.minimum(((d * 16 - 1) % 2 ** 28) // q + 1, 15))
    np.testing.assert_array_equal(got, expected)
