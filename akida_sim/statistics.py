"""``model.statistics``: what the last inference cost.

On a model mapped on a device, ``forward``/``predict`` price the events each layer received
with the device's cost table (``hw_model.costs``, see ``docs/cost_model.md``): ``fps`` (host
overhead included, as the vendor prints it) with its validated ``fps_range``,
``inference_clk``, ``program_clk``, ``energy`` (mJ/frame, floor included), ``powers``
({"floor", "average", "min", "max", "std"} in mW), per-sequence and per-layer rows, and
``power_events`` (modelled levels, s from the start; ``Model.power_events`` places them on
the host clock).  Software sequences are priced with the device's ``host_ops_per_second``
when the user gives it (the vendor's CPU time is not published), else with the cost
table's rough default.  Unmapped, only the host's wall-clock frame rate is known.
"""
from hw_model.costs import SequenceCounts
from hw_model.costs import statistics as price_counts

from .enums import BackendType
from .hardware import layer_counts


class HostStatistics:
    """Statistics of an unmapped model: the host frame rate of the last inference."""

    def __init__(self, fps=None):
        self.fps = fps
        self.energy = None
        self.inference_clk = None
        self.program_clk = None
        self.powers = {}
        self.layers = ()
        self.power_events = ()

    def __str__(self):
        if self.fps is None:
            return "Average framerate = N/A"
        return f"Average framerate = {self.fps:.2f} fps"

    __repr__ = __str__


def sequence_counts(sequences, events, frames, learn_ops=None):
    """``hw_model.costs.SequenceCounts`` of the model's sequences from event totals
    ({layer name: [input events, output events]} over ``frames`` frames); a multi-pass
    hardware sequence gives one per pass, named ``<sequence> pass <k>``.  ``learn_ops``:
    {layer name: edge-learning ops per frame} during a ``fit``."""
    learn_ops = learn_ops or {}
    out = []
    for s in sequences:
        hardware = s.backend == BackendType.Hardware
        program = s.pass_program_bytes if hardware else [0]
        passes = s.passes if hardware else [s]
        for k, (p, program_bytes) in enumerate(zip(passes, program)):
            first = p.layers[0]
            x, y, c = first.input_dims
            out.append(SequenceCounts(
                name=s.name if len(passes) == 1 else f"{s.name} pass {k + 1}", hardware=hardware,
                layers=tuple(layer_counts(l, *events[l.name], frames, learn_ops.get(l.name, 0.0))
                             for l in p.layers),
                program_bytes=program_bytes, input_bytes=-(-x * y * c * first.input_bits // 8), host_input=k == 0))
    return out


def estimate(sequences, device, events, frames, batch_size=0, cold=False, learn_ops=None):
    """Price a mapped call of ``frames`` frames run in sub-batches of ``batch_size`` (0: all at
    once) on ``device`` with its host profile; ``cold``: the first call after ``map()``;
    ``learn_ops``: {layer name: edge-learning ops per frame} when the call is a ``fit``.
    Returns a ``hw_model.costs.Statistics``."""
    return price_counts(sequence_counts(sequences, events, frames, learn_ops), device.costs, frames=frames,
                        batch_size=batch_size, clock_mode=device.soc.clock_mode.name, host=device.host, cold=cold,
                        host_ops_per_s=device.host_ops_per_second, learning=bool(learn_ops))
