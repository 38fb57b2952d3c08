"""Edge learning: the ``AkidaUnsupervised`` optimizer and the layer state it drives.

The rule itself (winner selection, connection swaps, threshold and plasticity
updates) is the Numba kernel ``kernels.learning.fit_kernel``; this module
validates, compiles a model's last layer for learning and feeds the kernel.
Source of the rule: ../shared/reference/akida_learning.md (observed).

Hidden state: the rule picks the swapped connections with ONE counter per
layer. It starts at 0 at compile, persists across samples and ``fit`` calls,
and restarts at 0 whenever a variable of the learning layer is set and when a
saved model is loaded (Akida 1.0 behaviour, ../shared/reference/akida_learning.md).
So a model saved and reloaded in the middle of training resumes with the same weights, variables
and optimizer, but its next swap choices can differ from an uninterrupted run.
"""
import numbers

import numpy as np

from kernels.learning import draw_initial_weights, fit_kernel, learning_constants, learning_histogram

from .enums import LayerType
from .errors import SimIndexError, SimRuntimeError, SimTypeError, SimValueError, shape_text

#: The vendor's default min_plasticity is the float32 nearest to 0.1.
DEFAULT_MIN_PLASTICITY = float(np.float32(0.1))
_INT32 = np.iinfo(np.int32)

_FRACTIONS = (
    ("initial_plasticity", "initial plasticity"),
    ("learning_competition", "learning competition"),
    ("min_plasticity", "minimum plasticity"),
    ("plasticity_decay", "plasticity decay"),
)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class AkidaUnsupervised:
    """The Akida 1.0 unsupervised learning optimizer of the last layer.

    Args:
        num_weights: connections per neuron (int >= 1, at most the layer's inputs).
        num_classes: neurons are split into this many contiguous class blocks.
        initial_plasticity, learning_competition, min_plasticity,
        plasticity_decay: floats in [0, 1].
        seed: seed of the initial connection draw at compile (None: fresh entropy).
        The attributes read back as given: ``num_weights`` and ``num_classes``
        ints, the others floats (the vendor's optimizer shows all of them as
        floats, as ``Model.to_dict`` does).
    """

    def __init__(self, num_weights, num_classes=1, initial_plasticity=1.0, learning_competition=0.0,
                 min_plasticity=DEFAULT_MIN_PLASTICITY, plasticity_decay=0.25, *, seed=None):
        for name, value in (("num_weights", num_weights), ("num_classes", num_classes)):
            if not _is_int(value) or value < 0:
                raise SimTypeError(f"AkidaUnsupervised: argument '{name}' must be an int >= 0, got {value!r}")
        if num_weights == 0:
            raise SimValueError("AkidaUnsupervised: The number of weights must be strictly positive for the "
                                "Layer to be trained (argument 'num_weights': got 0).")
        values = dict(initial_plasticity=initial_plasticity, learning_competition=learning_competition,
                      min_plasticity=min_plasticity, plasticity_decay=plasticity_decay)
        for name, words in _FRACTIONS:
            value = values[name]
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise SimTypeError(f"AkidaUnsupervised: argument '{name}' must be a float, got {value!r}")
            if not 0.0 <= float(value) <= 1.0:
                raise SimValueError(f"AkidaUnsupervised: The {words} must be between 0 and 1 "
                                    f"(argument '{name}': got {value}).")
        if seed is not None and not _is_int(seed):
            raise SimTypeError(f"AkidaUnsupervised: argument 'seed' must be an int or None, got {seed!r}")
        self._config = dict(num_weights=int(num_weights), num_classes=int(num_classes),
                            **{k: float(v) for k, v in values.items()})
        self.seed = seed

    def __getattr__(self, key):
        config = self.__dict__.get("_config", {})
        if key in config:
            return config[key]
        raise AttributeError(f"AkidaUnsupervised has no attribute '{key}'")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._config))

    def get_config(self):
        """The arguments (ints and floats), seed included."""
        return dict(self._config, seed=self.seed)

    def constants(self):
        """(th0, decrement, floor, cap) of the rule (see kernels.learning)."""
        c = self._config
        return learning_constants(c["num_weights"], c["initial_plasticity"], c["learning_competition"],
                                  c["min_plasticity"], c["plasticity_decay"])

    def __repr__(self):
        body = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"AkidaUnsupervised({body})"


class LearningState:
    """What a compiled layer holds beyond its variables: the optimizer, the
    seed of its connection draws, the rule's integer constants and the hidden
    selection counter."""

    def __init__(self, optimizer, seed=None):
        self.optimizer = optimizer
        self.seed = seed
        self.initial_thswap, self.decrement, self.floor, self.cap = optimizer.constants()
        self.counter = np.zeros(1, np.int64)

    def reset_counter(self):
        """Restart the selection counter (compile, load, any variable set)."""
        self.counter[0] = 0


