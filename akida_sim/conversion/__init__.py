"""Keras/TensorFlow -> akida_sim conversion (``akida_sim.convert``).

Needs the ``keras`` extra (``pip install akida-sim[keras]``) only to build
the Keras model handed over; nothing here imports TensorFlow itself.
Source: ../shared/reference/keras_conversion.md.
"""
from .converter import convert
from .errors import ConversionError
from .report import ConversionReport

__all__ = ["ConversionError", "ConversionReport", "convert"]
