"""Cost model of an Akida 1.0 device: count, then price (see ``docs/cost_model.md``).

Counts (:class:`LayerCounts`, :class:`SequenceCounts`) are plain data per frame: the events
and synaptic operations of each layer, and of the busiest NP of each layer.  Pure functions
turn counts into clocks, clocks into time, and time and counts into power and energy, with
the prices of a :class:`~hw_model.cost_table.CostTable`.  A user can re-price counts with
another table without re-running the network.

Clocks (one hardware sequence, per frame)::

    stage clk (a CNP/FNP layer) = clk_per_layer + np_events * clk_per_event + np_ops / rate
                                  + learn_ops / fnp_ops_per_clk        (edge learning, see below)
                                  (rate: ops_per_clk on a CNP, fnp_ops_per_clk on an FNP)
    stage clk (the HRC)         = input_values * hrc_clk_per_value
    first frame (fill)          = sum of the stages        (the frame crosses every layer)
    each further frame          = max(slowest stage, sum of the stages / pipeline_depth)
                                  (layers pipelined: the slowest paces, and at most
                                   ``pipeline_depth`` stages' worth of work is in flight)

``np_events``/``np_ops`` are those of the layer's busiest NP (``np_ops`` of a CNP layer counts
operation slots: the work of each input event, or of each depthwise output in the pointwise step,
done ``NP_LANES`` = 8 at a time, see :func:`layer_work`): the NPs of a layer share its
events and operations in parallel, and the fixed ``clk_per_layer`` does not grow with them,
so more NPs for the same layer never cost more clocks (a stage's clocks only fall as its
busiest NP's share falls), AllNps is never slower than Minimal, and a mesh with more nodes is
never slower in the same mode.

Time of one call of N frames (sub-batches of ``batch_size``)::

    host  = the host profile's terms (:mod:`hw_model.host`): per call, per frame and input byte,
            and on the first call after map() ("cold") a one-time set-up and program upload
    chip  = (inference clk + reprogramming clk) / clock of the clock mode
    soft  = software sequences' synaptic ops / the host's ops per second
    fps   = N / (host + chip + soft)          -- what the vendor prints as "Average framerate"

The chip's own figures (``Statistics.chip``) leave the host out: steady-state and first-frame
clocks, chip fps, latency, dynamic energy per frame above the floor.  The host-inclusive
figures (``Statistics.host_inclusive``, and the vendor-named ``fps``/``energy``/``powers``)
add the host profile's time and the floor power over it.

A model with several hardware sequences reprograms each of them for every sub-batch
(``program_clk_per_byte`` x bytes, plus ``hrc_program_clk`` for a sequence holding the HRC).
A multi-pass sequence is priced as its passes: each pass is a pipeline of its own, reprogrammed
for every sub-batch with its share of the program; only the first pass takes its input from the
host.

Energy: dynamic energy per frame = (synaptic ops + learning ops) of hardware layers x
``pj_per_synaptic_op``; average power = floor (of the clock mode) + dynamic energy x fps; energy
per frame = average power / fps (floor included), as the vendor prints it.

Edge learning (``fit`` on a mapped model): the learning layer's NP computes every neuron's
potential as in inference, then for each learned sample looks for the winning neuron(s) (one
comparison per neuron) and rewires ``num_weights`` synapses of each winner: ``learn_ops`` per
sample = units + winners x num_weights, on its FNP at ``fnp_ops_per_clk``.  No learning run is
published: this is an assumption from the learning rule's work (docs/cost_model.md).

hw_model never imports akida_sim or akida.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Sequence

from .cost_table import CLOCK_MODES, CostTable, Price
from .host import DEFAULT_HOST, HostProfile

#: Layer kinds priced here (names as ``hw_model.layer_spec.KINDS``; ``input_data`` costs nothing).
KINDS = ("input_conv", "conv", "separable", "fully_connected")


class CostError(ValueError):
    """Counts or a cost table that cannot be priced (the message names the layer and field)."""


def _price(table: CostTable, field: str) -> float:
    p = getattr(table, field, None)
    if not isinstance(p, Price):
        raise CostError(f"cost table {getattr(table, 'name', table)!r}: no price for {field!r} "
                        f"(expected a Price, got {type(p).__name__})")
    return p.value


def _check_count(name: str, field: str, v) -> None:
    if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
        raise CostError(f"layer {name!r}: {field} must be a finite number >= 0, got {v!r}")


# --------------------------------------------------------------------------- counts

@dataclass(frozen=True)
class LayerCounts:
    """What one layer does per frame (means over frames may be fractional).

    ``input_events``: non-zero input activations per frame; ``input_values``: dense input
    size x*y*c; ``output_events``: non-zero outputs per frame; ``synaptic_ops``: synaptic
    operations of all its NPs per frame (see :func:`layer_work`); ``nps``: NPs running it
    (0 on the HRC or the host); ``np_events``/``np_ops``: input events and synaptic ops of
    its busiest NP per frame (``np_ops`` of a CNP layer: operation slots, see :func:`layer_work`).
    ``on_host``: the layer is in a software sequence.  ``learn_ops``:
    edge-learning work per frame on the learning layer's NP (0 in inference; see the module docstring).
    """

    name: str
    kind: str
    input_events: float
    input_values: int
    output_events: float
    synaptic_ops: float
    nps: int
    np_events: float
    np_ops: float
    on_host: bool = False
    learn_ops: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CostError(f"layer {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        for f in ("input_events", "input_values", "output_events", "synaptic_ops", "np_events", "np_ops", "learn_ops"):
            _check_count(self.name, f, getattr(self, f))
        if isinstance(self.nps, bool) or not isinstance(self.nps, int) or self.nps < 0:
            raise CostError(f"layer {self.name!r}: nps must be an int >= 0, got {self.nps!r}")
        if self.on_host or self.kind == "input_conv":
            if self.nps != 0:
                raise CostError(f"layer {self.name!r}: a layer on the {'host' if self.on_host else 'HRC'} "
                                f"uses no NP, nps must be 0, got {self.nps}")
        elif self.nps < 1:
            raise CostError(f"layer {self.name!r}: a {self.kind} layer on hardware needs nps >= 1, got {self.nps}")
        if self.learn_ops and (self.kind != "fully_connected" or self.on_host):
            raise CostError(f"layer {self.name!r}: only a fully connected layer on hardware learns, "
                            f"learn_ops must be 0 for a {'host' if self.on_host else self.kind} layer")
        if self.kind == "input_conv" and self.input_values <= 0:
            raise CostError(f"layer {self.name!r}: input_conv needs input_values > 0 (dense input size), "
                            f"got {self.input_values}")


#: Lanes of a CNP: the synaptic operations one input item (an event, or a depthwise output feeding
#: the pointwise step) triggers on an NP are done in steps of 8 in parallel, the last step padded.
#: Source: the NP's filters are organised in groups of 8 (the vendor's mapper requires an even number
#: of 8-filter groups per NP for a 1-channel convolution: hw_model.allocation.one_channel_split_ok);
#: the lane width itself is not published (docs/cost_model.md, "Lanes").
NP_LANES = 8


def _slots(items: float, work: float, lanes: int) -> float:
    """Operation slots of ``items`` input items triggering ``work`` synaptic operations each, done
    ``lanes`` at a time (the last step of each item padded to a whole step)."""
    return items * math.ceil(work / lanes - 1e-9) * lanes


def layer_work(kind: str, input_events: float, *, kernel: int, stride: int, filters: int, in_channels: int,
               conv_positions: int, tiles: int = 1, np_filters: int | None = None,
               lanes: int = NP_LANES) -> tuple[float, float, float]:
    """``(np_events, np_ops, synaptic_ops)`` per frame of a layer receiving ``input_events``.

    conv / input_conv: each event reaches k*k/s^2 output positions for every filter;
    separable: the depthwise part k*k/s^2 per event, then every depthwise output (counted
    dense: ``conv_positions`` x ``in_channels``) feeds every filter; fully_connected: each
    event feeds every unit.  A layer split over ``tiles`` spatial tiles sends each tile's
    events to that tile's NPs; ``np_filters``: filters of the busiest NP (default all).
    ``conv_positions``: output positions of the convolution before pooling.

    ``np_ops`` of a CNP layer (conv, separable) counts operation *slots* of its busiest NP: the
    work each input item triggers there (an event: k*k*F_np/s^2 on a convolution, k*k/s^2 on the
    depthwise step; a depthwise output: F_np on the pointwise step) is done ``lanes`` at a time,
    so an item with less work than a whole number of steps pays its last step in full
    (``lanes=1``: plain synaptic operations).  Fewer filters per NP never give more slots, so
    adding NPs never adds clocks.  ``synaptic_ops`` (energy) are the operations themselves.
    """
    if kind not in KINDS:
        raise CostError(f"layer_work: kind must be one of {KINDS}, got {kind!r}")
    for name, v in (("kernel", kernel), ("stride", stride), ("filters", filters), ("in_channels", in_channels),
                    ("tiles", tiles)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise CostError(f"layer_work: {name} must be an int >= 1, got {v!r}")
    f_np = filters if np_filters is None else np_filters
    if not 1 <= f_np <= filters:
        raise CostError(f"layer_work: np_filters must be in 1..{filters}, got {np_filters!r}")
    if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1:
        raise CostError(f"layer_work: lanes must be an int >= 1, got {lanes!r}")
    reach = kernel * kernel / (stride * stride)
    if kind == "input_conv":
        return input_events / tiles, input_events / tiles * reach * f_np, input_events * reach * filters
    if kind == "conv":
        return input_events / tiles, _slots(input_events / tiles, reach * f_np, lanes), input_events * reach * filters
    if kind == "separable":
        depthwise = conv_positions * in_channels
        np_ops = _slots(input_events / tiles, reach, lanes) + _slots(depthwise / tiles, f_np, lanes)
        return input_events / tiles, np_ops, input_events * reach + depthwise * filters
    return input_events, input_events * f_np, input_events * filters


def learning_work(units: int, num_weights: int, winners: float = 1.0) -> float:
    """Edge-learning ops per learned sample of a fully connected layer of ``units`` neurons:
    one comparison per neuron to find the winners, and ``num_weights`` synapses rewired per
    winner (``winners``: mean winners per sample, 1 without learning competition)."""
    for name, v in (("units", units), ("num_weights", num_weights)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise CostError(f"learning_work: {name} must be an int >= 1, got {v!r}")
    if isinstance(winners, bool) or not isinstance(winners, (int, float)) or not 0 <= winners <= units:
        raise CostError(f"learning_work: winners must be a number in 0..{units}, got {winners!r}")
    return float(units + winners * num_weights)


@dataclass(frozen=True)
class SequenceCounts:
    """One sequence (or one pass of a multi-pass sequence): its layers' counts, backend, program
    size and input bytes per frame; ``host_input``: False for a pass after the first, whose input
    stays on the device (no host round trip per frame)."""

    name: str
    hardware: bool
    layers: tuple[LayerCounts, ...]
    program_bytes: int
    input_bytes: int
    host_input: bool = True

    def __post_init__(self) -> None:
        if not self.layers:
            raise CostError(f"sequence {self.name!r}: no layers to price")
        for c in self.layers:
            if c.on_host == self.hardware:
                raise CostError(f"sequence {self.name!r}: layer {c.name!r} has on_host={c.on_host} in a "
                                f"{'hardware' if self.hardware else 'software'} sequence")
        _check_count(self.name, "program_bytes", self.program_bytes)
        _check_count(self.name, "input_bytes", self.input_bytes)

    @property
    def holds_hrc(self) -> bool:
        return any(c.kind == "input_conv" for c in self.layers)


# --------------------------------------------------------------------------- clocks

def stage_clocks(c: LayerCounts, table: CostTable) -> float:
    """Clocks of one hardware layer (a pipeline stage) per frame: its busiest NP, or the HRC."""
    if c.on_host:
        raise CostError(f"layer {c.name!r} runs on the host: it has no chip clocks")
    if c.kind == "input_conv":
        return c.input_values * _price(table, "hrc_clk_per_value")
    rate = _price(table, "fnp_ops_per_clk" if c.kind == "fully_connected" else "ops_per_clk")
    learn = c.learn_ops / _price(table, "fnp_ops_per_clk") if c.learn_ops else 0.0
    return _price(table, "clk_per_layer") + c.np_events * _price(table, "clk_per_event") + c.np_ops / rate + learn


def first_frame_clocks(seq: SequenceCounts, table: CostTable) -> float:
    """Clocks of the first frame through a hardware sequence: the sum of its stages (fill)."""
    return sum(stage_clocks(c, table) for c in seq.layers)


def steady_frame_clocks(seq: SequenceCounts, table: CostTable) -> float:
    """Clocks of each further frame once the pipeline is full: the slowest stage, but no less
    than the sequence's whole work shared over ``pipeline_depth`` stages in flight."""
    slowest = max(stage_clocks(c, table) for c in seq.layers)
    return max(slowest, first_frame_clocks(seq, table) / _price(table, "pipeline_depth"))


