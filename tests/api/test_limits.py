"""Size limits (akida_sim.limits): every declared size is checked before it is
allocated, and untrusted files are read as regular files of bounded size."""
import copy
import io
import json
import os
import stat
import subprocess
import sys
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

import akida_sim as ak
from akida_sim import limits, zoo
from akida_sim.limits import LimitError
from tests.api.test_save_load import small_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture()
def budget():
    """Restores the memory budget a test changes."""
    previous = limits.memory_budget()
    yield
    limits.set_memory_budget(previous)


def _input(shape=(1, 1, 1), bits=1):
    m = ak.Model()
    m.add(ak.InputData(input_shape=shape, input_bits=bits))
    return m


# ----------------------------------------------------------------------------- layers
@pytest.mark.parametrize("shape, layer, fragment", [
    ((1, 1, 1), ak.FullyConnected(units=2 ** 28), "'units' is 268435456, more than the limit of 32768"),
    ((1, 1, 1), ak.FullyConnected(units=2 ** 31 - 1), "'units' is 2147483647"),
    ((1, 1, 1), ak.Convolutional(kernel_size=(3, 3), filters=2 ** 31 - 1), "'filters' is 2147483647"),
    ((64, 64, 16), ak.FullyConnected(units=2 ** 14), "units=16384 with an input of (64, 64, 16)"),
    ((4, 4, 1), ak.Convolutional(kernel_size=(32769, 32769), filters=1), "kernel_size=(32769, 32769), filters=1"),
    ((2 ** 14, 2 ** 14, 1), ak.Convolutional(kernel_size=(1, 1), filters=4), "one frame of potentials"),
])
def test_layers_beyond_the_limits_are_refused_before_allocating(shape, layer, fragment):
    m = _input(shape)
    tracemalloc.start()
    try:
        with pytest.raises(LimitError) as info:
            m.add(layer)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fragment in str(info.value) and isinstance(info.value, ValueError)
    assert peak < 2 ** 20 and m.layer_count == 1 and not layer.input_dims
    if shape == (1, 1, 1):
        m.add(ak.FullyConnected(units=2, name=layer.name))  # the refused layer left the model usable


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(input_shape=(1, 1, 1), filters=2 ** 28), "'filters' is 268435456"),
    (dict(input_shape=(2 ** 14, 2 ** 14, 3), filters=64), "one frame of potentials"),
])
def test_input_convolutional_checks_its_limits_before_allocating(kwargs, fragment):
    """InputConvolutional knows its input: it allocates its variables when built."""
    with pytest.raises(LimitError, match=fragment):
        ak.InputConvolutional(kernel_size=(3, 3), **kwargs)


def test_input_shape_beyond_the_budget():
    with pytest.raises(LimitError, match=r"input_shape=\(1048576, 1048576, 1024\).*memory budget"):
        _input((2 ** 20, 2 ** 20, 2 ** 10))


def test_the_budget_can_be_raised_and_lowered(budget):
    m = _input((64, 64, 16))
    with pytest.raises(LimitError, match="set_memory_budget"):
        m.add(ak.FullyConnected(units=2 ** 14))
    assert limits.set_memory_budget(2 ** 32) == limits.DEFAULT_MEMORY_BUDGET
    m.add(ak.FullyConnected(units=2 ** 10))
    limits.set_memory_budget(2 ** 20)
    with pytest.raises(LimitError, match="1048576 bytes"):
        m.add(ak.FullyConnected(units=2 ** 10))
    for bad in (0, 2 ** 20 - 1, 2.0 ** 30, "1G", True):
        with pytest.raises(LimitError, match="set_memory_budget"):
            limits.set_memory_budget(bad)


@pytest.mark.parametrize("value, ok", [("4194304", True), ("12", False), ("lots", False)])
def test_the_budget_environment_variable(value, ok):
    code = "import akida_sim.limits as l; print(l.memory_budget())"
    env = dict(os.environ, PYTHONPATH=ROOT, AKIDA_SIM_MEMORY_BUDGET=value)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert done.stdout.strip() == value
    else:
        assert done.returncode != 0 and "AKIDA_SIM_MEMORY_BUDGET" in done.stderr


