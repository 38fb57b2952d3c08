"""Enumerations mirroring the vendor's Akida 1.0 API (same names and values).

They are IntEnums (a saved model or a script may pass the plain int), but
print as the vendor's do: ``str(BackendType.Hardware) == "BackendType.Hardware"``
and ``repr(...) == "<BackendType.Hardware: 1>"``. The NP types print under the
vendor's name for them, ``Type`` (``akida.NP.Type.CNP1`` prints ``Type.CNP1``).
"""
from enum import IntEnum


class VendorIntEnum(IntEnum):
    """An IntEnum that prints ``<Class>.<member>`` like the vendor's enums."""

    def _shown_class(self):
        return type(self).__name__

    def __str__(self):
        return f"{self._shown_class()}.{self.name}"

    def __repr__(self):
        return f"<{self._shown_class()}.{self.name}: {int(self)}>"

    def __format__(self, spec):
        """``f"{member}"`` is its name as ``str``; a numeric spec (``:d``, ``:x``) formats the int."""
        if spec and spec[-1] in "bdnoxX":
            return format(int(self), spec)
        return format(str(self), spec)


class Padding(VendorIntEnum):
    """Convolution padding: Valid (none) or Same (TensorFlow style)."""

    Valid = 0
    Same = 1


class PoolType(VendorIntEnum):
    """Pooling after the convolution: none, max, or global ("average") sum."""

    NoPooling = 0
    Max = 1
    Average = 2


class LayerType(VendorIntEnum):
    """The Akida 1.0 layer types."""

    InputData = 1
    InputConvolutional = 2
    FullyConnected = 3
    Convolutional = 4
    SeparableConvolutional = 5


class MapMode(VendorIntEnum):
    """How the mapper spreads layers over the NPs."""

    AllNps = 1
    HwPr = 2
    Minimal = 3


class BackendType(VendorIntEnum):
    """Where a sequence runs."""

    Software = 0
    Hardware = 1
    Hybrid = 2


class IpVersion(VendorIntEnum):
    """The Akida IP generation of a model or device (akida_sim simulates v1)."""

    none = 0
    v1 = 1
    v2 = 2


class NPType(VendorIntEnum):
    """Types of neural processors and components (vendor values; shown as ``Type``)."""

    HRC = 1
    CNP1 = 2
    CNP2 = 3
    FNP2 = 4
    FNP3 = 5

    def _shown_class(self):
        return "Type"


class NP:
    """The vendor's ``akida.NP`` namespace: ``NP.Type`` is :class:`NPType`."""

    Type = NPType
