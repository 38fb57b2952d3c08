"""Size limits: every size a model file, a dict, an argument or a command line
declares is checked here before anything of that size is allocated.

Two kinds of limit:

- A memory budget (bytes): the most akida_sim allocates for one model's
  variables, one layer's variables, one frame of one layer's output, one
  input batch it builds or reads, or one file it reads. Default
  ``DEFAULT_MEMORY_BUDGET`` (512 MiB); raise it with ``set_memory_budget``
  or the environment variable ``AKIDA_SIM_MEMORY_BUDGET`` (bytes, read at
  import).
- Counts with a fixed bound: neurons per layer, what-if device sizes and
  clock. Akida 1.0 runs far smaller layers on chip (a CNP holds at most
  504 filters, the AKD1000 has 78 NPs); the bounds stay far above anything
  the chip or a sane software layer needs, and below what would take
  minutes of Python work per call.

Every refusal is a ``LimitError`` (a ValueError) naming the argument, the
value and the limit.
"""
import math
import os

from .errors import SimValueError

#: Default memory budget, bytes.
DEFAULT_MEMORY_BUDGET = 512 * 2 ** 20
#: Environment variable setting the memory budget at import (bytes, an integer).
BUDGET_VARIABLE = "AKIDA_SIM_MEMORY_BUDGET"
#: Most neurons (filters or units) in one layer: 2**15, 65 times the 504
#: filters of a CNP; compiling for learning and add_classes draw each new
#: neuron's connections in Python (seconds for 2**15 neurons).
MAX_LAYER_NEURONS = 2 ** 15
#: Most layers in a model file or a model dict (a model for Akida 1.0 has tens;
#: loading takes about a millisecond per layer).
MAX_LAYERS = 2 ** 12
#: What-if devices: nodes, NPs per node, NPs in all (the AKD1000: 20 nodes of 4 NPs).
MAX_NODES = 1024
MAX_NPS_PER_NODE = 16
MAX_NPS = 4096
#: Per-NP memories of a what-if device, bytes (the AKD1000's NPs hold 43008 and 44800).
MAX_NP_SRAM_BYTES = 2 ** 30
#: Clock of a what-if device, Hz (the cost model turns clocks into seconds and joules).
MIN_CLOCK_HZ = 1e3
MAX_CLOCK_HZ = 1e11


class LimitError(SimValueError):
    """A declared size exceeds akida_sim's limits (the message names the
    argument, the value and the limit)."""


def _budget_from_environment():
    text = os.environ.get(BUDGET_VARIABLE)
    if text is None:
        return DEFAULT_MEMORY_BUDGET
    try:
        value = int(text)
    except ValueError:
        raise LimitError(f"environment variable {BUDGET_VARIABLE}={text!r}: expected a number of bytes") from None
    return _checked_budget(value, BUDGET_VARIABLE)


def _checked_budget(nbytes, what):
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 2 ** 20:
        raise LimitError(f"{what}: the memory budget must be an int of bytes >= {2 ** 20} (1 MiB), got {nbytes!r}")
    return nbytes


_budget = _budget_from_environment()


def memory_budget():
    """The current memory budget, bytes."""
    return _budget


def set_memory_budget(nbytes):
    """Set the memory budget (an int of bytes, at least 1 MiB); returns the previous one."""
    global _budget
    previous, _budget = _budget, _checked_budget(nbytes, "set_memory_budget")
    return previous


def check_count(argument, value, limit, where=""):
    """Refuse an int ``value`` above ``limit`` (the caller has checked it is an int)."""
    if value > limit:
        raise LimitError(f"{where}argument '{argument}' is {value}, more than the limit of {limit}")
    return value


def check_bytes(what, nbytes, needed_for=""):
    """Refuse ``nbytes`` above the memory budget: ``what`` names the
    arguments and values that ask for them (``"FullyConnected 'fc': units=3"``)."""
    if nbytes > _budget:
        raise LimitError(
            f"{what} asks for {nbytes} bytes{needed_for}, more than the memory budget of {_budget} bytes "
            f"(raise it with akida_sim.limits.set_memory_budget or {BUDGET_VARIABLE})")
    return nbytes


def array_bytes(shape, itemsize):
    """Bytes of an array of ``shape`` (ints) and ``itemsize``, computed without overflow."""
    return math.prod(int(d) for d in shape) * int(itemsize)


#: Bytes per neuron of a learning FullyConnected besides its weights:
#: threshold, act_step, threshold_learning and thswap (4 bytes each).
_LEARNING_NEURON_BYTES = 16


def check_added_neurons(label, num_add_classes, units, n_inputs):
    """Refuse ``add_classes(num_add_classes)`` when the learning layer ``label``
    would hold more than ``MAX_LAYER_NEURONS`` neurons (``units``, with
    ``n_inputs`` inputs each) or more bytes than the memory budget (its
    variables, the weights drawn for the new neurons and the int32 weight
    copies a forward pass caches)."""
    if units > MAX_LAYER_NEURONS:
        raise LimitError(f"add_classes: argument 'num_add_classes' is {num_add_classes}: layer {label} would hold "
                         f"{units} neurons, more than the limit of {MAX_LAYER_NEURONS}")
    check_bytes(f"add_classes: argument num_add_classes={num_add_classes} (layer {label}, {units} neurons of "
                f"{n_inputs} inputs)", units * (n_inputs * 10 + _LEARNING_NEURON_BYTES))
