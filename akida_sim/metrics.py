"""``model.metrics``: the chip counters the vendor's CLI prints.

After a forward pass of a model mapped on hardware they are
``inference_frames`` (frames sent), ``inference_clk`` (clocks of those
frames) and ``program_clk`` (clocks to program the model), as ints read from
the estimated ``model.statistics``. Otherwise there are none, as on the
vendor's software backend.
"""
from .errors import SimValueError

#: The metrics a mapped inference reports, in the order the CLI prints them.
METRIC_NAMES = ("inference_frames", "inference_clk", "program_clk")


class Metrics:
    """The metrics of the last inference: ``names`` and ``metrics[name]`` (int)."""

    def __init__(self, statistics):
        self._values = {}
        if getattr(statistics, "inference_clk", None) is not None:
            self._values = {name: int(round(getattr(statistics, name))) for name in METRIC_NAMES}

    @property
    def names(self):
        """Names of the metrics held (empty unless the last inference ran on mapped hardware)."""
        return list(self._values)

    def __getitem__(self, name):
        try:
            return self._values[name]
        except (KeyError, TypeError):
            held = self.names or "none: run forward on a model mapped on hardware"
            raise SimValueError(f"{name} : no such metrics (metrics held: {held})") from None

    def __repr__(self):
        return f"<akida_sim.Metrics, {self._values}>"
