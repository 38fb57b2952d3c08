"""``Model``: a sequential graph of Akida 1.0 layers, as the vendor's API builds it."""
import contextlib
import json
import numbers
import os
import time

import numpy as np

from kernels.fixed_point import POTENTIAL_MAX, POTENTIAL_MIN
from hw_model.costs import learning_work
from kernels.learning import draw_initial_weights

from . import interchange
from .device import Device
from .enums import BackendType, IpVersion, LayerType, MapMode, NPType
from .errors import ModelFileError, SimRuntimeError, SimTypeError, SimValueError, shape_text
from .hardware import Sequence, external_memory_size, map_model
from .inference import activate, dequantize, layer_potentials, run_layer, stream_samples
from .learning import AkidaUnsupervised, check_labels, check_trainable, compile_layer, learn
from .layers import IMAGE_BITS, LAYER_CLASSES, InputConvolutional, InputData, Layer
from .limits import check_added_neurons, check_bytes
from .metrics import Metrics, inference_power_events
from .progress import chunks
from .serialization import model_to_bytes, read_model_bytes, read_model_file, write_atomically
from .statistics import HostStatistics, estimate
from .summary import learning_summary_text, mapped_summary_text, software_note, summary_text

#: Variables only a layer compiled for learning holds.
_LEARNING_VARIABLES = ("threshold_learning", "thswap")
#: What restoring a layer from a file or a dict can raise on bad content.
_RESTORE_ERRORS = (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError, OverflowError)


