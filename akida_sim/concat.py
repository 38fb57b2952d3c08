"""``Concat``: the Akida Execution Engine user guide's concatenation layer, refused.

The oldest seed document describes a ``Concat`` layer joining the outputs of several layers.
An akida_sim model is a sequential chain (each layer has one inbound layer, the one added
before it), so a layer with several inbound layers cannot be expressed: ``Concat(...)`` raises
``SimNotImplementedError`` (a RuntimeError and a NotImplementedError) saying so and naming the
Akida 1.0 layers that exist. A network with a concatenation can be rewritten as one wider
layer where the branches share their input (e.g. two convolutions of the same input, the
filters of both in one ``Convolutional``).
"""
from .errors import SimNotImplementedError

#: The Akida 1.0 layers akida_sim simulates.
AKIDA_1_LAYERS = ("InputData", "InputConvolutional", "Convolutional", "SeparableConvolutional", "FullyConnected")


class Concat:
    """Not simulated: constructing one raises ``SimNotImplementedError`` (see the module)."""

    def __init__(self, *args, **kwargs):
        name = kwargs.get("name")
        label = f"Concat '{name}'" if isinstance(name, str) and name else "Concat"
        raise SimNotImplementedError(
            f"{label}: akida_sim does not simulate Concat: its models are sequential (each layer has one "
            f"inbound layer, the one added before it), so a layer joining several layers cannot be expressed. "
            f"The Akida 1.0 layers are {', '.join(AKIDA_1_LAYERS)}; branches that share their input can be "
            f"written as one wider layer.")