# ----------------------------------------------------------------------------- add_classes
def _learning_model():
    m = _input((1, 1, 8))
    m.add(ak.FullyConnected(units=2, activation=False))
    m.compile(ak.AkidaUnsupervised(num_weights=2, num_classes=1), seed=0)
    return m


@pytest.mark.parametrize("n, fragment", [(10 ** 7, "more than the limit of 32768"), (2 ** 63, "limit"),
                                         (6000, "memory budget")])
def test_add_classes_beyond_the_limits_is_refused_at_once(n, fragment, budget):
    m = _learning_model()
    limits.set_memory_budget(2 ** 20)
    start = time.perf_counter()
    with pytest.raises(LimitError, match="num_add_classes") as info:
        m.add_classes(n)
    assert time.perf_counter() - start < 1 and fragment in str(info.value)
    assert m.output_shape == [1, 1, 2] and m.learning.get_config()["num_classes"] == 1
    m.add_classes(3)
    assert m.output_shape == [1, 1, 8]


# ----------------------------------------------------------------------------- what-if devices
@pytest.mark.parametrize("kwargs, fragment", [
    (dict(nodes=10 ** 9), "'nodes' is 1000000000, more than the limit of 1024"),
    (dict(nodes=2 ** 63), "'nodes'"),
    (dict(nps_per_node=17), "'nps_per_node'"),
    (dict(nodes=1024, nps_per_node=16), "16384 NPs, more than the limit of 4096"),
    (dict(input_sram_bytes=2 ** 40), "'input_sram_bytes'"),
    (dict(weight_sram_bytes=2 ** 31), "'weight_sram_bytes'"),
    (dict(clock_hz=5e-324), "'clock_hz' is 5e-324"),
    (dict(clock_hz=float("inf")), "'clock_hz' is inf"),
    (dict(clock_hz=float("nan")), "'clock_hz'"),
    (dict(clock_hz=1e12), "'clock_hz'"),
])
def test_what_if_device_bounds(kwargs, fragment):
    with pytest.raises(ak.AkidaSimError) as info:
        ak.what_if_device(**kwargs)
    assert isinstance(info.value, ValueError) and fragment in str(info.value)


@pytest.mark.parametrize("kwargs", [dict(clock_hz=limits.MIN_CLOCK_HZ, nodes=1, nps_per_node=1),
                                    dict(clock_hz=limits.MAX_CLOCK_HZ, input_sram_bytes=limits.MAX_NP_SRAM_BYTES),
                                    dict(nodes=limits.MAX_NODES, nps_per_node=4)])
def test_what_if_devices_at_the_bounds_price_finite_numbers(kwargs):
    m = zoo.build("mnist")
    m.map(ak.what_if_device(**kwargs))
    m.forward(zoo.random_inputs(m, 2, np.random.default_rng(0)))
    s = m.statistics
    assert all(np.isfinite(v) and v > 0 for v in (s.fps, s.energy, *s.powers.values()))


# ----------------------------------------------------------------------------- files
def test_only_regular_files_are_read(tmp_path):
    with pytest.raises(ak.AkidaSimError, match="not a regular file"):
        ak.Model("/dev/zero")
    with pytest.raises(RuntimeError, match="not a regular file"):
        ak.Model(str(tmp_path))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    start = time.perf_counter()
    with pytest.raises(ak.AkidaSimError, match="not a regular file"):
        ak.Model(str(fifo))  # opened without blocking
    assert time.perf_counter() - start < 5


def test_a_path_with_a_nul_byte_is_refused():
    with pytest.raises(RuntimeError, match="Cannot read model file"):
        ak.Model("model\0.aksim")


