"""Convolution, separable and dense kernels against tests/naive.py (and SciPy on small cases)."""
import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.convolution import conv2d_potentials
from kernels.dense import dense_potentials
from kernels.separable import separable_potentials
from tests import naive

EXAMPLES = settings().max_examples  # from the loaded profile (reduced without JIT)

odd = st.sampled_from([1, 3, 5, 7])


@st.composite
def conv_cases(draw, max_c=6, max_f=5, pad_values=True):
    """Input, weights and geometry of one convolution (any odd kernel, strides up to 3)."""
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 3))
    kx, ky = draw(odd), draw(odd)
    same = draw(st.booleans())
    sx, sy = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h = draw(st.integers(1 if same else kx, 12))
    w = draw(st.integers(1 if same else ky, 12))
    c = draw(st.integers(1, max_c))
    f = draw(st.integers(1, max_f))
    x_bits = draw(st.sampled_from([1, 2, 4, 8]))
    x = rng.integers(0, 2 ** x_bits, size=(n, h, w, c), dtype=np.uint8)
    x[rng.random(x.shape) < draw(st.sampled_from([0.0, 0.5, 0.9]))] = 0
    weights = rng.integers(-128, 128, size=(kx, ky, c, f)).astype(np.int8)
    pad_value = draw(st.integers(0, 255)) if pad_values and draw(st.booleans()) else 0
    return x, weights, (sx, sy), same, pad_value


def run_conv(x, weights, stride, same, pad_value=0, form=None):
    kx, ky, _, f = weights.shape
    pads = [naive.tf_pads(x.shape[1], kx, stride[0], same)[0], naive.tf_pads(x.shape[2], ky, stride[1], same)[0]]
    out = np.empty((x.shape[0], naive.out_size(x.shape[1], kx, stride[0], same),
                    naive.out_size(x.shape[2], ky, stride[1], same), f), np.int32)
    conv2d_potentials(np.ascontiguousarray(x), np.ascontiguousarray(weights.astype(np.int32)),
                      np.array(stride, np.int64), np.array(pads, np.int64), pad_value, out, form)
    return out


@settings(max_examples=EXAMPLES)
@given(conv_cases())
def test_conv2d_matches_naive_correlation(case):
    x, weights, stride, same, pad_value = case
    out = run_conv(x, weights, stride, same, pad_value)
    expected = naive.wrap32(naive.correlate(x, weights, stride, same, pad_value))
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, expected)


