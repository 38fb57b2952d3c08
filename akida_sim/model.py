"""``Model``: a sequential graph of Akida 1.0 layers, as the vendor's API builds it."""
import os
import time

import numpy as np

from kernels.fixed_point import POTENTIAL_MAX, POTENTIAL_MIN

from .device import Device
from .enums import BackendType, LayerType, MapMode
from .errors import ModelFileError, SimRuntimeError, SimTypeError, SimValueError
from .hardware import Sequence, external_memory_size, map_model
from .inference import activate, dequantize, layer_potentials, run_layer, stream_samples
from .learning import AkidaUnsupervised, check_labels, check_trainable, compile_layer, learn
from .layers import IMAGE_BITS, LAYER_CLASSES, InputConvolutional, InputData, Layer
from .serialization import model_to_bytes, read_model_bytes, read_model_file, write_atomically
from .statistics import HostStatistics, estimate
from .summary import learning_summary_text, mapped_summary_text, summary_text

#: The input dtypes the vendor names when it refuses an input.
_NAMED_INPUT_DTYPES = (np.dtype(np.float32), np.dtype(np.int8), np.dtype(np.int16))


class Model:
    """A sequential Akida 1.0 model.

    ``Model()`` is empty; ``Model(path)`` loads a file written by ``save``;
    ``Model(layers=[...])`` copies layers (arguments and variables) from
    other models, prepending an InputData when the list does not start with
    an input layer.
    """

    def __init__(self, filename=None, layers=None):
        self._layers = []
        self._caches = {}
        self._device = None
        self._hw_sequences = None
        self._statistics = HostStatistics()
        if filename is not None and layers is not None:
            raise SimValueError("Model: give either 'filename' or 'layers', not both")
        if filename is not None:
            if not isinstance(filename, (str, os.PathLike)):
                raise SimTypeError(f"Model: argument 'filename' must be a path, got {type(filename).__name__}")
            self._load(*read_model_file(filename), source=os.fspath(filename))
        elif layers is not None:
            self._copy_layers(layers)

    # -- structure -------------------------------------------------------
    @property
    def layers(self):
        """The model's layers, in order (a new list)."""
        return list(self._layers)

    @property
    def layer_count(self):
        """Number of layers, InputData included."""
        return len(self._layers)

    @property
    def input_shape(self):
        """[x, y, c] of the model input (None when empty)."""
        return list(self._layers[0].input_dims) if self._layers else None

    @property
    def output_shape(self):
        """[x, y, c] of the model output (None when empty)."""
        return list(self._layers[-1].output_dims) if self._layers else None

    def add(self, layer, inbound_layers=()):
        """Append ``layer``; it must be able to follow the current last layer.

        The layer object itself joins the model (its variables are then the
        model's); a layer already in another model is copied with its
        variables.
        """
        if not isinstance(layer, Layer):
            raise SimTypeError(f"Model.add: argument 'layer' must be an akida_sim layer, got {type(layer).__name__}")
        if not isinstance(inbound_layers, (list, tuple)):
            raise SimTypeError(f"Model.add: argument 'inbound_layers' must be a list of layers, got "
                               f"{type(inbound_layers).__name__}")
        if inbound_layers:
            if len(inbound_layers) != 1 or not self._layers or inbound_layers[0] is not self._layers[-1]:
                raise SimValueError(
                    f"Model.add: akida_sim models are sequential; 'inbound_layers' may only name the "
                    f"last layer ({self._layers[-1].name if self._layers else 'none'})")
        variables = None
        if layer._model is not None:
            variables = {k: v.copy() for k, v in layer._variables.items()}
            layer = layer._copy_unbound()
        self._append(layer, variables)

    def _default_name(self, layer):
        """``<prefix>_<k>``: k is the 1-based position, raised past names in use."""
        taken = {other.name for other in self._layers}
        k = len(self._layers) + 1
        while f"{layer.name_prefix}_{k}" in taken:
            k += 1
        return f"{layer.name_prefix}_{k}"

    def _append(self, layer, variables=None):
        previous = self._layers[-1] if self._layers else None
        given_name = layer._name
        saved = (layer.input_dims, layer.output_dims, layer.input_bits)
        if not given_name:
            layer._name = self._default_name(layer)
        try:
            if any(other.name == layer.name for other in self._layers):
                raise SimValueError(
                    f"Cannot have multiple layers with the same name: {layer.name}. (argument 'name')")
            layer._bind(previous)
        except Exception:
            layer._name = given_name
            layer.input_dims, layer.output_dims, layer.input_bits = saved
            raise
        self._unmap()
        layer.inbounds = [previous] if previous is not None else []
        layer._allocate_variables()
        if variables:
            for name, value in variables.items():
                layer.set_variable(name, value)
        layer._model = self
        self._layers.append(layer)

    def get_layer(self, key):
        """The layer named ``key`` (str) or at index ``key`` (int)."""
        if isinstance(key, str):
            for layer in self._layers:
                if layer.name == key:
                    return layer
            raise SimValueError(f"The layer named '{key}' doesn't exist (layers: {[l.name for l in self._layers]}).")
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if key < 0:
                raise SimTypeError(f"Model.get_layer: a layer index must be >= 0, got {key}")
            if key >= len(self._layers):
                raise SimValueError(f"No layer at index {key} (the model has {len(self._layers)} layers).")
            return self._layers[key]
        raise SimTypeError(f"Model.get_layer: expected a layer name (str) or index (int), got {key!r}")

    def pop_layer(self):
        """Remove the last layer (nothing happens on an empty model)."""
        if not self._layers:
            return
        self._unmap()
        layer = self._layers.pop()
        layer._model = None
        self._caches.pop(id(layer), None)

    def _on_variable_set(self, layer, name):
        self._caches.pop(id(layer), None)

    def _copy_layers(self, layers):
        """Append unbound copies of ``layers`` with their inference variables
        (a copy does not learn: compile the new model to learn)."""
        layers = list(layers)
        for layer in layers:
            if not isinstance(layer, Layer):
                raise SimTypeError(f"Model: argument 'layers' must hold akida_sim layers, got {type(layer).__name__}")
        if layers and not isinstance(layers[0], (InputData, InputConvolutional)):
            first = layers[0]
            if not first.input_dims:
                raise SimRuntimeError(
                    f"Cannot get input size before it is set: layer '{first.name}' starts 'layers' but is not "
                    f"part of a model, so its input is unknown (start the list with an InputData)")
            self._append(InputData(input_shape=tuple(first.input_dims), input_bits=first.input_bits,
                                   name="InputData"))
        for previous, layer in zip(layers, layers[1:]):
            if layer._model is not None and layer.inbounds and layer.inbounds[0] is not previous:
                raise SimValueError(
                    f"The layer named '{layer.inbounds[0].name}' doesn't exist: 'layers' must list consecutive "
                    f"layers, but '{layer.name}' follows '{layer.inbounds[0].name}' in its model, not "
                    f"'{previous.name}'.")
        for layer in layers:
            variables = {k: v.copy() for k, v in layer._variables.items()
                         if k not in ("threshold_learning", "thswap")}
            self._append(layer._copy_unbound(), variables)

    # -- inference -------------------------------------------------------
    def _check_inputs(self, inputs):
        if not self._layers:
            raise SimValueError("Cannot perform an inference on a model with no layers")
        if not self._neural_layers():
            raise SimRuntimeError("A model without any neural layers cannot process inputs.")
        if not isinstance(inputs, np.ndarray):
            raise SimTypeError(
                f"forward(): incompatible function arguments: 'inputs' must be a numpy.ndarray of uint8 "
                f"with shape (N, {', '.join(map(str, self.input_shape))}), got {type(inputs).__name__}")
        if inputs.dtype != np.uint8:
            if inputs.dtype in _NAMED_INPUT_DTYPES:
                raise SimValueError(f"Unsupported input type {inputs.dtype.name}. Input type should be uint8.")
            raise SimValueError(
                f"Input dtype should be int8, uint8, int16 or float32 (and only uint8 is accepted); "
                f"got {inputs.dtype.name}.")
        expected = tuple(self.input_shape)
        if inputs.ndim == 1:
            raise SimRuntimeError(f"Shape number of dimensions must be in range [1, 4]: inputs must be "
                                  f"(N,{','.join(map(str, expected))}), got ({','.join(map(str, inputs.shape))})")
        if inputs.ndim != 4 or tuple(inputs.shape[1:]) != expected:
            raise SimValueError(
                f"Input shape must be (N,{','.join(map(str, expected))}) but got "
                f"({','.join(map(str, inputs.shape))}).")
        if inputs.shape[0] == 0:
            raise SimRuntimeError("Cannot have a shape with dimension 0 set to 0 (the batch is empty)")
        bits = self._layers[0].input_bits
        if bits < IMAGE_BITS:
            top = (1 << bits) - 1
            above = inputs > top
            if above.any():
                first = int(inputs.ravel()[np.argmax(above.ravel())])
                raise SimRuntimeError(f"Input values must be in the range (0, {top}). Got {first}.")
        return np.ascontiguousarray(inputs)

    def _neural_layers(self):
        return [l for l in self._layers if l.layer_type != LayerType.InputData]

    def _cache(self, layer):
        return self._caches.setdefault(id(layer), {})

    @staticmethod
    def _check_batch_size(batch_size):
        if not isinstance(batch_size, (int, np.integer)) or not 0 <= batch_size < 2 ** 32:
            raise SimTypeError(f"forward(): argument 'batch_size' must be an int in 0..2**32-1 "
                               f"(0: all at once), got {batch_size!r}")
        return int(batch_size)

    def _run_hidden(self, x, events=None):
        """Activations entering the last layer; ``events`` ({name: [in, out]})
        accumulates the non-zero inputs and outputs of each layer."""
        for layer in self._neural_layers()[:-1]:
            y = run_layer(layer, x, self._cache(layer))
            if events is not None:
                events[layer.name][0] += np.count_nonzero(x)
                events[layer.name][1] += np.count_nonzero(y)
            x = y
        return x

    def _run(self, x, last_raw, events=None):
        layers = self._neural_layers()
        h = self._run_hidden(x, events)
        last = layers[-1]
        pot = layer_potentials(last, h, self._cache(last))
        out = pot if last_raw or not last._args["activation"] else activate(last, pot, self._cache(last))
        if events is not None:
            events[last.name][0] += np.count_nonzero(h)
            events[last.name][1] += out.size if not last._args["activation"] else np.count_nonzero(out)
        return out

    def _batched(self, inputs, batch_size, last_raw):
        x = self._check_inputs(inputs)
        step = self._check_batch_size(batch_size) or x.shape[0]
        step = min(step, stream_samples(self._neural_layers()))  # bounded memory
        on_chip = self._hw_sequences and any(s.backend == BackendType.Hardware for s in self._hw_sequences)
        events = {l.name: [0, 0] for l in self._neural_layers()} if on_chip else None
        start = time.perf_counter()
        parts = [self._run(x[i:i + step], last_raw, events) for i in range(0, x.shape[0], step)]
        elapsed = time.perf_counter() - start
        if events is not None:
            self._statistics = estimate(self._hw_sequences, self._device, events, x.shape[0])
        else:
            self._statistics = HostStatistics(x.shape[0] / elapsed if elapsed > 0 else None)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def forward(self, inputs, batch_size=0):
        """Run ``inputs`` (N, x, y, c) uint8 through the model.

        Returns uint8 activations (N, X, Y, F), or int32 potentials when the
        last layer has activation=False. ``batch_size`` only bounds how many
        samples are processed at a time.
        """
        return self._batched(inputs, batch_size, last_raw=False)

    def predict(self, inputs, batch_size=0):
        """float32 ``(potential - threshold) / act_step`` of the last layer.

        Only for models whose last layer has activation=False.
        """
        self._check_predictable()
        last = self._layers[-1]
        return dequantize(last, self._batched(inputs, batch_size, last_raw=True))

    def _check_predictable(self):
        if not self._layers:
            raise SimValueError("Cannot perform an inference on a model with no layers")
        last = self._layers[-1]
        if last.layer_type == LayerType.InputData:
            raise SimRuntimeError("Expected a Dequantizer as last layer: the model has only an InputData layer.")
        if last._args["activation"]:
            raise SimRuntimeError(
                f"Only models whose last layer has no activation can be evaluated "
                f"(last layer '{last.name}' has activation=True).")

    # -- hardware ----------------------------------------------------------
    def map(self, device, hw_only=False, mode=MapMode.AllNps):
        """Map the model on ``device`` (e.g. ``AKD1000()``); ``None`` unmaps it.

        Layers the hardware cannot run, or that do not fit, go to software
        sequences (``hw_only=True`` raises RuntimeError instead). ``mode``:
        MapMode.AllNps (spread over all free NPs), HwPr, or Minimal (fewest
        NPs). Afterwards ``sequences`` holds the hardware and software
        sequences, each layer's ``mapping.nps`` its NP components, and every
        forward pass reports clocks, power and energy in ``statistics``.
        """
        if device is None:
            self._unmap()
            return
        if not isinstance(device, Device):
            raise SimTypeError(f"Model.map: argument 'device' must be an akida_sim Device (e.g. AKD1000()), "
                               f"got {type(device).__name__}")
        try:
            mode = MapMode(mode)
        except (ValueError, TypeError):
            raise SimValueError(f"Model.map: argument 'mode' must be a MapMode, got {mode!r}") from None
        if not isinstance(hw_only, (bool, np.bool_)):
            raise SimTypeError(f"Model.map: argument 'hw_only' must be a bool, got {hw_only!r}")
        layers = self._neural_layers()
        if not layers:
            raise SimRuntimeError("Model.map: the model has no neural layer to map")
        _, sequences = map_model(layers, device, mode, bool(hw_only))
        self._device, self._hw_sequences = device, sequences
        self._statistics = HostStatistics()

    def _unmap(self):
        self._device = None
        self._hw_sequences = None
        self._statistics = HostStatistics()
        for layer in self._layers:
            layer.mapping = None

    @property
    def device(self):
        """The device the model is mapped on (None when not mapped)."""
        return self._device

    @property
    def sequences(self):
        """The model's sequences: one software sequence until mapped."""
        if self._hw_sequences is not None:
            return list(self._hw_sequences)
        layers = self._neural_layers()
        if not layers:
            return []
        name = layers[0].name if len(layers) == 1 else f"{layers[0].name}-{layers[-1].name}"
        return [Sequence(f"SW/{name}", BackendType.Software, layers)]

    @property
    def external_memory_size(self):
        """Bytes of external memory the mapped model uses (0 when not mapped)."""
        return external_memory_size(self._layers) if self._hw_sequences is not None else 0

    @property
    def statistics(self):
        """What the last forward/predict cost (see akida_sim.statistics)."""
        return self._statistics

    # -- learning ----------------------------------------------------------
    @property
    def learning(self):
        """The optimizer of the learning layer (None when not compiled)."""
        last = self._layers[-1] if self._layers else None
        return last._learning.optimizer if last is not None and last._learning is not None else None

    def compile(self, optimizer, seed=None):
        """Prepare the last layer for learning with ``optimizer`` (AkidaUnsupervised).

        Draws ``num_weights`` distinct connections per neuron (binary weights)
        with ``numpy.random.default_rng(seed)``; ``seed`` defaults to the
        optimizer's. thswap starts at floor(num_weights * initial_plasticity + 0.5)
        and threshold_learning at 0.
        """
        if not isinstance(optimizer, AkidaUnsupervised):
            raise SimTypeError(f"compile: argument 'optimizer' must be an AkidaUnsupervised, got "
                               f"{type(optimizer).__name__}")
        if self.learning is not None:
            raise SimRuntimeError("Model was already compiled.")
        last = check_trainable(self)
        compile_layer(last, optimizer, optimizer.seed if seed is None else seed)
        self._on_variable_set(last, "weights")

    def fit(self, inputs, input_labels=None, batch_size=0):
        """Learn from ``inputs`` in order; return the model outputs computed
        before each sample's update (as ``forward`` would give them).

        input_labels: None or [] (unlabelled), one int for all samples, or one
        int per sample; a negative label (-1) marks an unlabelled sample. With num_classes > 1 a
        labelled sample lets only its class block of neurons compete.
        """
        last = self._layers[-1] if self._layers else None
        if last is None or last._learning is None:
            raise SimRuntimeError("To fit a model, last layer should be compiled.")
        x = self._check_inputs(inputs)
        self._check_batch_size(batch_size)
        labels = check_labels(input_labels, x.shape[0], last._learning.optimizer._config["num_classes"])
        pot = learn(last, self._run_hidden(x), labels)
        self._on_variable_set(last, "weights")
        pot = np.clip(pot, POTENTIAL_MIN, POTENTIAL_MAX).reshape(x.shape[0], 1, 1, -1)
        if last._args["activation"]:
            return activate(last, pot, self._cache(last))
        return pot

    def predict_classes(self, inputs, num_classes=None, batch_size=0):
        """Class of each output position: the neuron with the highest ``predict``
        value (first one on ties), floor-divided by the neurons per class.

        Returns int64 (N * X * Y,): one class per sample for a (1, 1, F)
        output. ``num_classes`` defaults to one class per neuron. Only for
        models whose last layer has no activation, as ``predict``.
        """
        scores = self.predict(inputs, batch_size)
        neurons = scores.shape[-1]
        if num_classes is None or num_classes == 0:
            num_classes = neurons
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
                or not 0 < num_classes <= neurons:
            raise SimValueError(f"predict_classes: argument 'num_classes' must be an int in 1..{neurons} "
                                f"(the output neurons), got {num_classes!r}")
        flat = scores.reshape(-1, neurons)
        return (flat.argmax(axis=1) // (neurons // num_classes)).astype(np.int64)

    # -- description -----------------------------------------------------
    def summary(self):
        """Print the layer table (Layer (type), Output shape, Kernel shape), and
        once mapped the NPs, components and program sizes."""
        if self._hw_sequences is not None and any(s.backend == BackendType.Hardware for s in self._hw_sequences):
            text = mapped_summary_text(self, self._hw_sequences)
        else:  # unmapped, or mapped entirely to software: the vendor shows the plain layout
            text = summary_text(self, [(f"{s.name} (Software)", s.layers) for s in self.sequences])
        last = self._layers[-1] if self._layers else None
        if last is not None and last._learning is not None:
            text += "\n\n" + learning_summary_text(last)
        print(text, end="")

    def __repr__(self):
        return (f"<akida_sim.Model, layer_count={len(self._layers)}, "
                f"output_shape={self.output_shape}>")

    # -- persistence -----------------------------------------------------
    def to_buffer(self):
        """The model file's bytes (see ``save``)."""
        entries = [{"type": layer.layer_type.name, "config": layer.get_config(),
                    "variables": dict(layer._variables),
                    "learning": layer._learning.optimizer.get_config() if layer._learning else None}
                   for layer in self._layers]
        return model_to_bytes(entries)

    def save(self, model_file):
        """Write the model (arguments and every variable) to ``model_file`` atomically."""
        data = self.to_buffer()
        try:
            write_atomically(model_file, data)
        except OSError as exc:
            raise SimValueError(f"Unable to open file for saving model: {model_file} ({exc.strerror or exc})") from exc

    @classmethod
    def from_buffer(cls, data):
        """A model from bytes written by ``to_buffer``."""
        model = cls()
        model._load(*read_model_bytes(bytes(data)), source="<buffer>")
        return model

    def _load(self, header, arrays, source):
        for i, entry in enumerate(header["layers"]):
            try:
                cls = LAYER_CLASSES[LayerType[entry["type"]]]
                config = dict(entry["config"])
                layer = cls(**config)
                variables = {name: arrays[member] for name, member in entry["variables"].items()}
                learning = entry.get("learning")
                if learning is not None:
                    self._append(layer)
                    compile_layer(layer, AkidaUnsupervised(**learning), seed=learning.get("seed"))
                    for name, value in variables.items():
                        layer.set_variable(name, value)
                    layer._learning.reset_counter()
                else:
                    self._append(layer, variables)
                missing = set(layer.get_variable_names()) - set(variables)
                if missing:
                    raise SimValueError(f"variables {sorted(missing)} are missing")
            except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as exc:
                raise ModelFileError(f"Invalid model file '{source}': layer {i} cannot be restored: {exc}") from None
