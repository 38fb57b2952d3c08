"""The host an Akida device is plugged into, as data: what a call costs besides the chip.

The time the vendor prints ("Average framerate") is timed on the host: it holds the host's
driver and Python overhead per call, the transfer of each frame's input, and, on the first
call after ``map()``, a one-time cost (setting the device up and uploading the program) that
later calls do not pay.  Those are properties of the host and its link, not of the chip:
:class:`HostProfile` holds them, one profile per kind of host, each with its source and
validation error; :mod:`hw_model.costs` adds them to the chip's own time.

Time of one call of N frames through hardware sequences ``q`` (seconds)::

    host = call_s + [cold only] (first_call_s + first_call_s_per_byte * program bytes)
           + N * sum over q taking their input from the host (frame_s + input bytes / bytes_per_s)

``ops_per_s``: synaptic operations per second of the host CPU running software sequences.
``call_error``/``frame_error``/``ops_error``: validation errors (factors >= 1) of the per-call
(cold part included), per-frame and software terms.

A user's own profile is one line::

    HostProfile("my_pi", call_s=2e-3, first_call_s=40e-3, first_call_s_per_byte=25e-9, frame_s=1e-3,
                bytes_per_s=400e6, ops_per_s=3e8, source="measured on my Raspberry Pi 4")

hw_model never imports akida_sim or akida.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from types import MappingProxyType

from . import published

_VALUES = ("call_s", "first_call_s", "first_call_s_per_byte", "frame_s", "bytes_per_s", "ops_per_s")
_ERRORS = ("call_error", "frame_error", "ops_error")


class HostError(ValueError):
    """A host profile that cannot be built (the message names the field)."""


@dataclass(frozen=True)
class HostProfile:
    """A host's costs (see the module docstring): seconds, bytes per second, ops per second.

    ``name``: what reports print; ``source``: where the values come from.
    """

    name: str
    call_s: float
    first_call_s: float
    first_call_s_per_byte: float
    frame_s: float
    bytes_per_s: float
    ops_per_s: float
    source: str
    call_error: float = 1.0
    frame_error: float = 1.0
    ops_error: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise HostError(f"HostProfile: name must be a non-empty str, got {self.name!r}")
        if not isinstance(self.source, str) or not self.source:
            raise HostError(f"HostProfile {self.name!r}: source must be a non-empty str (where the values come from)")
        for f in _VALUES + _ERRORS:
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise HostError(f"HostProfile {self.name!r}: {f} must be a finite number >= 0, got {v!r}")
        for f in ("bytes_per_s", "ops_per_s"):
            if not getattr(self, f) > 0:
                raise HostError(f"HostProfile {self.name!r}: {f} must be > 0, got {getattr(self, f)!r}")
        for f in _ERRORS:
            if getattr(self, f) < 1:
                raise HostError(f"HostProfile {self.name!r}: {f} is a factor >= 1, got {getattr(self, f)!r}")

    def what_if(self, name: str, **values: float) -> "HostProfile":
        """A copy named ``name`` with some values changed (same units)."""
        unknown = [k for k in values if k not in _VALUES + _ERRORS]
        if unknown:
            raise HostError(f"HostProfile.what_if: {unknown} are not fields of a host profile "
                            f"(fields: {', '.join(_VALUES + _ERRORS)})")
        return replace(self, name=name, source=f"what-if ({name}) of {self.name}", **values)

    def rows(self) -> list[tuple[str, float]]:
        """(field, value) for reports."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if f.name in _VALUES + _ERRORS]


# Fitted on the published runs (tests/api/published_fit.py re-fits them; docs/cost_model.md).
PC_CALL_S = 0.000309810
PC_FRAME_S = 0.000385407
PC_FIRST_CALL_S = 0.0125014
PC_OPS_PER_S = 4.34811e+08
PC_CALL_ERROR = 1.9545
PC_FRAME_ERROR = 1.7256
PC_OPS_ERROR = 2.0

#: The AKD1000 PCIe board in a PC (x86, Linux), through the vendor's Python API.
PCIE_PC = HostProfile(
    name="pcie_pc",
    call_s=PC_CALL_S, frame_s=PC_FRAME_S,
    first_call_s=PC_FIRST_CALL_S, first_call_s_per_byte=1 / published.DMA_BYTES_PER_S,
    bytes_per_s=500e6, ops_per_s=PC_OPS_PER_S,
    call_error=PC_CALL_ERROR, frame_error=PC_FRAME_ERROR, ops_error=PC_OPS_ERROR,
    source=("warm calls: call_s and frame_s fitted on the batch sweep and the 1-sample FC calls "
            f"({published.SOURCES['batch_sweep']}; {published.SOURCES['fc_width']}) and the 10,000-frame MNIST "
            f"run ({published.SOURCES['mnist_course']}); the cold first call after map(): first_call_s_per_byte, "
            f"the program's upload at the board's sustained DMA rate ({published.SOURCES['dma_rate']}), and "
            f"first_call_s fitted jointly with the chip's clock on the printed fps of the "
            f"user guide and power-page runs ({published.SOURCES['user_guide']}; {published.SOURCES['power_page']}); "
            "bytes_per_s: the board's PCIe 2.0 x1 link, 5 GT/s with 8b/10b coding; ops_per_s: the course's "
            "mnistnet, whose second convolution runs on the host (one run: a rough default, ops_error 2 assumed)"))

#: No host: the chip alone (the host terms are zero; compare with the chip-only figures).
CHIP_ONLY = HostProfile(
    name="chip_only", call_s=0.0, first_call_s=0.0, first_call_s_per_byte=0.0, frame_s=0.0,
    bytes_per_s=1e30, ops_per_s=PC_OPS_PER_S,
    source="definition: no host time (software sequences still run on a host at pcie_pc's speed)")

#: The profiles by name; ``DEFAULT_HOST`` is the one devices use unless given another.
HOST_PROFILES = MappingProxyType({p.name: p for p in (PCIE_PC, CHIP_ONLY)})
DEFAULT_HOST = PCIE_PC


def host_profile(name: str) -> HostProfile:
    """The host profile named ``name`` (see ``HOST_PROFILES``)."""
    try:
        return HOST_PROFILES[name]
    except (KeyError, TypeError):
        raise HostError(f"no host profile {name!r}; known: {sorted(HOST_PROFILES)}") from None


__all__ = ["HostError", "HostProfile", "PCIE_PC", "CHIP_ONLY", "HOST_PROFILES", "DEFAULT_HOST", "host_profile"]
