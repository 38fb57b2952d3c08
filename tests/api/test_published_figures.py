"""The published AKD1000 runs, reproduced through the public API, and the cost table's fit.

Published figures: ``hw_model.published`` (BrainChip's user guide CLI runs, the repeated
AkidaNet runs of the vendor's power page, a third-party FC 50->1 run, the clock-mode
measurements; see ../shared/reference/akd1000_mapping.md sections 3 and 5).

The networks are the zoo reconstructions (random weights, activation density 0.50, inputs
about 70 % non-zero; the published runs used trained networks whose density is not published).
``published_fit`` re-fits every fitted price from those counts; the tests check that the table
holds that fit, that the leave-one-out errors are those the table states, that each published
run is reproduced within the stated validation error, and the relations the chip shows.
"""
from unittest import mock

import numpy as np
import pytest

import akida_sim as ak
import published_fit as pf
from akida_sim import hardware, zoo
from hw_model import published
from hw_model.cost_table import AKD1000_COSTS as T
from hw_model.costs import statistics
from hw_model.host import DEFAULT_HOST as H


def mapped_run(name, frames, mode="AllNps", seed=0, device=None, batch_size=0):
    model = zoo.build(name, seed=seed)
    model.map(device or ak.AKD1000(), mode=getattr(ak.MapMode, mode))
    model.forward(zoo.random_inputs(model, frames, np.random.default_rng(seed + 1)), batch_size=batch_size)
    return model, model.statistics


@pytest.fixture(scope="module")
def fitted():
    return pf.fit()


@pytest.fixture(scope="module")
def loo():
    return pf.validation()


def test_table_and_host_profile_hold_the_fit(fitted):
    for name, value in fitted.items():
        held = getattr(H, name[5:]) if name.startswith("host.") else getattr(T, name).value
        assert held == pytest.approx(value, rel=2e-3), name


def _worst(*ratios):
    return pf.error_factor({f"{i}{k}": v for i, r in enumerate(ratios) for k, v in r.items()})


def test_stated_validation_errors_are_the_leave_out_errors(loo):
    """Each stated error is the worst of leaving out single runs and whole sources.  FC 50->1 is the
    only run whose clocks are mostly the per-layer overhead: without it that price is not identified
    (the ratio is about 2), so it is reported apart (docs/cost_model.md) and not in clk_error.
    DS-CNN, the only calibration net with few filters per NP (4 of 8 lanes busy), is predicted from
    AkidaNet and FC 50->1 alone within 5 % (0.54 before the lanes were counted)."""
    clocks = {k: v for k, v in {**loo["clocks"], **loo["clocks_by_source"]}.items() if k != "fc50_1f"}
    assert _worst(clocks, loo["fnp"]) == pytest.approx(T.clk_error.value, rel=2e-3)
    assert 1.5 < loo["clocks"]["fc50_1f"] < 3
    assert 1 / 1.05 < loo["clocks"]["dscnn_1f"] == loo["clocks_by_source"]["dscnn_1f"] < 1
    chip_bound = [{k: v for k, v in r.items() if k.startswith("akidanet_10f")}
                  for r in (loo["time"], loo["time_by_source"])]
    assert _worst(*chip_bound) == pytest.approx(T.chip_time_error.value, rel=2e-3)
    assert _worst(loo["time"], loo["time_by_source"]) == pytest.approx(H.call_error, rel=2e-3)
    assert _worst(loo["warm"], loo["warm_by_source"]) == pytest.approx(H.frame_error, rel=2e-3)
    assert _worst(loo["pj"]) == pytest.approx(T.energy_error.value, rel=2e-3)
    assert pf.error_factor(loo["program"]) < 1.5


NETWORKS = {"DS-CNN KWS": "dscnn_kws", "AkidaNet-0.5/224": "akidanet_05_224", "mnistnet": "mnistnet"}


@pytest.mark.parametrize("run", [r for r in published.RUNS if r.fps is not None and r.network in NETWORKS],
                         ids=lambda r: r.key)
def test_published_fps_within_the_stated_range(run):
    """Every printed fps (a cold first call after map()) lies in the model's range, and within
    1.25x of its point."""
    s = statistics(pf.counts(NETWORKS[run.network]), T, frames=run.frames, cold=True)
    assert s.fps_range[0] <= run.fps <= s.fps_range[1]
    assert 1 / 1.25 < s.fps / run.fps < 1.25
    if run.energy_mj is not None:
        assert s.energy_range[0] <= run.energy_mj <= s.energy_range[1]
        assert 1 / 1.25 < s.energy / run.energy_mj < 1.25
    if run.average_mw is not None:
        assert s.powers["average"] == pytest.approx(run.average_mw, rel=0.2)


