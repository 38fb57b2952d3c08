"""The notebooks (notebooks/*.ipynb) run through a real Jupyter kernel at a small scale.

Each notebook is executed with nbclient, ``AKIDA_SIM_NOTEBOOK_SCALE`` set
small and this checkout first on the kernel's path; a probe cell appended
to the in-memory copy prints, as JSON, the results the checks below read.
The files in the repository carry no outputs.
"""
import json
import os
import pathlib
import re
import runpy

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
STUDIES = {"quickstart", "hardware_sweep", "neurons_per_class", "convert_and_finetune"}
SMALL_SCALE = "0.1"
#: Seconds one notebook may take at the small scale before the test fails.
TIMEOUT_S = 600

pytestmark = pytest.mark.notebook

#: name -> expression (evaluated in the kernel after the notebook) whose JSON the checks read.
PROBES = {
    "hardware_sweep": """{
        "shape": by_shape.to_dict("list"), "size": by_size.to_dict("list"), "mesh": by_mesh.to_dict("list"),
        "widths": WIDTHS, "depths": DEPTHS, "sizes": SIZES, "nodes": NODE_COUNTS, "clocks": CLOCK_FACTORS}""",
    "neurons_per_class": """{
        "scale": SCALE, "num_weights": NUM_WEIGHTS, "median_spikes": float(MEDIAN_SPIKES),
        "study": one_class.to_dict("list"), "accuracy": accuracy.to_dict("list"), "chance": 1 / N_CLASSES,
        "choice": int(NEURONS_CHOSEN), "after_add": float(ACCURACY_AFTER_ADD), "new_class": float(NEW_CLASS_RECALL),
        "before_add": float(ACCURACY_BEFORE_ADD)}""",
    "convert_and_finetune": """{"table": table.reset_index().to_dict("list"),
                                "float": {name: float(a) for name, a in FLOAT_ACCURACY.items()}}""",
    "quickstart": """{"accuracy": float(ACCURACY), "reloaded_equal": bool(RELOADED_EQUAL), "fps": float(CHIP_FPS),
        "converted_accuracy": float(CONVERTED_ACCURACY)}""",
}


def _ids(paths):
    return [p.stem for p in paths]


def test_the_studies_are_notebooks():
    assert STUDIES <= {p.stem for p in NOTEBOOKS}, "missing notebooks"
    assert set(PROBES) == STUDIES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code), "strip the outputs"
    assert "AKIDA_SIM_NOTEBOOK_SCALE" in "".join(c.source for c in code), "no scale knob"


def execute(name, monkeypatch):
    """Run notebooks/<name>.ipynb at the small scale: (executed notebook, probe results)."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(f"import json as _json\nprint(_json.dumps({PROBES[name]}))"))
    monkeypatch.setenv("AKIDA_SIM_NOTEBOOK_SCALE", SMALL_SCALE)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # as a user runs them
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws the figures
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()
    probe = nb.cells[-1].outputs
    assert probe and probe[-1].output_type == "stream", f"the probe printed nothing: {probe}"
    return nb, json.loads(probe[-1].text.strip().splitlines()[-1])


#: The start of a line TensorFlow's C++ runtime logs (absl's "E0000 00:00:..." or TF's dated lines).
TF_LOG_LINE = re.compile(r"^(?:[EWIF]\d{4} \d\d:\d\d:|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [EWIF] |WARNING: All log "
                         r"messages before absl)", re.M)


def no_tensorflow_log_lines(nb):
    """True when no cell printed a line of TensorFlow's C++ log on its standard error."""
    return not any(out.get("name") == "stderr" and TF_LOG_LINE.search(out.text)
                   for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)


def figures(nb):
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.outputs)


def test_hardware_sweep(monkeypatch):
    nb, r = execute("hardware_sweep", monkeypatch)
    assert figures(nb) >= 4
    shape, size, mesh = r["shape"], r["size"], r["mesh"]
    for table in (shape, size, mesh):
        assert all(e is None or e != e for e in table["error"]), table["error"]  # None or NaN
        assert all(v > 0 for key in ("nps", "program_kb", "clk_per_frame", "chip_fps", "dynamic_uj",
                                                     "fps_with_host", "energy_mj_with_host") for v in table[key])
    assert len(shape["nps"]) == len(r["widths"]) * len(r["depths"])
    # at a fixed depth, a wider model takes more clocks and a larger program
    for depth in r["depths"]:
        rows = sorted((w, c, p) for w, d, c, p in zip(shape["width"], shape["depth"], shape["clk_per_frame"],
                                                       shape["program_kb"]) if d == depth)
        assert [c for _, c, _ in rows] == sorted(c for _, c, _ in rows)
        assert [p for _, _, p in rows] == sorted(p for _, _, p in rows)
    # Minimal never uses more NPs than AllNps; a larger input costs the chip more energy per frame
    by = {(s, m): (n, e) for s, m, n, e in zip(size["size"], size["mode"], size["nps"], size["dynamic_uj"])}
    for s in r["sizes"]:
        assert by[s, "Minimal"][0] <= by[s, "AllNps"][0]
    assert by[max(r["sizes"]), "AllNps"][1] > by[min(r["sizes"]), "AllNps"][1]
    # the clock changes the frame rate, not the mapping
    rows = {(m, n, c): (f, p, q) for m, n, c, f, p, q in zip(mesh["model"], mesh["nodes"], mesh["clock_factor"],
                                                               mesh["chip_fps"], mesh["nps"], mesh["program_kb"])}
    assert set(r["clocks"]) == {1.0, 2.0}
    for (m, n, c), (f, p, q) in rows.items():
        if c == 2.0:
            slow = rows[m, n, 1.0]
            assert f > slow[0] and (p, q) == slow[1:]


