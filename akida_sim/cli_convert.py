"""``akida-sim convert MODEL``: a saved Keras model to an akida_sim model file, as the vendor's ``cnn2snn convert``.

MODEL is a ``.keras`` file (Keras 3) or an ``.h5`` file (Keras 3's legacy
format, or tf_keras); TensorFlow is imported only when the command runs
(the ``keras`` extra). The model is converted by ``akida_sim.convert`` with
the bit widths, calibration samples (``.npy``, scaled as the Keras model's
inputs), labels and input scaling given, written to OUT (default: MODEL's
path with the suffix ``.aksim``), and the command prints the converted
model's summary and the conversion report. A bit-width option takes one
integer, or ``NAME=BITS`` pairs separated by commas (Keras layer names; the
blocks not named take 4, as ``convert``'s dicts). A model quantized by
quantizeml keeps its own bit widths and input scaling: it converts with
``--samples``/``--labels`` only, and a quantization option given for it
(even at its default value) is refused, naming the option. Loading such a
file imports quantizeml (the ``quantizeml`` extra), which registers its
layer classes with Keras.
"""
import os
import re
import zipfile

import numpy as np

from .errors import AkidaSimError
from .serialization import FILE_SUFFIX
from .tensorflow_logs import quiet_import

#: Suffixes of the Keras model files read.
KERAS_SUFFIXES = (".keras", ".h5")
#: The options that quantize, by the ``convert`` argument each sets (argparse default None: given only when set).
QUANTIZATION_OPTIONS = {"--weights-bits": "weights_bits", "--act-bits": "act_bits",
                        "--input-weights-bits": "input_weights_bits", "--input-scaling": "input_scaling",
                        "--method": "method"}
#: How a saved Keras config names a quantizeml layer: its module (``.keras``), or its registered class name (``.h5``).
QUANTIZEML_MARK = re.compile(r'"module": "quantizeml\.'
                             r'|"class_name": "Custom>(Quantized\w+|InputQuantizer|Dequantizer)"')


class ConvertCliError(AkidaSimError):
    """A mistake in ``akida-sim convert``'s arguments or files (one line, exit status 2)."""


def _one_line(exc):
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def parse_bits(text):
    """``"4"`` -> 4; ``"conv1=8,dense=2"`` -> {"conv1": 8, "dense": 2} (argparse type)."""
    import argparse
    text = text.strip()
    if "=" not in text:
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer or NAME=BITS[,NAME=BITS...], got {text!r}")
    bits = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        try:
            bits[name.strip()] = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected NAME=BITS with an integer BITS, got {item!r}")
        if not name.strip():
            raise argparse.ArgumentTypeError(f"expected NAME=BITS with a Keras layer name, got {item!r}")
    return bits


def _keras_modules():
    try:
        keras = quiet_import("keras")
    except ImportError:
        raise ImportError("akida-sim convert needs TensorFlow/Keras: pip install 'akida-sim[keras]'") from None
    try:
        tf_keras = quiet_import("tf_keras")
    except ImportError:
        tf_keras = None
    return keras, tf_keras


def _saved_config(path, suffix):
    """The JSON text of the model config saved in ``path`` ('' where it cannot be read)."""
    try:
        if suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                return archive.read("config.json").decode()
        import h5py
        with h5py.File(path, "r") as saved:
            config = saved.attrs.get("model_config", "")
        return config.decode() if isinstance(config, bytes) else str(config)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ImportError):
        return ""


