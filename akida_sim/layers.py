"""Akida 1.0 layers: validated specifications with their variables.

A layer holds its arguments (checked at construction), and once added to a
model its input/output dimensions and variables. The integer work is done by
``akida_sim.inference`` with the kernels of ``kernels/``.

Shapes are (x, y, c): axis 1 ("x", width in the vendor's parameter names),
axis 2 ("y", height) and channels. Tuples such as ``kernel_size`` list axis 1
first. Sources: ../shared/reference/akida_v1_semantics.md (observed).
"""
import numbers

import numpy as np

from .enums import LayerType, NPType, Padding, PoolType
from .errors import (ShapeRankError, SimRuntimeError, SimTypeError, SimValueError, ZeroSizeError, layer_label,
                     shape_text)
from .geometry import window_output_size
from .inference import _potential_bytes
from .interchange import layer_dict
from .learning import learning_histogram_rows
from .limits import MAX_LAYER_NEURONS, array_bytes, check_bytes, check_count
from .params import LayerParams
from .seed_names import accepts_seed_names
from .variables import Variables, check_act_step, check_variable, weight_range

#: Bits of the uint8 image an InputConvolutional receives.
IMAGE_BITS = 8
#: Widest activation the neural layers accept as input.
MAX_NEURAL_INPUT_BITS = 4
#: Bits of the potentials a layer without activation emits.
POTENTIAL_BITS = 32


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class Layer:
    """Base class of every layer (not instantiated directly)."""

    layer_type = None
    #: Default name prefix, as the vendor's: ``<prefix>_<1-based index>``.
    name_prefix = None
    #: Abbreviated type shown by ``Model.summary()``.
    summary_type = None
    #: NP component types the layer can be mapped on (``is_target_component``).
    target_components = ()
    #: Whether the layer's work can be split over several NPs (the CNP layers).
    splittable = False
    #: {variable name: value} filling new variables instead of 0 (1.0 for act_step): set by
    #: the seed guide's ``threshold_fire``/``threshold_fire_step`` (see akida_sim.seed_names).
    _initial_values = {}

    def __init__(self, name):
        if not isinstance(name, str):
            raise SimTypeError(
                f"{type(self).__name__}: argument 'name' must be a str, got {type(name).__name__}"
            )
        self._name = name
        self._args = {}
        self.input_dims = []
        self.output_dims = []
        self.input_bits = None
        self.inbounds = []
        self._variables = {}
        self._model = None
        #: LearningState once the layer is compiled for learning (FullyConnected only).
        self._learning = None
        #: NP components of the layer once its model is mapped on hardware (else None).
        self.mapping = None
        #: Why map() left the layer in software (a hardware.SoftwareReason; None when on
        #: hardware or not mapped).
        self.software_reason = None

    # -- identity -------------------------------------------------------
    @property
    def name(self):
        """The layer's name (assigned ``<Type>_<index>`` when added if empty)."""
        return self._name

    @property
    def label(self):
        """How error messages name this layer."""
        return layer_label(type(self).__name__, self._name)

    @property
    def parameters(self):
        """The layer's arguments, under the vendor's parameter names."""
        return LayerParams(self.layer_type, self._param_values())

    def _param_values(self):
        raise NotImplementedError

    def get_config(self):
        """Constructor arguments as plain JSON-able values (enums as ints)."""
        config = {k: (int(v) if isinstance(v, (Padding, PoolType)) else v) for k, v in self._args.items()}
        config["name"] = self._name
        return config

    # -- variables ------------------------------------------------------
    def get_variable_names(self):
        """Names of the layer's variables, sorted."""
        return sorted(self._variable_specs())

    @property
    def variables(self):
        """The layer's variables: ``.names`` and item access (see ``Variables``)."""
        return Variables(self)

    def get_variable(self, name):
        """A copy of variable ``name``."""
        self._check_variable_name(name)
        return self._variables[name].copy()

    def set_variable(self, name, value):
        """Replace variable ``name`` after checking its dtype, shape and range."""
        self._check_variable_name(name)
        shape, dtype, value_range = self._variable_specs()[name]
        checked = check_variable(self.label, name, value, shape, dtype, value_range)
        if name == "act_step":
            check_act_step(self.label, checked)
        self._variables[name] = checked
        if self._learning is not None:
            self._learning.reset_counter()
        if self._model is not None:
            self._model._on_variable_set(self, name)

    def _check_variable_name(self, name):
        if not isinstance(name, str):
            raise SimTypeError(f"{self.label}: a variable name must be a str, got {name!r}")
        if name not in self._variable_specs():
            expected = (f"expected one of {self.get_variable_names()}" if self.input_dims
                        else "the layer has no variables until it is added to a model")
            raise SimValueError(f"{self.label}: No such variable '{name}' ({expected}).")

    def _variable_specs(self):
        """{name: (shape, dtype, (min, max) or None)} once bound."""
        return {}

    def _allocate_variables(self):
        """Fresh variables (weights 0, thresholds 0, steps 1.0) for every
        variable not already held with the right shape and dtype."""
        held = self._variables
        self._variables = {}
        for name, (shape, dtype, _) in self._variable_specs().items():
            old = held.get(name)
            if old is not None and old.shape == tuple(shape) and old.dtype == dtype:
                self._variables[name] = old
            else:
                fill = self._initial_values.get(name, 1.0 if name == "act_step" else 0)
                self._variables[name] = np.full(shape, fill, dtype=dtype)

    def _set_initial_values(self, values):
        """Fill ``threshold``/``act_step`` with ``values`` ({name: value}), now if the
        variables exist and whenever they are allocated again."""
        self._initial_values = dict(values)
        for name, value in values.items():
            if name in self._variables:
                self._variables[name][...] = value

    # -- binding into a model ------------------------------------------
    def _check_limits(self):
        """Refuse a layer just bound in a model (dims known, variables not yet
        allocated) whose neurons exceed ``limits.MAX_LAYER_NEURONS`` or whose
        memory exceeds the memory budget: its variables with the int32 weight
        copies a forward pass caches (two for FullyConnected: the weights and
        their transpose), and one frame of its int32 potentials. Returns the
        bytes of its variables and weight copies."""
        if self.layer_type == LayerType.InputData:
            check_bytes(f"{self.label}: argument input_shape={shape_text(self.input_dims)}",
                        array_bytes(self.input_dims, 1), " for one frame")
            return 0
        argument = "units" if self.layer_type == LayerType.FullyConnected else "filters"
        check_count(argument, self._args[argument], MAX_LAYER_NEURONS, f"{self.label}: ")
        specs = self._variable_specs()
        held = sum(array_bytes(shape, np.dtype(dtype).itemsize) for shape, dtype, _ in specs.values())
        weights = sum(array_bytes(specs[n][0], 1) for n in ("weights", "weights_pw") if n in specs)
        cached = 4 * weights * (2 if self.layer_type == LayerType.FullyConnected else 1)
        sizes = ", ".join(f"{k}={self._args[k]}" for k in ("kernel_size", argument) if k in self._args)
        what = f"{self.label}: arguments {sizes} with an input of {shape_text(self.input_dims)}"
        check_bytes(what, held + cached, " (variables and the weight copies a forward pass caches)")
        check_bytes(what, _potential_bytes(self), " for one frame of potentials")
        return held + cached

    def _bind(self, previous):
        """Check that the layer can follow ``previous`` (None when first) and
        set input/output dims and input bits. Variables are allocated here."""
        raise NotImplementedError

    @property
    def output_bits(self):
        """Bits of the values this layer emits (32 for int32 potentials)."""
        raise NotImplementedError

    @property
    def output_signed(self):
        """Whether the layer emits signed values (potentials, or a wide InputData)."""
        raise NotImplementedError

    @property
    def macs(self):
        """Multiply-accumulate operations of one frame through this layer,
        counted densely (every input value, zero or not; the chip only
        processes non-zero events). 0 for InputData and for a layer not yet
        in a model."""
        return 0

    def to_dict(self):
        """The layer as a dict, in the vendor's ``to_dict`` layout (see ``Model.to_dict``)."""
        return layer_dict(self)

    def get_learning_histogram(self):
        """uint32 (n, 2) rows [floor(100 * threshold_learning / num_weights), count]
        over the neurons that have learned (threshold_learning > 0)."""
        if self._learning is None:
            raise SimValueError(f"{self.label}: No such variable 'threshold_learning': the layer is not "
                                f"compiled for learning (call Model.compile(AkidaUnsupervised(...)) first)")
        return learning_histogram_rows(self)

    def is_target_component(self, hw_type):
        """Whether the layer can be mapped on NP components of type ``hw_type`` (an ``NP.Type``)."""
        try:
            hw_type = NPType(hw_type)
        except (ValueError, TypeError):
            raise SimTypeError(f"{self.label}: is_target_component: argument 'hw_type' must be an NP.Type, "
                               f"got {hw_type!r}") from None
        return hw_type in self.target_components

    def _copy_unbound(self):
        """A new, unbound layer with the same arguments and name."""
        return type(self)(**self.get_config())

    def __repr__(self):
        return (
            f"<akida_sim.Layer, type={self.layer_type}, name={self._name}, "
            f"input_dims={self.input_dims}, output_dims={self.output_dims}>"
        )

    def __str__(self):
        return f"{self._name} ({self.summary_type})"


