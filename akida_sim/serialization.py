"""Model files: one self-describing, versioned zip archive, no pickle.

Layout of the archive:

- ``akida_sim.json``: ``{"format": "akida_sim.model", "version": 1,
  "layers": [{"type": <LayerType name>, "config": {...constructor args...},
  "variables": {<name>: <entry>}, "learning": {...} or null}]}``
- ``<entry>``: a ``.npy`` member per variable (``numpy.save``, loaded with
  ``allow_pickle=False``).

Writes are atomic (temporary file in the same folder, then rename). Zip CRCs
catch corrupted members; every structural problem raises ModelFileError
naming the file and what is wrong.
"""
import io
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from .errors import ModelFileError, ModelFileNotFoundError

#: What reading a damaged archive can raise.
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError,
                OSError, ValueError, RuntimeError)

FORMAT_NAME = "akida_sim.model"
FORMAT_VERSION = 1
HEADER_MEMBER = "akida_sim.json"


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
    """Read a model file into (header dict, {member: ndarray}).

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


def read_model_bytes(data, source="<buffer>"):
    """Parse archive bytes; see read_model_file."""
    def fail(what):
        return ModelFileError(f"Invalid model file '{source}': {what}")

    if not data:
        raise fail("the file is empty")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _READ_ERRORS:
        raise fail("not an akida_sim model archive (truncated, corrupted or of another format)") from None
    with archive:
        try:
            header = json.loads(archive.read(HEADER_MEMBER).decode("utf-8"))
        except KeyError:
            raise fail(f"no '{HEADER_MEMBER}' member: not an akida_sim model file") from None
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
        arrays = {}
        for i, entry in enumerate(layers):
            if not isinstance(entry, dict) or not isinstance(entry.get("variables"), dict):
                raise fail(f"layer entry {i} is malformed")
            for name, member in entry["variables"].items():
                try:
                    raw = archive.read(member)
                    arrays[member] = np.load(io.BytesIO(raw), allow_pickle=False)
                except KeyError:
                    raise fail(f"missing member '{member}' (variable '{name}' of layer {i})") from None
                except _READ_ERRORS as exc:
                    raise fail(f"corrupted member '{member}' (variable '{name}' of layer {i}): {exc}") from None
    return header, arrays
