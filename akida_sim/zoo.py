"""Built-in models: one trained on real data, the others with random, calibrated integer weights.

``digits`` (the default) is a small CNN trained in Keras on scikit-learn's
bundled 8x8 handwritten digits and converted with ``akida_sim.convert``; it
ships as a model file with its labelled test split (``labelled_data``), and
``akida_sim.digits`` rebuilds both.

The other architectures follow BrainChip's published Akida 1.0 examples: the
DS-CNN keyword-spotting net (49x10x1 MFCC input), AkidaNet-0.5 (any square
RGB size, 224 in the reference) and a small MNIST-sized net. Weights are
drawn uniformly in each layer's legal range; thresholds and steps are then
calibrated on random sparse inputs so that about half of the neurons fire,
as in a trained network. Those models are for running, timing and mapping,
not for accuracy.
"""
import io
from importlib import resources

import numpy as np

from .digits import MODEL_FILE as DIGITS_MODEL_FILE
from .digits import TEST_FILE as DIGITS_TEST_FILE
from .enums import LayerType, PoolType
from .inference import layer_potentials, run_layer
from .layers import Convolutional, FullyConnected, InputConvolutional, SeparableConvolutional
from .model import Model
from .variables import weight_range

#: Fraction of potentials at or below a neuron's calibrated threshold.
SILENT_FRACTION = 0.5
#: Potential percentile mapped to the top activation level.
TOP_PERCENTILE = 99.0


def dscnn_kws():
    """DS-CNN keyword spotting: 49x10x1 8-bit MFCC frames -> 33 class potentials."""
    return [
        InputConvolutional(input_shape=(49, 10, 1), kernel_size=(5, 5), filters=64, name="conv_0",
                           kernel_stride=(2, 2), weights_bits=8, act_bits=4),
        SeparableConvolutional(kernel_size=(3, 3), filters=64, name="separable_1", weights_bits=4, act_bits=4),
        SeparableConvolutional(kernel_size=(3, 3), filters=64, name="separable_2", weights_bits=4, act_bits=4),
        SeparableConvolutional(kernel_size=(3, 3), filters=64, name="separable_3", weights_bits=4, act_bits=4),
        SeparableConvolutional(kernel_size=(3, 3), filters=64, name="separable_4", weights_bits=4, act_bits=4,
                               pool_type=PoolType.Average),
        FullyConnected(units=33, name="classifier", weights_bits=4, activation=False),
    ]


def akidanet_05(size=224, classes=1000):
    """AkidaNet alpha=0.5 on size x size x 3 images -> ``classes`` potentials."""
    def sep(name, filters, pool=False, gap=False):
        kwargs = dict(weights_bits=4, act_bits=4)
        if pool:
            kwargs.update(pool_type=PoolType.Max, pool_size=(2, 2))
        if gap:
            kwargs.update(pool_type=PoolType.Average)
        return SeparableConvolutional(kernel_size=(3, 3), filters=filters, name=name, **kwargs)

    layers = [
        InputConvolutional(input_shape=(size, size, 3), kernel_size=(3, 3), filters=16, name="conv_0",
                           kernel_stride=(2, 2), weights_bits=8, act_bits=4),
        Convolutional(kernel_size=(3, 3), filters=32, name="conv_1", weights_bits=4, act_bits=4),
        Convolutional(kernel_size=(3, 3), filters=64, name="conv_2", weights_bits=4, act_bits=4,
                      pool_type=PoolType.Max, pool_size=(2, 2)),
        Convolutional(kernel_size=(3, 3), filters=64, name="conv_3", weights_bits=4, act_bits=4),
        sep("separable_4", 128, pool=True),
        sep("separable_5", 128),
        sep("separable_6", 256, pool=True),
    ]
    layers += [sep(f"separable_{i}", 256) for i in range(7, 12)]
    layers += [sep("separable_12", 512, pool=True), sep("separable_13", 512, gap=True),
               FullyConnected(units=classes, name="classifier", weights_bits=4, activation=False)]
    return layers


def mnist_net():
    """A small MNIST-sized net: 28x28x1 8-bit images -> 10 class potentials."""
    return [
        InputConvolutional(input_shape=(28, 28, 1), kernel_size=(3, 3), filters=32, name="conv_0",
                           weights_bits=8, act_bits=4, pool_type=PoolType.Max, pool_size=(2, 2)),
        Convolutional(kernel_size=(3, 3), filters=64, name="conv_1", weights_bits=4, act_bits=4,
                      pool_type=PoolType.Max, pool_size=(2, 2)),
        SeparableConvolutional(kernel_size=(3, 3), filters=64, name="separable_2", weights_bits=4, act_bits=4),
        FullyConnected(units=10, name="classifier", weights_bits=4, activation=False),
    ]


