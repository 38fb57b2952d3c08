"""Model files: round trips, atomic writes and every kind of broken file."""
import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import akida_sim as ak
from tests.api.test_model import build, model_specs, random_inputs

EXAMPLES = settings().max_examples


def small_model():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(6, 6, 2), input_bits=2))
    m.add(ak.SeparableConvolutional(kernel_size=(3, 3), filters=3, name="s", weights_bits=4,
                                    pool_type=ak.PoolType.Max, pool_size=(2, 2), act_bits=2))
    m.add(ak.FullyConnected(units=4, name="f", activation=False, weights_bits=8))
    rng = np.random.default_rng(5)
    s, f = m.get_layer("s"), m.get_layer("f")
    s.set_variable("weights", rng.integers(-7, 8, size=(3, 3, 2, 1)).astype(np.int8))
    s.set_variable("weights_pw", rng.integers(-7, 8, size=(1, 1, 2, 3)).astype(np.int8))
    s.set_variable("threshold", np.array([-3, 0, 4], np.int32))
    s.set_variable("act_step", np.array([0.7, 1.3, 0.0625], np.float32))
    f.set_variable("weights", rng.integers(-128, 128, size=(1, 1, 27, 4)).astype(np.int8))
    f.set_variable("threshold", np.array([1, -(2 ** 31), 2 ** 31 - 1, 0], np.int32))
    f.set_variable("act_step", np.array([3.3, 1e6, 0.1, 7], np.float32))
    return m


def assert_same_model(a, b, x=None):
    assert [type(l) for l in a.layers] == [type(l) for l in b.layers]
    assert [l.name for l in a.layers] == [l.name for l in b.layers]
    for la, lb in zip(a.layers, b.layers):
        assert la.parameters.to_dict() == lb.parameters.to_dict()
        assert la.get_variable_names() == lb.get_variable_names()
        assert la.input_dims == lb.input_dims and la.output_dims == lb.output_dims
        for name in la.get_variable_names():
            va, vb = la.get_variable(name), lb.get_variable(name)
            assert va.dtype == vb.dtype and va.shape == vb.shape
            assert va.tobytes() == vb.tobytes()  # bit for bit (float32 steps included)
    if x is not None:
        np.testing.assert_array_equal(a.forward(x), b.forward(x))
        if not a.layers[-1].parameters.activation:
            assert a.predict(x).tobytes() == b.predict(x).tobytes()


def test_round_trip_small_model(tmp_path):
    m = small_model()
    path = tmp_path / "m.fbz"
    m.save(str(path))
    x = np.random.default_rng(0).integers(0, 4, size=(3, 6, 6, 2), dtype=np.uint8)
    assert_same_model(m, ak.Model(str(path)), x)
    assert_same_model(m, ak.Model(path), x)  # os.PathLike
    assert_same_model(m, ak.Model.from_buffer(m.to_buffer()), x)


def test_any_extension(tmp_path):
    m = small_model()
    for name in ("model", "model.bin", "m.fbz.txt"):
        m.save(str(tmp_path / name))
        assert_same_model(m, ak.Model(str(tmp_path / name)))