def test_file_larger_than_the_budget_is_refused_before_reading(tmp_path, budget):
    path = tmp_path / "big.aksim"
    small_model().save(str(path))
    with open(path, "ab") as f:
        f.truncate(3 * 2 ** 20)
    limits.set_memory_budget(2 ** 21)
    with pytest.raises(ak.ModelFileError, match="3145728 bytes, more than the memory budget"):
        ak.Model(str(path))


def _archive(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def _members(model):
    with zipfile.ZipFile(io.BytesIO(model.to_buffer())) as z:
        return [(n, z.read(n)) for n in z.namelist()]


@pytest.mark.parametrize("twice", ["akida_sim.json", "variables/2/weights.npy"])
def test_duplicate_members_are_refused(twice):
    import warnings
    members = _members(small_model())
    other = _members(small_model())
    extra = [(n, d) for n, d in other if n == twice]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        data = _archive(members + extra)
    with pytest.raises(ak.ModelFileError, match=f"member '{twice}' appears more than once"):
        ak.Model.from_buffer(data)


def _with_header(model, edit):
    members = _members(model)
    header = json.loads(dict(members)["akida_sim.json"])
    edit(header)
    text = json.dumps(header)  # NaN and Infinity written as JSON's extensions
    return _archive([(n, text if n == "akida_sim.json" else d) for n, d in members])


def _config_keys():
    header = json.loads(dict(_members(small_model()))["akida_sim.json"])
    return [(i, key) for i, layer in enumerate(header["layers"]) for key in layer["config"]]


@pytest.mark.parametrize("index, key", _config_keys())
def test_a_missing_config_key_is_refused_naming_layer_and_key(index, key):
    data = _with_header(small_model(), lambda h: h["layers"][index]["config"].pop(key))
    with pytest.raises(ak.ModelFileError, match=f"layer {index}.*missing key '{key}'"):
        ak.Model.from_buffer(data)


@pytest.mark.parametrize("edit, fragment", [
    (lambda h: h["layers"][2]["config"].update(bias=1), r"layer 2 \('f'\).*unknown key 'bias'"),
    (lambda h: h["layers"][2]["config"].update(units=float("nan")), r"layer 2 \('f'\).*config\['units'\] is nan"),
    (lambda h: h["layers"][1]["config"].update(kernel_size=[3, float("inf")]),
     r"config\['kernel_size'\]\[1\] is inf"),
    (lambda h: h["layers"][2].update(extra=None), "layer entry 2: unknown key 'extra'"),
    (lambda h: h["layers"][2].pop("learning"), "layer entry 2: missing key 'learning'"),
    (lambda h: h.update(comment="x"), "the header: unknown key 'comment'"),
    (lambda h: h.update(version=True), "version"),
    (lambda h: h.update(layers=h["layers"] + [h["layers"][2]] * limits.MAX_LAYERS),
     f"more than the limit of {limits.MAX_LAYERS}"),
])
def test_bad_file_headers_are_refused(edit, fragment):
    with pytest.raises(ak.ModelFileError, match=fragment):
        ak.Model.from_buffer(_with_header(small_model(), edit))


def _learning_header_edit(edit):
    def apply(header):
        edit(header["layers"][-1]["learning"])
    return apply


@pytest.mark.parametrize("edit, fragment", [
    (lambda l: l.pop("plasticity_decay"), "missing key 'plasticity_decay'"),
    (lambda l: l.update(speed=1), "unknown key 'speed'"),
    (lambda l: l.update(min_plasticity=float("nan")), "min_plasticity'] is nan"),
])
def test_bad_learning_entries_are_refused(edit, fragment):
    data = _with_header(_learning_model(), _learning_header_edit(edit))
    with pytest.raises(ak.ModelFileError, match=fragment):
        ak.Model.from_buffer(data)


def _fc_file(units, variables):
    """A file of InputData (1, 1, 1) then FullyConnected(units) whose variables are ``variables``."""
    header = {"format": "akida_sim.model", "version": 1, "layers": [
        {"type": "InputData", "config": {"input_shape": [1, 1, 1], "input_bits": 1, "name": "i"},
         "variables": {}, "learning": None},
        {"type": "FullyConnected", "config": {"units": units, "weights_bits": 1, "activation": True, "act_bits": 1,
                                              "name": "f"}, "variables": variables, "learning": None}]}
    return _archive([("akida_sim.json", json.dumps(header))])


@pytest.mark.parametrize("units", [2 ** 28, 2 ** 31 - 1, 2 ** 15 + 1, 2 ** 63])
def test_a_tiny_file_declaring_a_huge_layer_is_refused_before_allocating(units, budget):
    limits.set_memory_budget(2 ** 24)
    data = _fc_file(units, {})
    assert len(data) < 600
    tracemalloc.start()
    try:
        with pytest.raises(ak.ModelFileError, match="layer 1 .'f'. cannot be restored.*(limit|budget|1..2147483647)"):
            ak.Model.from_buffer(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 ** 20


def test_the_layers_of_a_file_share_one_budget(budget):
    """Each layer within the budget, all of them beyond it."""
    m = _input((1, 1, 1024))
    for _ in range(3):
        m.add(ak.FullyConnected(units=1024, act_bits=1))
    data = m.to_buffer()
    limits.set_memory_budget(25 * 2 ** 20)  # one layer: 9 MiB with its caches
    with pytest.raises(ak.ModelFileError, match="layer 3 .* the layers restored up to this one"):
        ak.Model.from_buffer(data)


# ----------------------------------------------------------------------------- dicts
@pytest.mark.parametrize("edit, fragment", [
    (lambda d: d.update(input_shape=[7, 6, 2]), "'input_shape' is [7, 6, 2]"),
    (lambda d: d.update(output_shape=[1, 1, float("nan")]), "'output_shape'"),
    (lambda d: d.update(output_shape=-1), "'output_shape'"),
    (lambda d: d.update({"akida_sim version": 2 ** 63}), "akida_sim version"),
    (lambda d: d.update({"Akida version": float("nan")}), "Akida version"),
    (lambda d: d.update(extra=1), "unknown key 'extra'"),
    (lambda d: d["layers"][1].update(colour="red"), "layer entry 1 ('s'): unknown key 'colour'"),
    (lambda d: d["layers"][0]["parameters"].update(input_signed=1), "input_signed"),
    (lambda d: d["layers"][0]["parameters"].update(input_signed=-1), "input_signed"),
    (lambda d: d["layers"][2]["variables"]["threshold"].update(bitwidth=float("nan")), "bitwidth"),
    (lambda d: d["layers"][2]["variables"]["threshold"].update(bitwidth=2 ** 63), "bitwidth"),
    (lambda d: d["layers"][2]["variables"]["threshold"].update(comment=""), "unknown key 'comment'"),
    (lambda d: d["layers"][2]["parameters"].update(units=float("inf")), "parameters['units'] is inf"),
])
def test_top_level_and_derived_dict_keys_are_validated(edit, fragment):
    description = copy.deepcopy(small_model().to_dict())
    edit(description)
    with pytest.raises(ak.ModelFileError) as info:
        ak.Model.from_dict(description)
    assert fragment in str(info.value), str(info.value)


def test_dicts_of_either_version_key_load():
    description = small_model().to_dict()
    version = description.pop("akida_sim version")
    vendor_layout = {"Akida version": version, **description}
    assert ak.Model.from_dict(vendor_layout).layer_count == 3
    assert ak.Model.from_dict({"layers": description["layers"]}).layer_count == 3


# ----------------------------------------------------------------------------- saving
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_files_honour_the_umask(tmp_path, umask, mode):
    path = tmp_path / "m.aksim"
    previous = os.umask(umask)
    try:
        small_model().save(str(path))
        small_model().save(str(path))  # replacing keeps the atomic rename
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert sorted(os.listdir(tmp_path)) == ["m.aksim"]


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 5e-324, 1e300])
def test_host_speed_beyond_its_range_is_refused(value):
    device = ak.AKD1000()
    with pytest.raises(ak.AkidaSimError, match="host_ops_per_second"):
        device.host_ops_per_second = value