class Model:
    """A sequential Akida 1.0 model.

    ``Model()`` is empty; ``Model(path)`` loads a file written by ``save``;
    ``Model(layers=[...])`` copies layers (arguments and variables, and the
    learning state of a compiled last layer) from other models, prepending an
    InputData when the list does not start with an input layer.
    """

    def __init__(self, filename=None, layers=None):
        self._layers = []
        #: Names of the layers, for linear-time appends.
        self._names = set()
        self._caches = {}
        self._device = None
        self._hw_sequences = None
        self._statistics = HostStatistics()
        #: (start ms, end ms, frames) of the last inference, host monotonic clock.
        self._inference_window = None
        self._power_events = []
        #: True until the first call after map(): that call pays the host's one-time costs.
        self._cold = False
        #: (hw_only, mode) of the last map, to map again after the layers change.
        self._map_args = None
        if filename is not None and layers is not None:
            raise SimValueError("Model: give either 'filename' or 'layers', not both")
        if filename is not None:
            if not isinstance(filename, (str, os.PathLike)):
                raise SimTypeError(f"Model: argument 'filename' must be a path, got {type(filename).__name__}")
            header, source = read_model_file(filename)
            self._restore(header["layers"], source, f"model file '{os.fspath(filename)}'")
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
        if layer._model is not None:  # the copy does not learn (compile the new model to learn)
            variables = {k: v.copy() for k, v in layer._variables.items() if k not in _LEARNING_VARIABLES}
            layer = layer._copy_unbound()
        with self._kept_mapped():
            self._append(layer, variables)

    def _default_name(self, layer):
        """``<prefix>_<k>``: k is the 1-based position, raised past names in use."""
        k = len(self._layers) + 1
        while f"{layer.name_prefix}_{k}" in self._names:
            k += 1
        return f"{layer.name_prefix}_{k}"

    def _append(self, layer, variables=None, held=0):
        """Bind ``layer`` after the last layer, check its limits (with the
        ``held`` bytes of layers restored before it, see ``_restore``),
        allocate its variables and append it; returns its bytes (variables
        and weight caches)."""
        previous = self._layers[-1] if self._layers else None
        given_name = layer._name
        saved = (layer.input_dims, layer.output_dims, layer.input_bits)
        if not given_name:
            layer._name = self._default_name(layer)
        try:
            if layer.name in self._names:
                raise SimValueError(
                    f"Cannot have multiple layers with the same name: {layer.name}. (argument 'name')")
            layer._bind(previous)
            footprint = layer._check_limits()
            if held:
                check_bytes(f"{layer.label}: the layers restored up to this one", held + footprint)
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
        self._names.add(layer.name)
        return footprint

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
        with self._kept_mapped():
            self._unmap()
            layer = self._layers.pop()
            self._names.discard(layer.name)
            layer._model = None
            self._caches.pop(id(layer), None)

    @contextlib.contextmanager
    def _kept_mapped(self):
        """Change the layers inside this block; a mapped model is then mapped
        again on its device with its mode and hw_only, as the vendor's stays
        mapped. A mapping that fails raises, the change made and the model
        unmapped."""
        device, map_args = self._device, self._map_args
        yield
        if device is not None:
            self.map(device, *map_args)

    def _on_variable_set(self, layer, name):
        self._caches.pop(id(layer), None)

    def _copy_layers(self, layers):
        """Append unbound copies of ``layers`` with their variables; a
        compiled learning layer is copied compiled (same optimizer, learned
        variables), its hidden selection counter restarting at 0 as after a
        reload."""
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
            variables = {k: v.copy() for k, v in layer._variables.items()}
            copy = layer._copy_unbound()
            if layer._learning is None:
                self._append(copy, variables)
                continue
            self._append(copy)
            state = layer._learning
            compile_layer(copy, AkidaUnsupervised(**state.optimizer.get_config()), state.seed)
            for name, value in variables.items():
                copy.set_variable(name, value)

    # -- inference -------------------------------------------------------
    def _check_inputs(self, inputs):
        if not self._layers:
            raise SimValueError("Cannot perform an inference on a model with no layers")
        if not self._neural_layers():
            raise SimRuntimeError("A model without any neural layers cannot process inputs.")
        expected = "(N, " + shape_text(self.input_shape)[1:]
        if not isinstance(inputs, np.ndarray):
            raise SimTypeError(
                f"forward(): incompatible function arguments: 'inputs' must be a numpy.ndarray of uint8 "
                f"with shape {expected}, got {type(inputs).__name__}")
        if inputs.dtype != np.uint8:
            raise SimValueError(f"Unsupported input type {inputs.dtype.name}. Input type should be uint8. "
                                f"(argument 'inputs': expected uint8 {expected})")
        if inputs.ndim == 1:
            raise SimRuntimeError(f"Shape number of dimensions must be in range [1, 4]: inputs must be "
                                  f"{expected}, got {shape_text(inputs.shape)}")
        if inputs.ndim != 4 or tuple(inputs.shape[1:]) != tuple(self.input_shape):
            raise SimValueError(f"Input shape must be {expected} but got {shape_text(inputs.shape)}.")
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

    def _batched(self, inputs, batch_size, last_raw, verbose):
        x = self._check_inputs(inputs)
        batch = self._check_batch_size(batch_size)
        step = min(batch or x.shape[0], stream_samples(self._neural_layers()))  # bounded memory
        on_chip = self._hw_sequences and any(s.backend == BackendType.Hardware for s in self._hw_sequences)
        events = {l.name: [0, 0] for l in self._neural_layers()} if on_chip else None
        start, started_ms = time.perf_counter(), int(time.monotonic() * 1000)
        parts = [self._run(x[a:b], last_raw, events) for a, b in chunks(x.shape[0], step, "forward", verbose)]
        elapsed = time.perf_counter() - start
        self._inference_window = (started_ms, int(time.monotonic() * 1000), x.shape[0])
        if events is not None:
            self._statistics = estimate(self._hw_sequences, self._device, events, x.shape[0],
                                        batch if batch < x.shape[0] else 0, cold=self._cold)
            self._cold = False
            self._power_events = inference_power_events(self._inference_window, self._statistics)
        else:
            self._statistics = HostStatistics(x.shape[0] / elapsed if elapsed > 0 else None)
            self._power_events = []
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def forward(self, inputs, batch_size=0, verbose=None):
        """Run ``inputs`` (N, x, y, c) uint8 through the model.

        Returns uint8 activations (N, X, Y, F), or int32 potentials when the
        last layer has activation=False. ``batch_size`` only bounds how many
        samples are processed at a time. ``verbose``: progress bar (None: in a
        terminal, for calls that last; see akida_sim.progress).
        """
        return self._batched(inputs, batch_size, last_raw=False, verbose=verbose)

    def predict(self, inputs, batch_size=0, verbose=None):
        """float32 ``(potential - threshold) / act_step`` of the last layer.

        Only for models whose last layer has activation=False.
        """
        self._check_predictable()
        last = self._layers[-1]
        return dequantize(last, self._batched(inputs, batch_size, last_raw=True, verbose=verbose))

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
        The model stays mapped when layers are added or popped, or classes
        added: it is mapped again on the same device, mode and hw_only. A
        model without neural layers maps to no sequence.
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
        sequences = map_model(layers, device, mode, bool(hw_only))[1] if layers else []  # no layer, no sequence
        self._device, self._hw_sequences, self._map_args = device, sequences, (bool(hw_only), mode)
        self._cold = True
        self._statistics = HostStatistics()   # the last inference's window stays in metrics, as the vendor's
        self._power_events = []

    def _unmap(self):
        if self._hw_sequences is not None:  # only a mapped model's layers hold a mapping
            for layer in self._layers:
                layer.mapping = None
                layer.software_reason = None
        self._device = None
        self._cold = False
        self._hw_sequences = None
        self._statistics = HostStatistics()
        self._power_events = []

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

    def fit(self, inputs, input_labels=None, batch_size=0, verbose=None):
        """Learn from ``inputs`` in order; return the model outputs computed
        before each sample's update (as ``forward`` would give them).
        ``verbose``: progress bar, as ``forward``.

        input_labels: None or [] (unlabelled); one label for all samples (an
        int, or a float or bool of integral value); or one int per sample (a
        list, an integer array of shape (N,) or (N, 1)). A negative label (-1)
        marks an unlabelled sample. With num_classes > 1 a labelled sample lets
        only its class block of neurons compete.
        """
        last = self._layers[-1] if self._layers else None
        if last is None or last._learning is None:
            raise SimRuntimeError("To fit a model, last layer should be compiled.")
        x = self._check_inputs(inputs)
        step = self._check_batch_size(batch_size)
        labels = check_labels(input_labels, x.shape[0], last._learning.optimizer._config["num_classes"])
        on_chip = self._hw_sequences and any(s.backend == BackendType.Hardware for s in self._hw_sequences)
        events = {l.name: [0, 0] for l in self._neural_layers()} if on_chip else None
        parts, start = [], time.perf_counter()
        for a, b in chunks(x.shape[0], step, "fit", verbose):
            h = self._run_hidden(x[a:b], events)
            parts.append(learn(last, h, labels[a:b]))
            if events is not None:
                events[last.name][0] += np.count_nonzero(h)
        pot = np.concatenate(parts)
        if events is not None:
            self._fit_statistics(last, events, pot, step)
        else:   # unmapped: the host's own learning rate, not an earlier forward's figures
            elapsed = time.perf_counter() - start
            self._statistics = HostStatistics(x.shape[0] / elapsed if elapsed > 0 else None)
            self._inference_window, self._power_events = None, []
        self._on_variable_set(last, "weights")
        pot = np.clip(pot, POTENTIAL_MIN, POTENTIAL_MAX).reshape(x.shape[0], 1, 1, -1)
        if last._args["activation"]:
            return activate(last, pot, self._cache(last))
        return pot

    def _fit_statistics(self, last, events, pot, batch):
        """``statistics`` of a ``fit`` on a mapped model: per learned sample, the learning layer's
        winner search and synapse rewiring added to its NP's work (``hw_model.costs.learning_work``)."""
        n = pot.shape[0]
        events[last.name][1] += int(np.count_nonzero(pot > 0))
        work = learning_work(int(pot.shape[-1]), int(last._learning.optimizer._config["num_weights"]))
        self._statistics = estimate(self._hw_sequences, self._device, events, n, batch if batch < n else 0,
                                    cold=self._cold, learn_ops={last.name: work})
        self._cold = False
        self._inference_window = None
        self._power_events = []

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

    def evaluate(self, inputs, labels, num_classes=0, batch_size=0):
        """Accuracy (float) of the class predicted for each input against ``labels``.

        labels: int32 (N,). The scores are ``predict`` (last layer without
        activation) or the ``forward`` activations, flattened per sample; the
        class is the index of the first highest score floor-divided by the
        neurons per class, and a sample whose activations are all 0 predicts
        no class (it counts as wrong). num_classes: 0 means one class per
        output filter.
        """
        if not isinstance(labels, np.ndarray):
            raise SimTypeError(f"evaluate(): argument 'labels' must be a numpy.ndarray of int32, got "
                               f"{type(labels).__name__}")
        if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 0:
            raise SimTypeError(f"evaluate(): argument 'num_classes' must be an int >= 0, got {num_classes!r}")
        if labels.dtype != np.int32:
            raise SimValueError(f"Labels must be int32 (argument 'labels': got {labels.dtype.name}).")
        if labels.ndim != 1:
            raise SimValueError(f"Labels must be 1-D (argument 'labels': got shape {shape_text(labels.shape)}).")
        last = self._layers[-1] if self._layers else None
        spiking = last is None or last.layer_type == LayerType.InputData or last._args["activation"]
        scores = self.forward(inputs, batch_size) if spiking else self.predict(inputs, batch_size)
        if len(labels) != len(scores):
            raise SimValueError(f"Inputs and labels must have the same size ({len(scores)} inputs, "
                                f"{len(labels)} labels).")
        flat = scores.reshape(len(scores), -1)
        num_classes = int(num_classes) or scores.shape[-1]
        neurons = flat.shape[1]
        if num_classes == 1:
            raise SimValueError("Cannot classify with 1class(es) (argument 'num_classes': expected 0 or >= 2).")
        if neurons % num_classes:
            raise SimValueError(f"The number of neurons [{neurons}] is not a multiple of the number of classes "
                                f"[{num_classes}].")
        predicted = flat.argmax(axis=1) // (neurons // num_classes)
        correct = predicted == labels
        if spiking:  # a sample that emits no spike predicts no class
            correct &= flat.max(axis=1) > 0
        return float(np.float32(np.mean(correct)))

    def add_classes(self, num_add_classes):
        """Add ``num_add_classes`` classes to the compiled learning last layer.

        Each new class gets as many new neurons as the others have (units /
        num_classes); the learned neurons keep their variables. A new neuron
        starts as at compile: ``num_weights`` random connections, threshold 0,
        act_step 1, threshold_learning 0 and thswap at its initial value. The
        rule's hidden selection counter restarts at 0 (as the vendor's does);
        a mapped model is mapped again (its output grows). A layer compiled with
        num_classes=0 is refused (ValueError).
        """
        if isinstance(num_add_classes, bool) or not isinstance(num_add_classes, numbers.Integral):
            raise SimTypeError(f"add_classes(): argument 'num_add_classes' must be an int, got {num_add_classes!r}")
        if num_add_classes <= 0:
            raise SimValueError(f"The number of classes to add must be positive (argument 'num_add_classes': "
                                f"got {num_add_classes}).")
        optimizer = self.learning
        if optimizer is None:
            raise SimRuntimeError("The last layer must be compiled (call Model.compile(AkidaUnsupervised(...)) "
                                  "before add_classes).")
        last = self._layers[-1]
        config = optimizer._config
        if config["num_classes"] == 0:
            raise SimValueError(f"add_classes: layer '{last.name}' was compiled with num_classes=0, so its "
                                f"neurons form no class block to copy; compile with num_classes >= 1")
        units = last._args["units"]
        added = int(num_add_classes) * (units // config["num_classes"])
        seed = None if last._learning.seed is None else (last._learning.seed, units)
        n_inputs = last.input_dims[0] * last.input_dims[1] * last.input_dims[2]
        check_added_neurons(last.label, int(num_add_classes), units + added, n_inputs)
        new_weights = draw_initial_weights(n_inputs, added, config["num_weights"], np.random.default_rng(seed))
        fresh = {"weights": new_weights.astype(np.int8).reshape(1, 1, n_inputs, added),
                 "threshold": np.zeros(added, np.int32), "act_step": np.ones(added, np.float32),
                 "threshold_learning": np.zeros(added, np.int32),
                 "thswap": np.full(added, last._learning.initial_thswap, np.int32)}
        with self._kept_mapped():
            self._unmap()
            for name, extra in fresh.items():
                last._variables[name] = np.concatenate([last._variables[name], extra], axis=-1)
            last._args["units"] = units + added
            last.output_dims = [1, 1, units + added]
            config["num_classes"] += int(num_add_classes)
            last._learning.reset_counter()
            self._on_variable_set(last, "weights")

    # -- description -----------------------------------------------------
    @property
    def ip_version(self):
        """The Akida IP generation of the model: always IpVersion.v1."""
        return IpVersion.v1

    @property
    def macs(self):
        """Multiply-accumulate operations of one frame, summed over the layers
        (see ``Layer.macs``: dense counts, zero inputs included)."""
        return sum(layer.macs for layer in self._layers)

    @property
    def component_count(self):
        """{NPType: count} of the NP components (HRC included) the mapped
        hardware sequences use; empty when not mapped on hardware."""
        counts = {}
        for layer in self._layers:
            for component in (layer.mapping.nps if layer.mapping is not None else ()):
                counts[component.type] = counts.get(component.type, 0) + 1
        return {t: counts[t] for t in NPType if t in counts}

    @property
    def np_count(self):
        """NPs (HRC excluded) the mapped hardware sequences use, the summary's
        NPs column: the sum of ``layer.mapping.np_count``; 0 when not mapped."""
        return sum(layer.mapping.np_count for layer in self._layers if layer.mapping is not None)

    @property
    def metrics(self):
        """Counters of the last inference: ``inference_start``/``inference_end``
        (host monotonic clock, ms) and ``inference_frames``; on mapped hardware
        also ``inference_clk`` and ``program_clk`` (from ``statistics``)."""
        return Metrics(self._inference_window, self._statistics)

    @property
    def power_events(self):
        """PowerEvents of the last inference on mapped hardware (a new list): the cost
        model's power levels (mW; see akida_sim.metrics) timestamped on the host's
        monotonic clock (ms) from ``inference_start``; empty when not mapped or
        before an inference."""
        return list(self._power_events)

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
        print(text + software_note(self), end="")

    def __repr__(self):
        return (f"<akida_sim.Model, layer_count={len(self._layers)}, output_shape={self.output_shape or []}, "
                f"sequences={self.sequences}>")

    def __str__(self):
        return (f"akida_sim.Model, layer_count={len(self._layers)}, sequence_count={len(self.sequences)}, "
                f"output_shape={self.output_shape or []}")

    # -- persistence -----------------------------------------------------
    def to_buffer(self):
        """The model file's bytes (see ``save``)."""
        entries = [{"type": layer.layer_type.name, "config": layer.get_config(),
                    "variables": dict(layer._variables),
                    "learning": layer._learning.optimizer.get_config() if layer._learning else None}
                   for layer in self._layers]
        return model_to_bytes(entries)

    def save(self, model_file):
        """Write the model (arguments and every variable) to ``model_file`` atomically.

        Any extension works; ``.aksim`` is the one akida_sim suggests (``.fbz``
        is also the vendor's, different, format)."""
        data = self.to_buffer()
        try:
            write_atomically(model_file, data)
        except OSError as exc:
            raise SimValueError(f"Unable to open file for saving model: {model_file} ({exc.strerror or exc})") from exc

    @classmethod
    def from_buffer(cls, data):
        """A model from bytes written by ``to_buffer``."""
        model = cls()
        header, source = read_model_bytes(bytes(data))
        model._restore(header["layers"], source, "model file '<buffer>'")
        return model

    def to_dict(self):
        """The model as a dict, in the vendor's ``to_dict`` layout: per layer its
        name, ``parameters`` (vendor names), ``variables`` ({shape, dtype,
        bitwidth, data}), ``inbounds`` and shapes; the optimizer under ``learning``."""
        from . import __version__
        return interchange.model_dict(self, __version__)

    def to_json(self):
        """``to_dict`` as a compact JSON string (one line: weights make it long)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, model_dict):
        """A model from a dict of the ``to_dict`` layout (akida_sim's or the
        vendor's). Validated like a model file: a bad description raises
        ModelFileError naming the layer, and no model is returned."""
        model = cls()
        try:
            entries = interchange.entries_from_dict(model_dict)
        except ValueError as exc:
            raise ModelFileError(f"Invalid model description: {exc}") from None
        model._restore(entries, interchange.DictSource(), "model description")
        try:
            interchange.check_model_shapes(model_dict, model)
        except ValueError as exc:
            raise ModelFileError(f"Invalid model description: {exc}") from None
        return model

    @classmethod
    def from_json(cls, model_str):
        """A model from a JSON string written by ``to_json`` (see ``from_dict``)."""
        if not isinstance(model_str, (str, bytes, bytearray)):
            raise SimTypeError(f"Model.from_json: argument 'model_str' must be a str, got {type(model_str).__name__}")
        try:
            description = json.loads(model_str)
        except (ValueError, RecursionError) as exc:
            raise ModelFileError(f"Invalid model description: not JSON ({exc})") from None
        return cls.from_dict(description)

    @classmethod
    def from_akida(cls, vendor_model):
        """An akida_sim model from a live model of the vendor's package.

        Read through its public API only (layer types, ``parameters``,
        ``get_variable`` and the optimizer of a compiled last layer), so a
        model saved by the vendor's package is loaded there (``akida.Model(path)``)
        and continued here. A learning layer restarts its hidden selection
        counter at 0, as after loading a saved model.
        """
        if not hasattr(vendor_model, "layers"):
            raise SimTypeError(f"Model.from_akida: argument 'vendor_model' must be a model of the vendor's "
                               f"package, got {type(vendor_model).__name__}")
        model = cls()
        try:
            entries = interchange.entries_from_akida(vendor_model)
        except (AttributeError, TypeError, ValueError) as exc:
            raise SimValueError(f"Model.from_akida: cannot read the vendor's model: {exc}") from None
        model._restore(entries, interchange.ArraySource(), "vendor model")
        return model

    def to_akida(self, akida_module):
        """This model rebuilt with ``akida_module`` (the vendor's ``akida``,
        passed in by the caller): same layers, arguments and variables, and the
        optimizer of a learning last layer (its learned variables set after
        compile)."""
        return interchange.to_akida(self, akida_module)

    def _restore(self, entries, source, label):
        """Append the layers described by ``entries`` (file header entries, or
        those of ``interchange``), reading each variable from ``source`` once
        its layer is built. Any problem raises ModelFileError naming
        ``label`` and the layer."""
        held = 0
        try:
            for i, entry in enumerate(entries):
                try:
                    held += self._restore_layer(entry, source, held)
                except _RESTORE_ERRORS as exc:
                    raise ModelFileError(f"Invalid {label}: layer {i}{_entry_name(entry)} cannot be restored: "
                                         f"{exc}") from None
        finally:
            if hasattr(source, "close"):
                source.close()

    def _restore_layer(self, entry, source, held):
        """Append the layer of ``entry`` (``held``: bytes of the layers restored
        before it); returns its bytes."""
        layer_type = interchange.layer_type_named(entry.get("type"))
        learning = entry.get("learning")
        if "config" in entry:
            if not isinstance(entry["config"], dict):
                raise ValueError(f"'config' must be a dict, got {type(entry['config']).__name__}")
            interchange.check_file_entry(layer_type, entry["config"], learning)
            config = dict(entry["config"])
        else:
            config = interchange.config_from_parameters(layer_type, entry["parameters"])
            config["name"] = entry["name"]
        layer = LAYER_CLASSES[layer_type](**config)
        footprint = self._append(layer, held=held)
        if "parameters" in entry:
            interchange.check_derived_parameters(layer, entry["parameters"])
        if learning is not None:
            seed = learning.get("seed") if isinstance(learning, dict) else None
            compile_layer(layer, AkidaUnsupervised(**interchange.optimizer_args(learning), seed=seed), seed=seed)
        refs = entry["variables"]
        if not isinstance(refs, dict):
            raise ValueError(f"'variables' must be a dict, got {type(refs).__name__}")
        specs = layer._variable_specs()
        unknown, missing = sorted(set(refs) - set(specs)), sorted(set(specs) - set(refs))
        if unknown:
            raise ValueError(f"No such variable {unknown[0]!r} (a {layer_type.name} layer holds {sorted(specs)})")
        if missing:
            raise ValueError(f"variables {missing} are missing")
        for name in sorted(refs):
            shape, dtype, _ = specs[name]
            layer.set_variable(name, source.array(refs[name], name, shape, dtype))
        if layer._learning is not None:
            layer._learning.reset_counter()
        self._check_restored_links(layer, entry)
        return footprint

    def _check_restored_links(self, layer, entry):
        """A description's inbounds and shapes, when given, must be the ones the layers imply."""
        inbounds = entry.get("inbounds")
        if inbounds is not None and list(inbounds) != [l.name for l in layer.inbounds]:
            raise ValueError(f"inbounds {inbounds!r}: akida_sim models are sequential, expected "
                             f"{[l.name for l in layer.inbounds]}")
        for key, dims in (("input_shape", layer.input_dims), ("output_shape", layer.output_dims)):
            given = entry.get(key)
            if given is not None and list(given) != list(dims):
                raise ValueError(f"'{key}' is {given!r} but the layer's arguments give {list(dims)}")


def _entry_name(entry):
    """`` ('name')`` of a layer entry that names its layer, else ``""``."""
    config = entry.get("config") if isinstance(entry, dict) else None
    name = config.get("name") if isinstance(config, dict) else entry.get("name") if isinstance(entry, dict) else None
    return f" ('{name}')" if isinstance(name, str) and name else ""
