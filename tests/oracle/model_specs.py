"""Random Akida 1.0 models for the differential tests against the vendor's engine.

A ``ModelCase`` is plain data: the layers (kind and constructor arguments,
enums as ints), the variables of every layer and a batch of inputs. ``build``
turns it into a model of either package (``akida`` or ``akida_sim``), so the
two sides receive exactly the same arguments, variables and inputs.

``model_cases()`` draws valid sequential architectures: an InputData
(1-4 bits) or an InputConvolutional (1-4 channels of 8-bit pixels), then 1-4
Convolutional / SeparableConvolutional / FullyConnected layers. Geometry is
tracked here (an independent re-implementation of the output-size rules) so
that the drawn models are legal; ``loose_specs()`` draws arguments outside the
legal ranges as well, for the tests of construction errors.

Values known to crash the vendor's process (act_step NaN/inf/>= 2**27 or with
floor(16 s) a multiple of 2**28 at forward; InputConvolutional stride <= 0;
filters=-1 at add) are never drawn.
"""
import collections
import os
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Settings of every property test in this folder.
ORACLE_SETTINGS = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                       database=None, print_blob=True)


#: Multiplies every max_examples (e.g. ORACLE_EXAMPLES_SCALE=20 for a long exploration run).
EXAMPLES_SCALE = float(os.environ.get("ORACLE_EXAMPLES_SCALE", "1"))


def oracle_settings(max_examples):
    return settings(max_examples=max(1, int(max_examples * EXAMPLES_SCALE)), **ORACLE_SETTINGS)


#: Counters shown in the terminal summary (see conftest.py).
STATS = collections.Counter()

KIND_CLASSES = {
    "inp": "InputData",
    "ic": "InputConvolutional",
    "conv": "Convolutional",
    "sep": "SeparableConvolutional",
    "fc": "FullyConnected",
}
ENUM_ARGS = {"padding": "Padding", "pool_type": "PoolType"}

VALID, SAME = 0, 1
NO_POOLING, MAX, AVERAGE = 0, 1, 2

#: Largest act_step drawn: the vendor divides by floor(16 s) mod 2**28.
MAX_ACT_STEP = 2.0 ** 27


@dataclass(frozen=True)
class LayerSpec:
    kind: str
    args: dict


@dataclass
class ModelCase:
    layers: list
    #: one dict per layer: variable name -> array (empty for InputData)
    variables: list = field(default_factory=list)
    inputs: np.ndarray = None
    batch_size: int = 0

    def __repr__(self):
        lines = ["ModelCase("]
        for spec, var in zip(self.layers, self.variables or [{}] * len(self.layers)):
            lines.append(f"  {spec.kind} {spec.args}")
            for name, value in var.items():
                lines.append(f"    {name} {value.dtype}{value.shape}: {np.array2string(value.ravel()[:16])}")
        if self.inputs is not None:
            lines.append(f"  inputs {self.inputs.shape} batch_size={self.batch_size}")
        lines.append(")")
        return "\n".join(lines)

    @property
    def last_activation(self):
        return self.layers[-1].args.get("activation", True)


# ----------------------------------------------------------------------
# building


def make_layer(ak, spec):
    """One layer of package ``ak`` from ``spec`` (enums converted)."""
    args = dict(spec.args)
    for key, enum in ENUM_ARGS.items():
        if key in args and isinstance(args[key], int) and not isinstance(args[key], bool):
            args[key] = getattr(ak, enum)(args[key])
    return getattr(ak, KIND_CLASSES[spec.kind])(**args)


def build(ak, layers):
    """A model of package ``ak`` with ``layers`` (LayerSpecs) added in order."""
    model = ak.Model()
    for spec in layers:
        model.add(make_layer(ak, spec))
    return model


def set_variables(model, variables):
    for layer, values in zip(model.layers, variables):
        for name, value in values.items():
            layer.set_variable(name, value)


def build_case(ak, case):
    model = build(ak, case.layers)
    set_variables(model, case.variables)
    return model


# ----------------------------------------------------------------------
# geometry (test-side re-implementation)