def _data(filename):
    """Bytes of a file packaged in akida_sim/data/."""
    return resources.files("akida_sim").joinpath("data", filename).read_bytes()


def digits_layers():
    """The layers of the packaged digits model: 8x8x1 uint8 images -> 10 class potentials."""
    return Model.from_buffer(_data(DIGITS_MODEL_FILE)).layers


def digits_test_split():
    """(x, y) the digits model is evaluated on: uint8 (450, 8, 8, 1) images and int64 labels 0..9."""
    with np.load(io.BytesIO(_data(DIGITS_TEST_FILE))) as split:
        return split["x"], split["y"].astype(np.int64)


#: name -> (builder of the layers, description)
MODELS = {
    "digits": (digits_layers, "CNN trained on scikit-learn's digits, 8x8x1 -> 10"),
    "dscnn_kws": (dscnn_kws, "DS-CNN keyword spotting, 49x10x1 -> 33"),
    "akidanet_05_224": (lambda: akidanet_05(224), "AkidaNet-0.5, 224x224x3 -> 1000"),
    "akidanet_05_96": (lambda: akidanet_05(96, 10), "AkidaNet-0.5, 96x96x3 -> 10"),
    "mnist": (mnist_net, "MNIST-sized net, 28x28x1 -> 10"),
}
#: Models whose variables are trained: ``build`` keeps them as they are.
TRAINED = {"digits"}
#: The built-in model ``akida-sim run`` runs when given none.
DEFAULT_MODEL = "digits"
#: name -> loader of a built-in model's labelled test data: a function returning
#: (inputs uint8 (N, x, y, c), labels int64 (N,)). ``akida-sim run`` uses them,
#: and prints the accuracy, when no input is given.
LABELLED_DATA = {"digits": digits_test_split}


def labelled_data(name):
    """(inputs, labels) of the built-in model ``name``, or None when it has no labelled data."""
    if name not in MODELS:
        raise ValueError(f"zoo: unknown model '{name}', expected one of {sorted(MODELS)}")
    loader = LABELLED_DATA.get(name)
    return None if loader is None else loader()


def random_inputs(model, n, rng, zero_fraction=0.3):
    """n random uint8 inputs within the model's input bit width, about
    ``zero_fraction`` of them zero."""
    top = (1 << min(model.layers[0].input_bits, 8)) - 1
    x = rng.integers(0, top + 1, size=(n, *model.input_shape), dtype=np.uint8)
    x[rng.random(x.shape) < zero_fraction] = 0
    return x


def _calibrate(layer, pot):
    """Threshold at the SILENT_FRACTION quantile, step so the TOP_PERCENTILE maps to the top level."""
    flat = pot.reshape(-1, pot.shape[-1]).astype(np.float64)
    threshold = np.floor(np.quantile(flat, SILENT_FRACTION, axis=0))
    top = np.percentile(flat, TOP_PERCENTILE, axis=0)
    bits = layer._args["act_bits"]
    quantum = np.maximum(top - threshold, 1.0) / ((1 << bits) - 1)
    step = np.maximum(quantum / (1 << (4 - bits)), 1.0 / 16)
    layer.set_variable("threshold", threshold.astype(np.int32))
    layer.set_variable("act_step", step.astype(np.float32))


def randomize(model, rng, calibration_samples=8):
    """Draw random weights for every layer of ``model`` and calibrate its
    thresholds and steps on random inputs (in place)."""
    x = random_inputs(model, calibration_samples, rng)
    for layer in model.layers:
        if layer.layer_type == LayerType.InputData:
            continue
        bits = layer._args["weights_bits"]
        lo, hi = weight_range(bits, any_width_is_int8=layer.layer_type == LayerType.InputConvolutional)
        for name in ("weights", "weights_pw"):
            if name in layer.get_variable_names():
                shape = layer.get_variable(name).shape
                layer.set_variable(name, rng.integers(lo, hi + 1, size=shape, dtype=np.int8))
        if layer._args["activation"]:
            _calibrate(layer, layer_potentials(layer, x, {}))
            x = run_layer(layer, x, {})
    return model


def build(name, seed=0):
    """The built-in model ``name`` (see MODELS): a trained one as it is (``seed``
    unused), the others with random calibrated variables drawn from ``seed``."""
    if name not in MODELS:
        raise ValueError(f"zoo.build: unknown model '{name}', expected one of {sorted(MODELS)}")
    model = Model()
    for layer in MODELS[name][0]():
        model.add(layer)
    return model if name in TRAINED else randomize(model, np.random.default_rng(seed))


__all__ = ["DEFAULT_MODEL", "LABELLED_DATA", "MODELS", "TRAINED", "build", "digits_layers",
           "digits_test_split", "labelled_data", "random_inputs", "randomize"]
