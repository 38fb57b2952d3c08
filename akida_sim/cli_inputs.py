"""Input frames for ``akida-sim run -i INPUT``: a ``.npy`` array or an image file.

A ``.npy`` file is loaded without unpickling; it holds one frame (x, y, c) or a
batch (N, x, y, c) of integers within the model's input range. An image
(PNG, JPEG, ... read by Pillow, the ``image`` extra, imported only here) is
converted to the model's channels (1: grey, 3: RGB) with a note, resized to its (x, y)
input when needed, and its 8-bit pixels scaled down to the input bit width.
Every conversion is reported as a note.
"""
import os
import stat

import numpy as np

from .errors import SimValueError, shape_text
from .layers import IMAGE_BITS
from .limits import array_bytes, check_bytes

#: Suffixes read as numpy arrays; any other file is opened as an image.
ARRAY_SUFFIXES = (".npy",)
#: Image modes for the model input channels.
IMAGE_MODES = {1: "L", 3: "RGB"}
#: How a note names a Pillow image mode (other modes by their Pillow name).
MODE_NAMES = {"1": "black-and-white", "L": "grey", "LA": "grey with alpha", "P": "palette", "RGB": "RGB",
              "RGBA": "RGBA", "CMYK": "CMYK", "I": "32-bit grey", "I;16": "16-bit grey", "F": "float grey"}


def _fail(path, what):
    return SimValueError(f"input '{path}': {what}")


#: Largest ``.npy`` header read (numpy's own default).
MAX_NPY_HEADER_BYTES = 10000


def _npy_header(path, f):
    """(shape, fortran_order, dtype) from the header of the open ``.npy``
    file ``f``, read without its data."""
    try:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy format version {version}")
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        return read(f, max_header_size=MAX_NPY_HEADER_BYTES)
    except (ValueError, EOFError, SyntaxError, TypeError) as exc:
        raise _fail(path, f"not a .npy array file (a .npz archive, an image or another format?): {exc}") from None


def load_array(path, model):
    """(N, x, y, c) uint8 frames from a ``.npy`` file, and the notes to print.

    The header is read first: its shape, dtype and size (against the file's
    and the memory budget) are checked before the data is read."""
    with open(path, "rb") as f:
        shape, fortran_order, dtype = _npy_header(path, f)
        if dtype.hasobject:
            raise _fail(path, "not a plain numpy array (object arrays are never unpickled)")
        _check_frames_shape(path, shape, model)
        if dtype.kind not in "iub":
            raise _fail(path, f"holds {dtype.name} values, expected integers (uint8)")
        nbytes = array_bytes(shape, dtype.itemsize)
        left = os.fstat(f.fileno()).st_size - f.tell()
        if nbytes > left:
            raise _fail(path, f"its header declares {shape_text(shape)} {dtype.name} ({nbytes} bytes), the file "
                              f"holds {left} bytes of data")
        frames = shape[0] if len(shape) == 4 else 1
        check_bytes(f"input '{path}': {shape_text(shape)} {dtype.name}", nbytes * 2 + frames_bytes(model, frames))
        array = np.frombuffer(f.read(nbytes), dtype).reshape(shape, order="F" if fortran_order else "C")
    if array.shape == tuple(model.input_shape):
        array = array[None]
    top = (1 << min(model.layers[0].input_bits, IMAGE_BITS)) - 1
    if array.size and (array.min() < 0 or array.max() > top):
        raise _fail(path, f"holds values in [{array.min()}, {array.max()}], the model takes 0..{top}")
    notes = [] if array.dtype == np.uint8 else [f"Input {array.dtype.name} values converted to uint8."]
    return array.astype(np.uint8), notes


def _check_frames_shape(path, shape, model):
    expected = tuple(model.input_shape)
    if tuple(shape) != expected and (len(shape) != 4 or tuple(shape[1:]) != expected or shape[0] < 1):
        raise _fail(path, f"holds an array of shape {shape_text(shape)}, expected {shape_text(expected)} "
                          f"or (N, {shape_text(expected)[1:]}")


def frames_bytes(model, frames):
    """Bytes ``akida-sim run`` allocates around ``frames`` frames: the uint8
    inputs drawn at random (with a float64 draw each) and the outputs
    (int32 then float32)."""
    return frames * (10 * array_bytes(model.input_shape, 1) + 8 * array_bytes(model.output_shape, 1))


def _pillow():
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ImportError("reading image files needs Pillow: pip install 'akida-sim[image]'") from None
    return Image, UnidentifiedImageError


def load_image(path, model):
    """(1, x, y, c) uint8 frame from an image file, and the notes to print."""
    Image, UnidentifiedImageError = _pillow()
    x, y, c = model.input_shape
    if c not in IMAGE_MODES:
        raise _fail(path, f"the model takes {c} channels; an image gives 1 (grey) or 3 (RGB): pass a .npy array")
    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            image = image.convert(IMAGE_MODES[c])
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _fail(path, f"not an image Pillow can read ({exc})") from None
    notes = []
    if mode != image.mode:
        channels = "1 channel" if c == 1 else f"{c} channels"
        notes.append(f"{MODE_NAMES.get(mode, mode)} image converted to {MODE_NAMES[image.mode]} "
                     f"(the model takes {channels}).")
    # Axis 1 (x) of an Akida input is the image's rows, axis 2 (y) its columns.
    if image.size != (y, x):
        notes.append(f"Image resized from {image.size[1]}x{image.size[0]} to {x}x{y} (the model input).")
        image = image.resize((y, x), Image.BILINEAR)
    pixels = np.asarray(image, dtype=np.uint8).reshape(1, x, y, c)
    bits = min(model.layers[0].input_bits, IMAGE_BITS)
    if bits < IMAGE_BITS:
        notes.append(f"8-bit pixels scaled to the model's {bits}-bit input.")
        pixels = pixels >> (IMAGE_BITS - bits)
    return pixels, notes


def load_input(path, model):
    """Frames and notes from ``path`` (``.npy`` array or image file): a
    regular file, else SimValueError."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise _fail(path, f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    if not stat.S_ISREG(mode):
        raise _fail(path, "not a regular file (a directory, device, FIFO or socket)")
    if path.lower().endswith(ARRAY_SUFFIXES):
        return load_array(path, model)
    return load_image(path, model)
