"""The error a Keras model Akida 1.0 cannot express raises."""
from ..errors import SimValueError

#: The order every Akida 1.0 block follows, quoted by refusals.
ACCEPTED_ORDER = "neural (Conv2D | SeparableConv2D | Dense) > [MaxPool | GAP] > [BN] > ReLU(max_value)"


class ConversionError(SimValueError):
    """A Keras model (or argument) the conversion cannot express on Akida 1.0.

    A ValueError; the message names the Keras layer, the rule it breaks and
    the accepted order.
    """