# ----------------------------------------------------------------------
# argument checking helpers


def _check_pair(label, argument, value):
    """A pair of ints (axis 1, axis 2)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    expected = f"argument '{argument}' must be a list of 2 integers (axis 1, axis 2), got {value!r}"
    if not isinstance(value, (tuple, list)):
        raise SimTypeError(f"{label}: {expected}")
    if len(value) < 2:
        raise ShapeRankError(f"{label}: {expected}")
    # Like the vendor's, elements past the second are ignored.
    if not all(_is_int(v) for v in value[:2]):
        raise SimValueError(f"{label}: {expected}")
    return tuple(int(v) for v in value[:2])


#: Neuron counts are held as int32 by the vendor's engine.
MAX_NEURONS = 2 ** 31 - 1


def _check_positive_int(label, argument, value, vendor_name):
    if not _is_int(value) or value > MAX_NEURONS:
        raise SimTypeError(f"{label}: argument '{argument}' must be an int in 1..{MAX_NEURONS}, got {value!r}")
    if value == 0:
        raise SimValueError(f"{label}: Parameter {vendor_name} cannot be 0 (argument '{argument}': expected >= 1, got 0)")
    if value < 0:
        raise SimValueError(f"{label}: argument '{argument}' must be >= 1, got {value}")
    return int(value)


def _check_bool(label, argument, value):
    if not isinstance(value, (bool, np.bool_)) and not (_is_int(value) and value in (0, 1)):
        raise SimTypeError(f"{label}: argument '{argument}' must be a bool, got {value!r}")
    return bool(value)


def _check_act_bits(label, act_bits, legal=(1, 2, 4)):
    if not _is_int(act_bits) or act_bits not in legal:
        if legal == (1, 2, 4):
            text = f"act_bits must be 1, 2 or 4. Receives act_bits={act_bits}."
        else:
            text = f"The act_bits parameter must be between {legal[0]} and {legal[-1]}. Receives act_bits={act_bits}."
        raise SimValueError(f"{label}: {text}")
    return int(act_bits)


def _check_weights_bits(label, weights_bits):
    if not _is_int(weights_bits) or weights_bits not in (1, 2, 4, 8):
        raise SimValueError(
            f"{label}: The weight bitwidth must be 1, 2, 4 or 8. Receives weights_bits={weights_bits}."
        )
    return int(weights_bits)


def _check_enum(label, argument, value, enum):
    try:
        return enum(value)
    except (ValueError, TypeError):
        legal = ", ".join(f"{enum.__name__}.{m.name}" for m in enum)
        raise SimValueError(f"{label}: argument '{argument}' must be one of {legal}, got {value!r}") from None


def _check_input_shape(label, input_shape):
    if isinstance(input_shape, np.ndarray):
        input_shape = input_shape.tolist()
    if not isinstance(input_shape, (tuple, list)):
        raise SimTypeError(f"{label}: argument 'input_shape' must be a tuple (x, y, c), got {input_shape!r}")
    if len(input_shape) < 3:
        raise ShapeRankError(
            f"{label}: argument 'input_shape' must have 3 dimensions (x, y, c), got {tuple(input_shape)}"
        )
    # Like the vendor's, dimensions past the third are ignored.
    input_shape = input_shape[:3]
    for axis_name, v in zip(("input_width", "input_height", "input_channels"), input_shape):
        if not _is_int(v):
            raise SimTypeError(f"{label}: argument 'input_shape' must hold ints, got {tuple(input_shape)}")
        if v <= 0:
            raise SimValueError(
                f"{label}: Parameter {axis_name} cannot be 0 (argument 'input_shape': "
                f"expected every dimension >= 1, got {tuple(input_shape)})"
            )
    return tuple(int(v) for v in input_shape)


class _NeuralLayer(Layer):
    """A layer with an activation: it emits act_bits-bit activations, or
    int32 potentials when activation=False."""

    @property
    def output_bits(self):
        return self._args["act_bits"] if self._args["activation"] else POTENTIAL_BITS

    @property
    def output_signed(self):
        return not self._args["activation"]


class _ConvLike(_NeuralLayer):
    """Shared arguments and geometry of the three convolution layers."""

    #: Whether the stride may exceed the kernel (only InputConvolutional).
    stride_may_exceed_kernel = False
    #: Legal act_bits (InputConvolutional also takes 3).
    legal_act_bits = (1, 2, 4)
    #: Whether act_bits is checked when activation=False (not by InputConvolutional).
    act_bits_checked_without_activation = True
    #: Whether weight widths other than 1, 2 and 4 mean int8 (InputConvolutional).
    weights_any_width_is_int8 = False
    #: Whether a signed input is refused with a ValueError (Convolutional) rather
    #: than the RuntimeError of too-wide inputs.
    signed_input_is_value_error = False

    def _init_conv(self, kernel_size, filters, padding, kernel_stride, pool_size, pool_type,
                   pool_stride, activation, act_bits):
        label = self.label
        kx, ky = _check_pair(label, "kernel_size", kernel_size)
        for vendor_name, k in (("kernel_width", kx), ("kernel_height", ky)):
            if k <= 0 or k % 2 == 0:
                raise SimValueError(
                    f"{label}: Parameter {vendor_name} must be strictly positive and odd "
                    f"(argument 'kernel_size': got {(kx, ky)})"
                )
        if _is_int(filters) and filters == 0 and self.stride_may_exceed_kernel:
            raise ZeroSizeError(f"{label}: Cannot have a shape with dimension 2 set to 0 (argument 'filters': expected >= 1, got 0)")
        filters = _check_positive_int(label, "filters", filters, "num_neurons")
        padding = _check_enum(label, "padding", padding, Padding)
        sx, sy = _check_pair(label, "kernel_stride", kernel_stride)
        for vendor_name, s in (("stride_x", sx), ("stride_y", sy)):
            if s <= 0:
                raise SimValueError(
                    f"{label}: {vendor_name} must be strictly positive (argument 'kernel_stride': got {(sx, sy)})"
                )
        if not self.stride_may_exceed_kernel and (sx > kx or sy > ky):
            raise SimValueError(
                f"{label}: Strides > kernel size are not supported (kernel_stride={(sx, sy)}, "
                f"kernel_size={(kx, ky)})"
            )
        pool_type = _check_enum(label, "pool_type", pool_type, PoolType)
        pool_size = _check_pair(label, "pool_size", pool_size)
        pool_stride = _check_pair(label, "pool_stride", pool_stride)
        given_pool_stride = pool_stride
        pool_size, pool_stride = self._check_pooling(pool_type, pool_size, pool_stride)
        activation = _check_bool(label, "activation", activation)
        if activation or self.act_bits_checked_without_activation or not _is_int(act_bits):
            act_bits = _check_act_bits(label, act_bits, self.legal_act_bits)
        self._args.update(
            kernel_size=(kx, ky), filters=filters, padding=padding, kernel_stride=(sx, sy),
            pool_size=pool_size, pool_type=pool_type, pool_stride=pool_stride,
            activation=activation, act_bits=int(act_bits),
        )
        # The vendor's parameters show a 0 pool stride as given (it acts as pool_size).
        self._shown_pool_stride = tuple(
            0 if given == 0 and pool_type == PoolType.Max else used
            for given, used in zip(given_pool_stride, pool_stride))

    def _check_pooling(self, pool_type, pool_size, pool_stride):
        label = self.label
        incoherent = (
            f"{label}: Incoherent pooling parameters: pool_size should be -1 when pool_type is set to "
            f"PoolType.NoPooling or PoolType.Average, or should be > 0 when pool_type is set to PoolType.Max."
            f" (got pool_type=PoolType.{pool_type.name}, pool_size={pool_size})"
        )
        if pool_type == PoolType.Max:
            if min(pool_size) <= 0:
                raise SimValueError(incoherent)
            resolved = []
            for size, stride in zip(pool_size, pool_stride):
                if stride <= 0:
                    stride = size
                if stride > size:
                    raise SimValueError(
                        f"{label}: Parameter pool_stride cannot be higher than pool_size "
                        f"(pool_stride={pool_stride}, pool_size={pool_size})"
                    )
                resolved.append(stride)
            return pool_size, tuple(resolved)
        if pool_size != (-1, -1):
            raise SimValueError(incoherent)
        if max(pool_stride) >= 0:
            raise SimValueError(
                f"{label}: Parameter pool_stride cannot be higher than pool_size (with PoolType.{pool_type.name} "
                f"pool_stride must stay (-1, -1), got {pool_stride})"
            )
        return pool_size, (-1, -1)

    def get_config(self):
        config = super().get_config()
        config["pool_stride"] = self._shown_pool_stride  # a 0 stays 0, as given
        return config

    # -- geometry ----------------------------------------------------------
    @property
    def same(self):
        return self._args["padding"] == Padding.Same

    def conv_output_dims(self, input_dims):
        """(x, y) of the convolution output before pooling (may be < 1)."""
        (kx, ky), (sx, sy) = self._args["kernel_size"], self._args["kernel_stride"]
        return (
            window_output_size(input_dims[0], kx, sx, self.same),
            window_output_size(input_dims[1], ky, sy, self.same),
        )

    def _compute_output_dims(self, input_dims):
        cx, cy = self.conv_output_dims(input_dims)
        pool_type = self._args["pool_type"]
        if pool_type == PoolType.Max:
            (px, py), (psx, psy) = self._args["pool_size"], self._args["pool_stride"]
            cx = window_output_size(cx, px, psx, self.same) if cx >= 1 else cx
            cy = window_output_size(cy, py, psy, self.same) if cy >= 1 else cy
        if cx < 1 or cy < 1:
            raise SimRuntimeError(
                f"{self.label}: Computed output size would not be strictly positive "
                f"(input {list(input_dims)}, kernel_size={self._args['kernel_size']}, "
                f"kernel_stride={self._args['kernel_stride']}, padding={self._args['padding'].name}, "
                f"pool_size={self._args['pool_size']}, got output ({cx}, {cy}))"
            )
        if pool_type == PoolType.Average:
            cx, cy = 1, 1
        return [cx, cy, self._args["filters"]]

    def _param_values(self):
        a = self._args
        return dict(
            act_bits=a["act_bits"], activation=a["activation"], filters=a["filters"],
            kernel_width=a["kernel_size"][0], kernel_height=a["kernel_size"][1],
            padding=a["padding"], pool_type=a["pool_type"],
            pooling_width=a["pool_size"][0], pooling_height=a["pool_size"][1],
            pooling_stride_x=self._shown_pool_stride[0], pooling_stride_y=self._shown_pool_stride[1],
            stride_x=a["kernel_stride"][0], stride_y=a["kernel_stride"][1],
            weights_bits=a["weights_bits"],
        )

    def _bind(self, previous):
        _check_follows(self, previous, self.signed_input_is_value_error)
        self.input_dims = list(previous.output_dims)
        self.input_bits = previous.output_bits
        self.output_dims = self._compute_output_dims(self.input_dims)

    @property
    def macs(self):
        """Convolution positions (before pooling) x kernel x input channels x
        filters; for SeparableConvolutional the depthwise plus the pointwise MACs."""
        if not self.input_dims:
            return 0
        cx, cy = self.conv_output_dims(self.input_dims)
        (kx, ky), c, f = self._args["kernel_size"], self.input_dims[2], self._args["filters"]
        if self.layer_type == LayerType.SeparableConvolutional:
            return cx * cy * (kx * ky * c + c * f)
        return cx * cy * kx * ky * c * f

    def _weight_shapes(self, channels, filters):
        """{variable name: shape} of the layer's weights."""
        kx, ky = self._args["kernel_size"]
        return {"weights": (kx, ky, channels, filters)}

    def _variable_specs(self):
        if not self.input_dims:
            return {}
        f = self._args["filters"]
        rng = weight_range(self._args["weights_bits"], any_width_is_int8=self.weights_any_width_is_int8)
        specs = {name: (shape, np.int8, rng)
                 for name, shape in self._weight_shapes(self.input_dims[2], f).items()}
        specs.update(threshold=((f,), np.int32, None), act_step=((f,), np.float32, None))
        return specs


