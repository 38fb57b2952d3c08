"""Event-driven cost model (hw_model.costs, hw_model.cost_table) against the vendor's published runs.

Published figures (Brainchip-Inc/akida_examples doc/user_guide/akida.rst, CLI examples; reference
/work/shared/reference/akd1000_mapping.md section 3): DS-CNN KWS inference_clk 93,965 (1 frame),
program_clk 152,396 for 88,748 B, floor 914.03 mW; AkidaNet-0.5/224 inference_clk 43,000,636 for 10
frames, program_clk 998,079 for 1,361,244 B, 43.48 fps, average 1,021 mW, 23.48 mJ/frame, floor
912.23 mW.  Nothing here is measured from the vendor's software engine (it has no clocks).

Counts: akida_sim.zoo models (random weights calibrated so ~50 % of neurons are silent, i.e. an
activation density of 0.50; inputs from zoo.random_inputs, ~70 % non-zero), run layer by layer.
NPs per layer: the vendor's AllNps column (reference section 3).

Tolerance +-20 %: the published runs use trained models on real data whose activation density is
not published, while our counts come from random-weight models at density 0.50; the event prices are
fitted at that density, so the band has to hold the counts of other seeds (a few %) and the
rounding of the constants, and it is the acceptance band of issue #4.  The fit itself is exact on
the calibration points, so an error near the band means the counting or the pricing has changed.
"""
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from hw_model.cost_table import AKD1000_COSTS, CostTable, Price
from hw_model.costs import (CostError, LayerCounts, dynamic_energy_mj, energy_per_frame, fps,
                            inference_clocks, power, program_clocks, statistics, synaptic_ops_per_event)

TOL = 0.20

# Published per-layer NPs in AllNps mode (vendor CLI summary; reference section 3).
DSCNN_NPS = {"conv_0": 0, "separable_1": 16, "separable_2": 16, "separable_3": 16, "separable_4": 16,
             "classifier": 1}
AKIDANET_NPS = {"conv_0": 0, "conv_1": 4, "conv_2": 6, "conv_3": 3, "separable_4": 6, "separable_5": 4,
                "separable_6": 8, **{f"separable_{i}": 4 for i in range(7, 12)}, "separable_12": 8,
                "separable_13": 8, "classifier": 1}
DSCNN_INPUT_BYTES = 49 * 10 * 1
AKIDANET_INPUT_BYTES = 224 * 224 * 3


def zoo_counts(name, nps, frames=4, seed=0, input_seed=1):
    """Per-layer LayerCounts (means over ``frames`` random inputs) of a zoo model."""
    from akida_sim import zoo
    from akida_sim.enums import LayerType
    from akida_sim.inference import run_layer

    kinds = {LayerType.InputConvolutional: "input_conv", LayerType.Convolutional: "conv",
             LayerType.SeparableConvolutional: "separable", LayerType.FullyConnected: "fully_connected"}
    model = zoo.build(name, seed=seed)
    x = zoo.random_inputs(model, frames, np.random.default_rng(input_seed))
    counts = []
    for layer in model.layers:
        if layer.layer_type == LayerType.InputData:
            continue
        kind, args = kinds[layer.layer_type], layer._args
        y = run_layer(layer, x, {})
        events_in = np.count_nonzero(x) / frames
        events_out = np.count_nonzero(y) / frames if args["activation"] else y[0].size
        if kind == "fully_connected":
            per_event = synaptic_ops_per_event(kind, 1, args["units"])
        else:
            per_event = synaptic_ops_per_event(kind, args["kernel_size"][0], args["filters"],
                                               args["kernel_stride"][0])
        counts.append(LayerCounts(layer.name, kind, float(events_in), float(events_in * per_event),
                                  float(events_out), nps[layer.name], input_values=int(x[0].size)))
        x = y
    return counts


@pytest.fixture(scope="module")
def dscnn():
    return zoo_counts("dscnn_kws", DSCNN_NPS)