@settings(max_examples=EXAMPLES // 2)
@given(conv_cases(max_c=3, max_f=2, pad_values=False))
def test_conv2d_matches_scipy_correlate_and_convolve(case):
    """Stride 1 Same/Valid against scipy.signal in float64 (zero padding, odd kernels)."""
    x, weights, _, same, _ = case
    mode = "same" if same else "valid"
    corr = run_conv(x, weights, (1, 1), same)
    conv = run_conv(x, np.ascontiguousarray(weights[::-1, ::-1]), (1, 1), same)
    for n in range(x.shape[0]):
        for f in range(weights.shape[3]):
            ref_corr = sum(scipy.signal.correlate(x[n, :, :, c].astype(np.float64),
                                                  weights[:, :, c, f].astype(np.float64), mode=mode)
                           for c in range(x.shape[3]))
            ref_conv = sum(scipy.signal.convolve(x[n, :, :, c].astype(np.float64),
                                                 weights[:, :, c, f].astype(np.float64), mode=mode)
                           for c in range(x.shape[3]))
            np.testing.assert_array_equal(corr[n, :, :, f], ref_corr)
            np.testing.assert_array_equal(conv[n, :, :, f], ref_conv)


def test_conv2d_impulse_orientation():
    """A single 1 at (3,3) with W[0,1]=1 lands at (4,3) for a correlation (semantics §1)."""
    x = np.zeros((1, 8, 8, 1), np.uint8)
    x[0, 3, 3, 0] = 1
    w = np.zeros((3, 3, 1, 1), np.int8)
    w[0, 1, 0, 0] = 1
    out = run_conv(x, w, (1, 1), True)
    assert list(zip(*np.nonzero(out[0, :, :, 0]))) == [(4, 3)]
    flipped = run_conv(x, np.ascontiguousarray(w[::-1, ::-1]), (1, 1), True)
    assert list(zip(*np.nonzero(flipped[0, :, :, 0]))) == [(2, 3)]


def test_conv2d_same_strided_padding_goes_after():
    """TF style: for input 4, kernel 3, stride 2 the single padded cell is after the input."""
    x = np.arange(1, 17, dtype=np.uint8).reshape(1, 4, 4, 1)
    w = np.ones((3, 3, 1, 1), np.int8)
    out = run_conv(x, w, (2, 2), True)
    assert out.shape == (1, 2, 2, 1)
    # window rows 0..2 / cols 0..2 (no padding before)
    assert out[0, 0, 0, 0] == x[0, 0:3, 0:3, 0].sum()
    assert out[0, 1, 1, 0] == x[0, 2:4, 2:4, 0].sum()


def test_conv2d_padding_value_counts_as_pixel():
    x = np.zeros((1, 1, 1, 1), np.uint8)
    w = np.ones((3, 3, 1, 1), np.int8)
    assert run_conv(x, w, (1, 1), True, 7)[0, 0, 0, 0] == 8 * 7


@pytest.mark.parametrize("weight", [127, -128])
def test_conv2d_int32_wrap(weight):
    """255 * 127 * 70,000 exceeds 2**31: the accumulator wraps like int32."""
    c = 70_000
    x = np.full((1, 1, 1, c), 255, np.uint8)
    w = np.full((1, 1, c, 1), weight, np.int8)
    out = run_conv(x, w, (1, 1), False)
    exact = 255 * weight * c
    assert abs(exact) > 2 ** 31
    assert out[0, 0, 0, 0] == naive.wrap32(exact)


# ----------------------------------------------------------------------------- separable
@st.composite
def sep_cases(draw):
    x, weights, stride, same, _ = draw(conv_cases(max_c=6, max_f=5, pad_values=False))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    kx, ky, c, f = weights.shape
    x = np.minimum(x, 15).astype(np.uint8)
    wd = rng.integers(-128, 128, size=(kx, ky, c, 1)).astype(np.int8)
    wpw = rng.integers(-128, 128, size=(1, 1, c, f)).astype(np.int8)
    return x, wd, wpw, stride, same


def run_sep(x, wd, wpw, stride, same):
    kx, ky, _, _ = wd.shape
    f = wpw.shape[3]
    pads = [naive.tf_pads(x.shape[1], kx, stride[0], same)[0], naive.tf_pads(x.shape[2], ky, stride[1], same)[0]]
    out = np.empty((x.shape[0], naive.out_size(x.shape[1], kx, stride[0], same),
                    naive.out_size(x.shape[2], ky, stride[1], same), f), np.int32)
    separable_potentials(x, np.ascontiguousarray(wd[::-1, ::-1, :, 0].astype(np.int32)),
                         np.ascontiguousarray(wpw[0, 0].astype(np.int32)),
                         np.array(stride, np.int64), np.array(pads, np.int64), out)
    return out


@settings(max_examples=EXAMPLES)
@given(sep_cases())
def test_separable_matches_naive(case):
    x, wd, wpw, stride, same = case
    np.testing.assert_array_equal(run_sep(x, wd, wpw, stride, same), naive.separable(x, wd, wpw, stride, same))


def test_separable_int32_wrap_example():
    """Semantics §5: 1000 channels, weights 127, inputs 15 -> -1,030,086,888 = wrap32(11,854,815,000).

    11,854,815,000 = 49 * 15 * 127 * 127 * 1000, i.e. a 7x7 window (the note says 3x3, which
    gives wrap32(2,177,415,000) instead; both wrap).
    """
    c = 1000
    x = np.full((1, 7, 7, c), 15, np.uint8)
    wd = np.full((7, 7, c, 1), 127, np.int8)
    wpw = np.full((1, 1, c, 1), 127, np.int8)
    out = run_sep(x, wd, wpw, (1, 1), False)
    assert out[0, 0, 0, 0] == -1_030_086_888 == naive.wrap32(11_854_815_000)
    small = run_sep(x[:, :3, :3], np.ascontiguousarray(wd[:3, :3]), wpw, (1, 1), False)
    assert small[0, 0, 0, 0] == naive.wrap32(2_177_415_000) < 0


def test_separable_depthwise_exceeds_16_bits_exactly():
    """No intermediate saturation: a depthwise value of 9*15*127 = 17,145 times 127 is kept exact."""
    x = np.full((1, 3, 3, 1), 15, np.uint8)
    wd = np.full((3, 3, 1, 1), 127, np.int8)
    wpw = np.full((1, 1, 1, 1), 127, np.int8)
    assert run_sep(x, wd, wpw, (1, 1), False)[0, 0, 0, 0] == 17_145 * 127


# ----------------------------------------------------------------------------- dense
@st.composite
def dense_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    n = draw(st.integers(1, 4))
    h, w, c = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 40))
    units = draw(st.integers(1, 8))
    x = rng.integers(0, 16, size=(n, h, w, c), dtype=np.uint8)
    x[rng.random(x.shape) < 0.3] = 0
    kind = draw(st.sampled_from(["random", "max", "min"]))
    if kind == "random":
        wt = rng.integers(-128, 128, size=(1, 1, h * w * c, units)).astype(np.int8)
    else:
        wt = np.full((1, 1, h * w * c, units), 127 if kind == "max" else -128, np.int8)
        x[:] = 15
    return x, wt