@settings(max_examples=max(5, EXAMPLES // 3), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model_specs())
def test_round_trip_random_models(tmp_path, spec):
    specs, _, seed, n = spec
    m = build(specs, seed)
    if m is None:
        return
    path = tmp_path / "r.fbz"
    m.save(str(path))
    x = random_inputs(m, n, np.random.default_rng(seed))
    assert_same_model(m, ak.Model(str(path)), x)


def test_input_conv_model_round_trip(tmp_path):
    m = ak.Model()
    m.add(ak.InputConvolutional(input_shape=(5, 5, 3), kernel_size=(3, 3), filters=2, weights_bits=3,
                                padding_value=17, kernel_stride=(2, 1), act_bits=3))
    m.add(ak.Convolutional(kernel_size=(1, 1), filters=2, pool_type=ak.PoolType.Average, weights_bits=2))
    m.layers[0].set_variable("weights", np.full((3, 3, 3, 2), -100, np.int8))
    m.save(str(tmp_path / "ic.fbz"))
    x = np.random.default_rng(0).integers(0, 256, size=(2, 5, 5, 3), dtype=np.uint8)
    assert_same_model(m, ak.Model(str(tmp_path / "ic.fbz")), x)


# ----------------------------------------------------------------------------- atomic writes
def test_save_replaces_existing_file_whole(tmp_path):
    path = tmp_path / "m.fbz"
    path.write_bytes(os.urandom(200_000))  # bigger than the model: no leftover tail allowed
    m = small_model()
    m.save(str(path))
    assert path.read_bytes() == m.to_buffer() or ak.Model(str(path)).layer_count == 3
    assert os.path.getsize(path) < 200_000
    assert_same_model(m, ak.Model(str(path)))
    assert sorted(os.listdir(tmp_path)) == ["m.fbz"]  # no temporary file left


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "m.fbz"
    old = small_model()
    old.save(str(path))
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    other = ak.Model()
    other.add(ak.InputData(input_shape=(2, 2, 1)))
    with pytest.raises(ValueError, match="Unable to open file for saving model"):
        other.save(str(path))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.fbz"]


def test_save_errors(tmp_path):
    m = small_model()
    with pytest.raises(ValueError, match="Unable to open file for saving model.*nonexistent_dir"):
        m.save(str(tmp_path / "nonexistent_dir" / "x.fbz"))
    with pytest.raises(ValueError, match="Unable to open file for saving model"):
        m.save(str(tmp_path))
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- broken files
@pytest.fixture()
def saved(tmp_path):
    path = tmp_path / "good.fbz"
    small_model().save(str(path))
    return path, path.read_bytes()


def load_error(path, exc_type, *fragments):
    with pytest.raises(exc_type) as info:
        ak.Model(str(path))
    assert isinstance(info.value, ak.AkidaSimError)
    text = str(info.value)
    assert str(path) in text, text
    for fragment in fragments:
        assert fragment in text, text
    return text


def test_missing_and_empty_files(tmp_path):
    load_error(tmp_path / "nope.fbz", RuntimeError, "File not found")
    empty = tmp_path / "empty.fbz"
    empty.write_bytes(b"")
    load_error(empty, RuntimeError, "empty")
    with pytest.raises(RuntimeError):
        ak.Model(str(tmp_path))  # a directory
    with pytest.raises(RuntimeError):
        ak.Model("")
    with pytest.raises(TypeError):
        ak.Model(123)


@pytest.mark.parametrize("cut", [1, 2, 10, 100, "half", "all-but-22"])
def test_truncated_files(saved, cut):
    path, data = saved
    n = len(data) // 2 if cut == "half" else 22 if cut == "all-but-22" else len(data) - cut
    path.write_bytes(data[:n])
    load_error(path, ValueError)


def test_every_truncation_is_refused(saved):
    """No prefix of a model file loads (the vendor sometimes loads an empty model or crashes)."""
    path, data = saved
    for n in range(1, len(data), max(1, len(data) // 97)):
        path.write_bytes(data[:n])
        with pytest.raises(ValueError):
            ak.Model(str(path))


def test_corrupted_member_bytes(saved):
    """A flipped byte inside a member's data that still inflates is caught by the zip CRC."""
    path, data = saved
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("variables/2/weights.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    bad = bytearray(data)
    bad[start + 1] ^= 0xFF
    path.write_bytes(bytes(bad))
    load_error(path, ValueError, "variables/2/weights.npy")


def test_every_single_byte_flip_is_caught_or_harmless(saved):
    """Flip each byte of a model file: it either loads the very same model or raises ModelFileError."""
    path, data = saved
    model = ak.Model(str(path))
    escaped = {}
    for offset in range(len(data)):
        bad = bytearray(data)
        bad[offset] ^= 0xFF
        try:
            loaded = ak.Model.from_buffer(bytes(bad))
        except ak.ModelFileError:
            continue
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            escaped.setdefault(type(exc).__name__, (offset, str(exc)))
            continue
        assert_same_model(model, loaded)
    assert not escaped, escaped


def test_corrupted_deflate_stream_raises_model_file_error(saved):
    """Byte 0 of the compressed member breaks the deflate stream itself (zlib.error today)."""
    path, data = saved
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("variables/2/weights.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    bad = bytearray(data)
    bad[start] ^= 0xFF
    path.write_bytes(bytes(bad))
    load_error(path, ValueError, "variables/2/weights.npy")


def test_random_bytes_and_foreign_files(tmp_path):
    rng = np.random.default_rng(0)
    for k, content in enumerate([rng.bytes(1000), b"hello world\n" * 10, b"PK\x03\x04" + rng.bytes(100)]):
        path = tmp_path / f"junk{k}.fbz"
        path.write_bytes(content)
        load_error(path, ValueError)


def _rewrite(data, path, edit_header=None, edit_members=None, drop=()):
    """A copy of the archive with the header and/or members changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            if name in drop:
                continue
            raw = src.read(name)
            if name == "akida_sim.json" and edit_header is not None:
                header = json.loads(raw)
                edit_header(header)
                raw = json.dumps(header).encode()
            if edit_members and name in edit_members:
                raw = edit_members[name]
            dst.writestr(name, raw)
    path.write_bytes(out.getvalue())


def _npy(array, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def test_zip_without_header(saved):
    path, data = saved
    _rewrite(data, path, drop=("akida_sim.json",))
    load_error(path, ValueError, "akida_sim.json")
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "not a model")
    path.write_bytes(other.getvalue())
    load_error(path, ValueError)


@pytest.mark.parametrize("edit, fragment", [
    (lambda h: h.update(format="something.else"), "format"),
    (lambda h: h.pop("format"), "format"),
    (lambda h: h.update(version=2), "version"),
    (lambda h: h.update(version=0), "version"),
    (lambda h: h.update(version="1"), "version"),
    (lambda h: h.update(layers="x"), "layers"),
    (lambda h: h["layers"].__setitem__(1, "oops"), "layer"),
    (lambda h: h["layers"][1].update(type="Nope"), "layer 1"),
    (lambda h: h["layers"][1]["config"].update(filters=0), "layer 1"),
    (lambda h: h["layers"][1]["config"].update(bogus=1), "layer 1"),
    (lambda h: h["layers"][1]["variables"].pop("weights_pw"), "weights_pw"),
    (lambda h: h["layers"][2]["variables"].update(weights="variables/9/none.npy"), "variables/9/none.npy"),
])
def test_bad_headers(saved, edit, fragment):
    path, data = saved
    _rewrite(data, path, edit_header=edit)
    load_error(path, ValueError, fragment)


def test_header_that_is_not_json(saved):
    path, data = saved
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, b"{not json" if name == "akida_sim.json" else src.read(name))
    path.write_bytes(out.getvalue())
    load_error(path, ValueError)


@pytest.mark.parametrize("member, array", [
    ("variables/2/weights.npy", np.zeros((1, 1, 26, 4), np.int8)),          # wrong shape
    ("variables/2/weights.npy", np.zeros((1, 1, 27, 4), np.int16)),         # wrong dtype
    ("variables/1/weights.npy", np.full((3, 3, 2, 1), 100, np.int8)),       # out of range for 4 bits
    ("variables/1/act_step.npy", np.array([1, np.nan, 1], np.float32)),     # refused step
    ("variables/2/threshold.npy", np.zeros(4, np.int64)),
])
def test_bad_variables_inside_archive(saved, member, array):
    path, data = saved
    _rewrite(data, path, edit_members={member: _npy(array)})
    load_error(path, ValueError)


def test_pickled_object_array_is_refused(saved):
    path, data = saved
    evil = np.array([{"a": 1}, None, 3], dtype=object)
    _rewrite(data, path, edit_members={"variables/2/threshold.npy": _npy(evil, allow_pickle=True)})
    load_error(path, ValueError, "variables/2/threshold.npy")


def test_from_buffer_errors():
    with pytest.raises(ValueError):
        ak.Model.from_buffer(b"")
    with pytest.raises(ValueError):
        ak.Model.from_buffer(b"\x00" * 50)


def test_file_holds_no_pickle(saved):
    _, data = saved
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith(".npy"):
                arr = np.load(io.BytesIO(z.read(name)), allow_pickle=False)
                assert arr.dtype != object
            else:
                json.loads(z.read(name))