def test_neurons_per_class(monkeypatch):
    nb, r = execute("neurons_per_class", monkeypatch)
    assert figures(nb) >= 3 and no_tensorflow_log_lines(nb)
    assert r["scale"] == float(SMALL_SCALE)
    assert r["num_weights"] == int(1.2 * r["median_spikes"])
    study = r["study"]
    # one neuron learns per sample: never more learned neurons than samples or neurons
    assert all(0 < k <= min(n, s) for k, n, s in zip(study["learned"], study["neurons"], study["samples"]))
    # more neurons fit the class better: the loss of the largest layer is below the one-neuron loss
    assert study["loss"][-1] < study["loss"][0]
    assert min(study["neurons"]) <= r["choice"] <= max(study["neurons"])
    acc = r["accuracy"]
    assert all(a > 3 * r["chance"] for a in acc["accuracy"])
    assert r["new_class"] > 0.5 and r["after_add"] > 3 * r["chance"]


def test_quickstart(monkeypatch):
    nb, r = execute("quickstart", monkeypatch)
    assert figures(nb) >= 1 and no_tensorflow_log_lines(nb)
    assert r["reloaded_equal"] and r["fps"] > 0
    assert r["accuracy"] > 0.9 and r["converted_accuracy"] > 0.5


def test_convert_and_finetune(monkeypatch):
    nb, r = execute("convert_and_finetune", monkeypatch)
    assert figures(nb) >= 1
    table = r["table"]
    assert table["model"] == ["global pool", "global pool", "plain"]
    assert table["bits (weights/activations)"] == ["4/4", "2/1", "2/1"] and min(r["float"].values()) > 0.5
    # the converted fine-tuned model predicts the fine-tuned Keras model's classes
    assert all(a >= 0.99 for a in table["agreement"])
    for keras_accuracy, akida_accuracy in zip(table["fine-tuned Keras"], table["fine-tuned (akida_sim)"]):
        assert abs(keras_accuracy - akida_accuracy) <= 0.01
    # before fine-tuning the quantized Keras model computes the hardware-aware post-training conversion
    for before, post_training in zip(table["quantized Keras before fine-tuning"], table["post-training (akida_sim)"]):
        assert abs(before - post_training) <= 0.01
    # fine-tuning helps at 2/1 bits
    assert table["fine-tuned (akida_sim)"][2] > table["post-training, legacy (akida_sim)"][2]


def test_mesh_what_if_study(monkeypatch, capsys):
    path = NOTEBOOK_DIR / "mesh_what_if.py"
    monkeypatch.setenv("AKIDA_SIM_NOTEBOOK_SCALE", SMALL_SCALE)
    ns = runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    sweep = ns["SWEEP"]
    assert [r["nodes"] for r in sweep] == ns["NODE_COUNTS"]
    nps = [r["nps"] for r in sweep]
    assert nps == sorted(nps) and nps[-1] <= 78 and nps[0] <= 8  # 2 nodes hold at most 8 NPs
    assert all(r["fps"] > 0 and r["dyn_uj"] > 0 and r["mj"] > 0 and r["program_kb"] > 0 for r in sweep)
    chip = [r["chip_fps"] for r in sweep]
    # more nodes are never slower on the chip (docs/cost_model.md)
    assert chip == sorted(chip) and chip[-1] > 2 * chip[0]
    chip_fps = {line.split(":")[0].strip(): float(line.split("chip")[1].split("fps")[0])
                for line in out.splitlines() if "chip" in line and "fps," in line}
    assert chip_fps["half clock"] == pytest.approx(chip_fps["AKD1000"] / 2, rel=1e-3)
    assert chip_fps["Performance"] > chip_fps["Economy"] > chip_fps["LowPower"]
