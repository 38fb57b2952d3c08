"""Untrusted model descriptions stay harmless: compression bombs, lying zip
headers, and dicts/JSON validated by the same code as files."""
import copy
import io
import json
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import akida_sim as ak
from tests.api.test_model import build, model_specs, random_inputs
from tests.api.test_save_load import assert_same_model, small_model

#: Far above what a small model's loader may allocate, far below the bombs' declared sizes.
ALLOCATION_LIMIT = 64 * 2 ** 20
WEIGHTS = "variables/2/weights.npy"


def _npy_header(shape, dtype="|i1"):
    header = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _replace_member(data, member, raw, compression=zipfile.ZIP_DEFLATED):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, raw if name == member else src.read(name),
                         compress_type=zipfile.ZIP_STORED if name == member else compression)
    return out.getvalue()


def _load_within_limit(data):
    """ModelFileError raised by from_buffer, and the peak allocation on the way."""
    tracemalloc.start()
    try:
        with pytest.raises(ak.ModelFileError) as info:
            ak.Model.from_buffer(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(info.value), peak


def test_member_declaring_a_huge_array_is_refused_before_reading():
    """A 3 MB file whose weights member declares a 3 GB array."""
    data = small_model().to_buffer()
    bomb = _npy_header((60_000, 50_000, 1, 1)) + np.random.default_rng(0).bytes(3 * 2 ** 20)
    crafted = _replace_member(data, WEIGHTS, bomb)
    assert 3 * 2 ** 20 < len(crafted) < 4 * 2 ** 20
    text, peak = _load_within_limit(crafted)
    assert WEIGHTS in text and "refused before reading" in text
    assert peak < ALLOCATION_LIMIT


def test_npy_header_shape_is_checked_before_the_data():
    data = small_model().to_buffer()
    crafted = _replace_member(data, WEIGHTS, _npy_header((60_000, 50_000, 1, 1)) + bytes(108))
    text, peak = _load_within_limit(crafted)
    assert WEIGHTS in text and "(60000, 50000, 1, 1)" in text and "(1, 1, 27, 4)" in text
    assert peak < ALLOCATION_LIMIT


def _declare_size(data, member, size):
    """The archive with ``member``'s uncompressed size set to ``size`` in both zip headers."""
    data = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, size)  # local file header
    name = member.encode()
    central = data.find(b"PK\x01\x02" + data[info.header_offset + 4:info.header_offset + 6], 0)
    while data[central + 46:central + 46 + len(name)] != name:
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, size)  # central directory entry
    return bytes(data)


def test_member_declaring_a_huge_uncompressed_size_is_refused():
    data = small_model().to_buffer()
    crafted = _declare_size(data, WEIGHTS, 3 * 10 ** 9)
    with zipfile.ZipFile(io.BytesIO(crafted)) as archive:
        assert archive.getinfo(WEIGHTS).file_size == 3 * 10 ** 9
    text, peak = _load_within_limit(crafted)
    assert "3000000000" in text and "compression bomb" in text
    assert peak < ALLOCATION_LIMIT


def test_deflate_bomb_is_refused_by_its_declared_size():
    """A real deflate bomb (64 MB of zeros in 64 kB) behind a valid npy header."""
    data = small_model().to_buffer()
    bomb = _npy_header((1, 1, 27, 4)) + bytes(64 * 2 ** 20)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, bomb if name == WEIGHTS else src.read(name))
    assert len(out.getvalue()) < 2 ** 20
    text, peak = _load_within_limit(out.getvalue())
    assert WEIGHTS in text and peak < ALLOCATION_LIMIT


def test_header_member_size_is_bounded():
    data = small_model().to_buffer()
    crafted = _declare_size(data, "akida_sim.json", 2 ** 31)
    text, _ = _load_within_limit(crafted)
    assert "akida_sim.json" in text


# ----------------------------------------------------------------------------- dicts and JSON
def test_dict_and_json_round_trips():
    m = small_model()
    x = np.random.default_rng(0).integers(0, 4, size=(3, 6, 6, 2), dtype=np.uint8)
    assert_same_model(m, ak.Model.from_dict(m.to_dict()), x)
    assert_same_model(m, ak.Model.from_json(m.to_json()), x)
    assert json.loads(m.to_json()) == json.loads(json.dumps(m.to_dict()))
    assert m.to_dict()["layers"][1] == m.layers[1].to_dict()


def test_dict_keys_follow_the_vendor_and_the_earlier_layout_still_loads():
    m = small_model()
    d = m.to_dict()
    assert list(d) == ["Akida version", "IP version", "layers", "learning", "input_shape", "output_shape",
                       "akida_sim version"]
    assert d["akida_sim version"] == ak.__version__
    earlier = {"akida_sim version": d["akida_sim version"], "IP version": "v1",
               **{k: d[k] for k in ("layers", "learning", "input_shape", "output_shape")}}
    x = np.random.default_rng(1).integers(0, 4, size=(2, 6, 6, 2), dtype=np.uint8)
    assert_same_model(m, ak.Model.from_dict(earlier), x)


@settings(max_examples=20, deadline=None)
@given(spec=model_specs())
def test_random_models_round_trip_through_json(spec):
    specs, _, seed, n = spec
    m = build(specs, seed)
    if m is None:
        return
    x = random_inputs(m, n, np.random.default_rng(seed))
    assert_same_model(m, ak.Model.from_json(m.to_json()), x)


