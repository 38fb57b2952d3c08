"""Hypothesis strategies of untrusted inputs: model files, model dicts,
layer arguments, what-if devices, add_classes counts and command lines.

Each mixes legal values with the sizes that exhaust memory or time when not
checked (2**28 units, 2**63 nodes, a 2**40-frame ``.npy`` header, 20,000
layers sharing three members), non-finite numbers, wrong types, missing,
unknown and duplicated keys and members.
"""
import io
import json
import struct
import warnings
import zipfile

import numpy as np
from hypothesis import strategies as st

import akida_sim as ak
from akida_sim import limits

HUGE = [2 ** 15 + 1, 2 ** 20, 2 ** 20 + 1, 2 ** 26, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 63,
        2 ** 64, 10 ** 7, 10 ** 9]
#: Ints: small ones (legal or just wrong) and the huge ones.
SIZES = st.one_of(st.integers(-3, 40), st.sampled_from(HUGE), st.integers(-2 ** 70, 2 ** 70))
FLOATS = st.one_of(st.sampled_from([float("nan"), float("inf"), -float("inf"), 5e-324, 1e308, 0.0, -1.0]),
                   st.floats(allow_nan=True, allow_infinity=True))
#: Any JSON-like value.
VALUES = st.one_of(SIZES, FLOATS, st.none(), st.booleans(), st.text(max_size=3), st.lists(SIZES, max_size=4),
                   st.dictionaries(st.text(max_size=3), SIZES, max_size=2))


def base_model():
    """InputData (6, 6, 2), Convolutional, FullyConnected(3, activation=False), random variables."""
    model = ak.Model()
    model.add(ak.InputData(input_shape=(6, 6, 2), input_bits=2, name="in"))
    model.add(ak.Convolutional(kernel_size=(3, 3), filters=4, act_bits=2, weights_bits=2, name="conv"))
    model.add(ak.FullyConnected(units=3, weights_bits=4, activation=False, name="fc"))
    rng = np.random.default_rng(0)
    conv, fc = model.layers[1], model.layers[2]
    conv.set_variable("weights", rng.integers(-1, 2, (3, 3, 2, 4), dtype=np.int8))
    conv.set_variable("threshold", rng.integers(0, 5, 4, dtype=np.int32))
    fc.set_variable("weights", rng.integers(-7, 8, (1, 1, 144, 3), dtype=np.int8))
    return model


def learning_model():
    """InputData (1, 1, 8) and a FullyConnected of 2 units compiled for learning."""
    model = ak.Model()
    model.add(ak.InputData(input_shape=(1, 1, 8), input_bits=1))
    model.add(ak.FullyConnected(units=2, activation=False))
    model.compile(ak.AkidaUnsupervised(num_weights=2, num_classes=1), seed=0)
    return model


def npy_header(shape, descr="|i1"):
    """A ``.npy`` version 1.0 header declaring ``shape`` (any ints)."""
    header = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _members(model):
    with zipfile.ZipFile(io.BytesIO(model.to_buffer())) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def archive(header, members):
    """Zip bytes of a header (NaN and infinities written as JSON's extensions) and ``members``."""
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        warnings.simplefilter("ignore")  # duplicate member names are wanted
        out.writestr("akida_sim.json", json.dumps(header))
        for name, data in members:
            out.writestr(name, data)
    return buf.getvalue()


def _chain(n):
    """InputData (1, 1, 1) then ``n`` FullyConnected(1) layers sharing three members."""
    layers = [{"type": "InputData", "config": {"input_shape": [1, 1, 1], "input_bits": 1, "name": "in"},
               "variables": {}, "learning": None}]
    layers += [{"type": "FullyConnected", "config": {"units": 1, "weights_bits": 1, "activation": True, "act_bits": 1,
                                                     "name": f"f{i}"},
                "variables": {"weights": "w.npy", "threshold": "t.npy", "act_step": "s.npy"}, "learning": None}
               for i in range(n)]
    members = []
    for name, array in (("w.npy", np.zeros((1, 1, 1, 1), np.int8)), ("t.npy", np.zeros(1, np.int32)),
                        ("s.npy", np.ones(1, np.float32))):
        buf = io.BytesIO()
        np.save(buf, array)
        members.append((name, buf.getvalue()))
    return {"format": "akida_sim.model", "version": 1, "layers": layers}, members


