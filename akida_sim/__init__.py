"""akida_sim: a bit-exact simulator of BrainChip's Akida 1.0 (AKD1000).

``import akida_sim as akida`` runs an Akida 1.0 script written for the
vendor's Python API.
"""
from .device import AKD1000, Device, TwoNodesIPv1, devices, what_if_device
from .enums import NP, BackendType, IpVersion, LayerType, MapMode, NPType, Padding, PoolType
from .errors import AkidaSimError, ModelFileError, SimRuntimeError, SimTypeError, SimValueError
from .layers import (
    Convolutional,
    FullyConnected,
    InputConvolutional,
    InputData,
    Layer,
    SeparableConvolutional,
)
from .learning import AkidaUnsupervised
from .model import Model
from .params import LayerParams

__version__ = "0.1.0"

# The vendor's module also exposes these methods as functions of their object
# (``akida.get_learning_histogram(layer)``, ``akida.predict_classes(model, x)``).
get_learning_histogram = Layer.get_learning_histogram
get_variable = Layer.get_variable
get_variable_names = Layer.get_variable_names
set_variable = Layer.set_variable
predict_classes = Model.predict_classes

__all__ = [
    "AKD1000", "AkidaSimError", "AkidaUnsupervised", "BackendType", "Convolutional", "Device", "FullyConnected",
    "InputConvolutional", "InputData", "IpVersion", "Layer", "LayerParams", "LayerType", "MapMode", "Model",
    "ModelFileError", "NP", "NPType", "Padding", "PoolType", "SeparableConvolutional", "SimRuntimeError",
    "SimTypeError", "SimValueError", "TwoNodesIPv1", "__version__", "devices", "get_learning_histogram",
    "get_variable", "get_variable_names", "predict_classes", "set_variable", "what_if_device",
]