@pytest.fixture(scope="module")
def akidanet():
    return zoo_counts("akidanet_05_224", AKIDANET_NPS)


def rel(a, b):
    return abs(a - b) / abs(b)


# ----------------------------------------------------------------- published figures

def test_zoo_density_is_the_calibration_density(dscnn, akidanet):
    """The counts are at the density the table was fitted at (0.50 non-zero outputs of activated layers)."""
    for counts in (dscnn, akidanet):
        for c in counts[1:-1]:
            assert c.input_events / c.input_values == pytest.approx(AKD1000_COSTS.calibration_density.value,
                                                                    abs=0.03), c.name


def test_dscnn_inference_clk(dscnn):
    """DS-CNN KWS, 1 frame: published inference_clk 93,965, within +-20 % (density 0.50, see module doc)."""
    s = statistics(dscnn, AKD1000_COSTS, input_bytes=DSCNN_INPUT_BYTES, program_bytes=88_748)
    assert rel(s.inference_clk, 93_965) < TOL
    assert rel(s.inference_clk, 93_965) < 0.02  # exact fit, up to rounding of the constants


def test_akidanet_inference_clk_10_frames(akidanet):
    """AkidaNet-0.5/224, 10 frames: published inference_clk 43,000,636, within +-20 % (density 0.50)."""
    s = statistics(akidanet, AKD1000_COSTS, input_bytes=AKIDANET_INPUT_BYTES, program_bytes=1_361_244, frames=10)
    assert s.inference_frames == 10
    assert rel(s.inference_clk, 43_000_636) < TOL
    assert rel(s.inference_clk, 43_000_636) < 0.02


def test_program_clk():
    """program_clk: DS-CNN 152,396 for 88,748 B and AkidaNet-0.5 998,079 for 1,361,244 B, within +-20 %."""
    assert rel(program_clocks(88_748, AKD1000_COSTS), 152_396) < TOL
    assert rel(program_clocks(1_361_244, AKD1000_COSTS), 998_079) < TOL
    assert rel(program_clocks(88_748, AKD1000_COSTS), 152_396) < 0.01


def test_akidanet_fps_power_energy(akidanet):
    """AkidaNet-0.5/224: 43.48 fps, 1,021 mW average, 23.48 mJ/frame, floor 912.23 mW, each within
    +-20 % (density 0.50; energy and average power include the floor, as the vendor reports them)."""
    s = statistics(akidanet, AKD1000_COSTS, input_bytes=AKIDANET_INPUT_BYTES, program_bytes=1_361_244, frames=10)
    assert rel(s.fps, 43.48) < TOL
    assert rel(s.powers["average"], 1021.0) < TOL
    assert rel(s.energy, 23.48) < TOL
    assert rel(s.powers["floor"], 912.23) < TOL
    # Tighter: the dynamic part (the only thing the model predicts beyond the floor) within 20 %.
    assert rel(s.powers["average"] - s.powers["floor"], 1021.0 - 912.23) < TOL
    assert s.energy == pytest.approx(s.powers["average"] / s.fps)


def test_dscnn_floor_power(dscnn):
    """DS-CNN run: floor 914.03 mW within +-20 % (one board floor for both runs)."""
    s = statistics(dscnn, AKD1000_COSTS, input_bytes=DSCNN_INPUT_BYTES, program_bytes=88_748)
    assert rel(s.powers["floor"], 914.03) < TOL
    assert s.fps >= 62.50  # published 62.50 fps is host-bound (1 frame); the chip bound is higher


