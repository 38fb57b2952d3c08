"""The ``akida-sim`` command, laid out like the vendor's ``akida`` command.

- ``akida-sim run -m MODEL [-i INPUT]``: MODEL is a saved model file or a
  built-in model name; INPUT a ``.npy`` array or an image file (when absent:
  a built-in model's labelled test samples, else random frames). The model is
  mapped on a simulated device; the command prints the mapped summary, then
  the estimated statistics and metrics as the vendor's ``akida run`` does,
  then the predicted classes or the accuracy (``--json`` for scripts).
- ``akida-sim devices``: the simulated devices and their NPs.
- ``akida-sim summary MODEL [--map]``: the summary of a model.
- ``akida-sim version`` (as the vendor's ``akida version``) or ``akida-sim --version``.
- ``akida-sim warmup``: compile the kernels the built-in models use, once
  (Numba caches them on disk), so that later runs start in a second or two.
- ``akida-sim convert MODEL [-o OUT]``: a saved Keras model to an akida_sim
  model file, as the vendor's ``cnn2snn convert`` (see ``cli_convert``).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from hw_model.costs import floor_line

from . import __version__, zoo
from .cli_convert import add_convert_parser
from .cli_inputs import frames_bytes, load_input
from .compile_note import FIRST_COMPILE_S, compile_note
from .device import AKD1000, TwoNodesIPv1
from .enums import BackendType, MapMode
from .errors import AkidaSimError
from .limits import check_bytes
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
#: Most predicted classes the text output of ``run`` lists (``--json`` has them all).
MAX_LISTED_CLASSES = 20
#: Random frames per built-in model ``warmup`` runs: enough work for the multi-threaded kernels.
WARMUP_BATCH = 32
#: Decimal places of the accuracy in the ``--json`` report (0.9933, not 0.9933333396911621).
ACCURACY_DIGITS = 4


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
    labelled = zoo.labelled_data(args.model) if built_in else None
    if labelled is not None:
        return _labelled_frames(args, *labelled)
    frames = args.batch or DEFAULT_FRAMES
    check_bytes(f"--batch {frames} (frames of {model.input_shape})", frames_bytes(model, frames))
    return zoo.random_inputs(model, frames, np.random.default_rng(args.seed + 1)), None, [RANDOM_INPUT_NOTE]


def _labelled_frames(args, x, labels):
    """All of a built-in model's labelled test samples, or the first ``--batch`` of them."""
    if args.batch is None:
        return x, labels, [f"No input provided, using the {len(x)} labelled test samples of '{args.model}'."]
    if args.batch > len(x):
        raise CliError(f"--batch: '{args.model}' has {len(x)} labelled test samples, got --batch {args.batch}")
    return x[:args.batch], labels[:args.batch], [
        f"No input provided, using the first {args.batch} of the {len(x)} labelled test samples of '{args.model}'."]


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
    with compile_note("akida-sim") as compiling:
        scores = _scores(model, x)
    elapsed = time.perf_counter() - start - compiling.seconds  # the simulator's speed, not Numba's
    stats, metrics = model.statistics, model.metrics
    classes = scores.reshape(len(x), -1).argmax(axis=1)
    report = {"model": args.model, "input": args.input, "notes": notes, "frames": len(x),
              "output_shape": list(scores.shape),
              "predicted_classes": classes.tolist(),
              "simulated_frames_per_second": round(len(x) / elapsed, 2) if elapsed > 0 else None}
    if labels is not None:
        report["accuracy"] = round(float(model.evaluate(x, np.asarray(labels, np.int32))), ACCURACY_DIGITS)
    if on_chip:
        report.update(_hardware_report(model, args, stats))
        report["metrics"] = {name: metrics[name] for name in CHIP_METRICS}
    if args.save:
        model.save(args.save)
        report["saved_to"] = args.save
    if args.json:
        print(_json_text(report))
        return 0
    for note in notes:
        print(note)
    model.summary()
    if on_chip:
        print(_estimate_text(stats, metrics))
    else:
        print(f"Average framerate = {stats.fps:.2f} fps (measured on this host, simulated)"
              if stats.fps is not None else str(stats))
        print("(not mapped on hardware: the frame rate is the host's; no power, energy or chip metrics)")
    if labels is not None:
        print(f"Accuracy: {100 * report['accuracy']:.2f} % on {len(x)} labelled samples")
    else:
        print(_classes_text(classes))
    if args.save:
        print(f"Saved to {args.save}")
    return 0


