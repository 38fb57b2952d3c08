"""Command line: ``akida-sim run`` runs a built-in model; ``akida-sim summary FILE``."""
import argparse
import json
import sys
import time

import numpy as np

from . import zoo
from .device import AKD1000
from .enums import BackendType, MapMode
from .errors import AkidaSimError
from .model import Model


def _run(args):
    t0 = time.perf_counter()
    model = zoo.build(args.model, seed=args.seed)
    built = time.perf_counter() - t0
    if args.map:
        model.map(AKD1000(), mode=MapMode[args.mode])
    if not args.json:
        model.summary()
    x = zoo.random_inputs(model, args.batch, np.random.default_rng(args.seed + 1))
    t0 = time.perf_counter()
    model.forward(x[:1])
    first_call = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = model.forward(x)
    elapsed = time.perf_counter() - t0
    last = model.layers[-1]
    scores = model.predict(x) if not last.parameters.activation else out.astype(np.float32)
    classes = scores.reshape(len(x), -1).argmax(axis=1)
    report = {
        "model": args.model,
        "batch": args.batch,
        "output_shape": list(out.shape),
        "output_dtype": out.dtype.name,
        "predicted_classes": classes.tolist(),
        "build_seconds": round(built, 4),
        "first_call_seconds": round(first_call, 4),
        "forward_seconds": round(elapsed, 4),
        "simulated_frames_per_second": round(args.batch / elapsed, 2),
    }
    if args.map:
        report.update(_hardware_report(model, args.mode))
    if args.save:
        model.save(args.save)
        report["saved_to"] = args.save
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for key, value in report.items():
            print(f"{key:>24}: {value}")
    return 0


def _hardware_report(model, mode):
    """NPs, sequences and the estimated cost of the last (mapped) forward pass."""
    stats = model.statistics
    return {
        "device": model.device.desc,
        "mapping_mode": mode,
        "sequences": [s.name for s in model.sequences],
        "nps": sum(1 for l in model.layers if l.mapping for c in l.mapping.nps if c.type.name != "HRC"),
        "program_bytes": sum(len(s.program) for s in model.sequences if s.backend == BackendType.Hardware),
        "chip_fps": round(stats.fps, 2),
        "inference_clk_per_frame": round(stats.clk_per_frame),
        "program_clk": round(stats.program_clk),
        "floor_power_mw": round(stats.powers["floor"], 1),
        "average_power_mw": round(stats.powers["average"], 1),
        "energy_mj_per_frame": round(stats.energy, 4),
    }


def _summary(args):
    Model(args.file).summary()
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="akida-sim", description="Bit-exact Akida 1.0 simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="build a built-in model with random calibrated weights and run it")
    run.add_argument("--model", default="dscnn_kws", choices=sorted(zoo.MODELS))
    run.add_argument("--batch", type=int, default=16, help="number of random input frames (>= 1)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--map", action="store_true",
                     help="map the model on a simulated AKD1000 and report NPs, clocks, power and energy")
    run.add_argument("--mode", default="AllNps", choices=[m.name for m in MapMode], help="mapping mode (with --map)")
    run.add_argument("--save", metavar="PATH", help="also save the model to PATH")
    run.add_argument("--json", action="store_true", help="print a JSON report only")
    run.set_defaults(func=_run)
    summ = sub.add_parser("summary", help="print the summary of a saved model")
    summ.add_argument("file")
    summ.set_defaults(func=_summary)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "batch", 1) < 1:
        parser.error(f"--batch must be >= 1, got {args.batch}")
    try:
        return args.func(args)
    except AkidaSimError as exc:
        print(f"akida-sim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
