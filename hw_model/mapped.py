"""What a mapping returns: NPs per layer, sequences, rule violations (plain frozen data)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .mesh import NPType

MODES = ("AllNps", "HwPr", "Minimal")


def available_text(m: int) -> str:
    """Vendor wording: "1 is available" (observed in the sweeps), "M are available" else."""
    return "1 is available" if m == 1 else f"{m} are available"


def not_enough_cnps(needed: int, available: int) -> str:
    """The vendor's reason for a layer whose CNPs do not fit (observed: hw_only texts)."""
    return (f"Not enough hardware components of type CNP1 available. {needed} are needed but "
            f"{available_text(available)}.")


class MappingError(RuntimeError):
    """A layer cannot be mapped on hardware (raised by ``map_layers(hw_only=True)``)."""

    @classmethod
    def for_layer(cls, name: str, msgs: list[str]) -> "MappingError":
        """The vendor's one-layer form: "Cannot map layer 'name'. <reasons>"."""
        return cls(f"Cannot map layer '{name}'. " + " ".join(msgs))


@dataclass(frozen=True)
class Violation:
    """A design rule a layer breaks: rule name, layer name and the vendor's reason text."""

    rule: str
    layer: str
    message: str


@dataclass(frozen=True)
class NPAlloc:
    """One NP used by a layer: ident ``(col, row, id)``, type, and filters it computes."""

    ident: tuple[int, int, int]
    type: NPType
    filters: int


@dataclass(frozen=True)
class LayerMapping:
    name: str
    kind: str
    nps: tuple[NPAlloc, ...] = ()
    on_hrc: bool = False

    @property
    def n_nps(self) -> int:
        """NPs used (the HRC component of an input conv is not counted, as in the vendor summary)."""
        return sum(1 for n in self.nps if n.type != NPType.HRC)

    @property
    def types(self) -> dict[str, int]:
        return dict(Counter(n.type.value for n in self.nps))

    @property
    def filters_per_np(self) -> tuple[int, ...]:
        return tuple(n.filters for n in self.nps)


@dataclass(frozen=True)
class PassMapping:
    """One pass of a hardware sequence: its layers' names and the program bytes they take (the
    sequence header is counted in the first pass)."""

    layers: tuple[str, ...]
    program_bytes: int


@dataclass(frozen=True)
class SequenceMapping:
    name: str
    backend: str                     # "Hardware" or "Software"
    layers: tuple[LayerMapping, ...]
    program_bytes: int | None        # None for software sequences
    passes: tuple[PassMapping, ...] = ()   # hardware: one or more passes; software: none

    @property
    def n_nps(self) -> int:
        return sum(L.n_nps for L in self.layers)


@dataclass(frozen=True)
class ModelMapping:
    mode: str
    mesh: str
    sequences: tuple[SequenceMapping, ...]
    violations: tuple[Violation, ...] = field(default=())
    #: Why each software layer is in software: the rules it breaks, in the vendor's order.
    software: tuple[Violation, ...] = field(default=())

    def software_reasons(self, name: str) -> tuple[Violation, ...]:
        """The rules that sent layer ``name`` to software (empty for a hardware layer)."""
        return tuple(v for v in self.software if v.layer == name)

    @property
    def n_nps(self) -> int:
        return sum(s.n_nps for s in self.sequences)

    @property
    def program_bytes(self) -> int:
        return sum(s.program_bytes or 0 for s in self.sequences)

    def layer(self, name: str) -> LayerMapping:
        for s in self.sequences:
            for L in s.layers:
                if L.name == name:
                    return L
        raise KeyError(name)

    @property
    def sequence_names(self) -> list[str]:
        return [s.name for s in self.sequences]

