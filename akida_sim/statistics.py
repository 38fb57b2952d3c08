"""``model.statistics``: what the last inference cost.

On a model mapped on a device, ``forward``/``predict`` price the events each
hardware layer received with the device's cost table (``hw_model.costs``):
``fps``, ``inference_clk``, ``program_clk``, ``energy`` (mJ/frame),
``powers`` ({"floor", "average"} in mW) and per-layer rows (``layers``).
Unmapped, only the host's wall-clock frame rate is known.
"""
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

    def __str__(self):
        if self.fps is None:
            return "Average framerate = N/A"
        return f"Average framerate = {self.fps:.2f} fps"

    __repr__ = __str__


def estimate(sequences, device, events, frames):
    """Price a mapped inference.

    sequences: the model's ``Sequence`` objects; events: {layer name:
    [input events, output events]} totals over ``frames`` frames. Layers of
    every hardware sequence are priced (software layers run on the host and
    cost the chip nothing); program clocks cover every hardware program.
    Returns a ``hw_model.costs.Statistics``.
    """
    hw = [s for s in sequences if s.backend == BackendType.Hardware]
    layers = [l for s in hw for l in s.layers]
    counts = [layer_counts(l, *events[l.name], frames) for l in layers]
    first = layers[0]
    x, y, c = first.input_dims
    input_bytes = -(-x * y * c * first.input_bits // 8)
    program_bytes = sum(len(s.program) for s in hw)
    return price_counts(counts, device.costs, input_bytes=input_bytes, program_bytes=program_bytes,
                        frames=frames)
