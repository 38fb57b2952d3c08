"""How NPs are dealt to layers: filter groups per layer, the AllNps filters-per-NP target,
NP slots in the mesh's allocation order, and the program bytes of a hardware sequence."""
from __future__ import annotations

import math
from typing import Sequence

from . import program
from .capacity import LayerNeed
from .layer_spec import LayerSpec
from .mapped import LayerMapping, NPAlloc
from .mesh import Mesh, NPType

def deal(filters: int, groups: int) -> list[int]:
    q = math.ceil(filters / groups)
    out = [q] * (groups - 1) + [filters - q * (groups - 1)]
    if out[-1] <= 0:  # cannot happen with groups = ceil(F/f); keep a balanced split otherwise
        base, extra = divmod(filters, groups)
        out = [base + (1 if i < extra else 0) for i in range(groups)]
    return out



def cnp_budget(mesh: Mesh, needs: Sequence[LayerNeed]) -> int:
    n_fc = sum(1 for n in needs if n.engine == "FNP")
    return mesh.count(NPType.CNP1) - n_fc


def cnps_at(n: LayerNeed, f: int | None) -> int:
    """CNPs a layer takes at filters-per-NP target ``f`` (None: its minimum)."""
    if f is None or n.engine != "CNP":
        return n.min_cnps
    return n.spatial * max(n.min_groups, math.ceil(n.spec.filters / f))



def seq_min_f(needs: Sequence[LayerNeed], mesh: Mesh) -> int:
    """Smallest filters-per-NP f with which a HW sequence still fits the CNP budget (AllNps/HwPr)."""
    budget = cnp_budget(mesh, needs)
    mins = [n.min_groups if n.engine == "CNP" else 0 for n in needs]
    fmax = max([n.spec.filters for n in needs if n.engine == "CNP"], default=1)
    best, seen_valid = fmax, [False] * len(needs)
    for f in range(fmax, 0, -1):
        gs = [max(m, math.ceil(n.spec.filters / f)) if n.engine == "CNP" else 0 for n, m in zip(needs, mins)]
        if sum(g * n.spatial for g, n in zip(gs, needs)) > budget:
            break
        ok = [one_channel_split_ok(n.spec, g, mesh) for n, g in zip(needs, gs)]
        if any(seen and not v for seen, v in zip(seen_valid, ok)):
            break
        best = f
        seen_valid = [seen or v for seen, v in zip(seen_valid, ok)]
    return best


def pair_target(needs: Sequence[LayerNeed], hw: Sequence[bool], mesh: Mesh) -> int | None:
    """HwPr on a multi-pass mesh: the filters-per-NP target with which every two consecutive
    hardware layers still fit one pass (the largest ``seq_min_f`` over those pairs holding a
    CNP layer; None: no such pair) (calibration, vendor API on the 2-node IP: separable chains
    of 128 to 512 filters, mixed 64/128/256-filter chains, AkidaNet-0.5/96; e.g. [128, 256, 64]
    filters give 3 x 43, 5 x 52 | 2 x 32)."""
    fs = [seq_min_f(pair, mesh) for pair, both_hw in zip(zip(needs, needs[1:]), zip(hw, hw[1:]))
          if all(both_hw) and any(n.engine == "CNP" for n in pair)]
    return max(fs) if fs else None


def one_channel_split_ok(spec: LayerSpec, groups: int, mesh: Mesh | None = None) -> bool:
    """A 1-input-channel conv split over several NPs needs every NP's filter count / 8 (rounded
    up) even; the vendor stops spreading the whole model at the first filters-per-NP target that
    breaks this for a layer whose split was valid at a larger target; a layer invalid from the
    start does not stop it; a layer still invalid at the final target goes to software (see
    map_layers) (calibration: 1-channel convs of 16 to 512 filters in random multi-layer models).
    A layer of at most 16 filters may be split freely (as a single NP F <= 16 is always
    accepted, see rules.one_channel_neuron_groups); so may any on a ``mesh`` whose hardware
    version has no such rule (``Mesh.one_channel_parity``)."""
    if spec.kind != "conv" or spec.in_channels != 1 or spec.filters <= 16:
        return True
    if mesh is not None and not mesh.one_channel_parity:
        return True
    return all(math.ceil(q / 8) % 2 == 0 for q in deal(spec.filters, groups))