def _check_follows(layer, previous, signed_is_value_error=False):
    """Chaining rules of Convolutional, SeparableConvolutional and
    FullyConnected: they need a previous layer emitting unsigned activations
    of at most 4 bits. A Convolutional refuses signed inputs with a
    ValueError, the others with the RuntimeError of too-wide inputs."""
    kind = type(layer).__name__
    if previous is None:
        raise SimValueError(f"{layer.label}: {layer.name} must have exactly 1 inbound layer "
                            f"(it cannot be the first layer; add an InputData first)")
    emits = (f"previous layer '{previous.name}' emits "
             f"{'signed ' if previous.output_signed else ''}{previous.output_bits}-bit values")
    if signed_is_value_error and previous.output_signed:
        raise SimValueError(f"{layer.label}: {kind} layer only accepts unsigned inputs ({emits}; "
                            f"expected unsigned activations of at most {MAX_NEURAL_INPUT_BITS} bits)")
    if previous.output_signed or previous.output_bits > MAX_NEURAL_INPUT_BITS:
        raise SimRuntimeError(f"{layer.label}: {kind} cannot be added if previous layer's output requires "
                              f"more than {MAX_NEURAL_INPUT_BITS} bits ({emits})")


class InputData(Layer):
    """Declares the model input: shape (x, y, c) and bit width of uint8 values."""

    layer_type = LayerType.InputData
    name_prefix = "InputData"
    summary_type = "InputData"

    def __init__(self, input_shape, input_bits=4, name=""):
        super().__init__(name)
        input_shape = _check_input_shape(self.label, input_shape)
        if not _is_int(input_bits):
            raise SimTypeError(f"{self.label}: argument 'input_bits' must be an int, got {input_bits!r}")
        if input_bits == 0:
            raise SimValueError(f"{self.label}: Parameter input_bits cannot be 0 (argument 'input_bits': expected >= 1)")
        if input_bits < 0:
            raise SimValueError(f"{self.label}: argument 'input_bits' must be >= 1, got {input_bits}")
        self._args.update(input_shape=input_shape, input_bits=int(input_bits))
        self._bind(None)  # the input is known: dims and bits exist before the layer joins a model

    def _param_values(self):
        x, y, c = self._args["input_shape"]
        return dict(input_width=x, input_height=y, input_channels=c, input_bits=self._args["input_bits"],
                    input_signed=self.output_signed)

    def _bind(self, previous):
        if previous is not None:
            raise SimRuntimeError(
                f"{self.label}: Input layers cannot have inbound layers other than a Quantizer "
                f"(InputData must be the first layer; previous is '{previous.name}')"
            )
        self.input_dims = list(self._args["input_shape"])
        self.output_dims = list(self._args["input_shape"])
        self.input_bits = self._args["input_bits"]

    @property
    def output_bits(self):
        return self._args["input_bits"]

    @property
    def output_signed(self):
        """Inputs wider than 4 bits are taken as signed (as the vendor's InputData does)."""
        return self._args["input_bits"] > MAX_NEURAL_INPUT_BITS