def _estimate_text(stats, metrics):
    """The vendor's statistics block, labelled as estimates: the chip-only figures, then the
    host-inclusive ones with their ranges and the host profile, then the metrics."""
    c, p = stats.chip, stats.powers
    lines = [f"ESTIMATED (cost model, not measured; host profile '{stats.host}', "
             f"{'cold first call after map()' if stats.cold else 'warm call'}):",
             f"Chip framerate (chip only, steady state) = {c.fps:.2f} fps{_span(c.fps_range)}",
             f"Chip latency (first frame) = {c.latency_s * 1e3:.3f} ms",
             f"Dynamic energy above the floor (mJ/frame): {c.dynamic_mj_per_frame:.4g}{_span(c.dynamic_mj_range)}",
             floor_line(p["floor"]),
             f"Average framerate = {stats.fps:.2f} fps{_span(stats.fps_range)} (host included)",
             f"Last inference power range (mW):  Avg {p['average']:.2f} / Min {p['min']:.2f} / "
             f"Max {p['max']:.2f} / Std {p['std']:.2f}",
             f"Last inference energy consumed (mJ/frame): {stats.energy:.4g}{_span(stats.energy_range)} "
             f"(host included; floor's share {100 * c.floor_share:.0f} %)",
             "Model metrics:"]
    lines += [f"  {name}: {metrics[name]}" for name in CHIP_METRICS]
    lines += [f"Warning: {w}" for w in stats.warnings]
    return "\n".join(lines)


def _span(r):
    return f" (estimated range {r[0]:.4g} to {r[1]:.4g})"


def _classes_text(classes):
    """The predicted class of one frame, or the first MAX_LISTED_CLASSES of a batch's."""
    if len(classes) == 1:
        return f"Predicted class: {classes[0]}"
    listed = " ".join(map(str, classes[:MAX_LISTED_CLASSES]))
    more = f" ... ({len(classes)} frames; --json lists them all)" if len(classes) > MAX_LISTED_CLASSES else ""
    return f"Predicted classes: {listed}{more}"


def _json_text(report):
    """The ``--json`` report: one line per key, each value compact (a list of classes on one line)."""
    lines = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in report.items()]
    return "{\n" + ",\n".join(lines) + "\n}"