def check_trainable(model):
    """The model's last layer if it can learn, else raise the vendor's error."""
    layers = model.layers
    last = layers[-1] if layers else None
    if last is None or last.layer_type != LayerType.FullyConnected:
        kind = type(last).__name__ if last is not None else "none"
        raise SimValueError(f"The last layer of the model is not trainable (last layer: {kind}; "
                            f"expected a FullyConnected layer).")
    if last.parameters.weights_bits != 1:
        raise SimValueError(f"Only layers with binary weights can be trained (layer '{last.name}': "
                            f"expected weights_bits=1, got {last.parameters.weights_bits}).")
    previous = layers[-2]
    if previous.output_signed or previous.output_bits != 1:
        raise SimValueError(f"Only layers receiving binary inputs can be trained (layer '{last.name}' "
                            f"receives {previous.output_bits}-bit values from '{previous.name}').")
    return last


def compile_layer(layer, optimizer, seed):
    """Attach a LearningState to ``layer`` and draw its initial connections."""
    if not isinstance(optimizer, AkidaUnsupervised):
        raise SimTypeError(f"compile: argument 'optimizer' must be an AkidaUnsupervised, got {type(optimizer).__name__}")
    if layer._learning is not None:
        raise SimRuntimeError(f"Model was already compiled (layer '{layer.name}' already learns).")
    x, y, c = layer.input_dims
    n_inputs, units = x * y * c, layer.parameters.units
    k, classes = optimizer._config["num_weights"], optimizer._config["num_classes"]
    if k > n_inputs:
        raise SimIndexError(f"Cannot set {k} values for a tensor of size {n_inputs} (argument 'num_weights': "
                            f"expected at most the {n_inputs} inputs of layer '{layer.name}', got {k}).")
    if classes > 0 and units % classes:
        raise SimValueError(f"The number of neurons must be a multiple of the number of classes "
                            f"(layer '{layer.name}': {units} units, num_classes={classes}).")
    state = LearningState(optimizer, seed)
    weights = draw_initial_weights(n_inputs, units, k, np.random.default_rng(seed))
    layer._learning = state
    layer._allocate_variables()
    layer._variables["weights"] = weights.astype(np.int8).reshape(1, 1, n_inputs, units)
    layer._variables["threshold_learning"] = np.zeros(units, np.int32)
    layer._variables["thswap"] = np.full(units, state.initial_thswap, np.int32)


def check_labels(input_labels, n_samples, num_classes):
    """int32 (n_samples,) labels, -1 for unlabelled, from what ``fit`` accepts."""
    if input_labels is None:
        return np.full(n_samples, -1, np.int32)
    labels = np.asarray(input_labels)
    if labels.size == 0:
        return np.full(n_samples, -1, np.int32)
    if labels.ndim == 0 and labels.dtype.kind in "fb":  # one float or bool label: its integral value
        value = labels.item()
        if not float(value).is_integer():
            raise SimTypeError(f"fit method expects integers as labels (got {value!r}).")
        labels = np.asarray(int(value))
    if labels.dtype.kind not in "iu":
        raise SimTypeError(f"fit method expects integers as labels (got dtype {labels.dtype.name}).")
    outside = (labels < _INT32.min) | (labels > _INT32.max)
    if outside.any():
        raise SimTypeError(f"fit method expects integers as labels (got {labels[outside].ravel()[0]}: labels "
                           f"must fit in int32).")
    if labels.ndim == 0 or labels.size == 1:
        labels = np.full(n_samples, int(labels.ravel()[0]))
    if labels.ndim == 2 and labels.shape[1] == 1:  # a column of labels, one per sample
        labels = labels[:, 0]
    if labels.shape != (n_samples,):
        got = f"{labels.size} labels" if labels.ndim == 1 else f"labels of shape {shape_text(labels.shape)}"
        raise SimValueError(f"Number of input labels must match number of inputs: {n_samples} (got {got}).")
    labels = np.where(labels < 0, -1, labels)  # any negative label: unlabelled
    if num_classes > 1 and labels.max() >= num_classes:
        raise SimRuntimeError(f"Input Label is larger than allowed for the configured number of classes "
                              f"(got label {int(labels.max())}, num_classes={num_classes}).")
    if num_classes <= 1:
        labels = np.full(n_samples, -1)
    return labels.astype(np.int32)


def learn(layer, x, labels):
    """Run the rule over binary inputs ``x`` (N, X, Y, C) uint8 of ``layer``.

    Updates the layer's weights, threshold_learning and thswap in place and
    returns the int32 (N, units) potentials computed before each sample's
    update.
    """
    state = layer._learning
    n = x.shape[0]
    # Rows of the FullyConnected weights follow a column-major flatten of (X, Y, C).
    flat = np.ascontiguousarray(x.transpose(0, 3, 2, 1).reshape(n, -1))
    weights = layer._variables["weights"]
    units = weights.shape[3]
    out = np.empty((n, units), np.int32)
    fit_kernel(flat, labels, weights.reshape(-1, units), layer._variables["threshold_learning"],
               layer._variables["thswap"], state.counter, state.optimizer._config["num_classes"],
               state.decrement, state.floor, state.cap, out)
    return out


def learning_histogram_rows(layer):
    """uint32 [floor(100 * threshold_learning / num_weights), count] rows of
    learned neurons (uint32 as the vendor's)."""
    return learning_histogram(layer._variables["threshold_learning"],
                              layer._learning.optimizer._config["num_weights"]).astype(np.uint32)