class InputConvolutional(_ConvLike):
    """First layer for 8-bit images: a cross-correlation with up to 8-bit weights."""

    layer_type = LayerType.InputConvolutional
    target_components = (NPType.HRC,)
    name_prefix = "InputConv"
    summary_type = "InputConv."
    stride_may_exceed_kernel = True
    legal_act_bits = (1, 2, 3, 4)
    act_bits_checked_without_activation = False
    weights_any_width_is_int8 = True

    @accepts_seed_names(pooling=True)
    def __init__(self, input_shape, kernel_size, filters, name="", padding=Padding.Same,
                 kernel_stride=(1, 1), weights_bits=1, pool_size=(-1, -1),
                 pool_type=PoolType.NoPooling, pool_stride=(-1, -1), activation=True,
                 act_bits=1, padding_value=0):
        super().__init__(name)
        label = self.label
        input_shape = _check_input_shape(label, input_shape)
        self._init_conv(kernel_size, filters, padding, kernel_stride, pool_size, pool_type,
                        pool_stride, activation, act_bits)
        if not _is_int(weights_bits):
            raise SimTypeError(f"{label}: argument 'weights_bits' must be an int, got {weights_bits!r}")
        if not _is_int(padding_value) or not 0 <= padding_value <= 255:
            raise SimValueError(
                f"{label}: padding_value must be an uint8 value. Receives padding_value={padding_value}."
            )
        self._args.update(input_shape=input_shape, weights_bits=int(weights_bits),
                          padding_value=int(padding_value))
        # The input is known: dims and variables exist before the layer joins a model.
        self._bind(None)
        self._check_limits()
        self._allocate_variables()

    def get_config(self):
        config = super().get_config()
        config["input_shape"] = list(config["input_shape"])
        return config

    def _param_values(self):
        x, y, c = self._args["input_shape"]
        values = super()._param_values()
        values.update(input_width=x, input_height=y, input_channels=c,
                      padding_value=self._args["padding_value"])
        return values

    def _bind(self, previous):
        if previous is not None:
            raise SimRuntimeError(
                f"{self.label}: The layer preceding InputConvolutional must output unsigned 8-bit values "
                f"(InputConvolutional must be the first layer; previous is '{previous.name}')"
            )
        self.input_dims = list(self._args["input_shape"])
        self.input_bits = IMAGE_BITS
        self.output_dims = self._compute_output_dims(self.input_dims)


