"""Models as plain data, and to and from the vendor's package.

- ``layer_dict`` / ``model_dict``: the dict layout of the vendor's
  ``to_dict`` (``name``, ``parameters`` under the vendor's parameter names,
  ``variables`` as ``{shape, dtype, bitwidth, data}``, ``inbounds``, shapes),
  which ``Model.to_json`` writes as JSON.
- ``entries_from_dict``: a dict of that layout (written by akida_sim or by the
  vendor's ``to_dict``/``to_json``) as the layer entries the file loader
  restores, with a ``DictSource`` holding the variables: dicts are
  validated by the same code as files (``Model._restore``).
- ``entries_from_akida`` / ``to_akida``: a live vendor ``Model`` read through
  its public API only (layer types, ``parameters``, ``get_variable``, the
  optimizer of a compiled layer), and an akida_sim model rebuilt with a
  package of the same API passed in by the caller. akida_sim never imports
  the vendor's package and never decodes its file format.
"""
import math
import numbers

import numpy as np

from .enums import LayerType
from .limits import MAX_LAYERS
from .serialization import check_declared, check_finite, check_keys

#: Constructor arguments built from the vendor's parameter names:
#: argument -> parameter name(s) (a pair for (axis 1, axis 2) tuples).
_CONV_ARGS = {
    "kernel_size": ("kernel_width", "kernel_height"),
    "filters": "filters",
    "padding": "padding",
    "kernel_stride": ("stride_x", "stride_y"),
    "weights_bits": "weights_bits",
    "pool_size": ("pooling_width", "pooling_height"),
    "pool_type": "pool_type",
    "pool_stride": ("pooling_stride_x", "pooling_stride_y"),
    "activation": "activation",
    "act_bits": "act_bits",
}
_INPUT_SHAPE = {"input_shape": ("input_width", "input_height", "input_channels")}
ARGUMENTS = {
    LayerType.InputData: dict(_INPUT_SHAPE, input_bits="input_bits"),
    LayerType.InputConvolutional: dict(_INPUT_SHAPE, padding_value="padding_value", **_CONV_ARGS),
    LayerType.Convolutional: _CONV_ARGS,
    LayerType.SeparableConvolutional: _CONV_ARGS,
    LayerType.FullyConnected: {"units": "units", "weights_bits": "weights_bits", "activation": "activation",
                               "act_bits": "act_bits"},
}
#: Parameters the vendor reports that follow from the others.
_DERIVED_PARAMETERS = {"layer_type", "input_signed"}
#: The optimizer's arguments, as the vendor's ``to_dict`` and ``Optimizer`` name them.
OPTIMIZER_ARGS = ("num_weights", "num_classes", "initial_plasticity", "learning_competition", "min_plasticity",
                  "plasticity_decay")
_INTEGER_OPTIMIZER_ARGS = ("num_weights", "num_classes")


def _plain(value):
    """An int from an int-like parameter (bools and any package's enums), other values unchanged."""
    if isinstance(value, (numbers.Integral, np.bool_)):
        return int(value)
    if hasattr(value, "name") and hasattr(value, "__int__"):  # an enum of another package
        return int(value)
    return value


def layer_type_named(name):
    """The LayerType called ``name`` (raises ValueError naming the legal ones)."""
    try:
        return LayerType[name]
    except (KeyError, TypeError):
        raise ValueError(f"layer type {name!r} is not an Akida 1.0 layer type "
                         f"(expected one of {[t.name for t in LayerType]})") from None


def config_from_parameters(layer_type, parameters):
    """Constructor arguments of a ``layer_type`` layer from its parameters
    (a mapping under the vendor's parameter names). Unknown or missing
    parameters raise ValueError; the constructor checks the values."""
    table = ARGUMENTS[layer_type]
    known = {n for names in table.values() for n in ((names,) if isinstance(names, str) else names)}
    unknown = set(parameters) - known - _DERIVED_PARAMETERS
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)} for a {layer_type.name} layer")
    missing = sorted(known - set(parameters))
    if missing:
        raise ValueError(f"missing parameters {missing} for a {layer_type.name} layer")
    config = {}
    for argument, names in table.items():
        if isinstance(names, str):
            config[argument] = _plain(parameters[names])
        else:
            config[argument] = tuple(_plain(parameters[n]) for n in names)
    return config


