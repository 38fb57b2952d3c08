"""AKD1000 mesh as data: NP types, NP slots, nodes, DMAs, HRC and per-NP SRAM.

Every number in ``_AKD1000_TABLE`` was observed on the vendor's virtual device
(``akida.AKD1000()`` of akida 2.19.3, public API only; see
``../shared/reference/akd1000_mapping.md`` section 1).  Users can build other
meshes (what-if studies) with :func:`make_mesh` or by constructing :class:`Mesh`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable


class NPType(str, Enum):
    """Types an NP slot can take (names as the vendor's ``NP.Type``)."""

    CNP1 = "CNP1"   # convolutional NP (Conv / Separable)
    CNP2 = "CNP2"   # convolutional NP, second flavour (never seen allocated on v1 models)
    FNP2 = "FNP2"   # fully-connected NP with external/large weight memory
    FNP3 = "FNP3"   # fully-connected NP, weights in the NP's own SRAM
    HRC = "HRC"     # input (pixel) convolution front-end; not counted as an NP


@dataclass(frozen=True)
class NPSlot:
    """One NP position ``(col, row, id)`` and the types it may take."""

    col: int
    row: int
    id: int
    types: tuple[NPType, ...]

    @property
    def ident(self) -> tuple[int, int, int]:
        return (self.col, self.row, self.id)

    def can_be(self, t: NPType) -> bool:
        return t in self.types


@dataclass(frozen=True)
class SramSize:
    """Per-NP SRAM, in bytes (vendor ``mesh.np_sram_size``)."""

    input_bytes: int
    weight_bytes: int


@dataclass(frozen=True)
class MapLimits:
    """Mapper constraints of a device (vendor ``MapConstraints``) plus derived capacities.

    ``cnp_weight_bytes``: packing budget of a CNP's weights in bytes, in the units of
    :mod:`hw_model.program` (57344 B = 448 x 128 B = 7168 x 8 B; the device reports 44800 B of
    weight SRAM, so the packed format carries padding; calibration: sweeps of the vendor mapper's
    one-NP conv and separable filter caps over k, weight bits and C = 1..512).
    ``conv_max_units_per_channel``: at most 128 packing units per input channel (calibration:
    k7 4-bit C=2 caps at 384 filters).
    ``fnp_max_inputs``: FC inputs x*y*c limit (documentation and observation: 57334 HW, 57335 SW).
    ``fnp3_max_weight_bytes``: an FC whose NP payload units*(16 + ceil(in/32)*c_wb) bytes exceeds this
    goes to FNP2 (calibration: FNP3/FNP2 unit-count thresholds swept over 1..4096 units, weights
    1/2/4 bits).
    """

    cnp_max_filters: int = 504          # observed MapConstraints
    cnp_max_width: int = 32             # observed MapConstraints (axis 1)
    cnp_max_height: int = 256           # observed MapConstraints (axis 2 rows per NP)
    cnp_weight_bytes: int = 57344       # calibration, see docstring
    conv_max_units_per_channel: int = 128  # calibration, see docstring
    fnp_max_inputs: int = 57334         # doc "WxHxC <= 57334", observed
    fnp3_max_weight_bytes: int = 43008  # calibration (equals the input SRAM size)
    gap_max_width: int = 32             # observed message "With average pooling, input height cannot exceed 32."


#: The AKD1000's hardware version string (observed ``device.version``).
AKD1000_HW_VERSION = "BC.00.000.002"
@dataclass(frozen=True)
class VersionRules:
    """What the vendor's mapper does differently by hardware version (observed: models mapped on
    the AKD1000's and the 2-node IP's meshes under both version strings).

    ``multi_pass``: a model too big for the mesh runs as one sequence of several passes, the NPs
    reprogrammed between passes (else it is cut into several sequences).
    ``one_channel_parity``: a 1-input-channel conv needs an even number of 8-filter groups per NP
    (the 2-node IP maps 24 and 40 such filters on one NP).
    ``max_pool_3``: max pooling of size 3 on a CNP (the AKD1000 refuses it, naming ``name``).
    ``name``: the version's name in the vendor's messages.
    """

    multi_pass: bool
    one_channel_parity: bool
    max_pool_3: bool
    name: str


VERSION_RULES = {
    AKD1000_HW_VERSION: VersionRules(multi_pass=False, one_channel_parity=True, max_pool_3=False, name="NSoC_v2"),
    "BC.A1.003.006": VersionRules(multi_pass=True, one_channel_parity=False, max_pool_3=True, name="TwoNodesIP_v1"),
}


@dataclass(frozen=True)
class Mesh:
    """A mesh of NPs.  ``slots`` are all NP positions (DMA slots excluded); ``hw_version``: the
    hardware version string of the IP (its programs differ, see ``program.version_header_bytes``)."""

    name: str
    ip_version: int
    slots: tuple[NPSlot, ...]
    dma_event: tuple[int, int, int]
    dma_conf: tuple[int, int, int]
    hrc: tuple[int, int, int] | None
    sram: SramSize
    limits: MapLimits = field(default_factory=MapLimits)
    hw_version: str = AKD1000_HW_VERSION

    @property
    def nodes(self) -> tuple[tuple[int, int], ...]:
        seen: list[tuple[int, int]] = []
        for s in self.slots:
            if (s.col, s.row) not in seen:
                seen.append((s.col, s.row))
        return tuple(seen)

    @property
    def version_rules(self) -> VersionRules:
        """The mapper's rules for this hardware version (the AKD1000's for a version not seen)."""
        return VERSION_RULES.get(self.hw_version, VERSION_RULES[AKD1000_HW_VERSION])

    @property
    def multi_pass(self) -> bool:
        """Whether consecutive hardware layers that do not fit at once run as passes of one sequence."""
        return self.version_rules.multi_pass

    @property
    def one_channel_parity(self) -> bool:
        """Whether a 1-input-channel conv needs an even number of 8-filter groups per NP."""
        return self.version_rules.one_channel_parity

    def count(self, t: NPType) -> int:
        return sum(1 for s in self.slots if s.can_be(t))

    def allocation_order(self, t: NPType) -> list[NPSlot]:
        """Order in which the vendor mapper hands out slots of type ``t`` (observed).

        CNP1: slots that can only be CNP1 first, then CNP1/CNP2 slots, then
        CNP1/FNP3 slots, each group by (col, row, id); CNP1/FNP2 slots are kept
        for FNP2 and used last.  FNP3/FNP2: by (col, row, id).
        """
        cand = [s for s in self.slots if s.can_be(t)]
        if t == NPType.CNP1:
            def rank(s: NPSlot) -> int:
                if s.types == (NPType.CNP1,):
                    return 0
                if NPType.CNP2 in s.types:
                    return 1
                if NPType.FNP3 in s.types:
                    return 2
                return 3
            return sorted(cand, key=lambda s: (rank(s), s.col, s.row, s.id))
        return sorted(cand, key=lambda s: (s.col, s.row, s.id))


# (col, row) -> types per NP id; DMA slots are simply absent.  Observed NP.Info.types on akida.AKD1000().
_C1 = (NPType.CNP1,)
_C12 = (NPType.CNP1, NPType.CNP2)
_C1F3 = (NPType.CNP1, NPType.FNP3)
_C1F2 = (NPType.CNP1, NPType.FNP2)
_AKD1000_NODES: tuple[tuple[int, int], ...] = (
    (1, 3), (1, 4), (1, 5), (2, 3), (2, 4), (2, 5), (3, 1), (3, 2), (3, 3), (3, 4), (3, 5),
    (4, 1), (4, 2), (4, 3), (4, 4), (4, 5), (5, 2), (5, 3), (5, 4), (5, 5),
)


def _akd1000_slots() -> tuple[NPSlot, ...]:
    slots = []
    for col, row in _AKD1000_NODES:
        for i in range(4):
            if (col, row) == (3, 1):
                if i < 2:
                    continue  # (3,1,0) DMA event, (3,1,1) DMA conf
                types = _C1
            elif (col, row) == (4, 1):
                types = _C1F2
            else:
                types = _C1F3 if i == 0 else _C12
            slots.append(NPSlot(col, row, i, types))
    return tuple(slots)


def akd1000() -> Mesh:
    """The AKD1000 mesh: 78 NPs in 20 nodes, DMAs at (3,1,0)/(3,1,1), HRC at (0,0,0).

    SRAM per NP 43008 B input / 44800 B weights (observed ``mesh.np_sram_size``).
    """
    return Mesh(
        name="AKD1000",
        ip_version=1,
        slots=_akd1000_slots(),
        dma_event=(3, 1, 0),
        dma_conf=(3, 1, 1),
        hrc=(0, 0, 0),
        sram=SramSize(input_bytes=43008, weight_bytes=44800),
    )


def make_mesh(name: str, slots: Iterable[NPSlot], *, sram: SramSize, limits: MapLimits | None = None,
              dma_event=(1, 1, 0), dma_conf=(1, 1, 1), hrc=(0, 0, 0), ip_version: int = 1,
              hw_version: str = AKD1000_HW_VERSION) -> Mesh:
    """Build a what-if mesh from explicit slots."""
    return Mesh(name=name, ip_version=ip_version, slots=tuple(slots), dma_event=dma_event,
                dma_conf=dma_conf, hrc=hrc, sram=sram, limits=limits or MapLimits(), hw_version=hw_version)