def filter_groups(needs: Sequence[LayerNeed], mode: str, f: int | None) -> list[int]:
    """Filter groups per CNP layer (0 for non-CNP layers); ``f``: filters per NP target (None: Minimal)."""
    mins = [n.min_groups if n.engine == "CNP" else 0 for n in needs]
    if mode == "Minimal" or f is None:
        return mins
    return [max(m, math.ceil(n.spec.filters / f)) if n.engine == "CNP" else 0 for n, m in zip(needs, mins)]


def sequence_header_bytes(needs: Sequence[LayerNeed], passes: int, mesh: Mesh) -> int:
    """Program bytes of a hardware sequence of ``needs`` (all its passes) beyond its layers' own."""
    prog = (program.SEQ_HEADER + program.PASS_HEADER * (passes - 1)
            + program.version_header_bytes(mesh.hw_version, [n.spec for n in needs], needs[0].engine == "HRC"))
    if needs[0].engine == "HRC" and len(needs) > 1:
        prog += program.HRC_CHAIN_EXTRA
        if not needs[-1].spec.activation:
            prog -= program.HRC_RAW_OUTPUT_SAVING
    return prog


def allocate(needs: Sequence[LayerNeed], mode: str, mesh: Mesh, f: int | None) -> tuple[list[LayerMapping], int]:
    """NPs of one pass of layers ``needs`` (every pass starts from the whole mesh) and the program
    bytes of its layers (see ``sequence_header_bytes`` for the rest)."""
    groups = filter_groups(needs, mode, f)
    cnp_free = mesh.allocation_order(NPType.CNP1)
    used: set[tuple[int, int, int]] = set()
    result: dict[str, LayerMapping] = {}
    prog = 0
    for n, g in zip(needs, groups):
        if n.engine != "CNP":
            continue
        nps = []
        blocks: list[int] = []
        for _tile in range(n.spatial):
            for f in deal(n.spec.filters, g):
                slot = next(s for s in cnp_free if s.ident not in used)
                used.add(slot.ident)
                nps.append(NPAlloc(slot.ident, NPType.CNP1, f))
                blocks.extend(program.np_chunk_items(n.spec, f, first_tile=_tile == 0))
        prog += program.LAYER_HEADER + sum(blocks) + program.chunk_overhead(blocks)
        result[n.spec.name] = LayerMapping(n.spec.name, n.spec.kind, tuple(nps))
    n_fnp2 = 0
    for n in needs:
        if n.engine == "FNP":
            order = mesh.allocation_order(NPType.FNP3) + mesh.allocation_order(NPType.FNP2)
            if n.fnp_type == NPType.FNP2:
                order = mesh.allocation_order(NPType.FNP2)
            slot = next(s for s in order if s.ident not in used)
            used.add(slot.ident)
            t = NPType.FNP3 if slot.can_be(NPType.FNP3) and n.fnp_type == NPType.FNP3 else NPType.FNP2
            result[n.spec.name] = LayerMapping(n.spec.name, n.spec.kind, (NPAlloc(slot.ident, t, n.spec.filters),))
            prog += program.LAYER_HEADER + program.np_bytes(n.spec, n.spec.filters, t.value)
            if t == NPType.FNP2:
                if n_fnp2:
                    prog -= program.FNP2_EXTRA - program.FNP2_NEXT_EXTRA
                n_fnp2 += 1
        elif n.engine == "HRC":
            hrc = NPAlloc(mesh.hrc or (0, 0, 0), NPType.HRC, 0)
            result[n.spec.name] = LayerMapping(n.spec.name, n.spec.kind, (hrc,), on_hrc=True)
            prog += program.LAYER_HEADER + program.hrc_bytes(n.spec)
    return [result[n.spec.name] for n in needs], prog


# hw_only walk stops at these (calibration: hw_only texts; filter too big from the single-layer
