"""Read a Keras model into a plain list of layer descriptions.

Works on Keras 3 (``keras`` / ``tf.keras`` in TensorFlow 2.19) and on
tf_keras (Keras 2) models, Sequential or functional with a single chain, read
through the public Keras API only (``layers``, ``get_config``,
``get_weights``, calling a layer). Nothing here imports TensorFlow: the model
the caller hands over has imported it already.

Each ``KerasLayer`` keeps the layer's class name, config, weights and
per-sample shapes (NHWC, no batch axis), plus its position in the
``FloatChain``: the float model run step by step, one step per description,
so that any description's float output can be read on samples. A layer with a
fused ``activation`` argument is split into two descriptions (the layer
without its activation, then the activation).
"""
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import SimTypeError
from ..tensorflow_logs import quiet_import
from .errors import ConversionError

#: Fused ``activation`` arguments read as a ReLU description: name -> max_value.
RELU_ACTIVATIONS = {"relu": None, "relu6": 6.0}
#: Fused activations that are no activation at all.
LINEAR_ACTIVATIONS = (None, "linear")
#: Samples per batch when running the float chain.
FLOAT_BATCH = 256


@dataclass(frozen=True)
class KerasLayer:
    """One Keras layer, as plain data.

    ``kind`` is the Keras class name (``"Conv2D"``, ``"QuantizedReLU"``, ...);
    ``input_shape``/``output_shape`` are per sample; ``position`` indexes the
    FloatChain step whose output is this layer's output; ``members`` names the
    Keras layers merged into this description (BatchNormalization folded into
    its neural layer adds its name).
    """

    name: str
    kind: str
    config: dict
    weights: tuple
    input_shape: tuple
    output_shape: tuple
    position: int
    members: tuple = field(default=())

    def replaced(self, **changes):
        return replace(self, **changes)


class FloatChain:
    """The float Keras model as a list of numpy -> numpy steps (float32, NHWC)."""

    def __init__(self, steps):
        self.steps = list(steps)

    def outputs(self, x, positions):
        """{position: float32 output of that step} for ``x`` (N, ...) Keras inputs."""
        wanted = set(positions)
        parts = {p: [] for p in wanted}
        for start in range(0, len(x), FLOAT_BATCH):
            y = np.asarray(x[start:start + FLOAT_BATCH], np.float32)
            for position, step in enumerate(self.steps):
                y = step(y)
                if position in wanted:
                    parts[position].append(y)
        return {p: np.concatenate(v) for p, v in parts.items()}


def _keras_flavour(model):
    """The Keras package the model belongs to: ``keras`` or ``tf_keras``."""
    module = type(model).__module__
    if not hasattr(model, "layers"):
        raise SimTypeError(
            f"convert: argument 'model' must be a Keras model (keras.Model or tf_keras.Model), "
            f"got {module}.{type(model).__name__}")
    if module.startswith("tf_keras"):
        return "tf_keras"
    if module.startswith(("keras", "tensorflow")):
        return "keras"
    raise SimTypeError(
        f"convert: argument 'model' must be a Keras model (keras.Model or tf_keras.Model), "
        f"got {type(model).__module__}.{type(model).__name__}")


def _activation_layer(flavour, function):
    """A Keras Activation layer of ``function`` in the model's Keras package (it takes numpy inputs)."""
    keras_module = quiet_import("tf_keras" if flavour == "tf_keras" else "keras")
    return keras_module.layers.Activation(function)


def _model_input_shape(model):
    try:
        inputs = model.inputs
    except (AttributeError, ValueError) as exc:
        raise ConversionError(
            f"convert: the Keras model '{model.name}' has no defined input; build it with an Input "
            f"shape first (e.g. keras.Sequential([keras.Input((28, 28, 1)), ...]))") from exc
    if not inputs or len(inputs) != 1:
        raise ConversionError(
            f"convert: the Keras model '{model.name}' must have exactly one input, got "
            f"{len(inputs or [])}: Akida 1.0 models are a single chain")
    if len(model.outputs) != 1:
        raise ConversionError(
            f"convert: the Keras model '{model.name}' must have exactly one output, got "
            f"{len(model.outputs)}: Akida 1.0 models are a single chain")
    shape = tuple(inputs[0].shape)[1:]
    if len(shape) not in (1, 3) or any(d is None for d in shape):
        raise ConversionError(
            f"convert: the input of '{model.name}' must be (N,) or (H, W, C) with known sizes, "
            f"got {shape}")
    return tuple(int(d) for d in shape)


def _is_model(layer):
    return hasattr(layer, "layers") and type(layer).__name__ not in ("InputLayer",)


def _history_names(structure):
    """Names of the layers whose tensors a serialized Keras node reads (Keras 3 and tf_keras formats)."""
    if isinstance(structure, dict):
        history = structure.get("config", {}).get("keras_history") if "config" in structure else None
        if history is not None:
            return [history[0]]
        return [name for value in structure.values() for name in _history_names(value)]
    if isinstance(structure, (list, tuple)):
        if len(structure) >= 3 and isinstance(structure[0], str) and isinstance(structure[1], int):
            return [structure[0]]  # tf_keras: [layer name, node index, tensor index, kwargs]
        return [name for value in structure for name in _history_names(value)]
    return []


