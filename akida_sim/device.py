"""Devices a model maps onto: a mesh of NPs (``hw_model.Mesh``) and a cost table.

``AKD1000()`` is the AKD1000 chip, ``TwoNodesIPv1()`` the vendor's 2-node
Akida 1.0 IP, ``devices()`` the simulator's answer to "the hardware on this
host"; ``what_if_device(nodes=..., nps_per_node=..., clock_hz=..., ...)`` builds
a what-if device in one line, and ``Device(mesh, costs)`` one from any
``hw_model`` mesh and cost table. The objects mirror the
vendor's: ``device.version``, ``device.mesh.nps`` (each with ``ident`` and
``types``), ``mesh.dma_event``, ``mesh.dma_conf``, ``mesh.hrc``,
``mesh.np_sram_size``.
"""
from dataclasses import dataclass

from hw_model import MapLimits, Mesh, NPSlot, akd1000, make_mesh
from hw_model import NPType as SlotType
from hw_model.cost_table import AKD1000_COSTS, IP_BLOCK_COSTS, CostTable
from hw_model.host import DEFAULT_HOST, HOST_PROFILES, HostProfile

from .enums import IpVersion, NPType
from .errors import SimTypeError, SimValueError
from .limits import (MAX_CLOCK_HZ, MAX_NODES, MAX_NP_SRAM_BYTES, MAX_NPS, MAX_NPS_PER_NODE, MIN_CLOCK_HZ,
                     LimitError, check_count)
from .soc import SoC

#: The AKD1000's hardware version string (observed on the vendor's virtual device).
AKD1000_VERSION = "BC.00.000.002"
#: TwoNodesIPv1's hardware version string (observed on the vendor's virtual device).
TWO_NODES_IPV1_VERSION = "BC.A1.003.006"


class HwVersion(str):
    """A hardware version, ``VV.PP.MMM.mmm``: vendor and product ids in hex,
    major and minor revisions in decimal. It is its text (compares and
    prints as ``"BC.00.000.002"``) and has the vendor's ``vendor_id``,
    ``product_id``, ``major_rev``, ``minor_rev`` and ``ip_version`` (v1)."""

    def __new__(cls, text):
        parts = text.split(".") if isinstance(text, str) else []
        try:
            vendor, product, major, minor = int(parts[0], 16), int(parts[1], 16), int(parts[2]), int(parts[3])
        except (ValueError, IndexError):
            raise SimValueError(f"Device: argument 'version' must read 'VV.PP.MMM.mmm' (hex ids, decimal "
                                f"revisions), got {text!r}") from None
        if len(parts) != 4:
            raise SimValueError(f"Device: argument 'version' must have 4 fields, got {text!r}")
        version = super().__new__(cls, text)
        version.vendor_id, version.product_id, version.major_rev, version.minor_rev = vendor, product, major, minor
        return version

    @property
    def ip_version(self):
        """``IpVersion.v1``: akida_sim's devices are Akida 1.0."""
        return IpVersion.v1

    def __repr__(self):
        return str(self)


#: The vendor's named hardware versions: the first and second AKD1000 NSoC
#: revisions (``AKD1000().version == NSoC_v2``) and the 2-node Akida 1.0 IP.
NSoC_v1 = HwVersion("BC.00.000.001")  # noqa: N816 - the vendor's names
NSoC_v2 = HwVersion(AKD1000_VERSION)  # noqa: N816
TwoNodesIP_v1 = HwVersion(TWO_NODES_IPV1_VERSION)  # noqa: N816


@dataclass(frozen=True, eq=False)
class NPInfo:
    """An NP position of a mesh: ``ident`` (col, row, id), the types it may
    take (a list of ``NP.Type``) and ``has_lut`` (False: Akida 1.0 NPs have no
    activation look-up table)."""

    ident: tuple
    types: list
    has_lut: bool = False

    def __repr__(self):
        return f"<akida_sim.NP.Info, ident={self.ident}, types={self.types!r}, has_lut={self.has_lut}>"


@dataclass(frozen=True)
class SramSize:
    """Per-NP SRAM in bytes."""

    input_bytes: int
    weight_bytes: int


class MeshView:
    """The vendor-style view of a ``hw_model.Mesh``."""

    def __init__(self, mesh):
        self.nps = [NPInfo(s.ident, [NPType[t.value] for t in s.types]) for s in mesh.slots]
        self.dma_event = tuple(mesh.dma_event)
        self.dma_conf = tuple(mesh.dma_conf)
        self.hrc = NPInfo(tuple(mesh.hrc), [NPType.HRC]) if mesh.hrc is not None else None
        self.skip_dmas = []
        self.np_sram_size = SramSize(mesh.sram.input_bytes, mesh.sram.weight_bytes)

    def __repr__(self):
        return f"<akida_sim.NP.Mesh, dma_event={self.dma_event}, dma_conf={self.dma_conf}, nps={self.nps!r}>"


