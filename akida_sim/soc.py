"""The simulated board's system-on-chip settings, named as the vendor's ``akida.soc``.

``device.soc.clock_mode`` selects the AKD1000 clock mode (``ClockMode.Performance``,
``ClockMode.Economy``, ``ClockMode.LowPower``): the cost model then prices the same clocks
at that mode's clock and floor power (``hw_model.cost_table``: published slowdowns of about
3x and 60x and floor powers of each mode).  ``power_measurement_enabled`` is kept for
scripts that set it; the estimated power is always reported.
"""
import enum

from .errors import SimTypeError


class ClockMode(enum.Enum):
    """Clock modes of the AKD1000 board (vendor names)."""

    Performance = "Performance"
    Economy = "Economy"
    LowPower = "LowPower"

    def __str__(self):
        return f"ClockMode.{self.name}"


class SoC:
    """Board settings of a simulated device: ``clock_mode`` and ``power_measurement_enabled``."""

    def __init__(self, clock_mode=ClockMode.Performance):
        self.clock_mode = clock_mode
        self.power_measurement_enabled = False

    @property
    def clock_mode(self):
        """The clock mode the cost model prices with (a ``ClockMode``)."""
        return self._clock_mode

    @clock_mode.setter
    def clock_mode(self, mode):
        if not isinstance(mode, ClockMode):
            raise SimTypeError(f"soc.clock_mode: expected an akida_sim.soc.ClockMode "
                               f"({', '.join(m.name for m in ClockMode)}), got {mode!r}")
        self._clock_mode = mode

    @property
    def power_measurement_enabled(self):
        return self._power_measurement

    @power_measurement_enabled.setter
    def power_measurement_enabled(self, value):
        if not isinstance(value, bool):
            raise SimTypeError(f"soc.power_measurement_enabled: expected a bool, got {value!r}")
        self._power_measurement = value

    def __repr__(self):
        return f"<akida_sim.soc.SoC, clock_mode={self.clock_mode}>"