def window_out(size, k, s, same):
    return -(-size // s) if same else (size - k) // s + 1


def weight_range(kind, bits):
    table = {1: (0, 1), 2: (-1, 1), 4: (-7, 7), 8: (-128, 127)}
    if kind == "ic" and bits not in (1, 2, 4):
        return (-128, 127)
    return table[bits]


def variable_shapes(kind, args, in_dims):
    x, y, c = in_dims
    if kind == "inp":
        return {}
    if kind == "fc":
        f = args["units"]
        shapes = {"weights": (1, 1, x * y * c, f)}
    else:
        kx, ky = args["kernel_size"]
        f = args["filters"]
        if kind == "sep":
            shapes = {"weights": (kx, ky, c, 1), "weights_pw": (1, 1, c, f)}
        else:
            shapes = {"weights": (kx, ky, c, f)}
    shapes["threshold"] = (f,)
    shapes["act_step"] = (f,)
    return shapes


def output_dims(kind, args, in_dims):
    """(x, y, c) out of a layer, or None when the vendor would refuse it."""
    if kind == "inp":
        return tuple(args["input_shape"])
    if kind == "fc":
        return (1, 1, args["units"])
    same = args.get("padding", SAME) == SAME
    (kx, ky), (sx, sy) = args["kernel_size"], args.get("kernel_stride", (1, 1))
    ox, oy = window_out(in_dims[0], kx, sx, same), window_out(in_dims[1], ky, sy, same)
    pool = args.get("pool_type", NO_POOLING)
    if pool == MAX and ox >= 1 and oy >= 1:
        (px, py) = args["pool_size"]
        psx, psy = args.get("pool_stride", (-1, -1))
        psx, psy = (psx if psx > 0 else px), (psy if psy > 0 else py)
        ox, oy = window_out(ox, px, psx, same), window_out(oy, py, psy, same)
    if ox < 1 or oy < 1:
        return None
    if pool == AVERAGE:
        ox = oy = 1
    return (ox, oy, args["filters"])


# ----------------------------------------------------------------------
# strategies: architectures

ODD_KERNELS = [1, 3, 5, 7]


@st.composite
def _conv_args(draw, kind, in_dims, last, names):
    """Arguments of a valid conv-type layer on an (x, y, c) input."""
    same = draw(st.sampled_from([SAME, VALID]))
    kernel = []
    for size in in_dims[:2]:
        legal = ODD_KERNELS if same == SAME else [k for k in ODD_KERNELS if k <= size]
        kernel.append(draw(st.sampled_from(legal)))
    kx, ky = kernel
    if kind == "ic":
        stride = (draw(st.integers(1, kx + 2)), draw(st.integers(1, ky + 2)))
    else:
        stride = (draw(st.integers(1, kx)), draw(st.integers(1, ky)))
    args = dict(kernel_size=(kx, ky), filters=draw(st.integers(1, 8) | st.integers(9, 24)),
                padding=same, kernel_stride=stride)
    conv_x = window_out(in_dims[0], kx, stride[0], same == SAME)
    conv_y = window_out(in_dims[1], ky, stride[1], same == SAME)
    pool = draw(st.sampled_from([NO_POOLING, NO_POOLING, MAX, AVERAGE]))
    if pool == MAX:
        sizes = []
        for o in (conv_x, conv_y):
            top = 4 if same == SAME else min(4, o)
            sizes.append(draw(st.integers(1, top)))
        px, py = sizes
        args["pool_size"] = (px, py)
        stride_choice = draw(st.sampled_from(["default", "explicit", "zero"]))
        if stride_choice == "explicit":
            args["pool_stride"] = (draw(st.integers(1, px)), draw(st.integers(1, py)))
        elif stride_choice == "zero":
            args["pool_stride"] = (0, draw(st.integers(1, py)))
    if pool != NO_POOLING or draw(st.booleans()):
        args["pool_type"] = pool
    args["activation"] = draw(st.booleans()) if last else True
    args["act_bits"] = draw(st.sampled_from([1, 2, 3, 4] if kind == "ic" else [1, 2, 4]))
    if kind == "ic":
        args["weights_bits"] = draw(st.sampled_from([1, 2, 4, 8, 8, 0, 3, 5, 16]))
        if draw(st.booleans()):
            args["padding_value"] = draw(st.sampled_from([0, 1, 128, 255]) | st.integers(0, 255))
    else:
        args["weights_bits"] = draw(st.sampled_from([1, 2, 4, 8]))
    name = draw(st.sampled_from([None, None, None, "explicit"]))
    if name:
        args["name"] = f"{kind}_{len(names)}"
    return args


@st.composite
def architectures(draw, max_layers=4, max_size=16):
    """[(LayerSpec, in_dims)] of a valid sequential model."""
    layers, names = [], []
    x, y = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    n_neural = draw(st.integers(1, max_layers))
    if draw(st.booleans()):
        c = draw(st.integers(1, 4))
        args = dict(input_shape=(x, y, c))
        args.update(draw(_conv_args("ic", (x, y, c), last=n_neural == 1, names=names)))
        kind, in_dims = "ic", (x, y, c)
        n_neural -= 1
    else:
        c = draw(st.integers(1, 6) | st.integers(7, 40))
        args = dict(input_shape=(x, y, c), input_bits=draw(st.sampled_from([1, 2, 3, 4])))
        kind, in_dims = "inp", None
    dims = output_dims(kind, args, in_dims)
    layers.append((LayerSpec(kind, args), in_dims))
    names.append(kind)
    for i in range(n_neural):
        last = i == n_neural - 1
        kind = draw(st.sampled_from(["conv", "sep", "fc"]))
        if kind == "fc":
            args = dict(units=draw(st.integers(1, 10)), weights_bits=draw(st.sampled_from([1, 2, 4, 8])),
                        activation=draw(st.booleans()) if last else True,
                        act_bits=draw(st.sampled_from([1, 2, 4])))
        else:
            args = draw(_conv_args(kind, dims, last=last, names=names))
        new_dims = output_dims(kind, args, dims)
        assert new_dims is not None, (kind, args, dims)
        layers.append((LayerSpec(kind, args), dims))
        names.append(kind)
        dims = new_dims
    return layers


# ----------------------------------------------------------------------
# strategies: variables and inputs


def _input_top(layers):
    first = layers[0][0]
    return 255 if first.kind == "ic" else (1 << first.args["input_bits"]) - 1


def _potential_scale(spec, in_dims, in_top):
    """A rough bound of |potential| for the layer (to place thresholds)."""
    lo, hi = weight_range(spec.kind, spec.args["weights_bits"])
    wmax = max(abs(lo), abs(hi))
    if spec.kind == "fc":
        fan = in_dims[0] * in_dims[1] * in_dims[2]
    else:
        kx, ky = spec.args["kernel_size"]
        fan = kx * ky * in_dims[2]
        if spec.kind == "sep":
            fan *= wmax
    return max(1, fan * wmax * in_top)


def draw_act_steps(rng, regime, n, quantum):
    if regime == "small":
        s = rng.integers(1, 400, n) / 16 + rng.random(n) * 0.1 * rng.integers(0, 2, n)
    elif regime == "calibrated":
        s = np.maximum(quantum * (0.2 + 2 * rng.random(n)), 1 / 16)
    elif regime == "large":
        s = 2.0 ** rng.uniform(4, 20, n)
    else:  # "huge": up to just below 2**27
        s = 2.0 ** rng.uniform(20, 26.99, n)
    s = s.astype(np.float32)
    s[rng.random(n) < 0.1] = np.float32(1 / 16)
    return np.asarray([fix_act_step(v) for v in s], dtype=np.float32)


def fix_act_step(s):
    """``s`` moved to a value the vendor's forward can divide by."""
    s = np.float32(max(float(s), 1 / 16))
    while not (np.isfinite(s) and s < MAX_ACT_STEP and int(np.floor(np.float64(s) * 16)) % 2 ** 28 != 0):
        s = np.float32(s * 0.75 + 1)
    return s


def draw_thresholds(rng, regime, n, scale):
    if regime == "small":
        t = rng.integers(-50, 200, n)
    elif regime == "calibrated":
        t = rng.integers(-scale // 8 - 1, scale // 3 + 1, n)
    elif regime == "large":
        t = rng.integers(-(2 ** 28), 2 ** 28, n)
    else:  # "int32": any value, edges included
        t = rng.integers(-(2 ** 31), 2 ** 31, n)
        t[rng.random(n) < 0.2] = rng.choice([-(2 ** 31), 2 ** 31 - 1, -(2 ** 31) + 1, 2 ** 31 - 2])
    return t.astype(np.int32)


def draw_weights(rng, kind, bits, shape, style):
    lo, hi = weight_range(kind, bits)
    if style == "max":
        return np.full(shape, hi, np.int8)
    if style == "min":
        return np.full(shape, lo, np.int8)
    w = rng.integers(lo, hi + 1, shape).astype(np.int8)
    if style == "sparse":
        w[rng.random(shape) < 0.8] = 0
    return w


@st.composite
def model_cases(draw, max_layers=4, max_size=16, max_batch=4):
    """A valid model with random variables and inputs."""
    arch = draw(architectures(max_layers=max_layers, max_size=max_size))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    in_top = _input_top(arch)
    variables = []
    for spec, in_dims in arch:
        if spec.kind == "inp":
            variables.append({})
            continue
        shapes = variable_shapes(spec.kind, spec.args, in_dims)
        style = draw(st.sampled_from(["uniform", "uniform", "uniform", "sparse", "max", "min"]))
        values = {}
        for name in ("weights", "weights_pw"):
            if name in shapes:
                values[name] = draw_weights(rng, spec.kind, spec.args["weights_bits"], shapes[name], style)
        f = shapes["threshold"][0]
        scale = _potential_scale(spec, in_dims, in_top)
        t_regime = draw(st.sampled_from(["small", "calibrated", "calibrated", "calibrated", "large", "int32"]))
        s_regime = draw(st.sampled_from(["small", "calibrated", "calibrated", "calibrated", "large", "huge"]))
        bits = spec.args.get("act_bits", 1)
        quantum = scale / 4 / (1 << bits) / (1 << (4 - min(bits, 4)))
        values["threshold"] = draw_thresholds(rng, t_regime, f, scale)
        values["act_step"] = draw_act_steps(rng, s_regime, f, quantum)
        variables.append(values)
        in_top = (1 << spec.args["act_bits"]) - 1 if spec.args.get("activation", True) else 0
    first_spec = arch[0][0]
    shape = tuple(first_spec.args["input_shape"])
    n = draw(st.integers(1, max_batch))
    top = _input_top(arch)
    sparsity = draw(st.sampled_from([0.0, 0.3, 0.3, 0.7, 0.95, 1.0]))
    if draw(st.integers(0, 9)) == 0:
        x = np.full((n,) + shape, top, np.uint8)
    else:
        x = rng.integers(0, top + 1, (n,) + shape).astype(np.uint8)
    x[rng.random(x.shape) < sparsity] = 0
    batch_size = draw(st.sampled_from([0, 0, 1, 2, 3, n, n + 1]))
    return ModelCase(layers=[spec for spec, _ in arch], variables=variables, inputs=x, batch_size=batch_size)


# ----------------------------------------------------------------------
# loose specs: arguments that may be illegal


@st.composite
def loose_layer(draw, kind, position):
    """Constructor arguments for ``kind``, often outside the legal ranges.

    Never: InputConvolutional stride <= 0 (vendor segfault), filters/units < 0
    (vendor exhausts memory at add)."""
    if kind == "inp":
        shape = tuple(draw(st.sampled_from([1, 3, 5, 8, 8, 0])) for _ in range(3))
        # (input_bits=-1: known divergence, see test_oracle_errors.KNOWN)
        return dict(input_shape=shape, input_bits=draw(st.sampled_from([1, 2, 3, 4, 1, 2, 3, 4, 0, 5, 8, 16])))
    if kind == "fc":
        return dict(units=draw(st.sampled_from([0, 1, 3])), weights_bits=draw(st.sampled_from([-1, 0, 1, 2, 3, 4, 8, 16])),
                    activation=draw(st.booleans()), act_bits=draw(st.sampled_from([0, 1, 2, 3, 4, 8])))
    kx = draw(st.sampled_from([1, 3, 3, 5, 7, 9, -1, 0, 2, 4]))
    ky = draw(st.sampled_from([1, 3, 3, 5, 7, 9, 2]))
    if kind == "ic":
        stride = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    else:
        stride = (draw(st.integers(-1, 9)), draw(st.integers(-1, 9)))
    args = dict(kernel_size=(kx, ky), filters=draw(st.sampled_from([1, 4, 4, 0])), kernel_stride=stride,
                padding=draw(st.sampled_from([VALID, SAME])),
                pool_type=draw(st.sampled_from([NO_POOLING, NO_POOLING, MAX, AVERAGE])),
                activation=draw(st.booleans()),
                act_bits=draw(st.sampled_from([1, 2, 4, 1, 2, 4, -1, 0, 3, 5, 8])),
                weights_bits=draw(st.sampled_from([1, 2, 4, 8, 1, 2, 4, 8, -1, 0, 3, 16])))
    if draw(st.booleans()):
        args["pool_size"] = (draw(st.sampled_from([-2, -1, 0, 1, 2, 3, 6])), draw(st.sampled_from([-1, 1, 2, 3, 6])))
    if draw(st.booleans()):
        args["pool_stride"] = (draw(st.sampled_from([-5, -1, 0, 1, 2, 4])), draw(st.sampled_from([-1, 0, 1, 2, 4])))
    if kind == "ic":
        # IC act_bits outside 1..4: known divergences (with activation=False, and the order of the checks
        # when the output size is also < 1), see test_oracle_errors.KNOWN
        args["act_bits"] = draw(st.sampled_from([1, 2, 3, 4]))
        args["input_shape"] = tuple(draw(st.sampled_from([0, 1, 3, 6, 9])) for _ in range(2)) + (
            draw(st.sampled_from([0, 1, 2, 3, 4, 5])),)
        if draw(st.booleans()):
            args["padding_value"] = draw(st.sampled_from([-1, 0, 255, 256]))
    return args


@st.composite
def loose_specs(draw):
    """A list of LayerSpecs, legal or not (wrong order, bad arguments)."""
    n = draw(st.integers(1, 4))
    specs = []
    for i in range(n):
        if i == 0:
            kind = draw(st.sampled_from(["inp", "inp", "ic", "ic", "conv", "fc"]))
        else:
            kind = draw(st.sampled_from(["conv", "conv", "sep", "sep", "fc", "fc", "ic", "inp"]))
        specs.append(LayerSpec(kind, draw(loose_layer(kind, i))))
    return specs


# ----------------------------------------------------------------------
# comparison


def assert_identical(sim_out, vendor_out, what="forward"):
    """Same dtype, shape and values (bit for bit)."""
    assert isinstance(sim_out, np.ndarray), f"{what}: akida_sim returned {type(sim_out).__name__}"
    assert sim_out.dtype == vendor_out.dtype, f"{what}: dtype {sim_out.dtype} != vendor {vendor_out.dtype}"
    assert sim_out.shape == vendor_out.shape, f"{what}: shape {sim_out.shape} != vendor {vendor_out.shape}"
    if not np.array_equal(sim_out, vendor_out):
        bad = np.argwhere(sim_out != vendor_out)
        first = tuple(bad[0])
        raise AssertionError(
            f"{what}: {len(bad)} of {sim_out.size} values differ; first at {first}: "
            f"akida_sim {sim_out[first]!r}, vendor {vendor_out[first]!r}")


def assert_predict_close(sim_out, vendor_out):
    """predict: same dtype and shape, and bit-identical float32 values (the vendor's
    ``float32(wrap_int32(p - T)) / act_step``); counts compared values in STATS."""
    assert sim_out.dtype == vendor_out.dtype == np.float32, (sim_out.dtype, vendor_out.dtype)
    assert sim_out.shape == vendor_out.shape
    np.testing.assert_array_equal(sim_out, vendor_out)
    STATS["predict: values compared (bit-identical)"] += int(sim_out.size)


def outcome(call):
    """(result, None) or (None, exception) of ``call()``."""
    try:
        return call(), None
    except Exception as exc:  # noqa: BLE001 (the exception is the result)
        return None, exc


def assert_same_failure(sim_exc, vendor_exc, what):
    """Both failed, and akida_sim's exception is an instance of the vendor's type (or both succeeded)."""
    if vendor_exc is None:
        assert sim_exc is None, f"{what}: vendor accepted, akida_sim raised {type(sim_exc).__name__}: {sim_exc}"
        return
    assert sim_exc is not None, f"{what}: vendor raised {type(vendor_exc).__name__}: {vendor_exc}; akida_sim accepted"
    assert isinstance(sim_exc, type(vendor_exc)), (
        f"{what}: vendor raised {type(vendor_exc).__name__}: {vendor_exc}; "
        f"akida_sim raised {type(sim_exc).__name__} (not a subclass): {sim_exc}")
