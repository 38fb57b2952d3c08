"""The ``akida-sim`` command as a user sees it: spawned as ``python -m akida_sim``, its text and JSON."""
import json
import os
import subprocess
import sys
import threading
import time

import numba
import numpy as np
import pytest

from akida_sim import cli, compile_note, zoo

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def akida_sim(*argv):
    """``python -m akida_sim ARGV`` with this checkout first on the path: (exit status, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "akida_sim", *argv], capture_output=True, text=True, env=env,
                          timeout=600)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    """An RGB, 32x32 PNG of the first test digit whose label is 9 (the model takes 8x8x1)."""
    image = pytest.importorskip("PIL.Image")
    x, y = zoo.labelled_data("digits")
    index = int(np.flatnonzero(y == 9)[0])
    path = tmp_path_factory.mktemp("images") / "digit.png"
    image.fromarray(x[index, ..., 0]).convert("RGB").resize((32, 32), image.NEAREST).save(path)
    return str(path)


def test_an_image_prints_its_predicted_class_and_every_conversion(digit_png):
    status, out, err = akida_sim("run", "-i", digit_png)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["RGB image converted to grey (the model takes 1 channel).",
                         "Image resized from 32x32 to 8x8 (the model input)."]
    assert lines[-1] == "Predicted class: 9"
    assert "No input provided" not in out and "Traceback" not in err


def test_a_grey_image_for_a_colour_model_gets_a_note(tmp_path, monkeypatch):
    image = pytest.importorskip("PIL.Image")
    import akida_sim as ak
    monkeypatch.setitem(zoo.MODELS, "colour", (lambda: [
        ak.InputData(input_shape=(4, 4, 3), input_bits=4),
        ak.FullyConnected(units=2, weights_bits=2, activation=False)], "colour input"))
    path = tmp_path / "grey.png"
    image.fromarray(np.zeros((4, 4), np.uint8)).save(path)
    frames, notes = cli.load_input(str(path), zoo.build("colour"))
    assert frames.shape == (1, 4, 4, 3)
    assert notes[0] == "grey image converted to RGB (the model takes 3 channels)."


def test_batch_runs_a_labelled_subset_and_json_is_compact():
    status, out, err = akida_sim("run", "-m", "digits", "--batch", "8", "--json")
    assert status == 0, err
    report = json.loads(out)
    x, y = zoo.labelled_data("digits")
    assert report["frames"] == 8 and report["notes"] == [
        f"No input provided, using the first 8 of the {len(x)} labelled test samples of 'digits'."]
    assert report["accuracy"] == round(float(np.mean(np.array(report["predicted_classes"]) == y[:8])), 4)
    assert len(out.splitlines()) == len(report) + 2  # one line per key: the classes are one compact array
    assert '"predicted_classes": [' in out


def test_the_full_split_accuracy_is_rounded(capsys):
    assert cli.main(["run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == len(zoo.labelled_data("digits")[0]) == len(report["predicted_classes"])
    assert report["accuracy"] == round(report["accuracy"], cli.ACCURACY_DIGITS)
    assert len(repr(report["accuracy"])) <= 2 + cli.ACCURACY_DIGITS


def test_a_batch_larger_than_the_split_is_one_error_line(capsys):
    assert cli.main(["run", "--batch", "100000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "450 labelled test samples" in err


def test_random_frames_list_their_classes(capsys, monkeypatch):
    monkeypatch.setattr(cli, "MAX_LISTED_CLASSES", 3)
    assert cli.main(["run", "-m", "mnist", "--batch", "5", "--software"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("Predicted classes: ") and last.endswith(" ... (5 frames; --json lists them all)")
    assert len(last.split(": ")[1].split(" ...")[0].split()) == 3


@pytest.mark.parametrize("value", ["0", "-3", "two"])
def test_a_bad_batch_is_a_run_error(value):
    status, out, err = akida_sim("run", "--batch", value)
    assert status == 2 and out == ""
    # one line (every user error is), naming run's option and run's own help, not the top-level usage
    assert err.startswith("akida-sim run: error: argument --batch") and err.count("\n") == 1
    assert "akida-sim run --help" in err


def test_the_compile_note_is_printed_once_when_compiling_lasts(monkeypatch):
    monkeypatch.setattr(compile_note, "_printed", False)

    @numba.njit
    def fresh(x):
        return x + 1

    class Stream:
        def __init__(self):
            self.text, self.written = "", threading.Event()

        def write(self, text):
            self.text += text
            self.written.set()

        def flush(self):
            pass

    stream = Stream()
    with compile_note.compile_note("akida-sim", stream=stream, after_s=0.0) as watch:
        fresh(1)
        assert stream.written.wait(10)
    assert watch.seconds > 0
    with compile_note.compile_note("akida-sim", stream=stream, after_s=0.0):
        numba.njit(lambda x: x - 1)(1)
        time.sleep(0.2)
    assert stream.text.count("\n") == 1 and stream.text.startswith("akida-sim: compiling Numba kernels on their "
                                                                   "first use (up to about ")


def test_no_compile_note_after_a_short_compilation(monkeypatch, capsys):
    monkeypatch.setattr(compile_note, "_printed", False)
    numba.njit(lambda x: x * 3)(1)  # Numba's compiler is loaded
    with compile_note.compile_note("akida-sim", after_s=2.0) as watch:
        numba.njit(lambda x: x * 2)(1)  # well under two seconds
        time.sleep(2.5)  # the block goes on, not compiling
    assert 0 < watch.seconds < 2.0 and capsys.readouterr().err == ""


def test_no_compile_note_without_compiling(monkeypatch):
    monkeypatch.setattr(compile_note, "_printed", False)
    lines = []
    with compile_note.compile_note("akida-sim", stream=None, after_s=0.0):
        time.sleep(0.1)
        lines.append(compile_note._printed)
    assert lines == [False]


def test_after_warmup_a_run_compiles_nothing(capsys):
    from numba.core import event

    assert cli.main(["warmup"]) == 0
    assert capsys.readouterr().out.startswith(f"Kernels of the {len(zoo.MODELS)} built-in models ready in ")
    compiled = []

    class Count(event.Listener):
        def on_start(self, evt):
            compiled.append(evt.data["dispatcher"].py_func.__name__)

        def on_end(self, evt):
            pass

    listener = Count()
    event.register("numba:compile", listener)
    try:
        for argv in (["run", "--batch", "1"], ["run"], ["run", "-m", "dscnn_kws", "--batch", "40"]):
            assert cli.main(argv) == 0
    finally:
        event.unregister("numba:compile", listener)
    assert compiled == []