class Convolutional(_ConvLike):
    """Convolution (kernel flipped) of 1/2/4-bit activations with 1/2/4/8-bit weights."""

    layer_type = LayerType.Convolutional
    target_components = (NPType.CNP1, NPType.CNP2)
    splittable = True
    name_prefix = "Conv"
    summary_type = "Conv."
    signed_input_is_value_error = True

    @accepts_seed_names(pooling=True)
    def __init__(self, kernel_size, filters, name="", padding=Padding.Same, kernel_stride=(1, 1),
                 weights_bits=1, pool_size=(-1, -1), pool_type=PoolType.NoPooling,
                 pool_stride=(-1, -1), activation=True, act_bits=1):
        super().__init__(name)
        self._init_conv(kernel_size, filters, padding, kernel_stride, pool_size, pool_type,
                        pool_stride, activation, act_bits)
        self._args["weights_bits"] = _check_weights_bits(self.label, weights_bits)


class SeparableConvolutional(_ConvLike):
    """Depthwise convolution (kernel flipped) followed by a 1x1 pointwise sum."""

    layer_type = LayerType.SeparableConvolutional
    target_components = (NPType.CNP1, NPType.CNP2)
    splittable = True
    name_prefix = "SepConv"
    summary_type = "Sep.Conv."

    @accepts_seed_names(pooling=True)
    def __init__(self, kernel_size, filters, name="", padding=Padding.Same, kernel_stride=(1, 1),
                 weights_bits=2, pool_size=(-1, -1), pool_type=PoolType.NoPooling,
                 pool_stride=(-1, -1), activation=True, act_bits=1):
        super().__init__(name)
        self._init_conv(kernel_size, filters, padding, kernel_stride, pool_size, pool_type,
                        pool_stride, activation, act_bits)
        self._args["weights_bits"] = _check_weights_bits(self.label, weights_bits)

    def _weight_shapes(self, channels, filters):
        kx, ky = self._args["kernel_size"]
        return {"weights": (kx, ky, channels, 1), "weights_pw": (1, 1, channels, filters)}