@st.composite
def model_files(draw):
    """Bytes of a model file: a good one, mutated one to three times."""
    if draw(st.integers(0, 9)) == 0:
        header, members = _chain(draw(st.sampled_from([1, 50, 2000, limits.MAX_LAYERS + 1])))
    else:
        members = _members(base_model() if draw(st.booleans()) else learning_model())
        header = json.loads(dict(members).pop("akida_sim.json"))
        members = [(n, d) for n, d in members if n != "akida_sim.json"]
    for _ in range(draw(st.integers(1, 3))):
        layers = header.get("layers")
        entries = [e for e in layers if isinstance(e, dict)] if isinstance(layers, list) else []
        action = draw(st.sampled_from(["set", "set", "delete", "unknown", "entry", "member", "duplicate", "top"]))
        entry = draw(st.sampled_from(entries)) if entries else None
        config = entry.get("config") if entry is not None else None
        if entry is None or (action in ("set", "delete", "unknown") and not (isinstance(config, dict) and config)):
            action = "top"
        if action == "set":
            key = draw(st.sampled_from(sorted(config)))
            config[key] = draw(VALUES | st.tuples(SIZES, SIZES).map(list) | st.tuples(SIZES, SIZES, SIZES).map(list))
        elif action == "delete":
            del config[draw(st.sampled_from(sorted(config)))]
        elif action == "unknown":
            config[draw(st.text(min_size=1, max_size=4))] = draw(VALUES)
        elif action == "entry":
            key = draw(st.sampled_from(["type", "config", "variables", "learning", "extra"]))
            if draw(st.booleans()):
                entry.pop(key, None)
            else:
                entry[key] = draw(VALUES)
        elif action == "member" and members:
            i = draw(st.integers(0, len(members) - 1))
            shape = draw(st.lists(SIZES, min_size=0, max_size=4))
            descr = draw(st.sampled_from(["|i1", "<i4", "<f4", "|O", "<U3"]))
            members[i] = (members[i][0], npy_header(shape, descr) + bytes(draw(st.integers(0, 64))))
        elif action == "duplicate" and members:
            members.append(draw(st.sampled_from(members)))
        elif action == "top":
            header[draw(st.sampled_from(["format", "version", "layers", "extra"]))] = draw(VALUES)
    return archive(header, members)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list) and value and isinstance(value[0], (list, dict)) and len(value) < 8:
        for i, item in enumerate(value):
            yield from _paths(item, prefix + (i,))


@st.composite
def model_dicts(draw):
    """A model dict in the ``to_dict`` layout, one to three keys set, deleted or added."""
    description = (base_model() if draw(st.booleans()) else learning_model()).to_dict()
    if draw(st.booleans()):  # the other version key
        description = {"Akida version": description.pop("akida_sim version"), **description}
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(description) if p]
        path = draw(st.sampled_from(paths))
        target = description
        for key in path[:-1]:
            target = target[key]
        if draw(st.integers(0, 3)) == 0 and isinstance(target, dict):
            del target[path[-1]]
            continue
        target[path[-1]] = draw(VALUES | st.tuples(SIZES, SIZES, SIZES).map(list))
        if isinstance(target, dict) and draw(st.integers(0, 4)) == 0:
            target[draw(st.text(min_size=1, max_size=4))] = draw(VALUES)
    return description