def batch_clocks(seq: SequenceCounts, table: CostTable, frames: int) -> float:
    """Clocks of ``frames`` consecutive frames through one hardware sequence."""
    return first_frame_clocks(seq, table) + (frames - 1) * steady_frame_clocks(seq, table)


def program_clocks(seq: SequenceCounts, table: CostTable) -> float:
    """Clocks to program one hardware sequence: per byte, plus the HRC's configuration."""
    clk = seq.program_bytes * _price(table, "program_clk_per_byte")
    return clk + (_price(table, "hrc_program_clk") if seq.holds_hrc else 0.0)


def clock_hz(table: CostTable, clock_mode: str) -> float:
    """Clock of ``clock_mode`` (``Performance``, ``Economy``, ``LowPower``), Hz."""
    return _price(table, "clock_hz") / _mode(table, clock_mode)[0]


def floor_power_mw(table: CostTable, clock_mode: str) -> float:
    """Floor power of the board in ``clock_mode``, mW (0 for an IP block, which has no board)."""
    return _mode(table, clock_mode)[1]


def _mode(table: CostTable, clock_mode: str) -> tuple[float, float]:
    if clock_mode not in CLOCK_MODES:
        raise CostError(f"clock_mode must be one of {CLOCK_MODES}, got {clock_mode!r}")
    return (_price(table, f"{clock_mode.lower()}_slowdown"), _price(table, f"{clock_mode.lower()}_floor_mw"))


