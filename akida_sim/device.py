"""Devices a model maps onto: a mesh of NPs (``hw_model.Mesh``) and a cost table.

``AKD1000()`` is the AKD1000 chip; ``Device(mesh, costs)`` builds a what-if
device from any ``hw_model`` mesh and cost table. The objects mirror the
vendor's: ``device.version``, ``device.mesh.nps`` (each with ``ident`` and
``types``), ``mesh.dma_event``, ``mesh.dma_conf``, ``mesh.hrc``,
``mesh.np_sram_size``.
"""
from dataclasses import dataclass

from hw_model import Mesh, akd1000
from hw_model.cost_table import AKD1000_COSTS, CostTable

from .enums import NPType
from .errors import SimTypeError, SimValueError
from .soc import SoC

#: The AKD1000's hardware version string (observed on the vendor's virtual device).
AKD1000_VERSION = "BC.00.000.002"


@dataclass(frozen=True)
class NPInfo:
    """An NP position of a mesh: ``ident`` (col, row, id) and the types it may take."""

    ident: tuple
    types: tuple

    def __repr__(self):
        return f"<akida_sim.NP.Info, ident={self.ident}, types={[t.name for t in self.types]}>"


@dataclass(frozen=True)
class SramSize:
    """Per-NP SRAM in bytes."""

    input_bytes: int
    weight_bytes: int


class MeshView:
    """The vendor-style view of a ``hw_model.Mesh``."""

    def __init__(self, mesh):
        self.nps = [NPInfo(s.ident, tuple(NPType[t.value] for t in s.types)) for s in mesh.slots]
        self.dma_event = tuple(mesh.dma_event)
        self.dma_conf = tuple(mesh.dma_conf)
        self.hrc = NPInfo(tuple(mesh.hrc), (NPType.HRC,)) if mesh.hrc is not None else None
        self.skip_dmas = []
        self.np_sram_size = SramSize(mesh.sram.input_bytes, mesh.sram.weight_bytes)

    def __repr__(self):
        return (f"<akida_sim.NP.Mesh, dma_event={self.dma_event}, dma_conf={self.dma_conf}, "
                f"nps={len(self.nps)} NPs>")


class Device:
    """A device to map models on.

    mesh: a ``hw_model.Mesh`` (NP slots and their types, DMAs, HRC, SRAM).
    costs: a ``hw_model.cost_table.CostTable`` pricing clocks, power and energy.
    version: the hardware version string.
    host_ops_per_second: synaptic operations per second of the host that runs the software
    sequences (None: the cost table's rough default, fitted on one published run).
    ``device.soc.clock_mode`` sets the clock mode the cost model prices with.
    """

    def __init__(self, mesh, costs=AKD1000_COSTS, version=AKD1000_VERSION, host_ops_per_second=None):
        if not isinstance(mesh, Mesh):
            raise SimTypeError(f"Device: argument 'mesh' must be a hw_model.Mesh, got {type(mesh).__name__}")
        if not isinstance(costs, CostTable):
            raise SimTypeError(f"Device: argument 'costs' must be a hw_model CostTable, got {type(costs).__name__}")
        self.hw_mesh = mesh
        self.costs = costs
        self.version = version
        self.mesh = MeshView(mesh)
        self.soc = SoC()
        self.host_ops_per_second = host_ops_per_second

    @property
    def host_ops_per_second(self):
        """Synaptic ops per second of the host running software sequences (None: the table's default)."""
        return self._host_ops_per_second

    @host_ops_per_second.setter
    def host_ops_per_second(self, value):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0):
            raise SimValueError(f"Device: host_ops_per_second must be a number > 0 or None, got {value!r}")
        self._host_ops_per_second = value

    @property
    def desc(self):
        """``VirtualDevice/<version>``."""
        return f"VirtualDevice/{self.version}"

    @property
    def ip_version(self):
        """The Akida IP version of the mesh (1 for Akida 1.0)."""
        return self.hw_mesh.ip_version

    def __repr__(self):
        return f"<akida_sim.Device, desc={self.desc}, nps={len(self.mesh.nps)}>"


def AKD1000():  # noqa: N802 - the vendor's name
    """The AKD1000 chip: 78 NPs in 20 nodes, the HRC, and its cost table."""
    return Device(akd1000(), AKD1000_COSTS)