@pytest.mark.parametrize("seed", [1, 2])
def test_other_seeds_stay_in_band(seed):
    """Counts from other random zoo models (density 0.50) still reproduce both clock figures within +-20 %."""
    ds = zoo_counts("dscnn_kws", DSCNN_NPS, seed=seed, input_seed=seed + 10)
    an = zoo_counts("akidanet_05_224", AKIDANET_NPS, seed=seed, input_seed=seed + 10)
    assert rel(inference_clocks(ds, AKD1000_COSTS, input_bytes=DSCNN_INPUT_BYTES).total, 93_965) < TOL
    assert rel(inference_clocks(an, AKD1000_COSTS, input_bytes=AKIDANET_INPUT_BYTES).total * 10, 43_000_636) < TOL


def test_calibration_is_reproducible(dscnn, akidanet):
    """Re-solving clk_per_event and clk_per_layer from the zoo counts gives the table's values."""
    t = AKD1000_COSTS

    def fixed_and_features(counts, input_bytes):
        ev = sum(c.input_events for c in counts if c.kind != "input_conv")
        fixed = input_bytes * t.host_clk_per_input_byte.value
        for c in counts:
            if c.kind == "input_conv":
                fixed += c.input_values * t.hrc_clk_per_input_byte.value
            else:
                fixed += c.synaptic_ops / (c.nps * t.macs_per_clk_per_np.value)
        return ev, len(counts), fixed

    d, a = fixed_and_features(dscnn, DSCNN_INPUT_BYTES), fixed_and_features(akidanet, AKIDANET_INPUT_BYTES)
    clk_event, clk_layer = np.linalg.solve([[d[0], d[1]], [a[0], a[1]]],
                                           [93_965 - d[2], 43_000_636 / 10 - a[2]])
    assert clk_event == pytest.approx(t.clk_per_event.value, rel=0.02)
    assert clk_layer == pytest.approx(t.clk_per_layer.value, rel=0.05)
    ops = sum(c.synaptic_ops for c in akidanet)
    assert (1021.0 - 912.23) / 43.48 / ops * 1e9 == pytest.approx(t.pj_per_synaptic_op.value, rel=0.02)


# ----------------------------------------------------------------- scaling and speed

def _synthetic(n_layers, events=1000.0, nps=2):
    layers = [LayerCounts("in", "input_conv", events, events * 36, events, 0, input_values=4096)]
    for i in range(n_layers - 2):
        layers.append(LayerCounts(f"l{i}", "conv" if i % 2 else "separable", events, events * 100, events, nps))
    layers.append(LayerCounts("fc", "fully_connected", events, events * 10, 10, 1))
    return layers


def test_hundred_layers_prices_every_layer():
    """A 100-layer model is priced layer by layer (its speed is measured in benchmarks/bench_mapping.py)."""
    s = statistics(_synthetic(100), AKD1000_COSTS, input_bytes=4096, program_bytes=500_000, frames=10)
    assert len(s.layers) == 100 and s.inference_clk > 0


def test_monotone_in_events():
    prev = None
    for events in (0.0, 10.0, 1e3, 1e5):
        clk = inference_clocks(_synthetic(10, events), AKD1000_COSTS, input_bytes=4096).total
        e = dynamic_energy_mj(_synthetic(10, events), AKD1000_COSTS)
        if prev is not None:
            assert clk > prev[0] and e > prev[1]
        prev = (clk, e)


def test_more_nps_fewer_clocks():
    few = inference_clocks(_synthetic(10, 1e5, nps=1), AKD1000_COSTS, input_bytes=0).total
    many = inference_clocks(_synthetic(10, 1e5, nps=8), AKD1000_COSTS, input_bytes=0).total
    assert many < few


def test_linear_in_frames(akidanet):
    one = statistics(akidanet, AKD1000_COSTS, input_bytes=AKIDANET_INPUT_BYTES, program_bytes=0, frames=1)
    ten = statistics(akidanet, AKD1000_COSTS, input_bytes=AKIDANET_INPUT_BYTES, program_bytes=0, frames=10)
    assert ten.inference_clk == pytest.approx(10 * one.inference_clk)
    assert ten.fps == pytest.approx(one.fps) and ten.energy == pytest.approx(one.energy)


