"""Every notebook (notebooks/*.py, jupytext percent format) runs at a small scale.

Each notebook is executed as a script with ``runpy`` and
``AKIDA_SIM_NOTEBOOK_SCALE`` set small; a notebook that leaves a ``RESULTS``
list of dicts with an ``accuracy`` key is also checked for plausible values.
"""
import pathlib
import runpy

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parent.parent / "notebooks").glob("*.py"))
SMALL_SCALE = "0.1"

pytestmark = pytest.mark.notebook


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebooks/*.py found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_percent_format(path):
    text = path.read_text()
    assert text.startswith("# ---\n# jupyter:"), "missing the jupytext header"
    assert "format_name: percent" in text
    assert "\n# %% [markdown]\n" in text and "\n# %%\n" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch, capsys):
    monkeypatch.setenv("AKIDA_SIM_NOTEBOOK_SCALE", SMALL_SCALE)
    namespace = runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert out.strip(), "the notebook printed nothing"
    results = namespace.get("RESULTS")
    if results is not None:
        assert results and all(0.0 <= r["accuracy"] <= 1.0 for r in results)


def test_neurons_per_class_study(monkeypatch, capsys):
    path = next(p for p in NOTEBOOKS if p.stem == "neurons_per_class")
    monkeypatch.setenv("AKIDA_SIM_NOTEBOOK_SCALE", SMALL_SCALE)
    ns = runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert ns["SCALE"] == float(SMALL_SCALE)
    assert "neurons/class" in out and "accuracy" in out
    results = ns["RESULTS"]
    assert len(results) == len(ns["NEURONS_PER_CLASS"]) * len(ns["NUM_WEIGHTS"])
    chance = 1 / ns["N_CLASSES"]
    # every configuration learns something; the table has one printed row per configuration
    assert all(r["accuracy"] > 1.5 * chance for r in results)
    for r in results:
        assert f"{r['neurons_per_class']:>13} {r['num_weights']:>11} {r['accuracy']:>9.3f}" in out
    # more neurons per class help (best K of the largest layer vs best K of one neuron per class)
    best = {npc: max(r["accuracy"] for r in results if r["neurons_per_class"] == npc)
            for npc in ns["NEURONS_PER_CLASS"]}
    assert best[max(best)] > best[min(best)]


def test_mesh_what_if_study(monkeypatch, capsys):
    path = next(p for p in NOTEBOOKS if p.stem == "mesh_what_if")
    monkeypatch.setenv("AKIDA_SIM_NOTEBOOK_SCALE", SMALL_SCALE)
    ns = runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    sweep = ns["SWEEP"]
    assert [r["nodes"] for r in sweep] == ns["NODE_COUNTS"]
    nps = [r["nps"] for r in sweep]
    assert nps == sorted(nps) and nps[-1] <= 78 and nps[0] <= 8  # 2 nodes hold at most 8 NPs
    assert all(r["fps"] > 0 and r["mw"] > 0 and r["mj"] > 0 and r["program_kb"] > 0 for r in sweep)
    chip = [r["chip_fps"] for r in sweep]
    # fewer NPs, fewer fps, until each NP's fixed overhead paces (docs/cost_model.md): a plateau at the top
    assert all(c >= 0.95 * max(chip[:i + 1]) for i, c in enumerate(chip)) and chip[-1] > 2 * chip[0]
    chip_fps = {line.split(":")[0].strip(): float(line.split("chip")[1].split("fps")[0])
                for line in out.splitlines() if "chip" in line and "fps," in line}
    assert chip_fps["half clock"] == pytest.approx(chip_fps["AKD1000"] / 2, rel=1e-3)
    assert chip_fps["Performance"] > chip_fps["Economy"] > chip_fps["LowPower"]