class Device:
    """A device to map models on.

    mesh: a ``hw_model.Mesh`` (NP slots and their types, DMAs, HRC, SRAM).
    costs: a ``hw_model.cost_table.CostTable`` pricing clocks, power and energy.
    version: the hardware version string (None: the mesh's ``hw_version``); ``device.version`` is a HwVersion.
    host_ops_per_second: synaptic operations per second of the host that runs the software
    sequences (None: the host profile's, a rough default fitted on one published run).
    host: the host the device is plugged into, a ``hw_model.host.HostProfile`` or the name of one
    of ``hw_model.host.HOST_PROFILES`` (None: ``"pcie_pc"``, the PCIe board in a PC); it prices
    the host's part of each call (``device.host`` can be changed later).
    ``device.soc.clock_mode`` sets the clock mode the cost model prices with.
    """

    def __init__(self, mesh, costs=AKD1000_COSTS, version=None, host_ops_per_second=None, host=None):
        if not isinstance(mesh, Mesh):
            raise SimTypeError(f"Device: argument 'mesh' must be a hw_model.Mesh, got {type(mesh).__name__}")
        if not isinstance(costs, CostTable):
            raise SimTypeError(f"Device: argument 'costs' must be a hw_model CostTable, got {type(costs).__name__}")
        self.hw_mesh = mesh
        self.costs = costs
        self.version = HwVersion(mesh.hw_version if version is None else version)
        self.mesh = MeshView(mesh)
        self.soc = SoC()
        self.host_ops_per_second = host_ops_per_second
        self.host = DEFAULT_HOST if host is None else host

    @property
    def host(self):
        """The host profile pricing the host's part of each call (``hw_model.host.HostProfile``)."""
        return self._host

    @host.setter
    def host(self, value):
        if isinstance(value, str) and value in HOST_PROFILES:
            value = HOST_PROFILES[value]
        if not isinstance(value, HostProfile):
            raise SimValueError(f"Device: host must be a hw_model.host.HostProfile or one of "
                                f"{sorted(HOST_PROFILES)}, got {value!r}")
        self._host = value

    @property
    def host_ops_per_second(self):
        """Synaptic ops per second of the host running software sequences (None: the table's default)."""
        return self._host_ops_per_second

    @host_ops_per_second.setter
    def host_ops_per_second(self, value):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not 1 <= value <= 1e18):
            raise SimValueError(f"Device: host_ops_per_second must be a number in 1..1e18 or None, got {value!r}")
        self._host_ops_per_second = value

    @property
    def desc(self):
        """``VirtualDevice/<version>``."""
        return f"VirtualDevice/{self.version}"

    @property
    def ip_version(self):
        """The Akida IP version of the mesh (``IpVersion.v1`` for Akida 1.0)."""
        return IpVersion(self.hw_mesh.ip_version)

    def __repr__(self):
        """The desc, then what tells devices apart when their desc is the same (a what-if mesh keeps the
        AKD1000's version): the mesh's name, its nodes and NPs, and the clock the cost table prices with."""
        return (f"<akida_sim.Device, desc={self.desc}, mesh={self.hw_mesh.name}, nodes={len(self.hw_mesh.nodes)}, "
                f"nps={len(self.mesh.nps)}, clock_mhz={self.costs.clock_hz.value / 1e6:g}>")


def AKD1000():  # noqa: N802 - the vendor's name
    """The AKD1000 chip: 78 NPs in 20 nodes, the HRC, and its cost table."""
    return Device(akd1000(), AKD1000_COSTS)


def devices():
    """The devices on this host: one simulated AKD1000.

    The vendor's ``akida.devices()`` lists the Akida chips plugged into the
    host; the simulator has none, so it answers with the chip it simulates,
    and ``model.map(devices()[0])`` then maps and prices as on an AKD1000.
    """
    return [AKD1000()]


_C1, _C12 = (SlotType.CNP1,), (SlotType.CNP1, SlotType.CNP2)
_C1F2, _C1F3 = (SlotType.CNP1, SlotType.FNP2), (SlotType.CNP1, SlotType.FNP3)


def _node_position(k):
    """(col, row) of node ``k``: column by column over rows 1..5, starting at
    (1, 2); (1, 1) holds the DMAs (the vendor's layout of its small IPs)."""
    return 1 + (k + 1) // 5, 1 + (k + 1) % 5