def run_dense(x, wt, form=None):
    """Reorder column-major weight rows to the C-order flatten the kernel receives."""
    n, h, w, c = x.shape
    units = wt.shape[3]
    rows = wt[0, 0].reshape(c, w, h, units).transpose(2, 1, 0, 3).reshape(h * w * c, units).astype(np.int32)
    out = np.empty((n, units), np.int32)
    dense_potentials(np.ascontiguousarray(x.reshape(n, -1)), np.ascontiguousarray(rows), out, form)
    return out.reshape(n, 1, 1, units)


@pytest.mark.parametrize("form", [None, "event", "dense"])
@settings(max_examples=EXAMPLES // 2)
@given(case=dense_cases())
def test_dense_matches_naive(form, case):
    x, wt = case
    np.testing.assert_array_equal(run_dense(x, wt, form), naive.fully_connected(x, wt))


def test_dense_column_major_flatten_one_hot():
    """flat[a + H*b + H*W*c] = x[a, b, c] (semantics §6), probed one-hot like p20."""
    h, w, c = 2, 3, 4
    for a in range(h):
        for b in range(w):
            for ch in range(c):
                x = np.zeros((1, h, w, c), np.uint8)
                x[0, a, b, ch] = 1
                wt = np.zeros((1, 1, h * w * c, 1), np.int8)
                wt[0, 0, a + h * b + h * w * ch, 0] = 5
                assert run_dense(x, wt)[0, 0, 0, 0] == 5


@pytest.mark.parametrize("value, expected", [
    # +127*400 then -128*300 with input 15 -> exact (no running clip): 15*(50,800-38,400) = 186,000
    ("mixed", 186_000),
    ("max", naive.SAT_MAX),
    ("min", naive.SAT_MIN),
])
@pytest.mark.parametrize("form", ["event", "dense"])
def test_dense_saturates_final_sum_only(value, expected, form):
    if value == "mixed":
        wt = np.concatenate([np.full(400, 127), np.full(300, -128)]).astype(np.int8)
    else:
        wt = np.full(1000, 127 if value == "max" else -128, np.int8)
    x = np.full((1, 1, 1, wt.size), 15, np.uint8)
    out = run_dense(x, wt.reshape(1, 1, -1, 1), form)
    assert out[0, 0, 0, 0] == expected
    # the reverse order gives the same result
    out_rev = run_dense(x, wt[::-1].copy().reshape(1, 1, -1, 1), form)
    assert out_rev[0, 0, 0, 0] == expected


def test_dense_edges_of_20_bit_range():
    """Sums exactly at -2**19 and 2**19-1 pass; one beyond is clipped."""
    for total, expected in [(naive.SAT_MAX, naive.SAT_MAX), (naive.SAT_MAX + 1, naive.SAT_MAX),
                            (naive.SAT_MIN, naive.SAT_MIN), (naive.SAT_MIN - 1, naive.SAT_MIN)]:
        # total = q*127 + r with r in (-127..127): build it from ones
        sign = 1 if total > 0 else -1
        q, r = divmod(abs(total), 127)
        wt = np.array([127 * sign] * q + ([r * sign] if r else []), np.int8)
        x = np.ones((1, 1, 1, wt.size), np.uint8)
        for form in ("event", "dense"):
            assert run_dense(x, wt.reshape(1, 1, -1, 1), form)[0, 0, 0, 0] == expected


# ----------------------------------------------------------------------------- threaded path
def test_large_calls_split_over_threads_match_naive():
    """Calls big enough to be split over the thread pool give the same result as the naive code."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 16, size=(3, 20, 20, 16), dtype=np.uint8)
    x[rng.random(x.shape) < 0.4] = 0
    w = rng.integers(-128, 128, size=(3, 3, 16, 24)).astype(np.int8)
    for stride, same, pad in [((1, 1), True, 0), ((2, 1), False, 0), ((2, 2), True, 200)]:
        np.testing.assert_array_equal(run_conv(x, w, stride, same, pad),
                                      naive.wrap32(naive.correlate(x, w, stride, same, pad)))
    wd = rng.integers(-128, 128, size=(3, 3, 16, 1)).astype(np.int8)
    wpw = rng.integers(-128, 128, size=(1, 1, 16, 24)).astype(np.int8)
    np.testing.assert_array_equal(run_sep(x, wd, wpw, (1, 1), True), naive.separable(x, wd, wpw, (1, 1), True))
    xd = rng.integers(0, 16, size=(40, 8, 8, 16), dtype=np.uint8)
    wt = rng.integers(-128, 128, size=(1, 1, 8 * 8 * 16, 10)).astype(np.int8)
    np.testing.assert_array_equal(run_dense(xd, wt), naive.fully_connected(xd, wt))


@pytest.mark.parametrize("form", ["dense", "event"])
@settings(max_examples=max(EXAMPLES // 2, 5))
@given(case=conv_cases())
def test_both_conv_forms_match_naive(form, case):
    """Each of the two exact forms, forced whatever the input density, equals the reference."""
    x, weights, stride, same, pad_value = case
    out = run_conv(x, weights, stride, same, pad_value, form)
    np.testing.assert_array_equal(out, naive.wrap32(naive.correlate(x, weights, stride, same, pad_value)))
