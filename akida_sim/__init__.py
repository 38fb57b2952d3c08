"""akida_sim: a bit-exact simulator of BrainChip's Akida 1.0 (AKD1000).

``import akida_sim as akida`` runs an Akida 1.0 script written for the
vendor's Python API.
"""
from .concat import Concat
from .conversion import ConversionError, ConversionReport, convert
from .conversion.qat import quantize
from .device import AKD1000, Device, HwVersion, NSoC_v1, NSoC_v2, TwoNodesIP_v1, TwoNodesIPv1, devices, what_if_device
from .enums import NP, BackendType, IpVersion, LayerType, MapMode, NPType, Padding, PoolType
from .errors import AkidaSimError, ModelFileError, SimNotImplementedError, SimRuntimeError, SimTypeError, SimValueError
from .layers import (
    Convolutional,
    FullyConnected,
    InputConvolutional,
    InputData,
    Layer,
    SeparableConvolutional,
)
from .hardware import Pass, Sequence
from .learning import AkidaUnsupervised
from .metrics import PowerEvent
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
#: The vendor's type of what ``AkidaUnsupervised(...)`` returns.
Optimizer = AkidaUnsupervised

__all__ = [
    "AKD1000", "AkidaSimError", "AkidaUnsupervised", "BackendType", "Concat", "ConversionError", "ConversionReport", "Convolutional", "Device", "FullyConnected",
    "HwVersion", "InputConvolutional", "InputData", "IpVersion", "Layer", "LayerParams", "LayerType", "MapMode",
    "Model", "ModelFileError", "NP", "NPType", "NSoC_v1", "NSoC_v2", "Optimizer", "Padding", "Pass", "PoolType",
    "PowerEvent", "SeparableConvolutional", "Sequence", "SimNotImplementedError", "SimRuntimeError", "SimTypeError", "SimValueError",
    "TwoNodesIP_v1", "TwoNodesIPv1", "__version__", "convert", "devices", "get_learning_histogram", "get_variable",
    "get_variable_names", "predict_classes", "quantize", "set_variable", "what_if_device",
]
