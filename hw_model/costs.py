"""Event-driven cost model of an Akida 1.0 device: count, then price.

The forward pass (``akida_sim``, or anything else) yields per-layer counts per frame
(:class:`LayerCounts`: input events, synaptic operations, output events, NPs, program
bytes).  The pure functions here turn counts into clocks, and clocks + counts into
frames per second, power and energy, using the constants of a
:class:`~hw_model.cost_table.CostTable` (``AKD1000_COSTS`` or a what-if table).
Nothing here knows how the mapper allocates NPs: the counts are plain data.

Clock model (per frame, one hardware sequence)::

    layer clk = input_events * clk_per_event                      (event ingress, serial per layer)
              + synaptic_ops / (nps * macs_per_clk_per_np)         (NPs of the layer work in parallel)
              + clk_per_layer                                       (fixed per-layer/per-pass cost)
    HRC layer  = input_values * hrc_clk_per_input_byte + clk_per_layer  (the HRC reads the whole frame)
    frame clk = sum over layers + input_bytes * host_clk_per_input_byte

Layers are summed, not pipelined: the two published clock figures cannot tell the two
apart (sum/max-layer ratio of input events is 4.0 for DS-CNN and 3.8 for AkidaNet-0.5, so
either form fits both with one constant), and the vendor presents concurrent processing of
several layers as a feature of its *second* generation
(https://www.elektroniknet.de/halbleiter/prozessoren/ki-fuer-jedermann.203351/seite-2.html),
so for Akida 1.0 we take the layer-serial form.

Energy model: dynamic energy per frame = synaptic_ops * pj_per_synaptic_op
+ (input_events + output_events) * pj_per_event; average power = floor + dynamic energy
x fps.  As in the vendor's statistics, ``energy`` (mJ/frame) and ``powers["average"]``
include the floor power.

hw_model never imports akida_sim or akida.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Sequence

from .cost_table import CostTable, Price

#: Layer kinds priced here (names as ``hw_model.layer_spec.KINDS``; ``input_data`` costs nothing).
KINDS = ("input_conv", "conv", "separable", "fully_connected")


class CostError(ValueError):
    """Counts or a cost table that cannot be priced (the message names the layer and field)."""


def _price(table: CostTable, field: str) -> float:
    """The value of ``table.<field>``; raises when the price is missing or not a Price."""
    p = getattr(table, field, None)
    if not isinstance(p, Price):
        raise CostError(f"cost table {getattr(table, 'name', table)!r}: no price for {field!r} "
                        f"(expected a Price, got {type(p).__name__})")
    return p.value


@dataclass(frozen=True)
class LayerCounts:
    """What one layer does per frame (means over frames may be fractional).

    ``input_events``: non-zero input activations reaching the layer per frame (events).
    ``synaptic_ops``: synaptic operations per frame (input events x fan-out, see
    :func:`synaptic_ops_per_event`).  ``output_events``: non-zero outputs per frame
    (after pooling; all units for a layer without activation).  ``nps``: NPs running the
    layer (0 for ``input_conv``, which runs on the HRC).  ``program_bytes``: the layer's
    share of the program (bytes; 0 when unknown).  ``input_values``: dense input size
    x*y*c (values per frame); required for ``input_conv``, whose HRC reads every value.
    """

    name: str
    kind: str
    input_events: float
    synaptic_ops: float
    output_events: float
    nps: int
    program_bytes: int = 0
    input_values: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CostError(f"layer {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        for f in ("input_events", "synaptic_ops", "output_events", "program_bytes", "input_values"):
            v = getattr(self, f)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise CostError(f"layer {self.name!r}: {f} must be a finite number >= 0, got {v!r}")
        if not isinstance(self.nps, int) or self.nps < 0:
            raise CostError(f"layer {self.name!r}: nps must be an int >= 0, got {self.nps!r}")
        if self.kind == "input_conv":
            if self.nps != 0:
                raise CostError(f"layer {self.name!r}: input_conv runs on the HRC, nps must be 0, got {self.nps}")
            if self.input_values <= 0:
                raise CostError(f"layer {self.name!r}: input_conv needs input_values > 0 (dense input size), "
                                f"got {self.input_values}")
        elif self.nps < 1:
            raise CostError(f"layer {self.name!r}: a {self.kind} layer needs nps >= 1, got {self.nps}")


def synaptic_ops_per_event(kind: str, kernel: int, filters: int, stride: int = 1) -> float:
    """Synaptic operations one input event causes (fan-out), border effects ignored.

    conv / input_conv: k*k*filters / stride^2 (an event reaches k*k/s^2 output positions,
    each for every filter); separable: (k*k + filters) / stride^2 (depthwise k*k, then the
    pointwise fan-out; the pointwise work is approximated as one pass per input event);
    fully_connected: units (``filters``).
    """
    if kind not in KINDS:
        raise CostError(f"synaptic_ops_per_event: kind must be one of {KINDS}, got {kind!r}")
    if kernel < 1 or filters < 1 or stride < 1:
        raise CostError(f"synaptic_ops_per_event: kernel, filters, stride must be >= 1, "
                        f"got {kernel}, {filters}, {stride}")
    if kind in ("conv", "input_conv"):
        return kernel * kernel * filters / (stride * stride)
    if kind == "separable":
        return (kernel * kernel + filters) / (stride * stride)
    return float(filters)


# --------------------------------------------------------------------------- clocks

@dataclass(frozen=True)
class LayerClocks:
    """Clocks of one layer per frame, by cause."""

    name: str
    kind: str
    event_clk: float      # input events (or the HRC's input values) x price
    compute_clk: float    # synaptic ops / (NPs x MACs per clock)
    overhead_clk: float   # per-layer fixed cost

    @property
    def clk(self) -> float:
        return self.event_clk + self.compute_clk + self.overhead_clk


@dataclass(frozen=True)
class InferenceClocks:
    """Clocks per frame: per layer, host input transfer, and the total."""

    layers: tuple[LayerClocks, ...]
    host_transfer_clk: float
    total: float


def layer_clocks(c: LayerCounts, table: CostTable) -> LayerClocks:
    """Clocks one layer takes per frame (see the module docstring)."""
    overhead = _price(table, "clk_per_layer")
    if c.kind == "input_conv":
        return LayerClocks(c.name, c.kind, c.input_values * _price(table, "hrc_clk_per_input_byte"), 0.0, overhead)
    events = c.input_events * _price(table, "clk_per_event")
    compute = c.synaptic_ops / (c.nps * _price(table, "macs_per_clk_per_np"))
    return LayerClocks(c.name, c.kind, events, compute, overhead)


def inference_clocks(counts: Sequence[LayerCounts], table: CostTable, *, input_bytes: int) -> InferenceClocks:
    """Clocks per frame of one hardware sequence: layers summed, plus the host input transfer.

    ``input_bytes``: bytes the host sends per frame (e.g. 224*224*3 for an 8-bit RGB frame).
    """
    if not counts:
        raise CostError("inference_clocks: no layers to price")
    if not (isinstance(input_bytes, (int, float)) and input_bytes >= 0):
        raise CostError(f"inference_clocks: input_bytes must be >= 0, got {input_bytes!r}")
    layers = tuple(layer_clocks(c, table) for c in counts)
    host = input_bytes * _price(table, "host_clk_per_input_byte")
    return InferenceClocks(layers, host, host + sum(l.clk for l in layers))


def program_clocks(program_bytes: int, table: CostTable) -> float:
    """Clocks to program a sequence of ``program_bytes`` bytes (fixed part + per byte)."""
    if program_bytes < 0:
        raise CostError(f"program_clocks: program_bytes must be >= 0, got {program_bytes}")
    return _price(table, "program_clk_fixed") + program_bytes * _price(table, "program_clk_per_byte")


def fps(clocks_per_frame: float, table: CostTable) -> float:
    """Frames per second when frames are clock-bound: clock frequency / clocks per frame."""
    if clocks_per_frame <= 0:
        raise CostError(f"fps: clocks_per_frame must be > 0, got {clocks_per_frame}")
    return _price(table, "clock_hz") / clocks_per_frame


# --------------------------------------------------------------------------- energy and power

def layer_dynamic_energy_mj(c: LayerCounts, table: CostTable) -> float:
    """Dynamic energy of one layer per frame (mJ): synaptic ops and events priced in pJ."""
    pj = (c.synaptic_ops * _price(table, "pj_per_synaptic_op")
          + (c.input_events + c.output_events) * _price(table, "pj_per_event"))
    return pj * 1e-9


def dynamic_energy_mj(counts: Sequence[LayerCounts], table: CostTable) -> float:
    """Dynamic energy per frame (mJ), floor excluded."""
    return sum(layer_dynamic_energy_mj(c, table) for c in counts)


def power(counts: Sequence[LayerCounts], clocks_per_frame: float, table: CostTable) -> Mapping[str, float]:
    """``{"floor": mW, "average": mW}``: average = floor + dynamic energy per frame x fps."""
    floor = _price(table, "floor_power_mw")
    # mJ/frame x frames/s = mW
    average = floor + dynamic_energy_mj(counts, table) * fps(clocks_per_frame, table)
    return MappingProxyType({"floor": float(floor), "average": float(average)})


def energy_per_frame(counts: Sequence[LayerCounts], clocks_per_frame: float, table: CostTable) -> float:
    """Energy per frame (mJ) including the floor power over the frame time, as the vendor reports it."""
    return _price(table, "floor_power_mw") / fps(clocks_per_frame, table) + dynamic_energy_mj(counts, table)


# --------------------------------------------------------------------------- statistics

@dataclass(frozen=True)
class LayerStats:
    """One row of the per-layer report (per frame)."""

    name: str
    kind: str
    nps: int
    input_events: float
    synaptic_ops: float
    output_events: float
    clk: float
    energy: float  # dynamic energy, mJ/frame


@dataclass(frozen=True)
class Statistics:
    """Estimated statistics, field names as the vendor's model statistics/metrics where it names them.

    ``fps`` (frames/s), ``inference_frames``, ``inference_clk`` (clocks for all frames),
    ``program_clk`` (clocks), ``energy`` (mJ/frame, floor included), ``powers``
    ({"floor": mW, "average": mW}); ``layers``: per-layer rows; ``clk_per_frame``.
    """

    fps: float
    inference_frames: int
    inference_clk: float
    program_clk: float
    energy: float
    powers: Mapping[str, float]
    clk_per_frame: float
    host_transfer_clk: float
    layers: tuple[LayerStats, ...]
    table: str

    def __str__(self) -> str:
        lines = [f"Estimated with cost table {self.table!r}",
                 f"Floor power (mW): {self.powers['floor']:.2f}",
                 f"Average framerate = {self.fps:.2f} fps",
                 f"Average power (mW): {self.powers['average']:.2f}",
                 f"Energy consumed (mJ/frame): {self.energy:.2f}",
                 f"inference_frames: {self.inference_frames}",
                 f"inference_clk: {self.inference_clk:.0f}",
                 f"program_clk: {self.program_clk:.0f}",
                 f"{'layer':16s} {'NPs':>4s} {'in events':>11s} {'syn. ops':>13s} {'out events':>11s} "
                 f"{'clk':>11s} {'mJ':>9s}"]
        for r in self.layers:
            lines.append(f"{r.name:16s} {r.nps:4d} {r.input_events:11.0f} {r.synaptic_ops:13.0f} "
                         f"{r.output_events:11.0f} {r.clk:11.0f} {r.energy:9.4f}")
        return "\n".join(lines)


def statistics(counts: Sequence[LayerCounts], table: CostTable, *, input_bytes: int, program_bytes: int,
               frames: int = 1) -> Statistics:
    """Price ``counts`` (per frame) for ``frames`` frames of one sequence.

    ``input_bytes``: bytes sent by the host per frame; ``program_bytes``: the sequence's
    program size (e.g. from the mapper's program model; layer shares need not add up).
    """
    if not isinstance(frames, int) or frames < 1:
        raise CostError(f"statistics: frames must be an int >= 1, got {frames!r}")
    clocks = inference_clocks(counts, table, input_bytes=input_bytes)
    rows = tuple(LayerStats(c.name, c.kind, c.nps, c.input_events, c.synaptic_ops, c.output_events,
                            lc.clk, layer_dynamic_energy_mj(c, table))
                 for c, lc in zip(counts, clocks.layers))
    return Statistics(fps=fps(clocks.total, table), inference_frames=frames,
                      inference_clk=clocks.total * frames, program_clk=program_clocks(program_bytes, table),
                      energy=energy_per_frame(counts, clocks.total, table),
                      powers=power(counts, clocks.total, table), clk_per_frame=clocks.total,
                      host_transfer_clk=clocks.host_transfer_clk, layers=rows, table=table.name)


__all__ = ["KINDS", "CostError", "LayerCounts", "LayerClocks", "InferenceClocks", "LayerStats", "Statistics",
           "synaptic_ops_per_event", "layer_clocks", "inference_clocks", "program_clocks", "fps",
           "layer_dynamic_energy_mj", "dynamic_energy_mj", "power", "energy_per_frame", "statistics"]
