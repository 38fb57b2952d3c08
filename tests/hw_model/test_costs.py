"""The cost model's structure (hw_model.costs, hw_model.cost_table) on synthetic counts.

The published runs are reproduced in tests/api/test_published_figures.py; here the relations
the chip shows are checked on counts built by hand: more NPs for a layer cost fewer clocks,
the first frame is dearer than the next ones, sub-batches and several hardware sequences add
clocks, software sequences add host time, lower clock modes are slower and draw a lower floor.
"""
import math
import pathlib
import subprocess
import sys

import pytest

from hw_model import published
from hw_model.cost_table import AKD1000_COSTS, CLOCK_MODES, IP_BLOCK_COSTS, CostTable, Price
from hw_model.costs import (CostError, LayerCounts, SequenceCounts, batch_clocks, clock_hz, first_frame_clocks,
                            floor_power_mw, layer_work, learning_work, stage_clocks, statistics, steady_frame_clocks)
from hw_model.host import CHIP_ONLY, DEFAULT_HOST, HOST_PROFILES, HostError, HostProfile, host_profile

T = AKD1000_COSTS
H = DEFAULT_HOST


def conv_counts(name, events=2000.0, filters=64, tiles=1, groups=1, on_host=False):
    f_np = -(-filters // groups)
    np_events, np_ops, ops = layer_work("conv", events, kernel=3, stride=1, filters=filters, in_channels=32,
                                        conv_positions=16 * 16, tiles=tiles, np_filters=f_np)
    return LayerCounts(name, "conv", events, 16 * 16 * 32, events / 2, ops, 0 if on_host else tiles * groups,
                       np_events, np_ops, on_host=on_host)


def hrc_counts(values=4096):
    _, np_ops, ops = layer_work("input_conv", values * 0.7, kernel=3, stride=1, filters=16, in_channels=1,
                                conv_positions=values)
    return LayerCounts("in", "input_conv", values * 0.7, values, values / 2, ops, 0, values, np_ops)


def fc_counts():
    _, np_ops, ops = layer_work("fully_connected", 100.0, kernel=1, stride=1, filters=10, in_channels=256,
                                conv_positions=1)
    return LayerCounts("fc", "fully_connected", 100.0, 256, 10, ops, 1, 100.0, np_ops)


def hw(name, *layers, program=10_000, input_bytes=4096):
    return SequenceCounts(name, True, tuple(layers), program, input_bytes)


def net(groups=1):
    return [hw("HW/a", hrc_counts(), conv_counts("c1", groups=groups), conv_counts("c2", groups=groups), fc_counts())]


# ----------------------------------------------------------------------------- structure

def test_more_nps_for_a_layer_cost_fewer_clocks_until_another_stage_paces():
    clocks = [stage_clocks(conv_counts("c", groups=g), T) for g in (1, 2, 4, 8, 16)]
    assert clocks == sorted(clocks, reverse=True) and clocks[-1] < clocks[0] / 4
    fps = [statistics(net(g), T, frames=100).fps for g in (1, 2, 4, 8)]
    assert fps == sorted(fps) and fps[-1] > fps[0]
    # once the convs are cheap, the stage that paces stops the gain
    paced = [steady_frame_clocks(net(g)[0], T) for g in (64, 128)]
    assert paced[1] >= 0.9 * paced[0]


def test_spatial_tiles_share_the_events():
    one, four = conv_counts("c", tiles=1), conv_counts("c", tiles=4)
    assert four.np_events == one.np_events / 4 and four.synaptic_ops == one.synaptic_ops
    assert stage_clocks(four, T) < stage_clocks(one, T)


def test_first_frame_is_dearer_than_later_frames():
    seq = net()[0]
    first = batch_clocks(seq, T, 1)
    later = batch_clocks(seq, T, 2) - first
    assert first == first_frame_clocks(seq, T) > later == pytest.approx(steady_frame_clocks(seq, T))
    one, ten = statistics(net(), T, frames=1), statistics(net(), T, frames=10)
    assert one.clk_per_frame > ten.clk_per_frame and one.fps < ten.fps


def test_sub_batches_refill_the_pipeline():
    whole = statistics(net(), T, frames=12)
    parts = statistics(net(), T, frames=12, batch_size=4)
    assert parts.inference_clk == pytest.approx(3 * batch_clocks(net()[0], T, 4))
    assert parts.inference_clk > whole.inference_clk and parts.fps < whole.fps


def test_several_hardware_sequences_are_reprogrammed_per_sub_batch():
    one = statistics(net(), T, frames=8)
    assert one.reprogram_clk == 0
    two = [hw("HW/a", hrc_counts(), conv_counts("c1")), hw("HW/b", conv_counts("c2"), fc_counts())]
    s = statistics(two, T, frames=8, batch_size=2)
    assert s.program_clk == pytest.approx(s.sequences[0].program_clk + s.sequences[1].program_clk)
    assert s.reprogram_clk == pytest.approx(4 * s.program_clk)
    assert s.chip_s == pytest.approx((s.inference_clk + s.reprogram_clk) / clock_hz(T, "Performance"))
    assert s.fps < one.fps


def test_passes_after_the_first_are_reprogrammed_but_take_no_host_input():
    seq = [hw("HW/a", hrc_counts(), conv_counts("c1")), hw("HW/b", conv_counts("c2"), fc_counts())]
    passes = [seq[0], SequenceCounts("HW/a pass 2", True, seq[1].layers, 10_000, 4096, host_input=False)]
    s, p = statistics(seq, T, frames=8, batch_size=2), statistics(passes, T, frames=8, batch_size=2)
    assert p.reprogram_clk == s.reprogram_clk > 0 and p.inference_clk == s.inference_clk
    assert p.host_s < s.host_s and p.fps > s.fps


def test_software_sequences_add_host_time_and_are_never_dropped():
    mixed = [hw("HW/a", hrc_counts(), conv_counts("c1")),
             SequenceCounts("SW/c2", False, (conv_counts("c2", on_host=True),), 0, 1024),
             hw("HW/fc", fc_counts())]
    default = statistics(mixed, T, frames=4)
    assert default.host_ops_per_s == H.ops_per_s
    assert default.software_s == pytest.approx(4 * mixed[1].layers[0].synaptic_ops / H.ops_per_s)
    assert [r.name for r in default.layers] == ["in", "c1", "c2", "fc"] and default.layers[2].stage_clk is None
    assert default.sequences[1].host_synaptic_ops == mixed[1].layers[0].synaptic_ops
    assert "synaptic ops/s" in str(default)
    slow = statistics(mixed, T, frames=4, host_ops_per_s=1e9)
    fast = statistics(mixed, T, frames=4, host_ops_per_s=1e11)
    assert slow.software_s == pytest.approx(4 * mixed[1].layers[0].synaptic_ops / 1e9)
    assert slow.fps < fast.fps
    all_hw = statistics([hw("HW/a", hrc_counts(), conv_counts("c1"), conv_counts("c2"), fc_counts())], T, frames=4)
    assert fast.time_s > all_hw.time_s


def test_host_overhead_is_its_own_term():
    s = statistics(net(), T, frames=3)
    expected = H.call_s + 3 * (H.frame_s + 4096 / H.bytes_per_s)
    assert s.host_s == pytest.approx(expected) == pytest.approx(s.host_inclusive.host_s)
    assert s.time_s == pytest.approx(s.host_s + s.chip_s)
    assert s.chip_fps > s.fps   # the printed-fps analogue includes the host
    assert s.host == s.host_inclusive.host == H.name and not s.cold


def test_the_first_call_after_map_is_cold_later_calls_warm():
    warm = statistics(net(), T, frames=1)
    cold = statistics(net(), T, frames=1, cold=True)
    assert cold.host_s - warm.host_s == pytest.approx(H.first_call_s + 10_000 * H.first_call_s_per_byte)
    assert cold.fps < warm.fps and cold.energy > warm.energy and cold.cold and cold.host_inclusive.cold
    assert cold.chip == warm.chip.__class__(**{**warm.chip.__dict__, "floor_share": cold.chip.floor_share})
    # a warm 1-frame call of a small net is well under 1 ms of host time on the PC profile
    assert warm.host_s < 1e-3 < cold.host_s


def test_host_profiles_are_data_with_sources_and_one_line_for_a_users_own():
    assert set(HOST_PROFILES) >= {"pcie_pc", "chip_only"} and host_profile("pcie_pc") is H
    for p in HOST_PROFILES.values():
        assert p.source and p.call_error >= 1 and p.frame_error >= 1
    mine = HostProfile("my_pi", call_s=2e-3, first_call_s=40e-3, first_call_s_per_byte=25e-9, frame_s=1e-3,
                       bytes_per_s=400e6, ops_per_s=3e8, source="measured")
    a, b = statistics(net(), T, frames=4, host=mine), statistics(net(), T, frames=4)
    assert a.host == "my_pi" and a.fps < b.fps and a.chip.fps == b.chip.fps
    assert a.chip.dynamic_mj_per_frame == b.chip.dynamic_mj_per_frame
    none = statistics(net(), T, frames=4, host=CHIP_ONLY)
    assert none.host_s < 1e-20 and none.time_s == pytest.approx(none.chip_s)
    assert H.what_if("faster", call_s=0.0).call_s == 0
    with pytest.raises(HostError, match="frame_s"):
        HostProfile("bad", 0, 0, 0, -1, 1, 1, "x")
    with pytest.raises(HostError, match="no host profile"):
        host_profile("cray")
    with pytest.raises(CostError, match="HostProfile"):
        statistics(net(), T, frames=1, host="pcie_pc")


def test_chip_figures_leave_the_host_out():
    s = statistics(net(), T, frames=10)
    c = s.chip
    assert c.fps == s.chip_fps == pytest.approx(T.clock_hz.value / c.steady_frame_clk)
    assert c.latency_s == pytest.approx(c.first_frame_clk / T.clock_hz.value)
    assert c.fps_range[0] < c.fps < c.fps_range[1] and c.dynamic_mj_range[0] < c.dynamic_mj_per_frame
    assert c.dynamic_mj_per_frame == s.dynamic_mj_per_frame
    assert c.floor_share == pytest.approx(s.powers["floor"] * s.time_s / 10 / s.energy)
    assert 0 < c.floor_share < 1


def test_an_ip_block_has_no_board_floor():
    s = statistics(net(), IP_BLOCK_COSTS, frames=10)
    assert s.powers["floor"] == 0 and s.energy == pytest.approx(s.dynamic_mj_per_frame)
    assert "no board" in str(s)
    assert all(floor_power_mw(IP_BLOCK_COSTS, m) == 0 for m in CLOCK_MODES)


def test_learning_adds_work_on_the_learning_np():
    fc = fc_counts()
    learning = LayerCounts(**{**fc.__dict__, "learn_ops": learning_work(10, 40)})
    base = statistics([hw("HW/a", hrc_counts(), fc)], T, frames=8)
    learn = statistics([hw("HW/a", hrc_counts(), learning)], T, frames=8, learning=True)
    assert learning_work(10, 40) == 50
    assert learn.chip.steady_frame_clk >= base.chip.steady_frame_clk and learn.first_frame_clk > base.first_frame_clk
    assert learn.dynamic_mj_per_frame > base.dynamic_mj_per_frame and learn.learning
    assert "learned sample" in str(learn) and any("learning" in w for w in learn.warnings)
    with pytest.raises(CostError, match="learn_ops"):
        LayerCounts(**{**conv_counts("c").__dict__, "learn_ops": 5.0})
    with pytest.raises(CostError, match="num_weights"):
        learning_work(10, 0)


def test_warnings_name_what_lies_outside_the_calibration():
    calibrated = [hw("HW/a", hrc_counts(), conv_counts("c1", events=4096.0), fc_counts())]
    assert statistics(calibrated, T, frames=2).warnings == ()
    sparse = [hw("HW/a", hrc_counts(), conv_counts("c1", events=100.0), fc_counts())]
    assert any("density" in w for w in statistics(sparse, T, frames=2).warnings)
    mixed = [hw("HW/a", hrc_counts(), conv_counts("c1")),
             SequenceCounts("SW/c2", False, (conv_counts("c2", on_host=True),), 0, 1024)]
    assert any("software" in w for w in statistics(mixed, T, frames=2).warnings)


@pytest.mark.parametrize("slow, fast", [("Economy", "Performance"), ("LowPower", "Economy")])
def test_lower_clock_modes_are_slower_with_a_lower_floor(slow, fast):
    assert clock_hz(T, slow) < clock_hz(T, fast) and floor_power_mw(T, slow) < floor_power_mw(T, fast)
    a, b = statistics(net(), T, frames=50, clock_mode=slow), statistics(net(), T, frames=50, clock_mode=fast)
    assert a.fps < b.fps and a.chip_fps < b.chip_fps and a.powers["floor"] < b.powers["floor"]
    assert a.inference_clk == b.inference_clk


def test_clock_modes_follow_the_published_slowdowns():
    for mode in CLOCK_MODES:
        assert clock_hz(T, "Performance") / clock_hz(T, mode) == pytest.approx(published.CLOCK_MODE_SLOWDOWN[mode])
        lo, hi = published.CLOCK_MODE_FLOORS_MW[mode]
        assert lo <= floor_power_mw(T, mode) <= hi
    with pytest.raises(CostError, match="clock_mode"):
        clock_hz(T, "Turbo")


# ----------------------------------------------------------------------------- power, energy, report

def test_energy_is_average_power_over_fps_floor_included():
    s = statistics(net(), T, frames=10)
    assert s.energy == pytest.approx(s.powers["average"] / s.fps)
    assert s.powers["average"] == pytest.approx(s.powers["floor"] + s.dynamic_mj_per_frame * s.fps)
    assert s.powers["min"] == s.powers["floor"] < s.powers["average"] < s.powers["max"]
    assert sum(r.dynamic_uj for r in s.layers) == pytest.approx(s.dynamic_mj_per_frame * 1e3)
    assert [e.power for e in s.power_events] == [s.powers["floor"], s.powers["max"], s.powers["floor"]]


def test_ranges_hold_the_point_and_come_from_the_validation_errors():
    s = statistics(net(), T, frames=10)
    assert s.fps_range[0] < s.fps < s.fps_range[1]
    assert s.energy_range[0] < s.energy < s.energy_range[1]
    lo, hi = s.inference_clk_range
    assert lo * T.clk_error.value == pytest.approx(s.inference_clk) == pytest.approx(hi / T.clk_error.value)
    k = T.clk_error.value * T.chip_time_error.value
    assert s.chip.fps_range == pytest.approx((s.chip.fps / k, s.chip.fps * k))
    assert s.chip.dynamic_mj_range[1] == pytest.approx(s.dynamic_mj_per_frame * T.clk_error.value * T.energy_error.value)


def test_report_labels_units_and_keeps_significant_digits():
    s = statistics(net(), T, frames=10)
    text = str(s)
    for label in ("Floor power (mW)", "Average framerate =", "Last inference power range (mW)",
                  "Last inference energy consumed (mJ/frame)", "inference_frames: 10", "inference_clk:",
                  "program_clk:", "dynamic uJ/frame", "stage clk/frame", "range", "ESTIMATED",
                  "Chip framerate (steady state)", "host profile 'pcie_pc'", "Chip only (no host)"):
        assert label in text
    fc_row = next(line for line in text.splitlines() if line.startswith("fc "))
    uj = next(r.dynamic_uj for r in s.layers if r.name == "fc")
    assert f"{uj:.4g}"[:4] in fc_row.split()[-1]


def test_re_pricing_the_counts_with_a_what_if_table():
    s = statistics(net(), T, frames=10)
    fast = T.what_if("double clock", clock_hz=2 * T.clock_hz.value)
    assert "what-if" in fast.clock_hz.source
    t = statistics(s.counts, fast, frames=10)
    assert t.chip_s == pytest.approx(s.chip_s / 2) and t.inference_clk == s.inference_clk


# ----------------------------------------------------------------------------- data rules

def test_every_price_names_its_source():
    kinds = ("published", "fit", "assumption", "definition", "validation", "akida_sim.zoo")
    for field, value, unit, source in T.rows():
        assert math.isfinite(value) and unit, field
        assert source.startswith(kinds), (field, source)


def test_missing_price_raises():
    kwargs = {f: getattr(T, f) for f in T.__dataclass_fields__}
    kwargs.pop("pj_per_synaptic_op")
    with pytest.raises(TypeError):
        CostTable(**kwargs)
    kwargs["pj_per_synaptic_op"] = None
    with pytest.raises(TypeError, match="pj_per_synaptic_op"):
        CostTable(**kwargs)
    with pytest.raises(ValueError):
        Price(float("nan"), "pJ", "x")
    with pytest.raises(TypeError):
        T.what_if("x", no_such_price=1.0)
    with pytest.raises(ValueError, match="clk_error"):
        T.what_if("x", clk_error=0.5)


def test_counts_validation():
    with pytest.raises(CostError, match="kind"):
        LayerCounts("a", "pool", 1, 1, 1, 1, 1, 1, 1)
    with pytest.raises(CostError, match="HRC"):
        LayerCounts("a", "input_conv", 1, 10, 1, 1, 2, 1, 1)
    with pytest.raises(CostError, match="nps"):
        LayerCounts("a", "conv", 1, 10, 1, 1, 0, 1, 1)
    with pytest.raises(CostError, match="input_events"):
        LayerCounts("a", "conv", -1, 10, 1, 1, 1, 1, 1)
    with pytest.raises(CostError, match="on_host"):
        SequenceCounts("HW/a", True, (conv_counts("c", on_host=True),), 0, 0)
    with pytest.raises(CostError, match="frames"):
        statistics(net(), T, frames=0)
    with pytest.raises(CostError, match="np_filters"):
        layer_work("conv", 1.0, kernel=3, stride=1, filters=4, in_channels=1, conv_positions=1, np_filters=5)


def test_layer_work_formulas():
    assert layer_work("conv", 10.0, kernel=3, stride=1, filters=8, in_channels=4, conv_positions=64) == (10, 720, 720)
    ev, np_ops, ops = layer_work("separable", 10.0, kernel=3, stride=1, filters=8, in_channels=4,
                                 conv_positions=64, tiles=2, np_filters=4)
    # 8 lanes: a depthwise event (9 ops) takes 2 steps, a depthwise output feeding 4 filters 1 step
    assert (ev, np_ops, ops) == (5, 5 * 16 + 64 * 4 / 2 * 8, 90 + 64 * 4 * 8)
    assert layer_work("separable", 10.0, kernel=3, stride=1, filters=8, in_channels=4, conv_positions=64,
                      tiles=2, np_filters=4, lanes=1)[1] == 5 * 9 + 64 * 4 / 2 * 4
    # a convolution event on 3 filters: 27 ops in 4 steps of 8 lanes; a full NP pads nothing
    assert layer_work("conv", 10.0, kernel=3, stride=1, filters=3, in_channels=4, conv_positions=64)[1:] == (320, 270)
    assert layer_work("conv", 10.0, kernel=3, stride=2, filters=64, in_channels=4, conv_positions=16)[1] == 10 * 9 / 4 * 64
    assert layer_work("fully_connected", 10.0, kernel=1, stride=1, filters=33, in_channels=64,
                      conv_positions=1) == (10, 330, 330)
    with pytest.raises(CostError, match="lanes"):
        layer_work("conv", 1.0, kernel=3, stride=1, filters=4, in_channels=1, conv_positions=1, lanes=0)


def test_more_filters_per_np_never_fewer_slots_per_filter_and_never_fewer_slots():
    """Lanes: the slots of an NP never fall as its filters grow, and never exceed its ops by more
    than one padded step per input item (so adding NPs, which only removes filters, never adds clocks)."""
    for kind in ("conv", "separable"):
        prev = 0.0
        for f in range(1, 70):
            _, slots, _ = layer_work(kind, 10.0, kernel=3, stride=1, filters=f, in_channels=4, conv_positions=16)
            _, ops, _ = layer_work(kind, 10.0, kernel=3, stride=1, filters=f, in_channels=4, conv_positions=16, lanes=1)
            assert prev <= slots and ops <= slots < ops + 8 * (10 + 16 * 4 * (kind == "separable")) + 1e-9
            prev = slots


def test_hw_model_does_not_import_akida():
    code = ("import sys, hw_model, hw_model.costs, hw_model.cost_table, hw_model.calibration; "
            "bad = [m for m in sys.modules if m == 'akida' or m.startswith(('akida.', 'akida_sim'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(pathlib.Path(__file__).parents[2]))


def test_fit_keeps_every_price_non_negative():
    """A price is a cost: the fit never returns a negative one, and returns the plain least squares
    when that is already non-negative."""
    import numpy as np
    from hw_model.calibration import Observation, fit_linear
    exact = [Observation("a", (1.0, 1.0), 0.0, 3.0), Observation("b", (1.0, 2.0), 0.0, 5.0)]
    assert np.allclose(fit_linear(exact), [1.0, 2.0])
    # unconstrained: 10 - 1 x (second price) ... a negative second price; constrained: it is 0
    neg = [Observation("a", (1.0, 1.0), 0.0, 9.0), Observation("b", (1.0, 2.0), 0.0, 8.0),
           Observation("c", (1.0, 3.0), 0.0, 7.0)]
    x = fit_linear(neg)
    assert (x >= 0).all() and x[1] == 0 and x[0] > 0