def test_fc_width_sweep_compute_within_the_stated_error():
    """The published FC chains' compute time (latency less the round trip) at widths 1024-4096."""
    for o in pf.fnp_observations():
        ratio = pf.predict(o, [1 / T.fnp_ops_per_clk.value]) / o.target
        assert 1 / T.clk_error.value <= ratio <= T.clk_error.value, o.key


def test_dscnn_long_run_within_the_aimed_error():
    """Not fitted on: DS-CNN at about 1,400 inferences/s and 0.7 mJ each over a long run (approximate;
    read as a stream of warm 1-sample calls, as a NeuroBench run feeds samples one at a time)."""
    fps, mj = published.DSCNN_LONG_RUN
    s = statistics(pf.counts("dscnn_kws"), T, frames=1)
    assert 1 / 1.5 < s.fps / fps < 1.5 and 1 / 1.5 < s.energy / mj < 1.5
    assert s.fps_range[0] <= fps <= s.fps_range[1] and s.energy_range[0] <= mj <= s.energy_range[1]


def test_warm_calls_reproduce_the_batch_sweep_and_the_round_trip():
    """Warm calls (the model mapped and called before): the batch sweep within the stated
    per-frame error, and a 1-sample call of a small FC chain within the 650-700 us round trip's error."""
    chain = pf.batch_sweep_chain()
    for b, seconds in published.BATCH_SWEEP_S.items():
        s = statistics([chain], T, frames=b)
        assert 1 / H.frame_error <= s.time_s / seconds <= H.frame_error, b
    one = statistics([pf.fc_chain(128)], T, frames=1)
    lo, hi = published.FC_ROUND_TRIP_S
    assert lo / H.call_error < one.time_s < hi * H.call_error
    cold = statistics([pf.fc_chain(128)], T, frames=1, cold=True)
    assert cold.time_s > 10 * one.time_s


@pytest.mark.parametrize("run", [r for r in published.RUNS if r.inference_clk is not None and r.network in NETWORKS],
                         ids=lambda r: r.key)
def test_published_clocks_within_the_stated_error(run):
    s = statistics(pf.counts(NETWORKS[run.network]), T, frames=run.frames, cold=True)
    assert s.inference_clk_range[0] <= run.inference_clk <= s.inference_clk_range[1]
    assert s.program_clk == pytest.approx(run.program_clk or s.program_clk, rel=0.5)


def test_published_floors():
    _, s = mapped_run("dscnn_kws", 1)
    assert s.powers["floor"] == pytest.approx(published.run("dscnn_1f").floor_mw, rel=0.01)


def test_fewer_nps_fewer_fps_as_published():
    """AkidaNet-0.5/224 on its 32-NP Minimal mapping ran at roughly half the fps of AllNps."""
    _, allnps = mapped_run("akidanet_05_224", 10)
    _, minimal = mapped_run("akidanet_05_224", 10, mode="Minimal")
    ratio = minimal.fps / allnps.fps
    assert published.MINIMAL_OVER_ALLNPS_FPS / 1.25 < ratio < published.MINIMAL_OVER_ALLNPS_FPS * 1.25
    # the chip alone shows it too (the host's share, the same for both, only narrows the gap)
    chip_ratio = minimal.chip.fps / allnps.chip.fps
    assert published.MINIMAL_OVER_ALLNPS_FPS / 1.25 < chip_ratio < published.MINIMAL_OVER_ALLNPS_FPS * 1.25
    assert chip_ratio < ratio < 1
    _, ds_all = mapped_run("dscnn_kws", 100)
    _, ds_min = mapped_run("dscnn_kws", 100, mode="Minimal")
    assert ds_min.chip_fps < ds_all.chip_fps / 2 and ds_min.fps < ds_all.fps


def test_first_frame_dearer_and_batches_cheaper_per_frame():
    _, one = mapped_run("akidanet_05_224", 1)
    _, ten = mapped_run("akidanet_05_224", 10)
    published_ratio = published.run("akidanet_1f").inference_clk / (published.run("akidanet_10f_a").inference_clk / 10)
    assert one.clk_per_frame / ten.clk_per_frame == pytest.approx(published_ratio, rel=0.15)
    _, split = mapped_run("akidanet_05_224", 10, batch_size=2)
    assert split.inference_clk > ten.inference_clk and split.fps < ten.fps