def _mesh_slots(node_types):
    """NP slots of nodes laid out by ``_node_position``; ``node_types`` lists
    the types of each NP of each node."""
    return [NPSlot(*_node_position(k), i, types)
            for k, types_of_node in enumerate(node_types) for i, types in enumerate(types_of_node)]


def TwoNodesIPv1():  # noqa: N802 - the vendor's name
    """The vendor's 2-node Akida 1.0 IP: 8 NPs in nodes (1, 2) and (1, 3).

    NP types, DMAs at (1, 1, 0)/(1, 1, 1), the HRC, per-NP SRAM (43008 B
    input, 44800 B weights) and the 512-filter CNP limit are those observed on
    the vendor's virtual device; clocks and dynamic power are priced with the
    AKD1000's chip prices, and an IP block has no board: no floor power
    (``hw_model.cost_table.IP_BLOCK_COSTS``).
    """
    mesh = make_mesh("TwoNodesIPv1", _mesh_slots([(_C1F2, _C1, _C1, _C1), (_C1F3, _C12, _C12, _C12)]),
                     sram=akd1000().sram, limits=MapLimits(cnp_max_filters=512), hw_version=TWO_NODES_IPV1_VERSION)
    return Device(mesh, IP_BLOCK_COSTS, TWO_NODES_IPV1_VERSION)


def _check_count(argument, value, limit):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SimValueError(f"what_if_device: argument '{argument}' must be an int >= 1, got {value!r}")
    return check_count(argument, value, limit, "what_if_device: ")


def _check_clock(clock_hz):
    if isinstance(clock_hz, bool) or not isinstance(clock_hz, (int, float)) or not clock_hz > 0:
        raise SimValueError(f"what_if_device: argument 'clock_hz' must be a number > 0, got {clock_hz!r}")
    if not MIN_CLOCK_HZ <= clock_hz <= MAX_CLOCK_HZ:
        raise LimitError(f"what_if_device: argument 'clock_hz' is {clock_hz!r}, outside the range "
                         f"{MIN_CLOCK_HZ:g}..{MAX_CLOCK_HZ:g} Hz")
    return float(clock_hz)


def what_if_device(nodes=20, nps_per_node=4, clock_hz=None, input_sram_bytes=None, weight_sram_bytes=None,
                   name="what-if"):
    """A what-if Akida 1.0 device in one line; the defaults are the AKD1000's
    node count, NPs per node, clock and memories.

    nodes: number of nodes (AKD1000: 20); nps_per_node: NPs per node (4). The
    layout is regular, so the defaults give 80 NPs where the AKD1000 has 78 (its
    DMAs take two NP slots, its node (4, 1) holds four FNP2s): in each node NP 0
    can be a CNP1 or an FNP3 and the others a CNP1 or a CNP2; the first node's
    NP 0 is a CNP1 or an FNP2 (large fully-connected layers).
    clock_hz: the clock in Hz (None: the AKD1000 cost table's). input_sram_bytes,
    weight_sram_bytes: per-NP memories in bytes (None: 43008 and 44800).
    Bounds (``akida_sim.limits``): nodes <= 1024, nps_per_node <= 16, at most
    4096 NPs, memories <= 2**30 bytes, clock_hz in 1e3..1e11 (a LimitError,
    a ValueError, names the argument beyond them).
    The HRC (InputConvolutional front-end) and the DMAs are kept. Clocks,
    power and energy use the AKD1000 cost table, with the clock replaced; the
    floor power is the AKD1000 board's (a what-if board like it).
    """
    _check_count("nodes", nodes, MAX_NODES)
    _check_count("nps_per_node", nps_per_node, MAX_NPS_PER_NODE)
    if nodes * nps_per_node > MAX_NPS:
        raise LimitError(f"what_if_device: arguments nodes={nodes} and nps_per_node={nps_per_node} give "
                         f"{nodes * nps_per_node} NPs, more than the limit of {MAX_NPS}")
    if clock_hz is not None:
        clock_hz = _check_clock(clock_hz)
    sram = akd1000().sram
    sram = type(sram)(
        sram.input_bytes if input_sram_bytes is None
        else _check_count("input_sram_bytes", input_sram_bytes, MAX_NP_SRAM_BYTES),
        sram.weight_bytes if weight_sram_bytes is None
        else _check_count("weight_sram_bytes", weight_sram_bytes, MAX_NP_SRAM_BYTES))
    node = (_C1F3,) + (_C12,) * (nps_per_node - 1)
    first = (_C1F2,) + node[1:]
    mesh = make_mesh(name, _mesh_slots([first] + [node] * (nodes - 1)), sram=sram)
    costs = AKD1000_COSTS
    if clock_hz is not None:
        costs = costs.what_if(name, clock_hz=clock_hz)
    return Device(mesh, costs, AKD1000_VERSION)