def _hardware_report(model, args, stats):
    """Device, NPs, sequences and the estimated cost of the last (mapped) inference: the chip's
    own figures and the host-inclusive ones apart, each named as an estimate."""
    c, h = stats.chip, stats.host_inclusive
    return {
        "device": args.device,
        "mapping_mode": args.mode,
        "sequences": [{"name": s.name, "backend": s.backend.name,
                       "program_bytes": None if s.program is None else len(s.program)} for s in model.sequences],
        "nps": model.np_count,
        "components": {t.name: n for t, n in model.component_count.items()},
        "estimated_chip": {
            "frames_per_second": round(c.fps, 2), "frames_per_second_range": [round(v, 2) for v in c.fps_range],
            "steady_frame_clk": round(c.steady_frame_clk), "first_frame_clk": round(c.first_frame_clk),
            "latency_ms": round(c.latency_s * 1e3, 4),
            "dynamic_energy_mj_per_frame": c.dynamic_mj_per_frame,
            "dynamic_energy_mj_per_frame_range": list(c.dynamic_mj_range),
            "floor_share_of_energy": round(c.floor_share, 4)},
        "estimated_with_host": {
            "host_profile": h.host, "cold_first_call": h.cold,
            "frames_per_second": round(h.fps, 2), "frames_per_second_range": [round(v, 2) for v in h.fps_range],
            "energy_mj_per_frame": round(h.energy_mj, 4),
            "energy_mj_per_frame_range": [round(v, 4) for v in h.energy_range],
            "floor_power_mw": round(stats.powers["floor"], 2),
            "power_mw": {key: round(stats.powers[key], 2) for key in ("average", "min", "max", "std")},
            "host_ms": round(h.host_s * 1e3, 4)},
        "estimate_warnings": list(stats.warnings),
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


def _warmup(args):
    """Run every built-in model, mapped, on one frame and on a batch (its labelled test samples, or
    WARMUP_BATCH random frames): the kernels it needs, serial and multi-threaded, are compiled or loaded."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    with compile_note("akida-sim"):
        for name in zoo.MODELS:
            model = zoo.build(name, seed=0)
            model.map(AKD1000())
            labelled = zoo.labelled_data(name)
            batch = zoo.random_inputs(model, WARMUP_BATCH, rng) if labelled is None else labelled[0]
            for x in (batch[:1], batch):
                model.forward(x)
    print(f"Kernels of the {len(zoo.MODELS)} built-in models ready in {time.perf_counter() - start:.1f} s "
          f"(cached on disk: later runs load them)")
    return 0


def _version(args):
    print(__version__)
    return 0


def _defaults_help(text, default):
    return f"{text} (default: {default})"


def _positive_int(text):
    """argparse type of ``--batch``: an int >= 1 (a mistake is reported with ``run``'s usage)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse's parser, its errors on one line (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser():
    parser = _Parser(prog="akida-sim", description="Bit-exact Akida 1.0 (AKD1000) simulator")
    parser.add_argument("--version", action="version", version=f"akida-sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="map a model on a simulated device, run it and print its statistics")
    run.add_argument("-m", "--model", default=zoo.DEFAULT_MODEL,
                     help=_defaults_help(f"a saved model file or a built-in model: {', '.join(sorted(zoo.MODELS))}",
                                         zoo.DEFAULT_MODEL))
    run.add_argument("-i", "--input", help=_defaults_help(
        "input frames: a .npy array (x, y, c) or (N, x, y, c), or an image file (PNG, JPEG; needs the 'image' extra)",
        "random frames, or a built-in model's labelled test samples"))
    run.add_argument("--batch", type=_positive_int, metavar="N", help=_defaults_help(
        "number of frames when no input is given: the first N labelled test samples of a built-in model "
        "that has them (digits), else N random frames",
        f"all the labelled test samples, or {DEFAULT_FRAMES} random frame"))
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

    warmup = sub.add_parser("warmup", help=f"compile the kernels of the built-in models once (a first run "
                                           f"otherwise takes up to about {FIRST_COMPILE_S} s more); Numba caches "
                                           f"them on disk")
    warmup.set_defaults(func=_warmup)

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
        if args.batch is not None and args.input is not None:
            parser.error("--batch sets the number of frames when no input is given: it cannot go with -i/--input")
        if not 0 <= args.seed < 2 ** 63:
            parser.error(f"--seed must be in 0..2**63-1, got {args.seed}")
    if hasattr(args, "device"):
        args.device = args.device or DEFAULT_DEVICE
        args.mode = args.mode or DEFAULT_MODE


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_combinations(parser, args)
    try:
        return args.func(args)
    except (AkidaSimError, CliError, ImportError, OSError) as exc:
        print(f"akida-sim: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("akida-sim: error: out of memory (lower --batch, or the input's size)", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug: still one line, never a traceback
        print(f"akida-sim: internal error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc):
    """The error's message on one line."""
    return " ".join(str(exc).split())


if __name__ == "__main__":
    sys.exit(main())