def check_file_entry(layer_type, config, learning):
    """Refuse (ValueError naming the key) a model file's layer ``config`` whose
    keys are not exactly the constructor arguments of ``layer_type`` (and
    ``name``), a ``learning`` dict (or None) whose keys are not the optimizer's
    and ``seed``, and a NaN or infinity in either."""
    check_keys(config, tuple(ARGUMENTS[layer_type]) + ("name",), "config")
    check_finite(config, "config")
    if learning is not None:
        if not isinstance(learning, dict):
            raise ValueError(f"'learning' must be a dict or null, got {type(learning).__name__}")
        check_keys(learning, OPTIMIZER_ARGS + ("seed",), "learning")
        check_finite(learning, "learning")


def stored_bitwidth(array):
    """Bits a variable's values need (the ``bitwidth`` of a dict variable):
    0 for floats; for integers the signed width of the widest value, at least 2."""
    if array.dtype.kind == "f":
        return 0
    if not array.size:
        return 2
    widest = max(int(array.max()), -int(array.min()) - 1, 0)
    return max(2, widest.bit_length() + 1)


def variable_dict(array):
    """``{shape, dtype, bitwidth, data}`` of one variable."""
    return {"shape": tuple(array.shape), "dtype": array.dtype.name, "bitwidth": stored_bitwidth(array),
            "data": array.tolist()}


def layer_dict(layer):
    """The vendor's dict layout of one layer of a model."""
    parameters = {k: (int(v) if isinstance(v, (bool, int)) else v)
                  for k, v in sorted(layer.parameters.to_dict().items()) if k != "layer_type"}
    parameters["layer_type"] = layer.layer_type.name
    return {"name": layer.name, "parameters": parameters,
            "variables": {n: variable_dict(layer.get_variable(n)) for n in layer.get_variable_names()},
            "inbounds": [l.name for l in layer.inbounds],
            "input_shape": list(layer.input_dims), "output_shape": list(layer.output_dims)}


#: The vendor's package version whose Akida 1.0 Python API akida_sim follows: the
#: ``"Akida version"`` of a ``to_dict``, which the vendor's ``from_dict`` checks (same major
#: and minor version as its own).
AKIDA_API_VERSION = "2.19.3"


def model_dict(model, version):
    """The vendor's dict layout of a model, its keys in the vendor's order
    (``"Akida version"``, ``"IP version"``, ``layers``, ``learning``, shapes),
    then akida_sim's own ``"akida_sim version"`` (``version``), a key the
    vendor's ``from_dict`` ignores. The optimizer's arguments are all floats,
    as the vendor's. Dicts written before (``"akida_sim version"`` first, no
    ``"Akida version"``) still load (``entries_from_dict``)."""
    learning = model.learning
    return {"Akida version": AKIDA_API_VERSION, "IP version": "v1",
            "layers": [layer_dict(l) for l in model.layers],
            "learning": None if learning is None else {k: float(learning.get_config()[k])
                                                       for k in sorted(OPTIMIZER_ARGS)},
            "input_shape": model.input_shape, "output_shape": model.output_shape,
            "akida_sim version": version}


def optimizer_args(values):
    """AkidaUnsupervised arguments from a mapping or object holding them
    (the vendor shows num_weights and num_classes as floats)."""
    get = values.get if isinstance(values, dict) else (lambda k, default=None: getattr(values, k, default))
    args = {}
    for key in OPTIMIZER_ARGS:
        value = get(key, None)
        if value is None:
            raise ValueError(f"the optimizer has no '{key}'")
        if key in _INTEGER_OPTIMIZER_ARGS:
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
                    or float(value) != int(value):
                raise ValueError(f"optimizer argument '{key}' must be an integer, got {value!r}")
            value = int(value)
        args[key] = value
    return args


