"""Prices of an Akida 1.0 device as data: every constant with its unit and its source.

``AKD1000_COSTS`` is the AKD1000 reference board.  Each price names the published figure(s)
that fixed it (the runs are in :mod:`hw_model.published`; the fit is reproduced by
``tests/api/test_published_figures.py`` with :mod:`hw_model.calibration`), or says that it
is an assumption.  ``clk_error`` and ``chip_time_error`` are the validation
errors of the model on the published runs (factors >= 1, leaving out single runs and whole
sources): ``statistics`` turns them into ranges.  The host's own costs are in
:mod:`hw_model.host`.  ``IP_BLOCK_COSTS`` prices an Akida 1.0 IP block with the AKD1000's chip
prices and no board: its floor power is that of the SoC it sits in, not modelled (0).

Event counts for the fit come from akida_sim's zoo reconstructions of the published networks
(random weights, thresholds set so that about half of the neurons are silent: activation
density 0.50; inputs about 70 % non-zero).  The published runs used trained networks on real
data whose density is not published: the event prices hold at density 0.50, and a network
much sparser or denser than that is estimated less well (see ``docs/cost_model.md``).

Build another table (what-if) with :meth:`CostTable.what_if` or by constructing one.  There
are no defaults: a table without a price cannot be built, and pricing with a non-Price raises.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from . import published

#: Clock modes of the board, with the vendor's names (``akida.soc.ClockMode``).
CLOCK_MODES = ("Performance", "Economy", "LowPower")


@dataclass(frozen=True)
class Price:
    """One constant: ``value`` in ``unit``, and where it came from."""

    value: float
    unit: str
    source: str

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)) or not math.isfinite(self.value):
            raise ValueError(f"Price: value must be a finite number, got {self.value!r}")
        if self.value < 0:
            raise ValueError(f"Price: value must be >= 0, got {self.value!r} {self.unit}")
        if not self.unit or not self.source:
            raise ValueError(f"Price {self.value!r}: unit and source are required")


@dataclass(frozen=True)
class CostTable:
    """Clock, time, power and energy prices of a device (see the module docstring and
    :mod:`hw_model.costs` for the formulas they enter).

    Clocks: ``clock_hz`` (Performance mode); ``clk_per_event`` (per input event reaching a
    layer's busiest NP); ``ops_per_clk`` (operation slots per clock per CNP, 8 lanes); ``fnp_ops_per_clk``
    (the same on an FNP, a fully connected layer); ``clk_per_layer`` (fixed per layer and frame,
    whatever its NP count: the NPs of a layer run in parallel); ``hrc_clk_per_value`` (HRC, per
    dense input value); ``pipeline_depth`` (stages' worth of work in flight once the pipeline is
    full); ``program_clk_per_byte`` and ``hrc_program_clk`` (programming a sequence);
    ``timer_resolution_s`` of the printed fps.  The host is not here: it is a
    :class:`hw_model.host.HostProfile`.
    Clock modes: ``<mode>_slowdown`` (clock divisor) and ``<mode>_floor_mw`` (floor power of the
    board, 0 for an IP block without a board) for Performance, Economy, LowPower.  Energy:
    ``pj_per_synaptic_op``.
    Validation: ``clk_error`` (chip clocks), ``chip_time_error`` (clocks to seconds) and
    ``energy_error`` (``pj_per_synaptic_op``), factors >= 1; ``calibration_density``: activation density of the counts the event prices were fitted
    on; ``calibrated_np_ops``: the most synaptic ops per frame of one NP in a calibration run
    (larger stages are extrapolated).
    """

    name: str
    clock_hz: Price
    clk_per_event: Price
    ops_per_clk: Price
    fnp_ops_per_clk: Price
    clk_per_layer: Price
    hrc_clk_per_value: Price
    pipeline_depth: Price
    program_clk_per_byte: Price
    hrc_program_clk: Price
    timer_resolution_s: Price
    performance_slowdown: Price
    economy_slowdown: Price
    lowpower_slowdown: Price
    performance_floor_mw: Price
    economy_floor_mw: Price
    lowpower_floor_mw: Price
    pj_per_synaptic_op: Price
    clk_error: Price
    chip_time_error: Price
    energy_error: Price
    calibration_density: Price
    calibrated_np_ops: Price

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name != "name" and not isinstance(getattr(self, f.name), Price):
                raise TypeError(f"CostTable {self.name!r}: {f.name} must be a Price, "
                                f"got {type(getattr(self, f.name)).__name__}")
        for f in ("clock_hz", "ops_per_clk", "fnp_ops_per_clk", "pipeline_depth", "performance_slowdown",
                  "economy_slowdown", "lowpower_slowdown"):
            if getattr(self, f).value <= 0:
                raise ValueError(f"CostTable {self.name!r}: {f} must be > 0")
        for f in ("clk_error", "chip_time_error", "energy_error"):
            if getattr(self, f).value < 1:
                raise ValueError(f"CostTable {self.name!r}: {f} is a factor >= 1, got {getattr(self, f).value}")

    def what_if(self, name: str, **values: float) -> "CostTable":
        """A copy with some values changed (same units; source says 'what-if')."""
        changes = {}
        for key, value in values.items():
            old = getattr(self, key, None)
            if not isinstance(old, Price):
                raise TypeError(f"CostTable.what_if: {key!r} is not a price of {self.name!r}")
            changes[key] = Price(value, old.unit, f"what-if ({name}); was {old.value} {old.unit}")
        return replace(self, name=name, **changes)

    def rows(self) -> list[tuple[str, float, str, str]]:
        """(field, value, unit, source) for reports."""
        return [(f.name, p.value, p.unit, p.source) for f in fields(self) if isinstance(p := getattr(self, f.name), Price)]


# Fitted and validated values (tests/api/test_published_figures.py re-fits them from the published runs).
CLOCK_HZ = 3.03664e+08
CLK_PER_EVENT = 0.342881
OPS_PER_CLK = 6.08564
FNP_OPS_PER_CLK = 2.09970
CLK_PER_LAYER = 640.764
PROGRAM_CLK_PER_BYTE = 0.629134
HRC_PROGRAM_CLK = 97620.2
PJ_PER_OP = 5.80161
CLK_ERROR = 1.2836
CHIP_TIME_ERROR = 1.2366
ENERGY_ERROR = 1.714
CALIBRATED_NP_OPS = 19_207_200.0

#: AkidaNet-0.5/224 clocks per frame once the pipeline is full: (10-frame runs' mean - 1 frame) / 9.
STEADY_CLK = ((sum(r.inference_clk for r in published.RUNS if r.key.startswith("akidanet_10f")) / 3
               - published.run("akidanet_1f").inference_clk) / 9)

PERFORMANCE_FLOOR_MW = (sum(r.floor_mw for r in published.RUNS if r.floor_mw and r.source != "mnist_course")
                        / sum(1 for r in published.RUNS if r.floor_mw and r.source != "mnist_course"))

_GUIDE = "user guide CLI runs (hw_model.published SOURCES['user_guide'])"
_POWER = "repeated AkidaNet runs (hw_model.published SOURCES['power_page'])"
_FC = "FC 50->1 run (hw_model.published SOURCES['fc_notebook'])"
_MODES = "clock-mode measurements (hw_model.published SOURCES['clock_modes'])"
_NP = "hw_model.published SOURCES['np_count']"
_LOO = ("leave-one-out and leave-one-source-out over the published runs, tests/api/test_published_figures.py and "
        "docs/cost_model.md")

AKD1000_COSTS = CostTable(
    name="AKD1000",
    clock_hz=Price(
        CLOCK_HZ, "Hz",
        f"fit: printed fps of DS-CNN 1 frame (62.50), AkidaNet 1 frame (10.99) and 10 frames (43.48, 51.28, "
        f"53.76), cold first calls after map(), with their published clocks as input, jointly with the host "
        f"profile's first-call terms ({_GUIDE}; {_POWER}); an effective clock (clocks to seconds), no clock "
        "frequency being published"),
    clk_per_event=Price(
        CLK_PER_EVENT, "clk per input event on a layer's busiest NP",
        f"fit: first-frame clocks of DS-CNN (93,965), AkidaNet-0.5 (13,733,572) and FC 50->1 (668) "
        f"({_GUIDE}; {_POWER}; {_FC}), and AkidaNet-0.5's steady-state clocks per frame, solved jointly with "
        f"ops_per_clk and clk_per_layer, density 0.50"),
    ops_per_clk=Price(
        OPS_PER_CLK, "operation slots per clock per CNP (8 lanes; see hw_model.costs.NP_LANES)",
        "fit: same four clock figures as clk_per_event, jointly (their fully connected layers priced by "
        "fnp_ops_per_clk); a CNP's work is counted in slots of 8 lanes (hw_model.costs.layer_work)"),
    fnp_ops_per_clk=Price(
        FNP_OPS_PER_CLK, "synaptic ops per clock per FNP",
        "fit: compute part of the 1-sample latency of FC(N->N) -> FC(N->1) at widths 1024, 2048 and 4096 (latency "
        "- 675 us round trip, times clock_hz) (hw_model.published SOURCES['fc_width']); the calibration runs "
        "hold almost no FNP work; bits and input density of that run not published, density 0.50 assumed"),
    clk_per_layer=Price(
        CLK_PER_LAYER, "clk per layer per frame",
        "fit: same four clock figures as clk_per_event, jointly (fixed mostly by the 668 clocks of FC 50->1 on one "
        "NP); per layer, not per NP: the NPs of a layer run in parallel, so adding NPs never adds clocks "
        "(docs/cost_model.md says what this costs in leave-one-out error)"),
    hrc_clk_per_value=Price(
        1.0, "clk per dense input value (8-bit)",
        "assumption: the HRC reads one input value per clock; not identifiable (1 % of AkidaNet-0.5's first "
        "frame, 0.5 % of DS-CNN's)"),
    pipeline_depth=Price(
        published.run("akidanet_1f").inference_clk / STEADY_CLK, "stages in flight",
        f"published: AkidaNet-0.5/224 first-frame clocks (13,733,572) over its steady-state clocks per frame "
        f"((mean of 43,000,636, 43,001,443, 43,007,313 - 13,733,572) / 9) ({_GUIDE}; {_POWER}); checked on the "
        f"Minimal mapping's published fps ({_NP})"),
    program_clk_per_byte=Price(
        PROGRAM_CLK_PER_BYTE, "clk per program byte",
        f"fit: program_clk of DS-CNN (152,396 for 88,748 B), AkidaNet-0.5 (998,079 and 999,868 for 1,361,244 "
        f"B) and FC 50->1 (457 for 752 B), jointly with hrc_program_clk ({_GUIDE}; {_POWER}; {_FC})"),
    hrc_program_clk=Price(
        HRC_PROGRAM_CLK, "clk per program holding the HRC",
        "fit: same three programs as program_clk_per_byte (the FC program, without HRC, has no fixed part)"),
    timer_resolution_s=Price(
        published.TIMER_RESOLUTION_S, "s", "published: printed fps are whole milliseconds per call (62.50 fps = 16 ms, 43.48 = 230 ms)"),
    performance_slowdown=Price(1.0, "clock divisor", "definition: Performance is the reference clock"),
    economy_slowdown=Price(published.CLOCK_MODE_SLOWDOWN["Economy"], "clock divisor", f"published: the same model ran about 3x slower ({_MODES})"),
    lowpower_slowdown=Price(published.CLOCK_MODE_SLOWDOWN["LowPower"], "clock divisor", f"published: the same model ran about 60x slower ({_MODES})"),
    performance_floor_mw=Price(
        PERFORMANCE_FLOOR_MW, "mW",
        f"published: mean of the floors of the vendor's runs, DS-CNN 914.03, AkidaNet 912.23, 905.21 and 907.01 "
        f"({_GUIDE}; {_POWER}); within the 900-918 mW of {_MODES}"),
    economy_floor_mw=Price(sum(published.CLOCK_MODE_FLOORS_MW["Economy"]) / 2, "mW", f"published: mid value of 736-743 mW ({_MODES})"),
    lowpower_floor_mw=Price(sum(published.CLOCK_MODE_FLOORS_MW["LowPower"]) / 2, "mW", f"published: mid value of 653-662 mW ({_MODES})"),
    pj_per_synaptic_op=Price(
        PJ_PER_OP, "pJ per synaptic op",
        f"fit: AkidaNet-0.5 10-frame runs, (average - floor) / fps over the synaptic ops per frame: 1021 mW at "
        f"43.48 fps (floor 912.23), 981 at 51.28 and 1047.5 at 53.76 (floor taken as performance_floor_mw) "
        f"({_GUIDE}; {_POWER}), density 0.50; all-inclusive (MAC, SRAM, routing)"),
    clk_error=Price(CLK_ERROR, "factor", f"validation: largest error of the chip clocks leaving out single runs and "
                    f"whole sources, prices >= 0: FNP compute times 0.78-1.20 (the worst), DS-CNN's first frame "
                    f"0.96 without it (its few filters per NP leave lanes idle), AkidaNet 1.02, its steady state "
                    f"0.97; FC 50->1 (2.2x without it: the only run whose clocks are mostly the per-layer overhead, "
                    f"which it alone identifies) is reported apart; few networks, all at density 0.50 ({_LOO})"),
    chip_time_error=Price(CHIP_TIME_ERROR, "factor",
                          f"validation: largest error of the call time given the published clocks on the runs whose "
                          f"time is mostly chip time (AkidaNet-0.5 10 frames: 0.82-1.24 leaving out single runs and "
                          f"whole sources), i.e. of clock_hz and the board's run-to-run noise (+-11 % in fps at equal "
                          f"clocks) ({_LOO})"),
    energy_error=Price(ENERGY_ERROR, "factor",
                       f"validation: largest leave-one-out error of pj_per_synaptic_op over the three AkidaNet "
                       f"10-frame runs (0.81, 1.71, 0.78: their dynamic power above the floor spreads 76-135 mW) "
                       f"({_LOO})"),
    calibration_density=Price(
        0.5, "fraction of non-zero activations",
        "akida_sim.zoo SILENT_FRACTION = 0.5 (the density of the counts the event prices were fitted on)"),
    calibrated_np_ops=Price(
        CALIBRATED_NP_OPS, "synaptic ops per NP per frame",
        f"validation: the busiest NP of the calibration runs (AkidaNet-0.5/224's conv_3 on 3 NPs, density 0.50) ({_POWER})"),
)

#: An Akida 1.0 IP block (e.g. ``TwoNodesIPv1``): the AKD1000's chip prices, no board, so no board floor.
IP_BLOCK_COSTS = replace(
    AKD1000_COSTS, name="Akida 1.0 IP (AKD1000 chip prices, no board)",
    **{f"{m.lower()}_floor_mw": Price(0.0, "mW", "an IP block has no board: the floor power is that of the SoC "
                                                   "it is integrated in, not modelled (dynamic power only)")
       for m in CLOCK_MODES})

__all__ = ["CLOCK_MODES", "Price", "CostTable", "AKD1000_COSTS", "IP_BLOCK_COSTS"]
