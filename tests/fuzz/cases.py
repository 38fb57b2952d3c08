"""What each fuzz case does, inside a sandboxed child (see sandbox.py).

``run(kind, payload)`` returns ``("ok", detail)`` when the call succeeded and
its result checked correct, ``("refused", class name, message)`` when it
raised an akida_sim error, and lets anything else propagate (the sandbox
reports it as a failure).
"""
import contextlib
import io
import os
import tempfile
import time

import numpy as np

import akida_sim as ak
from akida_sim import cli

#: A loaded model is run forward only below this many MACs per frame (time).
MAX_FORWARD_MACS = 10 ** 7


def warm_up():
    """Compile the kernels once in the worker, before it forks."""
    from tests.fuzz.strategies import base_model, learning_model
    for model in (base_model(), learning_model()):
        model.forward(np.ones((2, *model.input_shape), np.uint8))
    model = base_model()
    model.map(ak.AKD1000())
    model.forward(np.ones((2, *model.input_shape), np.uint8))


def _check_model(model):
    """A loaded model is whole: it round-trips through its file format and,
    when small, runs forward to the same outputs as its reloaded copy."""
    copy = ak.Model.from_buffer(model.to_buffer())
    assert [l.name for l in copy.layers] == [l.name for l in model.layers]
    if model.layer_count < 2 or model.macs > MAX_FORWARD_MACS:
        return ("ok", "loaded")
    if all(l.layer_type == ak.LayerType.InputData for l in model.layers):
        return ("ok", "loaded")
    bits = min(model.layers[0].input_bits, 8)
    x = np.random.default_rng(0).integers(0, 1 << bits, size=(2, *model.input_shape), dtype=np.uint8)
    np.testing.assert_array_equal(model.forward(x), copy.forward(x))
    return ("ok", "loaded and ran")


def _model_file(data):
    return _check_model(ak.Model.from_buffer(data))


def _model_path(data):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.aksim")
        with open(path, "wb") as f:
            f.write(data)
        return _check_model(ak.Model(path))


def _model_dict(description):
    return _check_model(ak.Model.from_dict(description))


def _layer(spec):
    kind, kwargs, input_shape, input_bits = spec
    model = ak.Model()
    model.add(ak.InputData(input_shape=input_shape, input_bits=input_bits))
    model.add(getattr(ak, kind)(**kwargs))
    return _check_model(model)


def _what_if(spec):
    from tests.fuzz.strategies import base_model
    device = ak.what_if_device(**spec)
    model = base_model()
    model.map(device)
    model.forward(np.ones((2, *model.input_shape), np.uint8))
    stats = model.statistics
    for value in (stats.fps, stats.energy, *stats.powers.values()):
        assert value is None or np.isfinite(value), stats
    return ("ok", "priced")


def _add_classes(n):
    from tests.fuzz.strategies import learning_model
    model = learning_model()
    units = model.output_shape[2]
    model.add_classes(n)
    assert model.output_shape[2] == units * (1 + n)
    return ("ok", "added")


def _cli(spec):
    argv, files = spec
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
        os.chdir(folder)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:
                code = exc.code
    text = err.getvalue()
    assert "Traceback" not in text, text
    if code == 0:
        return ("ok", "ran")
    assert code == 2 and text.count("\n") == 1, (code, text)
    return ("refused", "cli", text)


def _probe(what):
    """The harness's own check: exhaust the address space, or outlive the timeout."""
    if what == "memory":
        return ("ok", np.ones(2 ** 32, np.uint8).sum())
    time.sleep(3600)
    return ("ok", "slept")


_CASES = {"model_file": _model_file, "model_path": _model_path, "model_dict": _model_dict, "layer": _layer,
          "what_if": _what_if, "add_classes": _add_classes, "cli": _cli,
          "probe": _probe}


def run(kind, payload):
    """Run one case; see the module docstring."""
    try:
        return _CASES[kind](payload)
    except ak.AkidaSimError as exc:
        return ("refused", type(exc).__name__, str(exc)[:500])
