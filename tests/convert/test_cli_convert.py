"""``akida-sim convert MODEL``: a saved Keras model (.keras, .h5) to an akida_sim file, summary and report printed;
every user error one line on stderr with exit status 2."""
import argparse
import os
import subprocess
import sys

import numpy as np
import pytest

import akida_sim
from akida_sim import cli
from akida_sim.cli_convert import parse_bits
from keras_models import random_weights


@pytest.fixture(scope="module")
def saved(keras, tmp_path_factory):
    """A tiny image model saved as .keras and .h5, with uint8 samples and labels as .npy files."""
    layers = keras.layers
    model = random_weights(keras.Sequential([keras.Input((8, 8, 1)), layers.Rescaling(1 / 255, name="rs"),
                                             layers.Conv2D(4, 3, name="c"), layers.ReLU(name="r"),
                                             layers.Flatten(name="f"), layers.Dense(3, name="d")]))
    folder = tmp_path_factory.mktemp("cli_convert")
    model.save(folder / "tiny.keras")
    model.save(folder / "tiny.h5")
    rng = np.random.default_rng(0)
    np.save(folder / "x.npy", rng.integers(0, 256, (16, 8, 8, 1)).astype(np.uint8))
    np.save(folder / "y.npy", np.arange(16) % 3)
    return folder


def spawn(*argv, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([sys.executable, "-m", "akida_sim", "convert", *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


def test_convert_writes_the_model_and_prints_summary_and_report(saved):
    done = spawn("tiny.keras", "--samples", "x.npy", "--labels", "y.npy", cwd=saved)
    assert done.returncode == 0, done.stderr
    assert "Model Summary" in done.stdout
    assert "ConversionReport: 2 layers, 16 samples" in done.stdout and "method=hardware" in done.stdout
    assert "accuracy: float" in done.stdout
    assert done.stdout.strip().endswith("Model successfully converted and saved as tiny.aksim.")
    converted = akida_sim.Model(str(saved / "tiny.aksim"))
    assert [type(layer).__name__ for layer in converted.layers] == ["InputConvolutional", "FullyConnected"]


def test_a_conversion_error_is_one_line_with_status_2(saved):
    done = spawn("tiny.h5", "--weights-bits", "3", "--samples", "x.npy", cwd=saved)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("akida-sim: error:")]
    assert len(lines) == 1 and "weights_bits=3" in lines[0]
    assert "Traceback" not in done.stderr


def test_h5_with_per_layer_bits_legacy_method_and_output(keras, saved, capsys):
    out = saved / "legacy.aksim"
    assert cli.main(["convert", str(saved / "tiny.h5"), "-o", str(out), "--act-bits", "r=2",
                     "--input-weights-bits", "4", "--weights-bits", "2", "--samples", str(saved / "x.npy"),
                     "--method", "legacy"]) == 0
    assert "method=legacy" in capsys.readouterr().out
    converted = akida_sim.Model(str(out))
    assert converted.layers[0].parameters.act_bits == 2 and converted.layers[0].parameters.weights_bits == 4
    assert converted.layers[1].parameters.weights_bits == 2
    reference = akida_sim.convert(keras.models.load_model(saved / "tiny.h5"), act_bits={"r": 2},
                                  input_weights_bits=4, weights_bits=2, samples=np.load(saved / "x.npy"),
                                  method="legacy")
    np.testing.assert_array_equal(converted.layers[0].get_variable("weights"),
                                  reference.layers[0].get_variable("weights"))


def test_input_scaling_goes_to_convert(keras, tmp_path, capsys):
    layers = keras.layers
    model = random_weights(keras.Sequential([keras.Input((6, 6, 3)), layers.Conv2D(4, 3, name="c"),
                                             layers.ReLU(2.0, name="r")]))
    model.save(tmp_path / "plain.keras")
    assert cli.main(["convert", str(tmp_path / "plain.keras"), "--input-scaling", "2", "4"]) == 0
    assert "input_scaling=(2, 4)" in capsys.readouterr().out
    assert akida_sim.Model(str(tmp_path / "plain.aksim")).layers[0].parameters.padding_value == 4


@pytest.mark.parametrize("argv, phrase", [
    (["missing.keras"], "MODEL 'missing.keras': no such file"),
    (["x.npy"], "expected a Keras model file (.keras, .h5)"),
    (["tiny.keras", "--samples", "nothing.npy"], "--samples 'nothing.npy': cannot be read"),
    (["tiny.keras", "--labels", "y.npy"], "--labels needs --samples"),
    (["tiny.keras", "--samples", "x.npy", "--labels", "x.npy"], "argument 'labels'"),
    (["tiny.keras", "--act-bits", "nobody=2"], "'act_bits' names ['nobody']"),
    (["tiny.keras", "--input-scaling", "1", "0"], "'input_scaling' must then be None"),
])
def test_user_errors_are_one_line_with_status_2(saved, capsys, monkeypatch, argv, phrase):
    monkeypatch.chdir(saved)
    assert cli.main(["convert", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("akida-sim: error:") and phrase in err


def test_bits_options_take_an_integer_or_name_bits_pairs():
    assert parse_bits("4") == 4
    assert parse_bits("conv=8, dense=2") == {"conv": 8, "dense": 2}
    for text in ("four", "conv=x", "=2"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_bits(text)
