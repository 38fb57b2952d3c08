"""quantizeml's integer rules recomputed with NumPy, against float64 references.

The rules are checked for what they promise (ranges, rounding error,
steps); tests/oracle/test_oracle_quantizeml.py checks them live against
the vendor's converter.
"""
import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from akida_sim.conversion.quantizeml_numbers import (F32, align_bias, input_frac_bits, max_frac_bits, output_step,
                                                     quantize_weights)

finite = st.floats(-8, 8, width=32, allow_nan=False)
positive = st.floats(2 ** -13, 2 ** 13, width=32)


def _off_powers_of_two(values):
    """Whether every value is clearly off a power of two (where float32 log2 may round either way)."""
    exponents = np.log2(np.asarray(values, np.float64))
    return bool(np.all(np.abs(exponents - np.rint(exponents)) > 1e-5))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 16), positive)
def test_max_frac_bits_fits_the_range_in_value_bits(value_bits, ranges):
    assume(_off_powers_of_two([ranges]))
    frac_bits = float(max_frac_bits(value_bits, ranges, clamp=False))
    assert 2.0 ** (value_bits - 1) < ranges * 2.0 ** frac_bits <= 2.0 ** value_bits
    assert max_frac_bits(value_bits, ranges) == min(frac_bits, value_bits)
    assert max_frac_bits(value_bits, 0.0) == value_bits


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 5)),
                  elements=finite), st.sampled_from([2, 4, 8]), st.booleans())
def test_weights_are_the_nearest_integers_in_the_signed_range(kernel, bits, per_channel):
    integers, scales = quantize_weights(kernel, bits, per_channel)
    assert integers.dtype == np.int8 and integers.shape == kernel.shape
    assert integers.min() >= -2 ** (bits - 1) and integers.max() <= 2 ** (bits - 1) - 1
    scales64 = np.asarray(scales, np.float64)
    error = np.abs(integers * scales64 - kernel.astype(np.float64))
    assert np.all(error <= scales64 * 0.5 * (1 + 1e-5) + 1e-12)
    ranges = np.max(np.abs(kernel), axis=(0, 1, 2) if per_channel else None)
    full = ranges >= 1e-6 * (2 ** (bits - 1) - 1)
    peaks = np.max(np.abs(integers), axis=(0, 1, 2) if per_channel else None)
    assert np.all(peaks[full] == 2 ** (bits - 1) - 1) if per_channel else (not full or peaks == 2 ** (bits - 1) - 1)


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 6), elements=finite), st.sampled_from([4, 8]),
       st.floats(2 ** -10, 1.0, width=32), st.integers(-2, 10))
def test_bias_is_aligned_on_the_accumulator_within_its_precision(bias, bits, scale, frac_bits):
    scales = np.full(bias.shape, scale, F32)
    aligned = align_bias(bias, bits, scales, F32(frac_bits))
    value = aligned * 2.0 ** -frac_bits * np.float64(scale)
    ranges = np.abs(bias.astype(np.float64)) if bits > 4 else np.max(np.abs(bias.astype(np.float64)))
    with np.errstate(divide="ignore"):  # a zero range: as many fractional bits as the value has
        own_bits = np.minimum(bits - 1, bits - 1 - np.ceil(np.log2(ranges / np.float64(scale))))
    precision = np.float64(scale) * 2.0 ** -np.minimum(frac_bits, own_bits)  # at most value_bits fractional bits
    bound = 0.5 * np.maximum(precision, 2 * ranges / 2.0 ** (bits - 1))
    assert np.all(np.abs(value - bias) <= bound * (1 + 1e-4) + 1e-9)


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 6), elements=st.floats(2 ** -13, 8, width=32)), st.integers(0, 8),
       st.sampled_from([1, 2, 4, 8]), st.floats(2 ** -4, 64, width=32))
def test_output_step_is_one_output_level_in_accumulator_units(scales, frac_bits, bits, range_max):
    step, out_frac_bits = output_step(scales, F32(frac_bits), bits, F32(range_max))
    assert step.dtype == np.float32 and step.shape == scales.shape
    assert out_frac_bits == min(bits - np.ceil(np.log2(np.float32(range_max))), bits)
    level = 2.0 ** -float(out_frac_bits)  # one output level, in float units
    accumulator_unit = scales.astype(np.float64) * 2.0 ** -frac_bits
    np.testing.assert_allclose(step * accumulator_unit, level, rtol=2 ** -7)


def test_an_input_quantizer_on_0_255_keeps_integer_pixels():
    assert input_frac_bits(8, False, 0.0, 255.0) == 0
    assert input_frac_bits(8, False, 0.0, 100.0) == 1
    assert input_frac_bits(8, True, -1.0, 1.0) == 7