def sub_batches(frames: int, batch_size: int) -> list[int]:
    """Sizes of the sub-batches of a call of ``frames`` frames (``batch_size`` 0: one)."""
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise CostError(f"frames must be an int >= 1, got {frames!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 0:
        raise CostError(f"batch_size must be an int >= 0, got {batch_size!r}")
    step = batch_size or frames
    return [min(step, frames - i) for i in range(0, frames, step)]


# --------------------------------------------------------------------------- statistics

@dataclass(frozen=True)
class LayerStats:
    """One row of the per-layer table, per frame.  ``stage_clk``: clocks of the layer's stage
    (None on the host); ``dynamic_uj``: dynamic energy in µJ/frame (floor excluded)."""

    name: str
    kind: str
    sequence: str
    nps: int
    input_events: float
    synaptic_ops: float
    stage_clk: float | None
    dynamic_uj: float


@dataclass(frozen=True)
class SequenceStats:
    """One sequence: clocks of its first and further frames and of its programming (hardware;
    None for software), or its synaptic ops and host seconds per frame (software; 0 for hardware)."""

    name: str
    hardware: bool
    first_frame_clk: float | None
    steady_frame_clk: float | None
    program_clk: float | None
    host_synaptic_ops: float
    software_s: float


@dataclass(frozen=True)
class PowerEvent:
    """A modelled power level from ``ts`` (s since the start of the call), in mW."""

    ts: float
    power: float


@dataclass(frozen=True)
class ChipFigures:
    """The chip's own estimated figures, no host: ``steady_frame_clk`` (clocks per frame once the
    pipeline is full, all hardware sequences), ``first_frame_clk`` (the first frame's, fill
    included), ``fps`` (steady state) with ``fps_range``, ``latency_s`` (one frame through the
    chip, first frame), ``dynamic_mj_per_frame`` (energy above the floor, per frame) with
    ``dynamic_mj_range``, ``floor_share`` (the floor's part of the host-inclusive energy per
    frame, 0..1)."""

    steady_frame_clk: float
    first_frame_clk: float
    fps: float
    fps_range: tuple[float, float]
    latency_s: float
    dynamic_mj_per_frame: float
    dynamic_mj_range: tuple[float, float]
    floor_share: float


@dataclass(frozen=True)
class HostInclusiveFigures:
    """Estimated figures of the whole call, host included (what the vendor prints): ``fps`` and
    ``energy_mj`` (per frame, floor included) with their ranges, ``host_s`` (host time of the
    call), ``host`` (the host profile's name), ``cold`` (first call after ``map()``)."""

    fps: float
    fps_range: tuple[float, float]
    energy_mj: float
    energy_range: tuple[float, float]
    host_s: float
    host: str
    cold: bool


@dataclass(frozen=True, repr=False)
class Statistics:
    """Estimated statistics of one call, named as the vendor's statistics/metrics where it names them.

    ``chip`` (:class:`ChipFigures`) and ``host_inclusive`` (:class:`HostInclusiveFigures`) hold
    the chip's own figures and the host-inclusive ones apart.  The vendor-named fields are
    host-inclusive: ``fps`` (compare with a printed "Average framerate"), ``energy`` (mJ/frame,
    floor included), ``powers`` (mW ``floor``/``average``/``min``/``max``/``std``, and the vendor's
    keys ``Avg``/``Min``/``Max``/``Std``).  ``chip_fps``: the chip's steady-state rate.
    ``*_range``: (low, high) from the validation errors: chip time within ``clk_error`` x
    ``chip_time_error`` of the table, the host's per-call, per-frame and software terms within the
    host profile's errors, and the 1 ms timer of the printed fps.
    Clocks: ``inference_clk`` (all frames), ``program_clk`` (programming the model once),
    ``reprogram_clk`` (reprogramming during the call), ``first_frame_clk``, ``clk_per_frame``.
    Seconds: ``host_s``, ``chip_s``, ``software_s``, ``time_s``.  ``host``: the host profile's
    name; ``cold``: the call was the first after ``map()``; ``learning``: the call was a ``fit``
    (figures per learned sample).  ``warnings``: where the model lies outside what was calibrated.
    ``power_events``: modelled power levels (floor while the host transfers, the active level
    while the chip computes).  ``counts``: the counts priced, to re-price with another table.
    """

    table: str
    clock_mode: str
    inference_frames: int
    fps: float
    fps_range: tuple[float, float]
    chip_fps: float
    energy: float
    energy_range: tuple[float, float]
    powers: Mapping[str, float]
    inference_clk: float
    inference_clk_range: tuple[float, float]
    program_clk: float
    reprogram_clk: float
    first_frame_clk: float
    clk_per_frame: float
    host_s: float
    chip_s: float
    software_s: float
    time_s: float
    host_ops_per_s: float
    dynamic_mj_per_frame: float
    sequences: tuple[SequenceStats, ...]
    layers: tuple[LayerStats, ...]
    power_events: tuple[PowerEvent, ...]
    counts: tuple[SequenceCounts, ...]
    chip: ChipFigures
    host_inclusive: HostInclusiveFigures
    host: str
    cold: bool
    learning: bool
    warnings: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join(_report_lines(self))

    __repr__ = __str__


def _sig(v: float, digits: int = 4) -> str:
    """``v`` with ``digits`` significant digits (never fewer than the integer part)."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    return f"{v:.{decimals}f}"


def _range(r: tuple[float, float]) -> str:
    return f"  (range {_sig(r[0], 3)} to {_sig(r[1], 3)})"


def floor_line(floor_mw: float) -> str:
    """The printed floor power: the board's, or none for an IP block (floor 0)."""
    if floor_mw > 0:
        return f"Floor power (mW): {floor_mw:.2f}"
    return "Floor power (mW): none (an IP block has no board; dynamic power only)"


def _report_lines(s: Statistics) -> list[str]:
    p, c = s.powers, s.chip
    per = "learned sample" if s.learning else "frame"
    lines = [f"ESTIMATED by the cost model (table {s.table!r}, clock mode {s.clock_mode}, host profile "
             f"{s.host!r}, {'cold: first call after map()' if s.cold else 'warm call'}); not measured",
             "Chip only (no host):",
             f"  Chip framerate (steady state) = {_sig(c.fps)} fps{_range(c.fps_range)}",
             f"  Chip latency (first frame) = {_sig(c.latency_s * 1e3)} ms; {c.steady_frame_clk:.0f} clk per "
             f"{per} steady, {c.first_frame_clk:.0f} clk first",
             f"  Dynamic energy above the floor (mJ/{per}): {_sig(c.dynamic_mj_per_frame)}"
             f"{_range(c.dynamic_mj_range)}",
             f"Host included (host profile {s.host!r}, as the vendor prints it):",
             f"  {floor_line(p['floor'])}",
             f"  Average framerate = {_sig(s.fps)} fps{_range(s.fps_range)}",
             f"  Last inference power range (mW):  Avg {p['average']:.2f} / Min {p['min']:.2f} / "
             f"Max {p['max']:.2f} / Std {p['std']:.2f}",
             f"  Last inference energy consumed (mJ/{per}): {_sig(s.energy)}{_range(s.energy_range)}; "
             f"floor's share {100 * c.floor_share:.0f} %",
             f"  Time of the call (ms): host {_sig(s.host_s * 1e3)}, chip {_sig(s.chip_s * 1e3)}, software "
             + (f"{_sig(s.software_s * 1e3)} (at {s.host_ops_per_s:.3g} synaptic ops/s)" if s.software_s else "0"),
             "Model metrics:",
             f"  inference_frames: {s.inference_frames}",
             f"  inference_clk: {s.inference_clk:.0f}",
             f"  program_clk: {s.program_clk:.0f}",
             f"  reprogram_clk: {s.reprogram_clk:.0f}"]
    lines += [f"Warning: {w}" for w in s.warnings]
    wn = max([5] + [len(r.name) for r in s.layers])
    ws = max([8] + [len(r.sequence) for r in s.layers])
    lines.append(f"{'layer':{wn}s}  {'sequence':{ws}s}  {'NPs':>4s}  {'in events/frame':>15s}  "
                 f"{'syn. ops/frame':>14s}  {'stage clk/frame':>15s}  {'dynamic uJ/frame':>16s}")
    for r in s.layers:
        clk = "host" if r.stage_clk is None else f"{r.stage_clk:.0f}"
        lines.append(f"{r.name:{wn}s}  {r.sequence:{ws}s}  {r.nps:4d}  {r.input_events:15.1f}  "
                     f"{r.synaptic_ops:14.0f}  {clk:>15s}  {_sig(r.dynamic_uj):>16s}")
    return lines


def _validated(k: float, value: float) -> tuple[float, float]:
    return (value / k, value * k)


def _call_clocks(hw: list[SequenceCounts], table: CostTable, parts: list[int]) -> tuple[float, float, float]:
    """(inference clk, program clk, reprogramming clk) of a call split into sub-batches ``parts``."""
    inference_clk = sum(batch_clocks(q, table, b) for b in parts for q in hw)
    program_clk = sum(program_clocks(q, table) for q in hw)
    return inference_clk, program_clk, program_clk * len(parts) if len(hw) > 1 else 0.0


def host_seconds(hw: Sequence[SequenceCounts], host: HostProfile, frames: int, cold: bool) -> tuple[float, float]:
    """Host time of a call through the hardware sequences ``hw``: (once per call, the cold
    first call's set-up and program upload included when ``cold``; per frame and hardware
    sequence taking its input from the host: round trip and input transfer), seconds."""
    per_frame = sum(host.frame_s + q.input_bytes / host.bytes_per_s for q in hw if q.host_input)
    call = host.call_s
    if cold:
        call += host.first_call_s + host.first_call_s_per_byte * sum(q.program_bytes for q in hw)
    return call, frames * per_frame


def _power_profile(floor: float, dynamic_mj: float, frames: int, host_s: float, chip_s: float,
                   time_s: float) -> tuple[tuple[PowerEvent, ...], Mapping[str, float]]:
    """The modelled power levels of a call and their statistics (mW): floor while the host
    transfers its first half, the active level (floor + dynamic energy over chip time) while the
    chip computes, floor again to the end (``time_s``).  ``average`` and ``std`` are the
    time-weighted mean and standard deviation of those levels and ``min``/``max`` the lowest and
    highest level held for a non-zero time, so min <= average <= max whatever the inputs; under
    the vendor's keys ``Avg``/``Min``/``Max``/``Std`` and as ``floor``/``average``/``min``/``max``/``std``."""
    active = floor + dynamic_mj * frames / chip_s if chip_s > 0 else floor
    starts = (0.0, host_s / 2, host_s / 2 + chip_s)
    spans = [(start, end - start, level) for start, end, level
             in zip(starts, starts[1:] + (time_s,), (floor, active, floor)) if end > start] or [(0.0, 1.0, floor)]
    total = sum(d for _, d, _ in spans)
    lo, hi = min(level for *_, level in spans), max(level for *_, level in spans)
    average = min(max(sum(d * level for _, d, level in spans) / total, lo), hi)
    std = math.sqrt(sum(d * (level - average) ** 2 for _, d, level in spans) / total)
    events = tuple(PowerEvent(start, level) for start, _, level in spans)
    return events, MappingProxyType({"floor": floor, "average": average, "min": lo, "max": hi, "std": std,
                                     "Avg": average, "Min": lo, "Max": hi, "Std": std})


def _report_rows(seqs: tuple[SequenceCounts, ...], table: CostTable,
                 host_speed: float) -> tuple[tuple[LayerStats, ...], tuple[SequenceStats, ...]]:
    pj = _price(table, "pj_per_synaptic_op")
    rows, seq_stats = [], []
    for q in seqs:
        for c in q.layers:
            rows.append(LayerStats(c.name, c.kind, q.name, c.nps, c.input_events, c.synaptic_ops,
                                   None if c.on_host else stage_clocks(c, table),
                                   0.0 if c.on_host else (c.synaptic_ops + c.learn_ops) * pj * 1e-6))
        if q.hardware:
            seq_stats.append(SequenceStats(q.name, True, first_frame_clocks(q, table), steady_frame_clocks(q, table),
                                           program_clocks(q, table), 0.0, 0.0))
        else:
            ops = sum(c.synaptic_ops for c in q.layers)
            seq_stats.append(SequenceStats(q.name, False, None, None, None, ops, ops / host_speed))
    return tuple(rows), tuple(seq_stats)


#: Activation density outside [calibration_density / DENSITY_SPREAD, calibration_density x DENSITY_SPREAD]
#: is reported as outside what was calibrated.
DENSITY_SPREAD = 2.0


def calibration_warnings(sequences: Sequence[SequenceCounts], table: CostTable, learning: bool = False) -> tuple[str, ...]:
    """Where counts lie outside what ``table`` was calibrated on: the activation density of the
    hardware layers (input events over dense input values, the HRC's input excluded) far from
    ``calibration_density``, stages busier than ``calibrated_np_ops``, software sequences (priced
    with a host speed fitted on one run), several hardware sequences or passes (no published run
    reprograms between sequences), and edge learning (no published learning run)."""
    out = []
    hw_layers = [c for q in sequences if q.hardware for c in q.layers if c.kind != "input_conv"]
    values = sum(c.input_values for c in hw_layers)
    if values:
        density = sum(c.input_events for c in hw_layers) / values
        ref = _price(table, "calibration_density")
        if not ref / DENSITY_SPREAD <= density <= ref * DENSITY_SPREAD:
            out.append(f"activation density {density:.2f} is far from the {ref:.2f} the event prices were fitted "
                       f"at: clocks and energy are extrapolated")
    busy = [c.name for c in hw_layers if c.np_ops > _price(table, "calibrated_np_ops")]
    if busy:
        out.append(f"layers {busy} do more synaptic ops per NP than any calibrated stage: extrapolated")
    soft = [q.name for q in sequences if not q.hardware]
    if soft:
        out.append(f"software sequences {soft} are priced with a host speed fitted on one published run: "
                   f"give the host's own speed")
    if sum(1 for q in sequences if q.hardware) > 1:
        out.append("several hardware sequences or passes: reprogramming between them is priced from the "
                   "structure, no published run measures it")
    if learning:
        out.append("edge learning is costed from the learning rule's work (an assumption): no published run "
                   "measures it")
    return tuple(out)


def statistics(sequences: Sequence[SequenceCounts], table: CostTable, *, frames: int, batch_size: int = 0,
               clock_mode: str = "Performance", host: HostProfile = DEFAULT_HOST, cold: bool = False,
               host_ops_per_s: float | None = None, learning: bool = False) -> Statistics:
    """Price one call of ``frames`` frames through ``sequences`` (counts are per frame).

    ``batch_size``: frames per sub-batch (0: all at once); ``host``: the host profile
    (:mod:`hw_model.host`); ``cold``: the call is the first after ``map()`` (pays the host's
    one-time set-up and program upload); ``host_ops_per_s``: synaptic operations per second of
    the host running the software sequences (None: the host profile's); ``learning``: the call
    is a ``fit`` (its counts hold ``learn_ops``; figures are per learned sample).
    """
    seqs = tuple(sequences)
    hw = [q for q in seqs if q.hardware]
    if not hw:
        raise CostError("statistics: no hardware sequence to price")
    if not isinstance(host, HostProfile):
        raise CostError(f"statistics: host must be a hw_model.host.HostProfile, got {type(host).__name__}")
    if host_ops_per_s is not None and (isinstance(host_ops_per_s, bool) or not isinstance(host_ops_per_s, (int, float))
                                       or not host_ops_per_s > 0):
        raise CostError(f"statistics: host_ops_per_s must be a number > 0 or None, got {host_ops_per_s!r}")
    parts = sub_batches(frames, batch_size)
    hz = clock_hz(table, clock_mode)
    floor = floor_power_mw(table, clock_mode)
    host_speed = host.ops_per_s if host_ops_per_s is None else host_ops_per_s

    inference_clk, program_clk, reprogram_clk = _call_clocks(hw, table, parts)
    call_s, frames_s = host_seconds(hw, host, frames, bool(cold))
    host_s = call_s + frames_s
    chip_s = (inference_clk + reprogram_clk) / hz
    software_s = frames * sum(c.synaptic_ops for q in seqs if not q.hardware for c in q.layers) / host_speed
    time_s = host_s + chip_s + software_s
    pj = _price(table, "pj_per_synaptic_op")
    dynamic_mj = sum(c.synaptic_ops + c.learn_ops for q in hw for c in q.layers) * pj * 1e-9
    events, powers = _power_profile(floor, dynamic_mj, frames, host_s, chip_s, time_s)
    fps = frames / time_s
    energy = powers["average"] / fps

    chip_k = _price(table, "clk_error") * _price(table, "chip_time_error")
    parts_lo_hi = ((chip_s / chip_k, chip_s * chip_k), _validated(host.call_error, call_s),
                   _validated(host.ops_error, software_s), _validated(host.frame_error, frames_s))
    t_lo, t_hi = sum(p[0] for p in parts_lo_hi), sum(p[1] for p in parts_lo_hi)
    res = _price(table, "timer_resolution_s") / 2
    fps_range = (frames / (t_hi + res), frames / max(t_lo - res, res))
    dynamic_range = _validated(_price(table, "clk_error") * _price(table, "energy_error"), dynamic_mj)
    energy_range = (floor * t_lo / frames + dynamic_range[0], floor * t_hi / frames + dynamic_range[1])
    steady = sum(steady_frame_clocks(q, table) for q in hw)
    first = sum(first_frame_clocks(q, table) for q in hw)
    chip = ChipFigures(steady_frame_clk=steady, first_frame_clk=first, fps=hz / steady,
                       fps_range=(hz / steady / chip_k, hz / steady * chip_k), latency_s=first / hz,
                       dynamic_mj_per_frame=dynamic_mj, dynamic_mj_range=dynamic_range,
                       floor_share=(floor * time_s / frames) / energy if energy > 0 else 0.0)
    with_host = HostInclusiveFigures(fps=fps, fps_range=fps_range, energy_mj=energy, energy_range=energy_range,
                                     host_s=host_s, host=host.name, cold=bool(cold))
    rows, seq_stats = _report_rows(seqs, table, host_speed)
    return Statistics(
        table=table.name, clock_mode=clock_mode, inference_frames=frames, fps=fps, fps_range=fps_range,
        chip_fps=chip.fps, energy=energy, energy_range=energy_range, powers=powers,
        inference_clk=inference_clk, inference_clk_range=_validated(_price(table, "clk_error"), inference_clk),
        program_clk=program_clk, reprogram_clk=reprogram_clk, first_frame_clk=first,
        clk_per_frame=inference_clk / frames, host_s=host_s, chip_s=chip_s, software_s=software_s, time_s=time_s,
        host_ops_per_s=host_speed, dynamic_mj_per_frame=dynamic_mj, sequences=seq_stats, layers=rows,
        power_events=events, counts=seqs, chip=chip, host_inclusive=with_host, host=host.name, cold=bool(cold),
        learning=bool(learning), warnings=calibration_warnings(seqs, table, bool(learning)))


__all__ = ["KINDS", "CostError", "LayerCounts", "SequenceCounts", "LayerStats", "SequenceStats", "PowerEvent",
           "ChipFigures", "HostInclusiveFigures", "Statistics", "NP_LANES", "layer_work", "learning_work", "stage_clocks",
           "first_frame_clocks", "steady_frame_clocks", "batch_clocks", "program_clocks", "clock_hz",
           "floor_power_mw", "floor_line", "sub_batches", "host_seconds", "calibration_warnings", "statistics"]
