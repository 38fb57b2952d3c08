"""Validation of layer variables (weights, threshold, act_step, ...).

Sources: ../shared/reference/akida_v1_semantics.md §2 and §3 (observed).
"""
import math

import numpy as np

from kernels.fixed_point import STEP_FIELD_BITS

from .errors import SimTypeError, SimValueError, shape_text

#: The smallest legal activation step (1/16).
MIN_ACT_STEP = 1.0 / 16
#: Steps from here up overflow the 32-bit conversion of 16 * act_step (the
#: step then divides by zero): they are refused.
MAX_ACT_STEP = 2.0 ** 27
#: The step is held in a 28-bit field of 1/16 units: a step whose
#: floor(16 s) is a multiple of 2**28 would divide by zero.
STEP_FIELD_MODULUS = 2 ** STEP_FIELD_BITS


def weight_range(weights_bits, any_width_is_int8=False):
    """Legal (min, max) integer weight values for a bit width.

    1 bit is unsigned {0, 1}; 2 and 4 bits are symmetric signed; 8 bits is
    int8. InputConvolutional accepts any width, every width other than
    1, 2 and 4 meaning the full int8 range (``any_width_is_int8``).
    """
    table = {1: (0, 1), 2: (-1, 1), 4: (-7, 7), 8: (-128, 127)}
    if weights_bits in table:
        return table[weights_bits]
    if any_width_is_int8:
        return (-128, 127)
    raise ValueError(f"no weight range for {weights_bits} bits")


def check_variable(label, name, value, shape, dtype, value_range=None):
    """Return a C-contiguous copy of ``value`` after checking it.

    Raises SimValueError naming the layer (``label``), the variable, the
    expected and the received dtype, shape or value.
    """
    if isinstance(value, np.generic):  # a numpy scalar is a 0-d array (then a shape error)
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise SimValueError(
            f"{label}: variable '{name}' must be a numpy.ndarray of {np.dtype(dtype).name}, "
            f"got {type(value).__name__}"
        )
    if value.dtype != np.dtype(dtype):
        raise SimValueError(
            f"{label}: Unsupported variable type for {name} expected {np.dtype(dtype).name} "
            f"received {value.dtype.name}"
        )
    if tuple(value.shape) != tuple(shape):
        raise SimValueError(
            f"{label}: Unexpected tensor shape for variable '{name}': expected {shape_text(shape)}, "
            f"got {shape_text(value.shape)}"
        )
    if value_range is not None and value.size:
        lo, hi = value_range
        outside = (value > hi) | (value < lo)
        if outside.any():
            # The first offending value in C order, as the vendor reports it.
            bad = int(np.ascontiguousarray(value).ravel()[np.argmax(outside.ravel())])
            bound = (f"Maximum authorized value is {hi}" if bad > hi
                     else f"Minimum authorized value is {lo}")
            raise SimValueError(f"{label}: Invalid value {bad}. {bound} (variable '{name}': "
                                f"expected values in [{lo}, {hi}])")
    return np.ascontiguousarray(value).copy()


def check_act_step(label, value):
    """Check that every act_step is a usable float32 step.

    Expected: finite, 1/16 <= s < 2**27 and floor(16 s) not a multiple of
    2**28: any other step cannot be held by the chip's step field, and
    would divide by zero in the activation. Refused here, when set.
    """
    for s in value.ravel().tolist():
        if math.isnan(s) or math.isinf(s):
            raise SimValueError(
                f"{label}: Unsupported act_step, it must be a finite float32 "
                f">= 1/16 (got {s})"
            )
        if s < MIN_ACT_STEP:
            raise SimValueError(
                f"{label}: Unsupported act_step, it should be equal or greater than 1/16 "
                f"(got {s})"
            )
        if s >= MAX_ACT_STEP or math.floor(16 * s) % STEP_FIELD_MODULUS == 0:
            raise SimValueError(
                f"{label}: Unsupported act_step: expected 1/16 <= act_step < 2**27 with "
                f"floor(16 * act_step) not a multiple of 2**28, got {s}"
            )


def step_sixteenths(act_step):
    """The integer step the chip uses: floor(16 * act_step) mod 2**28 as int64, shape kept."""
    return np.floor(act_step.astype(np.float64) * 16).astype(np.int64) % STEP_FIELD_MODULUS


class Variables:
    """``layer.variables``: the vendor's interface to a layer's variables.

    ``variables.names`` lists them (sorted); ``variables["weights"]`` is a
    copy (``get_variable``); ``variables["weights"] = array`` sets one
    (``set_variable``, with its checks).
    """

    def __init__(self, layer):
        self._layer = layer

    @property
    def names(self):
        """The variable names, sorted."""
        return self._layer.get_variable_names()

    def __getitem__(self, name):
        return self._layer.get_variable(name)

    def __setitem__(self, name, value):
        self._layer.set_variable(name, value)

    def __contains__(self, name):
        return name in self.names

    def __iter__(self):
        raise SimTypeError("Variables are not iterable: use variables.names and variables[name]")

    def __repr__(self):
        return f"<akida_sim.Variables, layer={self._layer.name}, names={self.names}>"
