"""Model files: one self-describing, versioned zip archive, no pickle.

Layout of the archive:

- ``akida_sim.json``: ``{"format": "akida_sim.model", "version": 1,
  "layers": [{"type": <LayerType name>, "config": {...constructor args...},
  "variables": {<name>: <entry>}, "learning": {...} or null}]}``
- ``<entry>``: a ``.npy`` member per variable (``numpy.save``, never
  unpickled).

Untrusted files stay harmless: each variable is read only once its layer is
built, after checking the member's declared uncompressed size and its
``.npy`` header against the shape and dtype the layer's arguments imply (a
compression bomb is refused before anything is allocated).

Writes are atomic (temporary file in the same folder, then rename). Zip CRCs
catch corrupted members; every structural problem raises ModelFileError
naming the file and what is wrong.
"""
import io
import json
import math
import os
import tempfile
import zipfile
import zlib

import numpy as np

from .errors import ModelFileError, ModelFileNotFoundError, shape_text

#: What reading a damaged archive can raise.
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError,
                OSError, ValueError, RuntimeError)

#: The extension akida_sim suggests for its model files (any is accepted;
#: ``.fbz`` files written by akida_sim keep loading, but ``.fbz`` is also the
#: vendor's own, different format).
FILE_SUFFIX = ".aksim"
FORMAT_NAME = "akida_sim.model"
FORMAT_VERSION = 1
HEADER_MEMBER = "akida_sim.json"
#: Largest header member read (a model's description takes a few kB).
MAX_HEADER_BYTES = 16 * 2 ** 20
#: Largest ``.npy`` header accepted before a variable's data.
MAX_NPY_HEADER_BYTES = 4096


def _npy_bytes(array):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def model_to_bytes(layer_entries):
    """Serialize layers to the archive bytes.

    layer_entries: list of dicts with keys ``type`` (str), ``config`` (dict),
    ``variables`` ({name: ndarray}) and ``learning`` (dict or None).
    """
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "layers": []}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, entry in enumerate(layer_entries):
            members = {}
            for name, array in entry["variables"].items():
                member = f"variables/{index}/{name}.npy"
                archive.writestr(member, _npy_bytes(array))
                members[name] = member
            header["layers"].append({"type": entry["type"], "config": entry["config"],
                                     "variables": members, "learning": entry.get("learning")})
        archive.writestr(HEADER_MEMBER, json.dumps(header, indent=1))
    return buf.getvalue()


def write_atomically(path, data):
    """Write ``data`` to ``path`` via a temporary file and a rename."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".akida_sim-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_model_file(path):
    """Open a model file: (header dict, ArchiveSource) for ``load_model``.

    Raises ModelFileError naming ``path`` when the file is missing,
    truncated, corrupted, of another format or of a newer version.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError as exc:
        raise ModelFileNotFoundError(f"File not found: '{path}'") from exc
    except OSError as exc:
        raise ModelFileNotFoundError(f"Cannot read model file '{path}': {exc.strerror or exc}") from exc
    if not data:
        raise ModelFileNotFoundError(f"File is empty: '{path}'")
    return read_model_bytes(data, source=path)


def _member_size_check(info, limit, what, fail):
    if info.file_size > limit:
        raise fail(f"{what} declares {info.file_size} bytes uncompressed, more than the {limit} bytes it can "
                   f"hold: refused before reading (a damaged file or a compression bomb)")


def read_model_bytes(data, source="<buffer>"):
    """Parse archive bytes: (header dict, ArchiveSource); see read_model_file.

    Only the header is read here; each variable is read later by
    ``ArchiveSource.array`` once the layer it belongs to says its shape.
    """
    def fail(what):
        return ModelFileError(f"Invalid model file '{source}': {what}")

    if not data:
        raise fail("the file is empty")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _READ_ERRORS:
        raise fail("not an akida_sim model file (not a zip archive: truncated, corrupted or of another format). "
                   "A model saved by BrainChip's akida package is a different format: load it there with "
                   "akida.Model(path) and convert it with akida_sim.Model.from_akida(model)") from None
    try:
        info = archive.getinfo(HEADER_MEMBER)
    except KeyError:
        raise fail(f"no '{HEADER_MEMBER}' member: not an akida_sim model file") from None
    _member_size_check(info, MAX_HEADER_BYTES, f"header '{HEADER_MEMBER}'", fail)
    try:
        header = json.loads(archive.read(HEADER_MEMBER).decode("utf-8"))
    except _READ_ERRORS as exc:
        raise fail(f"corrupted header ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise fail(f"format is {header.get('format') if isinstance(header, dict) else header!r}, "
                   f"expected '{FORMAT_NAME}'")
    version = header.get("version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise fail(f"format version {version!r} is not supported (this akida_sim reads 1..{FORMAT_VERSION})")
    layers = header.get("layers")
    if not isinstance(layers, list):
        raise fail("'layers' must be a list")
    for i, entry in enumerate(layers):
        if not isinstance(entry, dict) or not isinstance(entry.get("variables"), dict):
            raise fail(f"layer entry {i} is malformed")
    return header, ArchiveSource(archive)


def check_declared(name, declared_shape, declared_dtype, shape, dtype, where=""):
    """Refuse a stored variable whose declared shape or dtype is not the one
    its layer implies (before any of its data is read); ``where`` names the
    place it is stored."""
    if tuple(declared_shape) != tuple(shape) or np.dtype(declared_dtype) != np.dtype(dtype):
        raise ValueError(f"variable '{name}'{where} is stored as {np.dtype(declared_dtype).name} "
                         f"{shape_text(declared_shape)}, expected {np.dtype(dtype).name} {shape_text(shape)} "
                         f"(from the layer's arguments)")


class ArchiveSource:
    """The variables of an open model archive, each read only once its layer
    has said which shape and dtype it must have.

    ``array(member, name, shape, dtype)`` checks the member's declared
    uncompressed size and its ``.npy`` header against ``shape``/``dtype``
    before reading a byte of data, then reads exactly that many bytes
    (never unpickling). Raises ValueError (the loader names file and layer).
    """

    def __init__(self, archive):
        self._archive = archive

    def close(self):
        self._archive.close()

    def array(self, member, name, shape, dtype):
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if not isinstance(member, str):
            raise ValueError(f"variable '{name}': member name must be a str, got {member!r}")
        try:
            info = self._archive.getinfo(member)
        except KeyError:
            raise ValueError(f"missing member '{member}' (variable '{name}')") from None
        _member_size_check(info, nbytes + MAX_NPY_HEADER_BYTES, f"member '{member}' (variable '{name}')",
                           ValueError)
        try:
            f = self._archive.open(info)
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            declared_shape, fortran_order, declared_dtype = read_header(f, max_header_size=MAX_NPY_HEADER_BYTES)
        except _READ_ERRORS as exc:
            raise ValueError(f"corrupted member '{member}' (variable '{name}'): {exc}") from None
        with f:
            check_declared(name, declared_shape, declared_dtype, shape, dtype, f" (member '{member}')")
            try:
                raw, extra = f.read(nbytes), f.read(1)
            except _READ_ERRORS as exc:
                raise ValueError(f"corrupted member '{member}' (variable '{name}'): {exc}") from None
        if len(raw) != nbytes or extra:
            raise ValueError(f"member '{member}' (variable '{name}') does not hold exactly the {nbytes} bytes "
                             f"of data its header declares")
        order = "F" if fortran_order else "C"
        return np.ascontiguousarray(np.frombuffer(raw, dtype).reshape(shape, order=order))
