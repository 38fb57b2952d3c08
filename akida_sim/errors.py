"""Exception classes of akida_sim.

Each subclasses the built-in type the vendor's engine raises in the same
situation (ValueError, TypeError, RuntimeError), so ``except ValueError``
code written for the vendor's API keeps working. Messages name the layer,
the argument, what was expected and what came.
"""


class AkidaSimError(Exception):
    """Base class of every error raised by akida_sim."""


class SimValueError(AkidaSimError, ValueError):
    """An argument, variable or input has an illegal value, shape or dtype."""


class SimTypeError(AkidaSimError, TypeError):
    """An argument has the wrong Python type."""


class SimRuntimeError(AkidaSimError, RuntimeError):
    """The model cannot do what was asked in its current state."""


class ModelFileError(SimValueError):
    """A model file is truncated, corrupted or not an akida_sim model file."""


class ModelFileNotFoundError(SimRuntimeError, FileNotFoundError):
    """A model file is missing or empty (a RuntimeError, as the vendor's)."""


class ZeroSizeError(SimValueError, RuntimeError):
    """A dimension is 0 where the vendor raises either ValueError or RuntimeError."""


def shape_text(shape):
    """How errors write a shape: axes in NHWC order, as numpy does: ``(3, 3, 2, 4)``."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def layer_label(layer_type, name):
    """The way errors name a layer: ``"Convolutional 'conv_1'"``."""
    return f"{layer_type} '{name}'" if name else layer_type


class SimIndexError(SimValueError, IndexError):
    """A count or index is out of range where the vendor raises an IndexError."""


class ShapeRankError(SimIndexError):
    """A shape has the wrong number of dimensions (also an IndexError, as the vendor's)."""


class SimNotImplementedError(SimRuntimeError, NotImplementedError):
    """Something akida_sim does not simulate (a RuntimeError, as the vendor raises for what
    its engine cannot do, and a NotImplementedError)."""
