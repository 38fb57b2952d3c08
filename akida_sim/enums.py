"""Enumerations mirroring the vendor's Akida 1.0 API (same names and values)."""
from enum import IntEnum


class Padding(IntEnum):
    """Convolution padding: Valid (none) or Same (TensorFlow style)."""

    Valid = 0
    Same = 1


class PoolType(IntEnum):
    """Pooling after the convolution: none, max, or global ("average") sum."""

    NoPooling = 0
    Max = 1
    Average = 2


class LayerType(IntEnum):
    """The Akida 1.0 layer types."""

    InputData = 1
    InputConvolutional = 2
    FullyConnected = 3
    Convolutional = 4
    SeparableConvolutional = 5


class MapMode(IntEnum):
    """How the mapper spreads layers over the NPs."""

    AllNps = 1
    HwPr = 2
    Minimal = 3


class BackendType(IntEnum):
    """Where a sequence runs."""

    Software = 0
    Hardware = 1
    Hybrid = 2


class NPType(IntEnum):
    """Types of neural processors and components (vendor values)."""

    HRC = 1
    CNP1 = 2
    CNP2 = 3
    FNP2 = 4
    FNP3 = 5
