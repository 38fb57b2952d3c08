"""``model.metrics``: counters of the last inference, named as the vendor's.

After any ``forward``/``predict``: ``inference_start`` and ``inference_end``
(the host's monotonic clock, in ms) and ``inference_frames`` (frames sent). On
a model mapped on hardware also ``inference_clk`` (estimated clocks of those
frames) and ``program_clk`` (clocks to program the model), as ints read from
``model.statistics``: the three the vendor's ``akida run`` prints (CHIP_METRICS).
"""
from dataclasses import dataclass

from .errors import SimValueError

#: The metrics ``akida run`` prints for a mapped inference, in its order.
CHIP_METRICS = ("inference_frames", "inference_clk", "program_clk")


class Metrics:
    """The metrics of the last inference: ``names`` and ``metrics[name]`` (int)."""

    def __init__(self, window, statistics):
        """window: (start ms, end ms, frames) of the last inference, or None;
        statistics: the model's ``statistics`` (chip clocks when mapped)."""
        self._values = {}
        if window is not None:
            start, end, frames = window
            self._values = {"inference_end": end, "inference_start": start, "inference_frames": frames}
            if getattr(statistics, "inference_clk", None) is not None:
                self._values.update(inference_clk=int(round(statistics.inference_clk)),
                                    program_clk=int(round(statistics.program_clk)))

    @property
    def names(self):
        """Names of the metrics held (none before the first inference)."""
        return list(self._values)

    def __getitem__(self, name):
        try:
            return self._values[name]
        except (KeyError, TypeError):
            held = self.names or "none before an inference"
            raise SimValueError(f"{name} : no such metrics (metrics held: {held})") from None

    def __repr__(self):
        return f"<akida_sim.Metrics, {self._values}>"


@dataclass(frozen=True)
class PowerEvent:
    """A timestamped power estimate, shaped as the vendor's power-meter events.

    ts: host monotonic clock (ms, float); power: mW, a level of the cost model.
    voltage (µV) and current (mA) are None: the cost model prices power, not
    the supply rails.
    """

    ts: float
    power: float
    voltage: object = None
    current: object = None


def inference_power_events(window, statistics):
    """Events of a mapped inference: the cost model's power levels (floor while the
    host transfers, the chip's active level while it computes, floor again), their
    modelled times (s from the start of the call) placed from ``inference_start``
    on the host's monotonic clock in ms (window: (start ms, end ms, frames))."""
    start = window[0]
    return [PowerEvent(start + e.ts * 1e3, float(e.power)) for e in statistics.power_events]
