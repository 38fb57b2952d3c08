"""Command line: ``run`` (JSON report), ``summary FILE`` and argument errors."""
import json

import numpy as np
import pytest

import akida_sim as ak
from akida_sim import cli, zoo

def tiny_net():
    """A small net for the CLI tests that only need some model (fast even without JIT)."""
    return [
        ak.InputConvolutional(input_shape=(8, 8, 1), kernel_size=(3, 3), filters=4, name="conv_0",
                              weights_bits=8, act_bits=4, pool_type=ak.PoolType.Max, pool_size=(2, 2)),
        ak.SeparableConvolutional(kernel_size=(3, 3), filters=4, name="sep_1", weights_bits=4, act_bits=2),
        ak.FullyConnected(units=3, name="classifier", weights_bits=4, activation=False),
    ]


@pytest.fixture()
def tiny(monkeypatch):
    monkeypatch.setitem(zoo.MODELS, "tiny", (tiny_net, "test net, 8x8x1 -> 3"))
    return "tiny"


REPORT_KEYS = {"model", "batch", "output_shape", "output_dtype", "predicted_classes", "build_seconds",
               "first_call_seconds", "forward_seconds", "simulated_frames_per_second"}


def test_run_json(capsys):
    assert cli.main(["run", "--model", "mnist", "--batch", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert REPORT_KEYS <= set(report)
    assert report["model"] == "mnist" and report["batch"] == 2
    assert report["output_shape"] == [2, 1, 1, 10]
    assert report["output_dtype"] == "int32"
    assert len(report["predicted_classes"]) == 2
    assert all(0 <= c < 10 for c in report["predicted_classes"])
    for key in ("build_seconds", "first_call_seconds", "forward_seconds", "simulated_frames_per_second"):
        assert report[key] >= 0


def test_run_is_deterministic_and_matches_the_zoo(tiny, capsys):
    cli.main(["run", "--model", tiny, "--batch", "3", "--json", "--seed", "4"])
    first = json.loads(capsys.readouterr().out)
    cli.main(["run", "--model", tiny, "--batch", "3", "--json", "--seed", "4"])
    second = json.loads(capsys.readouterr().out)
    assert first["predicted_classes"] == second["predicted_classes"]
    assert first["output_shape"] == [3, 1, 1, 3]
    model = zoo.build(tiny, seed=4)
    x = zoo.random_inputs(model, 3, np.random.default_rng(5))
    assert model.predict(x).reshape(3, -1).argmax(axis=1).tolist() == first["predicted_classes"]


def test_run_text_and_save_then_summary(tiny, tmp_path, capsys):
    path = tmp_path / "tiny.fbz"
    assert cli.main(["run", "--model", tiny, "--batch", "1", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Model Summary" in out and "simulated_frames_per_second" in out and "saved_to" in out
    assert path.exists()
    assert cli.main(["summary", str(path)]) == 0
    text = capsys.readouterr().out
    assert "Model Summary" in text and "conv_0 (InputConv.)" in text and "classifier (Fully.)" in text
    assert ak.Model(str(path)).layer_count == 3


@pytest.mark.parametrize("batch", ["0", "-3", "two", "1.5"])
def test_bad_batch(batch, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "--model", "mnist", "--batch", batch])
    assert info.value.code == 2
    assert "--batch" in capsys.readouterr().err


def test_bad_model_name_and_missing_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "--model", "nope"])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        cli.main([])


def test_summary_of_missing_or_broken_file(tmp_path, capsys):
    assert cli.main(["summary", str(tmp_path / "missing.fbz")]) == 2
    err = capsys.readouterr().err
    assert "missing.fbz" in err and "File not found" in err
    junk = tmp_path / "junk.fbz"
    junk.write_bytes(b"junk" * 10)
    assert cli.main(["summary", str(junk)]) == 2
    assert "junk.fbz" in capsys.readouterr().err


def test_run_map_reports_hardware_costs(capsys):
    assert cli.main(["run", "--model", "mnist", "--batch", "2", "--map", "--mode", "Minimal", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mapping_mode"] == "Minimal" and report["sequences"] == ["HW/conv_0-classifier"]
    assert report["nps"] >= 2 and report["program_bytes"] > 0
    assert report["chip_fps"] > 0 and report["average_power_mw"] > report["floor_power_mw"] > 0
    assert report["energy_mj_per_frame"] > 0