def test_clock_modes_through_the_device():
    device = ak.AKD1000()
    _, perf = mapped_run("akidanet_05_224", 4, device=device)
    device.soc.clock_mode = ak.soc.ClockMode.Economy
    _, eco = mapped_run("akidanet_05_224", 4, device=device)
    device.soc.clock_mode = ak.soc.ClockMode.LowPower
    _, low = mapped_run("akidanet_05_224", 4, device=device)
    assert perf.fps > eco.fps > low.fps
    assert perf.powers["floor"] > eco.powers["floor"] > low.powers["floor"]
    assert eco.chip_s == pytest.approx(3 * perf.chip_s) and low.chip_s == pytest.approx(60 * perf.chip_s)
    with pytest.raises(TypeError, match="ClockMode"):
        device.soc.clock_mode = "Economy"


def test_software_sequence_priced_with_the_host_speed():
    model = zoo.build("mnist")
    sep = model.get_layer("separable_2")
    sep.set_variable("weights", np.zeros_like(sep.get_variable("weights")))   # all zero: software
    device = ak.AKD1000()
    model.map(device)
    assert [s.backend for s in model.sequences] == [ak.BackendType.Hardware, ak.BackendType.Software,
                                                    ak.BackendType.Hardware]
    x = zoo.random_inputs(model, 8, np.random.default_rng(0))
    model.forward(x)
    s = model.statistics
    assert s.host_ops_per_s == H.ops_per_s and s.software_s > 0
    assert "separable_2" in [r.name for r in s.layers]
    device.host_ops_per_second = H.ops_per_s / 10
    model.forward(x)
    assert model.statistics.software_s == pytest.approx(10 * s.software_s)
    assert model.statistics.fps < s.fps
    with pytest.raises(ValueError, match="host_ops_per_second"):
        device.host_ops_per_second = -1


def test_statistics_names_read_by_the_cli():
    model, s = mapped_run("dscnn_kws", 2)
    for name in ("fps", "energy", "powers", "inference_clk", "program_clk", "inference_frames", "clk_per_frame"):
        assert getattr(s, name) is not None, name
    assert {"floor", "average", "min", "max", "std"} <= set(s.powers)
    assert [s.powers[k] for k in ("Avg", "Min", "Max", "Std")] == [s.powers[k] for k in ("average", "min", "max", "std")]
    events = model.power_events
    assert [e.power for e in events] == [e.power for e in s.power_events] and events[0].voltage is None


@pytest.mark.parametrize("name, mode, device", [("mnist", "AllNps", "AKD1000"), ("dscnn_kws", "Minimal", "AKD1000"),
                                                 ("dscnn_kws", "AllNps", "TwoNodesIPv1"),
                                                 ("akidanet_05_96", "HwPr", "AKD1000")])
@pytest.mark.parametrize("frames, batch_size", [(1, 0), (4, 0), (10, 3), (16, 1)])
def test_power_range_is_the_time_weighted_profile_of_its_levels(name, mode, device, frames, batch_size):
    model, s = mapped_run(name, frames, mode, device=getattr(ak, device)(), batch_size=batch_size)
    p, events = s.powers, s.power_events
    assert p["min"] <= p["average"] <= p["max"] and p["std"] >= 0
    assert p["min"] == min(e.power for e in events) == p["floor"] and p["max"] == max(e.power for e in events)
    ends = [e.ts for e in events[1:]] + [s.time_s]
    spans = [(end - e.ts, e.power) for e, end in zip(events, ends)]
    assert all(d > 0 for d, _ in spans) and events[0].ts == 0
    mean = sum(d * level for d, level in spans) / s.time_s
    assert p["average"] == pytest.approx(mean, rel=1e-12)
    assert p["std"] == pytest.approx(np.sqrt(sum(d * (level - mean) ** 2 for d, level in spans) / s.time_s), rel=1e-9)
    assert s.energy == pytest.approx(p["average"] / s.fps, rel=1e-12)
    assert (p["average"] - p["floor"]) * s.time_s == pytest.approx(s.dynamic_mj_per_frame * frames, rel=1e-9)
    assert [e.power for e in model.power_events] == [e.power for e in events]


def test_forward_on_a_mapped_model_does_not_remap():
    model = zoo.build("mnist")
    model.map(ak.AKD1000())
    x = zoo.random_inputs(model, 3, np.random.default_rng(0))
    with mock.patch.object(hardware, "map_layers", side_effect=AssertionError("re-mapped")):
        model.forward(x)
        model.predict(x)
    assert model.statistics.inference_frames == 3


def test_re_pricing_without_re_running():
    _, s = mapped_run("dscnn_kws", 4)
    again = statistics(s.counts, T, frames=4, cold=True)
    assert again.fps == pytest.approx(s.fps) and again.energy == pytest.approx(s.energy)