class DictSource:
    """The variables of a model dict (``{shape, dtype, bitwidth, data}`` each),
    checked against the shape and dtype their layer implies before use."""

    def array(self, entry, name, shape, dtype):
        dtype = np.dtype(dtype)
        if not isinstance(entry, dict):
            raise ValueError(f"variable '{name}' must be a dict with 'shape', 'dtype' and 'data', got "
                             f"{type(entry).__name__}")
        for key in ("shape", "dtype", "data"):
            if key not in entry:
                raise ValueError(f"variable '{name}' has no '{key}'")
        unknown = sorted(set(entry) - set(VARIABLE_KEYS), key=str)
        if unknown:
            raise ValueError(f"variable '{name}': unknown key {unknown[0]!r} (expected {list(VARIABLE_KEYS)})")
        declared = entry["shape"]
        if not isinstance(declared, (list, tuple)) or not all(isinstance(d, int) for d in declared):
            raise ValueError(f"variable '{name}': 'shape' must be a list of ints, got {declared!r}")
        try:
            declared_dtype = np.dtype(entry["dtype"])
        except TypeError:
            raise ValueError(f"variable '{name}': unknown dtype {entry['dtype']!r}") from None
        check_declared(name, declared, declared_dtype, shape, dtype)
        data = np.asarray(entry["data"]) if not isinstance(entry["data"], np.ndarray) else entry["data"]
        if data.shape != tuple(shape):
            raise ValueError(f"variable '{name}': 'data' has shape {data.shape}, its 'shape' says {tuple(shape)}")
        legal_kinds = "iu" if dtype.kind in "iu" else "iuf"
        if data.size and data.dtype.kind not in legal_kinds:
            raise ValueError(f"variable '{name}': 'data' must hold {dtype.name} values, got {data.dtype.name}")
        if dtype.kind in "iu" and data.size:
            info = np.iinfo(dtype)
            if data.min() < info.min or data.max() > info.max:
                raise ValueError(f"variable '{name}': values outside the {dtype.name} range")
        array = np.ascontiguousarray(data, dtype=dtype)
        if "bitwidth" in entry:  # informative: an int32 integer, not compared with the data
            bitwidth = entry["bitwidth"]
            if isinstance(bitwidth, bool) or not isinstance(bitwidth, numbers.Integral) \
                    or not -2 ** 31 <= bitwidth < 2 ** 31:
                raise ValueError(f"variable '{name}': 'bitwidth' must be an int32 integer, got {bitwidth!r}")
        return array


#: Keys of a model dict, of its layers and of their variables (the vendor's
#: dict names its version "Akida version", akida_sim's "akida_sim version").
MODEL_KEYS = ("akida_sim version", "Akida version", "IP version", "layers", "learning", "input_shape",
              "output_shape")
LAYER_KEYS = ("name", "parameters", "variables", "inbounds", "input_shape", "output_shape")
VARIABLE_KEYS = ("shape", "dtype", "bitwidth", "data")


def _check_known_keys(mapping, known, where):
    unknown = sorted((k for k in mapping if k not in known), key=str)
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} (expected some of {list(known)})")


def check_derived_parameters(layer, parameters):
    """A dict layer's ``input_signed`` parameter, when given, must be a bool
    (or 0/1) equal to the layer's own, when the layer reports one."""
    if "input_signed" not in parameters:
        return
    given = parameters["input_signed"]
    if not isinstance(given, (bool, numbers.Integral)) or given not in (0, 1):
        raise ValueError(f"parameter 'input_signed' must be a bool, got {given!r}")
    own = layer.parameters.to_dict().get("input_signed")
    if own is not None and bool(given) != bool(own):
        raise ValueError(f"parameter 'input_signed' is {given!r} but the layer's arguments give {own!r}")


def check_model_shapes(description, model):
    """A model dict's ``input_shape``/``output_shape``, when given (not None),
    must be the model's."""
    for key, dims in (("input_shape", model.input_shape), ("output_shape", model.output_shape)):
        given = description.get(key)
        if given is not None and (not isinstance(given, (list, tuple)) or list(given) != list(dims or [])):
            raise ValueError(f"'{key}' is {given!r} but the layers give {dims}")