def _check_functional_chain(model):
    """Refuse a functional model whose layers are not one chain, each reading the output of the one before."""
    try:
        entries = model.get_config()["layers"]
    except (NotImplementedError, KeyError, TypeError) as exc:
        raise ConversionError(f"convert: the graph of the Keras model '{model.name}' cannot be read from its "
                              f"config ({exc}); build it as a Sequential") from exc
    inbound = {}
    for entry in entries:  # merges first: they are what makes a graph more than a chain
        name, kind = entry["name"], entry["class_name"]
        if kind == "InputLayer":
            continue
        nodes = entry.get("inbound_nodes") or []
        if len(nodes) != 1:
            raise ConversionError(
                f"Keras layer '{name}' ({kind}) is called {len(nodes)} times: Akida 1.0 models are a single "
                f"chain of layers, each used once")
        inbound[name] = _history_names(nodes[0])
        if len(inbound[name]) != 1:
            raise ConversionError(
                f"Keras layer '{name}' ({kind}) has {len(inbound[name])} inbound layers: Akida 1.0 models are a "
                f"single chain (no skip connections, Add or Concatenate); each block is neural > [MaxPool | GAP] "
                f"> [BN] > ReLU(max)")
    previous = None
    for entry in entries:
        name, kind = entry["name"], entry["class_name"]
        if kind != "InputLayer" and inbound[name][0] != previous:
            raise ConversionError(
                f"Keras layer '{name}' ({kind}) takes the output of '{inbound[name][0]}', not of the layer before "
                f"it ('{previous}'): Akida 1.0 models are a single chain (no branches)")
        previous = name


def _chain_layers(model):
    """The model's layers in chain order (nested models expanded); refuses branches."""
    if type(model).__name__ != "Sequential":
        _check_functional_chain(model)
    chained = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        if _is_model(layer):
            chained.extend(_chain_layers(layer))
        else:
            chained.append(layer)
    return chained


def _keras_step(layer):
    def step(x):
        return np.asarray(layer(x, training=False), dtype=np.float32)
    return step


def _without_activation(layer, input_shape):
    """A built copy of ``layer`` with activation='linear' and the same weights."""
    config = dict(layer.get_config(), activation="linear")
    clone = type(layer).from_config(config)
    clone(np.zeros((1,) + input_shape, np.float32))
    clone.set_weights(layer.get_weights())
    return clone


def _relu_step(max_value):
    def step(x):
        y = np.maximum(x, np.float32(0))
        return y if max_value is None else np.minimum(y, np.float32(max_value))
    return step


def _relu_config(name, max_value):
    """The config of a plain ReLU description (from a fused or Activation relu/relu6)."""
    return {"name": name, "max_value": max_value, "negative_slope": 0.0, "threshold": 0.0}


def _output_shape(layer, step, shape):
    """The per-sample output shape of ``step`` (the layer) on a zero input of ``shape``."""
    try:
        return step(np.zeros((1,) + shape, np.float32)).shape[1:]
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ConversionError(
            f"Keras layer '{layer.name}' ({type(layer).__name__}) cannot run on a float32 input of per-sample "
            f"shape {shape}: {exc}; it has no Akida 1.0 equivalent") from exc


def read_keras_model(model):
    """(layers, chain, input_shape) of a Keras model.

    ``layers`` is a list of KerasLayer in chain order, ``chain`` the
    FloatChain running the float model, ``input_shape`` the per-sample model
    input shape.
    """
    flavour = _keras_flavour(model)
    input_shape = _model_input_shape(model)
    layers, steps = [], []
    shape = input_shape
    for layer in _chain_layers(model):
        kind = type(layer).__name__
        config = layer.get_config()
        weights = tuple(np.asarray(w) for w in layer.get_weights())
        activation = config.get("activation")  # a name, or a dict for a lambda or custom function
        fused = kind != "Activation" and activation not in LINEAR_ACTIVATIONS
        relu = isinstance(activation, str) and activation in RELU_ACTIVATIONS
        body = _without_activation(layer, shape) if fused else layer
        step = _keras_step(body)
        out_shape = _output_shape(layer, step, shape)
        if kind == "Activation" and config.get("activation") in LINEAR_ACTIVATIONS:
            kind = "Identity"
        elif kind == "Activation" and relu:
            kind, config = "ReLU", _relu_config(layer.name, RELU_ACTIVATIONS[config["activation"]])
        layers.append(KerasLayer(layer.name, kind, config, weights, shape, out_shape, len(steps),
                                 (layer.name,)))
        steps.append(step)
        shape = out_shape
        if fused:
            label = activation if isinstance(activation, str) else getattr(layer.activation, "__name__", "function")
            name = f"{layer.name}/{label}"
            if relu:
                max_value = RELU_ACTIVATIONS[activation]
                act = KerasLayer(name, "ReLU", _relu_config(name, max_value), (), shape, shape, len(steps),
                                 (layer.name,))
                steps.append(_relu_step(max_value))
            else:
                act = KerasLayer(name, "Activation", {"name": name, "activation": label},
                                 (), shape, shape, len(steps), (layer.name,))
                steps.append(_keras_step(_activation_layer(flavour, layer.activation)))
            layers.append(act)
    return layers, FloatChain(steps), input_shape