def load_keras_model(path):
    """The Keras model saved in ``path`` (``.keras`` or ``.h5``: Keras 3, then tf_keras), uncompiled."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in KERAS_SUFFIXES:
        raise ConvertCliError(f"MODEL '{path}': expected a Keras model file ({', '.join(KERAS_SUFFIXES)}), got "
                              f"suffix {suffix!r}")
    if not os.path.isfile(path):
        raise ConvertCliError(f"MODEL '{path}': no such file")
    keras, tf_keras = _keras_modules()
    loaders = [keras.models.load_model]
    if tf_keras is not None:
        loaders.append(tf_keras.models.load_model)
    if QUANTIZEML_MARK.search(_saved_config(path, suffix)):
        _register_quantizeml_layers(path)
    failures = []
    for load in loaders:
        try:
            return load(path, compile=False)
        except Exception as exc:  # Keras raises ValueError, TypeError, OSError, ... on files it cannot read
            failures.append(_one_line(exc))
    raise ConvertCliError(f"MODEL '{path}': Keras cannot load it: {' / '.join(failures)}")


def _register_quantizeml_layers(path):
    """Import quantizeml (Apache-2.0, the vendor's quantization toolkit), whose import registers its layer classes."""
    try:
        quiet_import("quantizeml")
    except ImportError as exc:
        raise ConvertCliError(f"MODEL '{path}' holds quantizeml layers, which Keras loads only with quantizeml "
                              f"installed (pip install 'akida-sim[quantizeml]'): {_one_line(exc)}") from None


def load_array(path, option):
    """A numeric numpy array from a ``.npy`` file (never unpickled)."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConvertCliError(f"{option} '{path}': cannot be read as a plain .npy array: {_one_line(exc)}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise ConvertCliError(f"{option} '{path}': expected a numeric array, got dtype {array.dtype}")
    return array


def output_path(model_path, out):
    """OUT, or MODEL's path with the akida_sim suffix."""
    return out if out else os.path.splitext(model_path)[0] + FILE_SUFFIX


def quantization_arguments(args, model):
    """{convert argument: value} of the quantization options given; refused for a model quantizeml quantized."""
    from .conversion.quantizeml_reader import is_quantizeml_model
    given = {option: getattr(args, argument) for option, argument in QUANTIZATION_OPTIONS.items()
             if getattr(args, argument) is not None}
    if given and is_quantizeml_model(model):
        raise ConvertCliError(f"{', '.join(given)}: MODEL '{args.model}' is quantized by quantizeml already (its bit "
                              f"widths and input scaling are set); convert it without {', '.join(given)}")
    arguments = {QUANTIZATION_OPTIONS[option]: value for option, value in given.items()}
    if "input_scaling" in arguments:
        arguments["input_scaling"] = tuple(arguments["input_scaling"])
    return arguments


def run_convert(args):
    """The ``convert`` command: load, convert, save, print summary and report; 0 on success."""
    from .conversion import convert
    samples = load_array(args.samples, "--samples") if args.samples else None
    labels = load_array(args.labels, "--labels") if args.labels else None
    if labels is not None and samples is None:
        raise ConvertCliError("--labels needs --samples")
    model = load_keras_model(args.model)
    kwargs = quantization_arguments(args, model)
    akida_model, report = convert(model, samples=samples, labels=labels, return_report=True, **kwargs)
    out = output_path(args.model, args.output)
    try:
        akida_model.save(out)
    except OSError as exc:
        raise ConvertCliError(f"-o/--output '{out}': cannot be written: {_one_line(exc)}") from None
    akida_model.summary()
    print(report)
    print(f"Model successfully converted and saved as {out}.")
    return 0


def add_convert_parser(sub, defaults_help):
    """Register ``convert`` on the ``akida-sim`` subparsers; ``defaults_help(text, default)`` words the help."""
    parser = sub.add_parser("convert", help="convert a saved Keras model (.keras, .h5) to an akida_sim model file")
    parser.add_argument("model", help="a Keras model file: .keras, or .h5 (Keras 3 or tf_keras)")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help=defaults_help("the akida_sim model file written", f"MODEL with suffix {FILE_SUFFIX}"))
    for option, default, what in (("--weights-bits", 4, "weight bits of the hidden layers"),
                                  ("--act-bits", 4, "activation bits")):
        parser.add_argument(option, type=parse_bits, metavar="BITS",
                            help=defaults_help(f"{what}: an integer, or NAME=BITS[,NAME=BITS...] by Keras layer "
                                               f"name (unnamed blocks take 4)", default))
    parser.add_argument("--input-weights-bits", type=parse_bits, metavar="BITS", help=defaults_help(
        "weight bits of the first neural layer", "8 for an InputConvolutional, else --weights-bits"))
    parser.add_argument("--samples", metavar="X.npy", help=defaults_help(
        "calibration samples (N, ...) scaled as the Keras model's inputs (e.g. uint8 images)", "none"))
    parser.add_argument("--labels", metavar="Y.npy", help=defaults_help(
        "class indices (N,) of the samples: the report gives float and converted accuracy", "none"))
    parser.add_argument("--input-scaling", nargs=2, type=float, metavar=("SCALE", "OFFSET"), help=defaults_help(
        "akida_input = SCALE * x + OFFSET (x the first neural layer's input), without a first Rescaling",
        "the model's first Rescaling, else 1 0"))
    parser.add_argument("--method", choices=("hardware", "legacy"), help=defaults_help(
        "quantization of float layers with --samples: hardware-aware, or the vendor's legacy arithmetic",
        "hardware"))
    parser.set_defaults(func=run_convert)
    return parser