def test_learning_model_round_trips_through_dicts():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(1, 1, 32), input_bits=1))
    m.add(ak.FullyConnected(units=6, weights_bits=1, activation=False))
    m.compile(ak.AkidaUnsupervised(num_weights=8, num_classes=3, learning_competition=0.2), seed=1)
    x = (np.random.default_rng(2).random((20, 1, 1, 32)) < 0.3).astype(np.uint8)
    m.fit(x[:10], 1)
    copy_ = ak.Model.from_json(m.to_json())
    assert copy_.learning.get_config() == dict(m.learning.get_config(), seed=None)
    assert_same_model(m, copy_, x)
    reloaded = ak.Model.from_buffer(m.to_buffer())
    np.testing.assert_array_equal(copy_.fit(x[10:], 2), reloaded.fit(x[10:], 2))


def _edits():
    """(edit of a small_model dict, what the error names)."""
    def var(layer, name):
        return lambda d: d["layers"][layer]["variables"][name]
    return [
        (lambda d: d.__setitem__("layers", "x"), "layers"),
        (lambda d: d.__setitem__("IP version", "v2"), "v2"),
        (lambda d: d["layers"].__setitem__(1, "oops"), "layer entry 1"),
        (lambda d: d["layers"][1]["parameters"].update(layer_type="Nope"), "layer 1"),
        (lambda d: d["layers"][1]["parameters"].update(filters=0), "num_neurons cannot be 0"),
        (lambda d: d["layers"][1]["parameters"].update(bogus=1), "bogus"),
        (lambda d: d["layers"][1]["parameters"].pop("stride_x"), "stride_x"),
        (lambda d: d["layers"][1]["variables"].pop("weights_pw"), "weights_pw"),
        (lambda d: d["layers"][1]["variables"].update(bias=d["layers"][1]["variables"]["threshold"]), "bias"),
        (lambda d: var(2, "weights")(d).update(shape=[1, 1, 26, 4]), "(1, 1, 26, 4)"),
        (lambda d: var(2, "weights")(d).update(dtype="int16"), "int16"),
        (lambda d: var(2, "weights")(d).update(dtype="object"), "object"),
        (lambda d: var(2, "weights")(d).pop("data"), "data"),
        (lambda d: var(2, "weights")(d)["data"][0][0].pop(), "shape"),
        (lambda d: var(2, "threshold")(d).update(data=[0.5, 1, 2, 3]), "int32"),
        (lambda d: var(2, "threshold")(d).update(data=[2 ** 40, 1, 2, 3]), "range"),
        (lambda d: var(1, "weights")(d).update(data=np.full((3, 3, 2, 1), 100).tolist()), "Invalid value 100"),
        (lambda d: var(1, "act_step")(d).update(data=[1.0, float("nan"), 1.0]), "act_step"),
        (lambda d: d["layers"][2].update(inbounds=["nobody"]), "inbounds"),
        (lambda d: d["layers"][2].update(output_shape=[1, 1, 5]), "output_shape"),
        (lambda d: d.update(learning={"num_weights": 2.5}), "layer 2"),
        (lambda d: d.update(learning=dict(num_weights=float("inf"), num_classes=1, initial_plasticity=1,
                                          learning_competition=0, min_plasticity=0.1, plasticity_decay=0.2)),
         "num_weights"),
    ]


@pytest.mark.parametrize("edit, fragment", _edits())
def test_bad_dicts_are_refused_like_bad_files(edit, fragment):
    description = copy.deepcopy(small_model().to_dict())
    edit(description)
    with pytest.raises(ak.ModelFileError) as info:
        ak.Model.from_dict(description)
    assert fragment in str(info.value), str(info.value)
    # the same refusal through JSON
    with pytest.raises(ak.ModelFileError):
        ak.Model.from_json(json.dumps(description))


def test_from_json_and_from_dict_argument_errors():
    for bad in ("{", "[]", "3", '{"layers": 3}', "[" * 100_000 + "]" * 100_000):
        with pytest.raises(ak.ModelFileError):
            ak.Model.from_json(bad)
    with pytest.raises(TypeError):
        ak.Model.from_json(3)
    with pytest.raises(ak.ModelFileError):
        ak.Model.from_dict(["not", "a", "dict"])


def test_from_akida_reads_a_duck_typed_model():
    """from_akida needs only the public attributes the vendor's models have."""
    m = small_model()
    assert_same_model(m, ak.Model.from_akida(m))
    with pytest.raises(TypeError):
        ak.Model.from_akida("model.fbz")


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON-like value, lists of numbers as one leaf."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list) and value and isinstance(value[0], (list, dict)):
        for i, item in enumerate(value):
            yield from _paths(item, prefix + (i,))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 40, 2 ** 40) | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_corrupted_description_is_refused_cleanly_or_loads(data):
    description = small_model().to_dict()
    paths = [p for p, _ in _paths(description) if p]
    path = data.draw(st.sampled_from(paths))
    target = description
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(JSON_VALUES)
    try:
        model = ak.Model.from_json(json.dumps(description))
    except ak.ModelFileError:
        return
    # what loads is a whole, checked model (an empty layer list is an empty model, as the vendor's)
    assert model.layer_count == (0 if description["layers"] == [] else 3)
