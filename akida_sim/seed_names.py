"""The Akida Execution Engine user guide's argument names, accepted as deprecated aliases.

The oldest seed document (the Akida Execution Engine user guide) names the activation and
pooling arguments of the data-processing layers differently from today's Akida 1.0 API:

=======================  ===========================================================
seed guide name          today's spelling
=======================  ===========================================================
``threshold_fire``       the initial value of every neuron's ``threshold`` variable (int)
``threshold_fire_step``  the initial value of every neuron's ``act_step`` variable (float)
``threshold_fire_bits``  ``act_bits`` (1, 2 or 4)
``pooling_type``         ``pool_type`` (the same values)
``pooling_width``        ``pool_size[0]`` (axis 1)
``pooling_height``       ``pool_size[1]`` (axis 2)
``pooling_stride_x``     ``pool_stride[0]``
``pooling_stride_y``     ``pool_stride[1]``
=======================  ===========================================================

``accepts_seed_names`` wraps a layer constructor: each seed name given is translated to today's
argument with a ``DeprecationWarning`` naming today's spelling; a seed name and today's argument
given with different values raise ``SimValueError``. Pooling without ``pooling_width`` and
``pooling_height`` is global pooling, which Akida 1.0 layers do with ``PoolType.Average`` (and
``pool_size`` left at (-1, -1)); a layer built either way is the same layer.
"""
import functools
import inspect
import numbers
import warnings

import numpy as np

from .enums import PoolType
from .errors import SimTypeError, SimValueError, layer_label
from .variables import check_act_step

#: Seed names of the activation arguments: seed name -> today's argument.
ACTIVATION_NAMES = {"threshold_fire_bits": "act_bits"}
#: Seed names of the pooling arguments: seed name -> (today's argument, index in its pair or None).
POOLING_NAMES = {"pooling_type": ("pool_type", None), "pooling_width": ("pool_size", 0),
                 "pooling_height": ("pool_size", 1), "pooling_stride_x": ("pool_stride", 0),
                 "pooling_stride_y": ("pool_stride", 1)}
#: Seed names that set the initial value of a variable: seed name -> variable.
INITIAL_VARIABLE_NAMES = {"threshold_fire": "threshold", "threshold_fire_step": "act_step"}
_INT32 = np.iinfo(np.int32)


def _deprecated(label, seed, current, depth=0):
    """Warn at the caller of the layer constructor (``depth``: helper calls between it and here)."""
    warnings.warn(f"{label}: argument '{seed}' (the Akida Execution Engine user guide's name) is deprecated; "
                  f"use {current}", DeprecationWarning, stacklevel=3 + depth)


def _conflict(label, current, seed, held, value):
    """The error for today's argument and its seed name given with different values."""
    return SimValueError(f"{label}: arguments '{current}' and '{seed}' name the same thing with different values "
                         f"({current}={held!r}, {seed}={value!r}); give one")


def _pair(value):
    return list(value.tolist() if isinstance(value, np.ndarray) else value)


def _translate_pooling(label, seed, given):
    """Today's pooling arguments for the seed ones in ``seed`` (checked against ``given``)."""
    out = {}
    for name, value in seed.items():
        current, index = POOLING_NAMES[name]
        spelled = f"'{current}'" if index is None else f"'{current}' (element {index})"
        _deprecated(label, name, spelled, depth=1)
        if index is None:
            if current in given and given[current] != value:
                raise _conflict(label, current, name, given[current], value)
            out[current] = value
            continue
        if current in given:
            try:
                held = _pair(given[current])[index]
            except (TypeError, IndexError):
                held = None
            if held != value:
                raise _conflict(label, current, name, given[current], value)
            continue
        pair = out.setdefault(current, [-1, -1])
        pair[index] = value
    if ("pooling_width" in seed) != ("pooling_height" in seed) and "pool_size" not in given:
        missing = "pooling_height" if "pooling_width" in seed else "pooling_width"
        raise SimValueError(f"{label}: argument '{missing}' is missing: give both 'pooling_width' and "
                            f"'pooling_height' (today's 'pool_size'), or neither for global pooling")
    pool_type = out.get("pool_type", given.get("pool_type"))
    sized = "pool_size" in out or "pool_size" in given
    if not sized and pool_type is not None and pool_type == PoolType.Max:
        raise SimValueError(f"{label}: global pooling (no 'pooling_width'/'pooling_height') is "
                            f"PoolType.Average in Akida 1.0 layers; max pooling needs 'pooling_width' and "
                            f"'pooling_height' (today's 'pool_size'), got pooling_type={pool_type!r}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in out.items()}


def _initial_value(label, name, value):
    """The checked initial value of a variable given by its seed name."""
    if name == "threshold_fire":
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise SimTypeError(f"{label}: argument 'threshold_fire' must be an int, got {value!r}")
        if not _INT32.min <= value <= _INT32.max:
            raise SimValueError(f"{label}: argument 'threshold_fire' must fit an int32 threshold "
                                f"({_INT32.min}..{_INT32.max}), got {value}")
        return int(value)
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise SimTypeError(f"{label}: argument 'threshold_fire_step' must be a float, got {value!r}")
    step = np.float32(value)
    check_act_step(label, np.array([step]))
    return float(step)


def accepts_seed_names(pooling):
    """Decorate a layer ``__init__`` to accept the seed guide's names (``pooling``: the layer
    has pooling arguments). The layer records ``threshold_fire``/``threshold_fire_step`` with
    ``_set_initial_values``."""
    names = set(ACTIVATION_NAMES) | set(INITIAL_VARIABLE_NAMES) | (set(POOLING_NAMES) if pooling else set())

    def wrap(init):
        signature = inspect.signature(init)

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            if not pooling and any(k in POOLING_NAMES for k in kwargs):
                name = kwargs.get("name", "")
                label = layer_label(type(self).__name__, name if isinstance(name, str) else "")
                raise SimTypeError(f"{label}: the layer has no pooling (argument "
                                   f"'{next(k for k in kwargs if k in POOLING_NAMES)}')")
            seed = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
            if not seed:
                return init(self, *args, **kwargs)
            bound = signature.bind_partial(self, *args, **kwargs)
            given = dict(bound.arguments)
            name = given.get("name", "")
            label = layer_label(type(self).__name__, name if isinstance(name, str) else "")
            for old, current in ACTIVATION_NAMES.items():
                if old in seed:
                    _deprecated(label, old, f"'{current}'")
                    if current in given and given[current] != seed[old]:
                        raise _conflict(label, current, old, given[current], seed[old])
                    bound.arguments[current] = seed[old]
            bound.arguments.update(_translate_pooling(label, {k: v for k, v in seed.items() if k in POOLING_NAMES},
                                                      given))
            initial = {}
            for old, variable in INITIAL_VARIABLE_NAMES.items():
                if old in seed:
                    _deprecated(label, old, f"the initial '{variable}' variable (layer.set_variable('{variable}', "
                                            f"...))")
                    initial[variable] = _initial_value(label, old, seed[old])
            init(*bound.args, **bound.kwargs)
            self._set_initial_values(initial)

        return __init__

    return wrap
