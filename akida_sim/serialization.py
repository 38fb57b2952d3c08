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
import secrets
import stat
import zipfile
import zlib

import numpy as np

from .errors import ModelFileError, ModelFileNotFoundError, shape_text
from .limits import MAX_LAYERS, memory_budget

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
    """Write ``data`` to ``path`` via a temporary file in the same folder and
    a rename. The file gets mode 0666 less the umask, as any file a program
    creates (the temporary file is created with that mode, so the umask is
    applied by the system, never read)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = os.path.join(folder, f".akida_sim-{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
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
        data = read_regular_file(path, memory_budget())
    except FileNotFoundError as exc:
        raise ModelFileNotFoundError(f"File not found: '{path}'") from exc
    except FileTooLarge as exc:
        raise ModelFileError(f"Invalid model file '{path}': {exc}") from None
    except NotARegularFile as exc:
        raise ModelFileNotFoundError(f"Cannot read model file '{path}': {exc}") from None
    except OSError as exc:
        raise ModelFileNotFoundError(f"Cannot read model file '{path}': {exc.strerror or exc}") from exc
    except ValueError as exc:  # a path with a NUL byte
        raise ModelFileNotFoundError(f"Cannot read model file {path!r}: {exc}") from None
    if not data:
        raise ModelFileNotFoundError(f"File is empty: '{path}'")
    return read_model_bytes(data, source=path)


class NotARegularFile(OSError):
    """A path that is not a regular file."""


class FileTooLarge(OSError):
    """A file larger than allowed."""


def read_regular_file(path, limit):
    """The bytes of the regular file ``path``, refused (NotARegularFile)
    when it is a directory, device, FIFO or socket, or larger than ``limit``
    bytes (FileTooLarge), before anything is read. Opened non-blocking, so a FIFO never
    blocks; other OSErrors pass through."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotARegularFile("not a regular file (a directory, device, FIFO or socket)")
    with os.fdopen(fd, "rb") as f:
        if info.st_size > limit:
            raise FileTooLarge(f"the file holds {info.st_size} bytes, more than the memory budget of {limit} "
                                  f"bytes (akida_sim.limits.set_memory_budget raises it)")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"the file grew past the memory budget of {limit} bytes while read")
    return data


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
    names = archive.namelist()
    if len(set(names)) != len(names):
        seen = set()
        twice = next(n for n in names if n in seen or seen.add(n))
        raise fail(f"member '{twice}' appears more than once (zip readers would disagree on which one to read)")
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
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise fail(f"format version {version!r} is not supported (this akida_sim reads 1..{FORMAT_VERSION})")
    try:
        check_keys(header, HEADER_KEYS, "the header")
    except ValueError as exc:
        raise fail(str(exc)) from None
    layers = header.get("layers")
    if not isinstance(layers, list):
        raise fail("'layers' must be a list")
    if len(layers) > MAX_LAYERS:
        raise fail(f"'layers' holds {len(layers)} layers, more than the limit of {MAX_LAYERS}")
    for i, entry in enumerate(layers):
        if not isinstance(entry, dict) or not isinstance(entry.get("variables"), dict):
            raise fail(f"layer entry {i} is malformed")
        try:
            check_keys(entry, LAYER_ENTRY_KEYS, f"layer entry {i}")
        except ValueError as exc:
            raise fail(str(exc)) from None
    return header, ArchiveSource(archive)


#: The keys of the header and of each of its layer entries.
HEADER_KEYS = ("format", "version", "layers")
LAYER_ENTRY_KEYS = ("type", "config", "variables", "learning")


def check_keys(mapping, expected, where):
    """Refuse (ValueError) a dict whose keys are not exactly ``expected``, naming the key."""
    unknown = [k for k in mapping if k not in expected]
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} (expected {list(expected)})")
    missing = [k for k in expected if k not in mapping]
    if missing:
        raise ValueError(f"{where}: missing key {missing[0]!r} (expected {list(expected)})")


def check_finite(value, where):
    """Refuse (ValueError) a NaN or infinite float anywhere in a JSON value, naming where it is."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is {value}: not a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            check_finite(item, f"{where}['{key}']")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_finite(item, f"{where}[{i}]")


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

    #: Members of this many bytes or fewer are kept once read, the last few of
    #: them: members shared by many layers are read once.
    SMALL_MEMBER_BYTES = 4096
    KEPT_MEMBERS = 8

    def __init__(self, archive):
        self._archive = archive
        self._kept = {}

    def close(self):
        self._archive.close()

    def array(self, member, name, shape, dtype):
        dtype = np.dtype(dtype)
        if not isinstance(member, str):
            raise ValueError(f"variable '{name}': member name must be a str, got {member!r}")
        key = (member, tuple(shape), dtype)
        if key not in self._kept:
            array = self._read(member, name, shape, dtype)
            if array.nbytes > self.SMALL_MEMBER_BYTES:
                return array
            if len(self._kept) >= self.KEPT_MEMBERS:
                self._kept.pop(next(iter(self._kept)))
            self._kept[key] = array
        return self._kept[key]  # read-only use: the layer keeps a copy (set_variable)

    def _read(self, member, name, shape, dtype):
        nbytes = math.prod(shape) * dtype.itemsize
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
