"""Command line: ``run`` (vendor layout and JSON), inputs, ``devices``, ``summary``, options."""
import json
import subprocess
import sys

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


def run_json(capsys, *argv):
    assert cli.main(["run", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_text_in_the_vendors_layout(tiny, capsys):
    assert cli.main(["run", "-m", tiny]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "No input provided, using random data."
    assert "Model Summary" in out and "HW/conv_0-classifier (Hardware)" in out
    head = next(i for i, line in enumerate(lines) if line.startswith("ESTIMATED (cost model, not measured; "))
    assert "host profile 'pcie_pc'" in lines[head] and "cold first call after map()" in lines[head]
    assert lines[head + 1].startswith("Chip framerate (chip only, steady state) = ")
    assert "(estimated range " in lines[head + 1]
    assert lines[head + 2].startswith("Chip latency (first frame) = ")
    assert lines[head + 3].startswith("Dynamic energy above the floor (mJ/frame): ")
    start = head + 4
    assert lines[start].startswith("Floor power (mW): ")
    assert lines[start + 1].startswith("Average framerate = ") and lines[start + 1].endswith(" (host included)")
    assert "(estimated range " in lines[start + 1]
    assert lines[start + 2].startswith("Last inference power range (mW):  Avg ")
    avg, low, high, std = (float(part.split()[-1]) for part in lines[start + 2].split(":  ")[1].split(" / "))
    assert low <= avg <= high and std >= 0
    assert lines[start + 3].startswith("Last inference energy consumed (mJ/frame): ")
    assert "floor's share" in lines[start + 3] and "(estimated range " in lines[start + 3]
    assert lines[start + 4:start + 8] == ["Model metrics:", "  inference_frames: 1", lines[start + 6],
                                          lines[start + 7]]
    assert lines[start + 6].startswith("  inference_clk: ") and lines[start + 7].startswith("  program_clk: ")
    assert int(lines[start + 6].split(": ")[1]) > 0


def test_ip_block_prints_no_board_floor(tiny, capsys):
    """The 2-node IP has no board: its floor is not the AKD1000 board's."""
    assert cli.main(["run", "-m", tiny, "--device", "TwoNodesIPv1"]) == 0
    out = capsys.readouterr().out
    assert "Floor power (mW): none (an IP block has no board" in out and "914" not in out
    report = run_json(capsys, "-m", tiny, "--device", "TwoNodesIPv1")
    assert report["estimated_with_host"]["floor_power_mw"] == 0


def test_run_json_matches_the_api(tiny, capsys):
    report = run_json(capsys, "--model", tiny, "--batch", "3", "--seed", "4")
    assert report["frames"] == 3 and report["output_shape"] == [3, 1, 1, 3]
    assert report["notes"] == ["No input provided, using random data."] and report["input"] is None
    model = zoo.build(tiny, seed=4)
    x = zoo.random_inputs(model, 3, np.random.default_rng(5))
    assert model.predict(x).reshape(3, -1).argmax(axis=1).tolist() == report["predicted_classes"]
    model.map(ak.AKD1000())
    model.forward(x)
    assert report["metrics"] == {name: model.metrics[name] for name in ("inference_frames", "inference_clk",
                                                                      "program_clk")}
    assert report["metrics"]["inference_frames"] == 3
    assert report["sequences"] == [{"name": s.name, "backend": s.backend.name, "program_bytes": len(s.program)}
                                   for s in model.sequences]
    assert report["nps"] == model.np_count == sum(n for t, n in model.component_count.items() if t != ak.NPType.HRC)
    chip, host = report["estimated_chip"], report["estimated_with_host"]
    assert "fps" not in report and "fps" not in host   # no ambiguous rate next to simulated_frames_per_second
    power = host["power_mw"]
    assert power["min"] <= power["average"] <= power["max"] and power["std"] >= 0
    assert power["min"] == host["floor_power_mw"] > 0
    # a tiny net adds microwatts to the floor: above it unrounded, equal at the printed 0.01 mW
    s = model.statistics
    assert s.powers["average"] > s.powers["floor"] and power["average"] == round(s.powers["average"], 2)
    assert chip["frames_per_second"] == round(s.chip.fps, 2) > host["frames_per_second"]
    lo, hi = chip["frames_per_second_range"]
    assert lo < chip["frames_per_second"] < hi
    assert host["host_profile"] == "pcie_pc" and host["cold_first_call"] is True
    assert chip["dynamic_energy_mj_per_frame"] == s.chip.dynamic_mj_per_frame
    assert report == run_json(capsys, "-m", tiny, "--batch", "3", "--seed", "4") | {
        "simulated_frames_per_second": report["simulated_frames_per_second"]}


def test_run_other_device_mode_and_software(tiny, capsys):
    report = run_json(capsys, "-m", tiny, "--device", "TwoNodesIPv1", "--mode", "Minimal")
    assert report["device"] == "TwoNodesIPv1" and report["mapping_mode"] == "Minimal"
    report = run_json(capsys, "-m", tiny, "--software")
    assert "metrics" not in report and "device" not in report
    assert cli.main(["run", "-m", tiny, "--software"]) == 0
    out = capsys.readouterr().out
    assert "Average framerate = " in out and "Floor power" not in out and "not mapped" in out


def test_run_saved_model_file_and_save(tiny, tmp_path, capsys):
    path = tmp_path / "tiny.fbz"
    assert cli.main(["run", "-m", tiny, "--save", str(path)]) == 0
    assert f"Saved to {path}" in capsys.readouterr().out
    assert run_json(capsys, "-m", str(path))["output_shape"] == [1, 1, 1, 3]
    assert cli.main(["summary", str(path)]) == 0
    text = capsys.readouterr().out
    assert "Model Summary" in text and "conv_0 (InputConv.)" in text and "classifier (Fully.)" in text


def test_run_npy_inputs(tiny, tmp_path, capsys):
    x = np.random.default_rng(0).integers(0, 256, (8, 8, 1)).astype(np.uint8)
    one = tmp_path / "one.npy"
    np.save(one, x)
    assert run_json(capsys, "-m", tiny, "-i", str(one))["frames"] == 1
    batch = tmp_path / "batch.npy"
    np.save(batch, np.stack([x, x, x]).astype(np.int64))
    report = run_json(capsys, "-m", tiny, "-i", str(batch))
    assert report["frames"] == 3 and len(set(report["predicted_classes"])) == 1
    for name, array in [("shape", np.zeros((7, 8, 1), np.uint8)), ("float", np.zeros((8, 8, 1), np.float32)),
                        ("range", np.full((8, 8, 1), 300, np.int32))]:
        path = tmp_path / f"{name}.npy"
        np.save(path, array)
        assert cli.main(["run", "-m", tiny, "-i", str(path)]) == 2
        assert str(path) in capsys.readouterr().err


def test_run_refuses_a_pickled_npy(tiny, tmp_path, capsys):
    path = tmp_path / "evil.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert cli.main(["run", "-m", tiny, "-i", str(path)]) == 2
    err = capsys.readouterr().err
    assert "evil.npy" in err and "unpickled" in err


def test_run_image_inputs(tiny, tmp_path, capsys):
    image = pytest.importorskip("PIL.Image")
    path = tmp_path / "picture.png"
    image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 30, 3)).astype(np.uint8)).save(path)
    assert cli.main(["run", "-m", tiny, "-i", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Image resized from 20x30 to 8x8 (the model input)." in out
    assert "No input provided" not in out
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    assert cli.main(["run", "-m", tiny, "-i", str(fake)]) == 2
    err = capsys.readouterr().err
    assert "fake.png" in err and "not an image" in err


def test_run_prints_accuracy_of_labelled_data(tiny, monkeypatch, capsys):
    model = zoo.build(tiny)
    x = zoo.random_inputs(model, 6, np.random.default_rng(1))
    labels = model.predict(x).reshape(6, -1).argmax(axis=1)
    labels[0] = (labels[0] + 1) % 3
    monkeypatch.setitem(zoo.LABELLED_DATA, tiny, lambda: (x, labels))
    assert run_json(capsys, "-m", tiny)["accuracy"] == round(5 / 6, cli.ACCURACY_DIGITS)
    assert cli.main(["run", "-m", tiny]) == 0
    out = capsys.readouterr().out
    assert "labelled test samples" in out and "Accuracy: 83.33 % on 6 labelled samples" in out
    subset = run_json(capsys, "-m", tiny, "--batch", "2")  # the first two labelled samples
    assert subset["frames"] == 2 and subset["accuracy"] == 0.5


def test_default_model_is_one_constant():
    assert cli.build_parser().parse_args(["run"]).model == zoo.DEFAULT_MODEL in zoo.MODELS


def test_help_shows_every_default(capsys):
    for command in ("run", "summary"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = capsys.readouterr().out
        options = [a for a in cli.build_parser()._subparsers._group_actions[0].choices[command]._actions
                   if a.option_strings and a.dest != "help"]
        for action in options:
            assert action.help and "(default: " in action.help, action.dest
        assert text.count("(default: ") >= len(options)


@pytest.mark.parametrize("argv, fragment", [
    (["summary", "mnist", "--mode", "Minimal"], "--mode needs --map"),
    (["summary", "mnist", "--device", "AKD1000"], "--device needs --map"),
    (["run", "--software", "--mode", "HwPr"], "--mode"),
    (["run", "-i", "x.npy", "--batch", "2"], "--batch"),
    (["run", "--batch", "0"], "--batch"),
    (["run", "--batch", "two"], "--batch"),
    (["run", "--device", "AKD2000"], "--device"),
])
def test_options_needing_others_are_errors(argv, fragment, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert fragment in capsys.readouterr().err


def test_unknown_model_missing_command_and_version(capsys):
    assert cli.main(["run", "-m", "nope"]) == 2
    assert "'nope' is neither a model file nor a built-in model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([])
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"akida-sim {ak.__version__}"


def test_devices_lists_the_simulated_devices(capsys):
    assert cli.main(["devices"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("AKD1000: 78 NPs in 20 nodes") and "devices()[0]" in out[0]
    assert out[1].startswith("TwoNodesIPv1: 8 NPs in 2 nodes")


def test_summary_mapped_and_errors(tiny, tmp_path, capsys):
    assert cli.main(["summary", tiny, "--map", "--mode", "Minimal"]) == 0
    assert "(Hardware) - size:" in capsys.readouterr().out
    assert cli.main(["summary", str(tmp_path / "missing.fbz")]) == 2
    assert "missing.fbz" in capsys.readouterr().err
    junk = tmp_path / "junk.fbz"
    junk.write_bytes(b"junk" * 10)
    assert cli.main(["summary", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "junk.fbz" in err and "from_akida" in err


def test_image_is_scaled_to_a_narrower_input(monkeypatch, tmp_path, capsys):
    image = pytest.importorskip("PIL.Image")
    monkeypatch.setitem(zoo.MODELS, "four_bit", (lambda: [
        ak.InputData(input_shape=(6, 5, 3), input_bits=4),
        ak.FullyConnected(units=2, weights_bits=2, activation=False)], "4-bit input"))
    pixels = np.full((6, 5, 3), 255, np.uint8)
    pixels[0, 0] = (16, 32, 48)
    path = tmp_path / "exact.png"
    image.fromarray(pixels).save(path)
    model = zoo.build("four_bit")
    frames, notes = cli.load_input(str(path), model)
    assert frames.shape == (1, 6, 5, 3) and frames.max() == 15 and frames[0, 0, 0].tolist() == [1, 2, 3]
    assert notes == ["8-bit pixels scaled to the model's 4-bit input."]
    assert cli.main(["run", "-m", "four_bit", "-i", str(path)]) == 0
    assert "scaled to the model's 4-bit input" in capsys.readouterr().out


def test_python_dash_m_is_the_command():
    done = subprocess.run([sys.executable, "-m", "akida_sim", "--version"], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == f"akida-sim {ak.__version__}"