_PAIR = st.tuples(SIZES, SIZES) | st.sampled_from([(3, 3), (1, 1), (32769, 1), (32769, 32769)])
_LAYER_ARGS = {
    "InputConvolutional": dict(kernel_size=_PAIR, filters=SIZES, kernel_stride=_PAIR, weights_bits=SIZES,
                               act_bits=SIZES, pool_size=_PAIR, padding_value=SIZES),
    "Convolutional": dict(kernel_size=_PAIR, filters=SIZES, kernel_stride=_PAIR, weights_bits=SIZES,
                          act_bits=SIZES, pool_size=_PAIR, pool_stride=_PAIR),
    "SeparableConvolutional": dict(kernel_size=_PAIR, filters=SIZES, kernel_stride=_PAIR, act_bits=SIZES),
    "FullyConnected": dict(units=SIZES, weights_bits=SIZES, act_bits=SIZES),
}
_CONV = dict(kernel_size=(3, 3), filters=4)
_LEGAL = {"InputConvolutional": _CONV, "Convolutional": _CONV, "SeparableConvolutional": _CONV,
          "FullyConnected": dict(units=4)}
_SHAPE_SIDE = st.integers(1, 12) | st.sampled_from([2 ** 10, 2 ** 14, 2 ** 20, 2 ** 31 - 1])


@st.composite
def layer_arguments(draw):
    """(layer class name, kwargs, input shape, input bits) of one layer after an InputData
    (InputConvolutional: its own input)."""
    kind = draw(st.sampled_from(sorted(_LAYER_ARGS)))
    kwargs = dict(_LEGAL[kind])
    for key in draw(st.lists(st.sampled_from(sorted(_LAYER_ARGS[kind])), min_size=1, max_size=3, unique=True)):
        kwargs[key] = draw(_LAYER_ARGS[kind][key])
    shape = tuple(draw(_SHAPE_SIDE) for _ in range(3))
    if kind == "InputConvolutional":
        kwargs["input_shape"] = shape
    return kind, kwargs, shape, draw(st.sampled_from([1, 2, 4, 8]))


_CLOCKS = FLOATS | SIZES | st.floats(1e3, 1e11)
what_if_devices = st.fixed_dictionaries({}, optional={
    "nodes": SIZES | st.integers(1, 1024), "nps_per_node": SIZES | st.integers(1, 16), "clock_hz": _CLOCKS,
    "input_sram_bytes": SIZES | st.integers(1, 2 ** 30), "weight_sram_bytes": SIZES | st.integers(1, 2 ** 30)})

class_counts = SIZES


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _npz():
    buf = io.BytesIO()
    np.savez(buf, x=np.zeros((6, 6, 2), np.uint8))
    return buf.getvalue()


@st.composite
def command_lines(draw):
    """(argv, {file name: bytes}) of ``akida-sim run`` on the base model."""
    files = {"m.aksim": base_model().to_buffer()}
    model = draw(st.sampled_from(["m.aksim", "bad.aksim", "/dev/zero", ".", "missing.aksim"]))
    if model == "bad.aksim":
        files[model] = draw(model_files())
    argv = ["run", "-m", model, "--software"]
    if draw(st.booleans()):
        inputs = {
            "frames": _npy(np.ones((2, 6, 6, 2), np.uint8)),
            "npz": _npz(), "empty": b"", "png": b"\x89PNG\r\n\x1a\n" + bytes(64),
            "huge": npy_header((2 ** 40, 6, 6, 2), "|u1") + bytes(64),
            "declared": npy_header(draw(st.lists(SIZES, max_size=5)), draw(st.sampled_from(["|u1", "<i8", "|O"])))
            + bytes(draw(st.integers(0, 200))),
        }
        name = draw(st.sampled_from(sorted(inputs) + ["/dev/zero", ".", "missing.npy"]))
        if name in inputs:
            files[name + ".npy"] = inputs[name]
            name += ".npy"
        argv += ["-i", name]
    elif draw(st.booleans()):
        argv += ["--batch", str(draw(SIZES))]
    if draw(st.booleans()):
        argv += ["--seed", str(draw(SIZES))]
    return argv, files