def test_half_clock_halves_fps(akidanet):
    slow = AKD1000_COSTS.what_if("AKD1000 at half clock", clock_hz=AKD1000_COSTS.clock_hz.value / 2)
    assert "what-if" in slow.clock_hz.source and slow.clock_hz.unit == "Hz"
    clk = inference_clocks(akidanet, AKD1000_COSTS, input_bytes=AKIDANET_INPUT_BYTES).total
    assert fps(clk, slow) == pytest.approx(fps(clk, AKD1000_COSTS) / 2)
    # Same clocks, same dynamic energy per frame; the floor lasts twice as long per frame.
    assert dynamic_energy_mj(akidanet, slow) == pytest.approx(dynamic_energy_mj(akidanet, AKD1000_COSTS))
    assert energy_per_frame(akidanet, clk, slow) > energy_per_frame(akidanet, clk, AKD1000_COSTS)
    assert power(akidanet, clk, slow)["average"] < power(akidanet, clk, AKD1000_COSTS)["average"]


def test_statistics_rows_add_up(dscnn):
    s = statistics(dscnn, AKD1000_COSTS, input_bytes=DSCNN_INPUT_BYTES, program_bytes=88_748)
    assert [r.name for r in s.layers] == list(DSCNN_NPS)
    assert sum(r.clk for r in s.layers) + s.host_transfer_clk == pytest.approx(s.clk_per_frame)
    assert sum(r.energy for r in s.layers) == pytest.approx(dynamic_energy_mj(dscnn, AKD1000_COSTS))
    assert set(s.powers) == {"floor", "average"}
    text = str(s)
    assert "inference_clk" in text and "separable_4" in text


# ----------------------------------------------------------------- data rules

def test_every_price_has_unit_and_source():
    for field, value, unit, source in AKD1000_COSTS.rows():
        assert math.isfinite(value) and unit and source, field


def test_missing_price_raises():
    kwargs = {f: getattr(AKD1000_COSTS, f) for f in AKD1000_COSTS.__dataclass_fields__}
    kwargs.pop("pj_per_event")
    with pytest.raises(TypeError):
        CostTable(**kwargs)
    kwargs["pj_per_event"] = None
    with pytest.raises(TypeError, match="pj_per_event"):
        CostTable(**kwargs)
    with pytest.raises(ValueError):
        Price(float("nan"), "pJ", "x")
    with pytest.raises(ValueError):
        Price(1.0, "pJ", "")
    with pytest.raises(TypeError):
        AKD1000_COSTS.what_if("x", no_such_price=1.0)


def test_layer_counts_validation():
    with pytest.raises(CostError, match="kind"):
        LayerCounts("a", "pool", 1, 1, 1, 1)
    with pytest.raises(CostError, match="HRC"):
        LayerCounts("a", "input_conv", 1, 1, 1, 2, input_values=10)
    with pytest.raises(CostError, match="input_values"):
        LayerCounts("a", "input_conv", 1, 1, 1, 0)
    with pytest.raises(CostError, match="nps"):
        LayerCounts("a", "conv", 1, 1, 1, 0)
    with pytest.raises(CostError, match="input_events"):
        LayerCounts("a", "conv", -1, 1, 1, 1)


def test_synaptic_ops_per_event():
    assert synaptic_ops_per_event("conv", 3, 64) == 576
    assert synaptic_ops_per_event("input_conv", 5, 64, 2) == 400
    assert synaptic_ops_per_event("separable", 3, 64) == 73
    assert synaptic_ops_per_event("fully_connected", 1, 33) == 33


def test_hw_model_costs_do_not_import_akida():
    code = ("import sys, hw_model.costs, hw_model.cost_table; "
            "bad = [m for m in sys.modules if m == 'akida' or m.startswith(('akida.', 'akida_sim'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(pathlib.Path(__file__).parents[2]))
