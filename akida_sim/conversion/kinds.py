"""Keras layer class names grouped by the role they play in an Akida 1.0 block.

Plain Keras classes and the quantization-aware classes of the vendor's
legacy flow (``cnn2snn.quantize``) are both listed; both are recognised by
class name only (akida_sim never imports cnn2snn).
"""
#: Keras class name -> neural role ("conv", "separable", "dense").
NEURAL_KINDS = {
    "Conv2D": "conv", "QuantizedConv2D": "conv",
    "SeparableConv2D": "separable", "QuantizedSeparableConv2D": "separable",
    "Dense": "dense", "QuantizedDense": "dense",
}
#: Step activations a block may end with.
ACTIVATION_KINDS = ("ReLU", "QuantizedReLU", "ActivationDiscreteRelu")
MAX_POOL = "MaxPooling2D"
GLOBAL_AVERAGE_POOL = "GlobalAveragePooling2D"
POOL_KINDS = (MAX_POOL, GLOBAL_AVERAGE_POOL)
BATCH_NORM = "BatchNormalization"
#: Layers that do nothing at inference.
SKIPPED_KINDS = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianDropout", "GaussianNoise", "Identity")
#: Final activations that are dropped (with a warning).
FINAL_ACTIVATION_KINDS = ("Activation", "Softmax")
RESCALING = "Rescaling"
SHAPE_KINDS = ("Flatten", "Reshape")