def entries_from_dict(description):
    """Layer entries (``type``, ``config``, ``variables``, ``learning``) of a
    model dict, for ``Model._restore`` with a ``DictSource``."""
    if not isinstance(description, dict):
        raise ValueError(f"a model description must be a dict, got {type(description).__name__}")
    _check_known_keys(description, MODEL_KEYS, "the model dict")
    if description.get("IP version", "v1") != "v1":
        raise ValueError(f"IP version {description['IP version']!r}: akida_sim simulates Akida 1.0 (v1) models")
    for key in ("akida_sim version", "Akida version"):
        if key in description and not isinstance(description[key], str):
            raise ValueError(f"'{key}' must be a str, got {description[key]!r}")
    layers = description.get("layers")
    if not isinstance(layers, list):
        raise ValueError("'layers' must be a list of layer dicts")
    if len(layers) > MAX_LAYERS:
        raise ValueError(f"'layers' holds {len(layers)} layers, more than the limit of {MAX_LAYERS}")
    learning = description.get("learning")
    if learning is not None and not isinstance(learning, dict):
        raise ValueError(f"'learning' must be a dict or null, got {type(learning).__name__}")
    entries = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("parameters"), dict) \
                or not isinstance(layer.get("variables", {}), dict) or not isinstance(layer.get("name"), str):
            raise ValueError(f"layer entry {i} must be a dict with a 'name' (str), 'parameters' and 'variables' "
                             f"(dicts)")
        _check_known_keys(layer, LAYER_KEYS, f"layer entry {i} ('{layer['name']}')")
        check_finite(layer["parameters"], f"layer entry {i} ('{layer['name']}'): parameters")
        entries.append({"type": layer["parameters"].get("layer_type"), "parameters": layer["parameters"],
                        "name": layer["name"], "variables": layer.get("variables", {}),
                        "inbounds": layer.get("inbounds"), "input_shape": layer.get("input_shape"),
                        "output_shape": layer.get("output_shape"),
                        "learning": learning if i == len(layers) - 1 else None})
    return entries


def entries_from_akida(vendor_model):
    """Layer entries of a live vendor model, read through its public API."""
    layers = list(vendor_model.layers)
    optimizer = getattr(vendor_model, "learning", None)
    entries = []
    for i, layer in enumerate(layers):
        params = layer.parameters
        type_name = getattr(params.layer_type, "name", str(params.layer_type).split(".")[-1])
        layer_type = layer_type_named(type_name)
        names = {n for table in ARGUMENTS[layer_type].values()
                 for n in ((table,) if isinstance(table, str) else table)}
        parameters = {n: getattr(params, n) for n in names}
        learning = optimizer_args(optimizer) if optimizer is not None and i == len(layers) - 1 else None
        entries.append({"type": type_name, "parameters": parameters, "name": layer.name,
                        "variables": {n: layer.get_variable(n) for n in layer.get_variable_names()},
                        "learning": learning})
    return entries


class ArraySource:
    """Variables already held as numpy arrays (a live model's), checked like
    the others before use."""

    def array(self, value, name, shape, dtype):
        value = np.asarray(value)
        check_declared(name, value.shape, value.dtype, shape, dtype)
        return np.ascontiguousarray(value)


def to_akida(model, ak):
    """``model`` rebuilt with the package ``ak`` (e.g. the vendor's ``akida``):
    the same layers, arguments and variables, and the last layer compiled with
    ``ak.AkidaUnsupervised`` (then its learned variables set) when it learns."""
    enums = {"padding": ak.Padding, "pool_type": ak.PoolType}
    target = ak.Model()
    layers = model.layers
    for layer in layers:
        config = layer.get_config()
        for key, enum in enums.items():
            if key in config:
                config[key] = enum(int(config[key]))
        target.add(getattr(ak, type(layer).__name__)(**config))
    if model.learning is not None:
        target.compile(ak.AkidaUnsupervised(**{k: model.learning.get_config()[k] for k in OPTIMIZER_ARGS}))
    for layer, copy in zip(layers, target.layers):
        for name in layer.get_variable_names():
            copy.set_variable(name, layer.get_variable(name))
    return target
