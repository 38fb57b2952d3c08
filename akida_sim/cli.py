"""The ``akida-sim`` command, laid out like the vendor's ``akida`` command.

- ``akida-sim run -m MODEL [-i INPUT]``: MODEL is a saved model file or a
  built-in model name; INPUT a ``.npy`` array or an image file (random frames
  when absent). The model is mapped on a simulated device; the command prints
  the mapped summary, then the estimated statistics and metrics as the
  vendor's ``akida run`` does (``--json`` for scripts).
- ``akida-sim devices``: the simulated devices and their NPs.
- ``akida-sim summary MODEL [--map]``: the summary of a model.
- ``akida-sim version`` (as the vendor's ``akida version``) or ``akida-sim --version``.
- ``akida-sim convert MODEL [-o OUT]``: a saved Keras model to an akida_sim
  model file, as the vendor's ``cnn2snn convert`` (see ``cli_convert``).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from . import __version__, zoo
from .cli_convert import add_convert_parser
from .cli_inputs import load_input
from .device import AKD1000, TwoNodesIPv1
from .enums import BackendType, MapMode, NPType
from .errors import AkidaSimError
from .metrics import CHIP_METRICS
from .model import Model
from .serialization import FILE_SUFFIX

#: Simulated devices by name (``devices()[0]`` is the first).
DEVICES = {"AKD1000": AKD1000, "TwoNodesIPv1": TwoNodesIPv1}
DEFAULT_DEVICE = "AKD1000"
DEFAULT_MODE = MapMode.AllNps.name
#: Random frames when no input is given.
DEFAULT_FRAMES = 1
#: The vendor's words when no input is given.
RANDOM_INPUT_NOTE = "No input provided, using random data."


class CliError(Exception):
    """A command-line mistake (exit status 2)."""


def load_model(spec, seed):
    """A model from a file path or a built-in name."""
    if os.path.exists(spec):
        return Model(spec)
    if spec in zoo.MODELS:
        return zoo.build(spec, seed=seed)
    raise CliError(f"-m/--model: '{spec}' is neither a model file nor a built-in model "
                   f"(built-ins: {', '.join(sorted(zoo.MODELS))})")


def _frames(args, model):
    """(frames, labels or None, notes) for ``run``."""
    if args.input is not None:
        x, notes = load_input(args.input, model)
        return x, None, notes
    built_in = not os.path.exists(args.model)
    labelled = zoo.labelled_data(args.model) if built_in and args.batch is None else None
    if labelled is not None:
        x, labels = labelled
        return x, labels, [f"No input provided, using the {len(x)} labelled test samples of '{args.model}'."]
    frames = args.batch or DEFAULT_FRAMES
    return zoo.random_inputs(model, frames, np.random.default_rng(args.seed + 1)), None, [RANDOM_INPUT_NOTE]


def _scores(model, x):
    last = model.layers[-1]
    if last.parameters.activation:
        return model.forward(x).astype(np.float32)
    return model.predict(x)


def _run(args):
    model = load_model(args.model, args.seed)
    x, labels, notes = _frames(args, model)
    if not args.software:
        model.map(DEVICES[args.device](), mode=MapMode[args.mode])
    on_chip = any(s.backend == BackendType.Hardware for s in model.sequences)
    start = time.perf_counter()
    scores = _scores(model, x)
    elapsed = time.perf_counter() - start
    stats, metrics = model.statistics, model.metrics
    classes = scores.reshape(len(x), -1).argmax(axis=1)
    report = {"model": args.model, "input": args.input, "notes": notes, "frames": len(x),
              "output_shape": list(scores.shape),
              "predicted_classes": classes.tolist(),
              "simulated_frames_per_second": round(len(x) / elapsed, 2) if elapsed > 0 else None}
    if labels is not None:
        report["accuracy"] = model.evaluate(x, np.asarray(labels, np.int32))
    if on_chip:
        report.update(_hardware_report(model, args, stats))
        report["metrics"] = {name: metrics[name] for name in CHIP_METRICS}
    if args.save:
        model.save(args.save)
        report["saved_to"] = args.save
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    for note in notes:
        print(note)
    model.summary()
    if on_chip:
        print(f"Floor power (mW): {stats.powers['floor']:.2f}")
    print(f"Average framerate = {stats.fps:.2f} fps" if stats.fps is not None else str(stats))
    if on_chip:
        p = stats.powers
        print(f"Last inference power range (mW):  Avg {p['average']:.2f} / Min {p['min']:.2f} / "
              f"Max {p['max']:.2f} / Std {p['std']:.2f}")
        print(f"Last inference energy consumed (mJ/frame): {stats.energy:.2f}")
        print("Model metrics:")
        for name in CHIP_METRICS:
            print(f"  {name}: {metrics[name]}")
    else:
        print("(not mapped on hardware: the frame rate is the host's; no power, energy or chip metrics)")
    if labels is not None:
        print(f"Accuracy: {100 * report['accuracy']:.2f} % on {len(x)} labelled samples")
    if args.save:
        print(f"Saved to {args.save}")
    return 0


def _hardware_report(model, args, stats):
    """Device, NPs, sequences and the estimated cost of the last (mapped) inference."""
    return {
        "device": args.device,
        "mapping_mode": args.mode,
        "sequences": [{"name": s.name, "backend": s.backend.name,
                       "program_bytes": None if s.program is None else len(s.program)} for s in model.sequences],
        "nps": sum(n for t, n in model.component_count.items() if t != NPType.HRC),
        "components": {t.name: n for t, n in model.component_count.items()},
        "floor_power_mw": round(stats.powers["floor"], 2),
        "fps": round(stats.fps, 2),
        "power_mw": {key: round(stats.powers[key], 2) for key in ("average", "min", "max", "std")},
        "energy_mj_per_frame": round(stats.energy, 4),
    }


def _devices(args):
    for name, make in DEVICES.items():
        device = make()
        types = {}
        for np_info in device.mesh.nps:
            for t in np_info.types:
                types[t.name] = types.get(t.name, 0) + 1
        kinds = ", ".join(f"{n} can be {t}" for t, n in sorted(types.items()))
        first = "  (akida_sim.devices()[0])" if name == DEFAULT_DEVICE else ""
        print(f"{name}: {len(device.mesh.nps)} NPs in {len(device.hw_mesh.nodes)} nodes ({kinds}), "
              f"{device.desc}{first}")
    return 0


def _summary(args):
    model = load_model(args.model, seed=0)
    if args.map:
        model.map(DEVICES[args.device](), mode=MapMode[args.mode])
    model.summary()
    return 0


def _version(args):
    print(__version__)
    return 0


def _defaults_help(text, default):
    return f"{text} (default: {default})"


def build_parser():
    parser = argparse.ArgumentParser(prog="akida-sim", description="Bit-exact Akida 1.0 (AKD1000) simulator")
    parser.add_argument("--version", action="version", version=f"akida-sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="map a model on a simulated device, run it and print its statistics")
    run.add_argument("-m", "--model", default=zoo.DEFAULT_MODEL,
                     help=_defaults_help(f"a saved model file or a built-in model: {', '.join(sorted(zoo.MODELS))}",
                                         zoo.DEFAULT_MODEL))
    run.add_argument("-i", "--input", help=_defaults_help(
        "input frames: a .npy array (x, y, c) or (N, x, y, c), or an image file (PNG, JPEG; needs the 'image' extra)",
        "random frames, or a built-in model's labelled test samples"))
    run.add_argument("--batch", type=int, help=_defaults_help("number of random frames when no input is given",
                                                              DEFAULT_FRAMES))
    run.add_argument("--seed", type=int, default=0,
                     help=_defaults_help("seed of a built-in model's random weights and of the random frames", 0))
    run.add_argument("--device", choices=sorted(DEVICES), help=_defaults_help("simulated device", DEFAULT_DEVICE))
    run.add_argument("--mode", choices=[m.name for m in MapMode], help=_defaults_help("mapping mode", DEFAULT_MODE))
    run.add_argument("--software", action="store_true",
                     help=_defaults_help("run unmapped (no chip statistics)", "off, the model is mapped on --device"))
    run.add_argument("--save", metavar="PATH", help=_defaults_help(
        f"also save the model to PATH (akida_sim's format; suggested extension {FILE_SUFFIX})", "not saved"))
    run.add_argument("--json", action="store_true", help=_defaults_help("print a JSON report only", "off"))
    run.set_defaults(func=_run)

    devices = sub.add_parser("devices", help="list the simulated devices with their NPs")
    devices.set_defaults(func=_devices)

    summ = sub.add_parser("summary", help="print the summary of a model")
    summ.add_argument("model", help="a saved model file or a built-in model name")
    summ.add_argument("--map", action="store_true", help=_defaults_help("map it first (NPs, programs)", "off"))
    summ.add_argument("--device", choices=sorted(DEVICES), help=_defaults_help("device (with --map)", DEFAULT_DEVICE))
    summ.add_argument("--mode", choices=[m.name for m in MapMode],
                      help=_defaults_help("mapping mode (with --map)", DEFAULT_MODE))
    summ.set_defaults(func=_summary)

    version = sub.add_parser("version", help="print the akida_sim version")
    version.set_defaults(func=_version)
    add_convert_parser(sub, _defaults_help)
    return parser


def _check_combinations(parser, args):
    """Options that need another one are errors without it; then fill the defaults."""
    if args.command == "summary" and not args.map:
        for option in ("device", "mode"):
            if getattr(args, option) is not None:
                parser.error(f"--{option} needs --map")
    if args.command == "run":
        if args.software:
            for option in ("device", "mode"):
                if getattr(args, option) is not None:
                    parser.error(f"--{option} maps the model: it cannot go with --software")
        if args.batch is not None:
            if args.input is not None:
                parser.error("--batch sets the number of random frames: it cannot go with -i/--input")
            if args.batch < 1:
                parser.error(f"--batch must be >= 1, got {args.batch}")
    if hasattr(args, "device"):
        args.device = args.device or DEFAULT_DEVICE
        args.mode = args.mode or DEFAULT_MODE


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_combinations(parser, args)
    try:
        return args.func(args)
    except (AkidaSimError, CliError, ImportError) as exc:
        print(f"akida-sim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