class FullyConnected(_NeuralLayer):
    """Dense layer over the whole (x, y, c) input; output shape (1, 1, units).

    The input is flattened column-major over (x, y, c):
    ``flat[a + X*b + X*Y*c] = input[a, b, c]``.
    """

    layer_type = LayerType.FullyConnected
    target_components = (NPType.FNP2, NPType.FNP3)
    name_prefix = "Fully"
    summary_type = "Fully."

    @accepts_seed_names(pooling=False)
    def __init__(self, units, name="", weights_bits=1, activation=True, act_bits=1):
        super().__init__(name)
        label = self.label
        self._args.update(
            units=_check_positive_int(label, "units", units, "num_neurons"),
            weights_bits=_check_weights_bits(label, weights_bits),
            activation=_check_bool(label, "activation", activation),
            act_bits=_check_act_bits(label, act_bits),
        )

    def _param_values(self):
        a = self._args
        return dict(units=a["units"], weights_bits=a["weights_bits"], activation=a["activation"],
                    act_bits=a["act_bits"])

    def _bind(self, previous):
        _check_follows(self, previous)
        self.input_dims = list(previous.output_dims)
        self.input_bits = previous.output_bits
        self.output_dims = [1, 1, self._args["units"]]

    @property
    def macs(self):
        """Inputs (x * y * c) x units."""
        if not self.input_dims:
            return 0
        x, y, c = self.input_dims
        return x * y * c * self._args["units"]

    def _variable_specs(self):
        if not self.input_dims:
            return {}
        x, y, c = self.input_dims
        u = self._args["units"]
        rng = weight_range(self._args["weights_bits"])
        specs = {
            "weights": ((1, 1, x * y * c, u), np.int8, rng),
            "threshold": ((u,), np.int32, None),
            "act_step": ((u,), np.float32, None),
        }
        if self._learning is not None:
            specs["threshold_learning"] = ((u,), np.int32, None)
            specs["thswap"] = ((u,), np.int32, (0, np.iinfo(np.int32).max))
        return specs


#: Layer classes by type, for loading saved models.
LAYER_CLASSES = {cls.layer_type: cls for cls in (
    InputData, InputConvolutional, Convolutional, SeparableConvolutional, FullyConnected)}
