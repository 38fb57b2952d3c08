"""Prices of an Akida 1.0 device as data: every constant with its unit and its source.

``AKD1000_COSTS`` is the AKD1000 reference board, calibrated on the vendor's published runs
(Brainchip-Inc/akida_examples, doc/user_guide/akida.rst, "Command-line interface for model
evaluation"; also /work/shared/reference/akd1000_mapping.md section 3):

    DS-CNN KWS      inference_clk 93,965 (1 frame), program_clk 152,396 for 88,748 B,
                    floor 914.03 mW
    AkidaNet-0.5/224 inference_clk 43,000,636 (10 frames), program_clk 998,079 for 1,361,244 B,
                    43.48 fps, average 1,021 mW, 23.48 mJ/frame, floor 912.23 mW

Event counts for the calibration come from akida_sim's zoo models (random weights
calibrated so that ~50 % of neurons are silent; inputs ~70 % non-zero), i.e. an activation
density of 0.50.  Event-driven prices fitted at that density absorb the mismatch with the
trained models' (unpublished) density: ``clk_per_event x density`` is what the figures fix.

Build another table (what-if) with :meth:`CostTable.what_if` or by constructing one.  There
are no defaults: a table without a price cannot be built, and pricing with a non-Price raises.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace


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
    """Clock, power and energy prices of a device (see the module docstring).

    Clocks: ``clock_hz``; ``clk_per_event`` (per input event per layer); ``macs_per_clk_per_np``
    (synaptic ops per clock per NP); ``clk_per_layer`` (fixed per layer per frame);
    ``hrc_clk_per_input_byte`` (HRC, per dense input value); ``host_clk_per_input_byte``;
    ``program_clk_fixed`` + ``program_clk_per_byte``.  Power/energy: ``floor_power_mw``;
    ``pj_per_synaptic_op``; ``pj_per_event`` (per input or output event).
    ``calibration_density``: activation density at which the event prices were fitted.
    """

    name: str
    clock_hz: Price
    clk_per_event: Price
    macs_per_clk_per_np: Price
    clk_per_layer: Price
    hrc_clk_per_input_byte: Price
    host_clk_per_input_byte: Price
    program_clk_fixed: Price
    program_clk_per_byte: Price
    floor_power_mw: Price
    pj_per_synaptic_op: Price
    pj_per_event: Price
    calibration_density: Price

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name != "name" and not isinstance(getattr(self, f.name), Price):
                raise TypeError(f"CostTable {self.name!r}: {f.name} must be a Price, "
                                f"got {type(getattr(self, f.name)).__name__}")
        for f in ("clock_hz", "macs_per_clk_per_np"):
            if getattr(self, f).value <= 0:
                raise ValueError(f"CostTable {self.name!r}: {f} must be > 0")

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


_DOC = "Brainchip-Inc/akida_examples doc/user_guide/akida.rst (CLI examples)"

#: AkidaNet-0.5/224 published: 43,000,636 clk / 10 frames at 43.48 fps.
_AKIDANET_CLK_PER_FRAME = 43_000_636 / 10
_CLOCK_HZ = _AKIDANET_CLK_PER_FRAME * 43.48
#: Host link of the AKD1000 PCIe board: PCIe 2.0 x1 = 5 GT/s with 8b/10b coding = 500 MB/s.
_HOST_BYTES_PER_S = 500e6

AKD1000_COSTS = CostTable(
    name="AKD1000",
    clock_hz=Price(
        _CLOCK_HZ, "Hz",
        f"calibration: AkidaNet-0.5/224 {_AKIDANET_CLK_PER_FRAME:.0f} clk/frame x 43.48 fps ({_DOC}), assuming "
        "clock-bound frames; no clock frequency is published (reference section 4). Lower bound of the real clock."),
    clk_per_event=Price(
        5.0, "clk per input event per layer",
        "calibration: DS-CNN 93,965 clk/frame and AkidaNet-0.5 4,300,064 clk/frame, solved jointly with "
        "clk_per_layer at activation density 0.50 (zoo counts): 4.998, rounded; events enter a layer serially"),
    macs_per_clk_per_np=Price(
        256.0, "synaptic ops per clock per NP",
        "assumption: one 128-byte weight-memory unit (the CNP packing unit of hw_model.mesh.MapLimits, calibrated "
        "by the mapper) read per clock = 256 4-bit weights. Not identifiable from the published clocks, which are "
        "event-bound (a free fit gives a negative ops coefficient); 128 instead changes AkidaNet by ~+6 %"),
    clk_per_layer=Price(
        2100.0, "clk per layer per frame",
        "calibration: solved jointly with clk_per_event on the DS-CNN and AkidaNet-0.5 clocks (layer setup, "
        "end-of-frame potential scan and fire): 2102, rounded"),
    hrc_clk_per_input_byte=Price(
        1.0, "clk per input value (8-bit)",
        "assumption: the HRC consumes the dense input frame at one byte per clock; not identifiable (3.5 % of "
        "AkidaNet-0.5, 0.5 % of DS-CNN)"),
    host_clk_per_input_byte=Price(
        _CLOCK_HZ / _HOST_BYTES_PER_S, "clk per input byte",
        "derived: clock_hz / 500 MB/s (PCIe 2.0 x1 board link, vengineer.hatenablog.com 2024-07-21 quoting the "
        "AKD1000 board; 5 GT/s 8b/10b per the PCIe 2.0 line rate)"),
    program_clk_fixed=Price(
        93_415.0, "clk per program",
        f"calibration: line through DS-CNN (88,748 B, 152,396 clk) and AkidaNet-0.5 (1,361,244 B, 998,079 clk), "
        f"{_DOC}: 93,415.3"),
    program_clk_per_byte=Price(
        0.6646, "clk per program byte",
        f"calibration: slope of the same two published programs, {_DOC}: 0.66459"),
    floor_power_mw=Price(
        (914.03 + 912.23) / 2, "mW",
        f"published: mean of the floor powers of the DS-CNN (914.03 mW) and AkidaNet (912.23 mW) runs, {_DOC}"),
    pj_per_synaptic_op=Price(
        8.56, "pJ per synaptic op",
        "calibration: AkidaNet-0.5 dynamic power (1021 - 912.23) mW / 43.48 fps = 2.50 mJ/frame over its "
        "synaptic ops at density 0.50 (2.92e8): 8.556, rounded; all-inclusive (MAC, potential and weight SRAM, "
        "routing)"),
    pj_per_event=Price(
        0.0, "pJ per input or output event",
        "not identifiable: one published dynamic-power figure fixes one energy price; event energy is folded "
        "into pj_per_synaptic_op"),
    calibration_density=Price(
        0.5, "fraction of non-zero activations",
        "akida_sim.zoo SILENT_FRACTION = 0.5 (the density of the counts the event prices were fitted on)"),
)

__all__ = ["Price", "CostTable", "AKD1000_COSTS"]
