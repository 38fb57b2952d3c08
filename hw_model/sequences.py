"""Where sequences are cut: consecutive hardware layers share a sequence while their NPs fit
the mesh; a max-pooling layer never ends one; software layers form their own sequences."""
from __future__ import annotations

from typing import Sequence

from .allocation import cnp_budget, cnps_at
from .capacity import LayerNeed
from .mapped import MappingError, Violation, not_enough_cnps
from .mesh import Mesh, NPType
from .rules import CNP_KINDS, MAXPOOL_LAST_MSG

def seq_name(prefix: str, names: Sequence[str]) -> str:
    return f"{prefix}/{names[0]}" if len(names) == 1 else f"{prefix}/{names[0]}-{names[-1]}"



def fits_in_one_sequence(mesh: Mesh, needs: Sequence[LayerNeed], f: int | None = None) -> bool:
    cnps = sum(cnps_at(n, f) for n in needs)
    fnp3 = sum(1 for n in needs if n.fnp_type == NPType.FNP3)
    fnp2 = sum(1 for n in needs if n.fnp_type == NPType.FNP2)
    n_f3, n_f2 = mesh.count(NPType.FNP3), mesh.count(NPType.FNP2)
    if fnp2 > n_f2 or fnp3 + fnp2 > n_f3 + n_f2:
        return False
    return cnps <= cnp_budget(mesh, needs)



def partition(needs: Sequence[LayerNeed], hw: list[bool], viols: dict[str, list[Violation]], mesh: Mesh,
               hw_only: bool, all_viols: list[Violation], f: int | None) -> list[tuple[bool, list[LayerNeed]]]:
    """Greedy sequence partition; layers cost their CNPs at filters-per-NP target ``f`` (None: minimum).

    On a multi-pass mesh the hardware chunks cut on capacity are the passes of one sequence
    (see ``group_passes``), and a pass may end on a max-pooling layer (observed: AkidaNet-0.5/96 on
    the 2-node IP, passes ending on its max-pooling separable layers)."""
    # group consecutive HW-capable layers; cut on capacity; max-pool may not end a sequence
    chunks: list[tuple[bool, list[LayerNeed]]] = []
    fnp2_passed = False   # an earlier pass of the current multi-pass sequence uses an FNP2
    i = 0
    while i < len(needs):
        if not hw[i]:
            if hw_only:
                raise MappingError.for_layer(needs[i].spec.name, [v.message for v in viols[needs[i].spec.name]])
            chunks.append((False, [needs[i]]))
            fnp2_passed = False
            i += 1
            continue
        cur: list[LayerNeed] = []
        fnp2_cut = False
        while i < len(needs) and hw[i]:
            if cur and not fits_in_one_sequence(mesh, cur + [needs[i]], f):
                break
            if cur and mesh.multi_pass and fnp2_passed and fnp2_again(cur, needs[i], mesh):
                fnp2_cut = True   # the layer would take the FNP2 again: it starts a sequence
                break
            if not cur and not fits_in_one_sequence(mesh, [needs[i]], f):
                if hw_only:
                    n = needs[i]
                    raise MappingError.for_layer(n.spec.name, [not_enough_cnps(n.min_cnps, mesh.count(NPType.CNP1))])
                chunks.append((False, [needs[i]]))
                i += 1
                break
            cur.append(needs[i])
            i += 1
        if cur:
            # a conv/sep with max pooling cannot end a sequence
            tail: list[LayerNeed] = []
            next_pass = False
            if i < len(needs) and hw[i]:
                # cut on capacity: max-pool layers at the end start the next sequence instead of
                # going to software; if nothing else is left, the first one goes to software
                # (calibration: sequence partitions of the random multi-layer sweeps, vendor API).
                # A pass of a multi-pass sequence keeps its max-pool layers at the end, but a pass
                # of max-pool layers only is cut as a sequence (observed: AkidaNet-0.5/96 and /224
                # on the 2-node IP)
                start, end = i - len(cur), i
                while cur and cur[-1].spec.kind in CNP_KINDS and cur[-1].spec.pool_type == "max":
                    cur.pop()
                    i -= 1
                if not cur:
                    cur, i = [needs[start]], start + 1
                elif mesh.multi_pass:
                    cur, i, next_pass = list(needs[start:end]), end, True
            while not next_pass and cur and cur[-1].spec.kind in CNP_KINDS and cur[-1].spec.pool_type == "max":
                if hw_only:
                    raise MappingError.for_layer(cur[-1].spec.name, [MAXPOOL_LAST_MSG])
                all_viols.append(Violation("maxpool_not_last", cur[-1].spec.name, MAXPOOL_LAST_MSG))
                tail.insert(0, cur.pop())
            if cur:
                chunks.append((True, cur))
                fnp2_passed = not fnp2_cut and (fnp2_passed or uses_fnp2(cur, mesh))
            for t in tail:
                chunks.append((False, [t]))
    # merge consecutive SW chunks
    merged: list[tuple[bool, list[LayerNeed]]] = []
    for is_hw, ns in chunks:
        if merged and not is_hw and not merged[-1][0]:
            merged[-1][1].extend(ns)
        else:
            merged.append((is_hw, list(ns)))
    return merged



def uses_fnp2(needs: Sequence[LayerNeed], mesh: Mesh) -> bool:
    """Whether a pass of ``needs`` puts a FullyConnected layer on an FNP2 (its weights are too
    large for an FNP3, or the FNP3s are taken)."""
    fcs = [n for n in needs if n.engine == "FNP"]
    return any(n.fnp_type == NPType.FNP2 for n in fcs) or len(fcs) > mesh.count(NPType.FNP3)


def fnp2_again(current: Sequence[LayerNeed], nxt: LayerNeed, mesh: Mesh) -> bool:
    """Whether adding ``nxt`` to the pass ``current`` makes it use an FNP2 it did not use."""
    return not uses_fnp2(current, mesh) and uses_fnp2(list(current) + [nxt], mesh)


def group_passes(chunks: list[tuple[bool, list[LayerNeed]]], mesh: Mesh) -> list[tuple[bool, list[list[LayerNeed]]]]:
    """Sequences as lists of passes: on a multi-pass mesh consecutive hardware chunks join one
    sequence, except where a layer would take an FNP2 that an earlier pass used: it ends the
    sequence (observed: chains of 3, 4 and 5 FullyConnected layers on the 2-node IP give
    [f0-f1][f2] then a sequence from f3), and where a chunk needing the FNP2 follows a pass that
    used it (observed: a conv, a 1000-unit FC on the FNP2, then an FC whose 1000 inputs need it
    too, on the 2-node IP); elsewhere every chunk is a sequence of one pass."""
    out: list[tuple[bool, list[list[LayerNeed]]]] = []
    for is_hw, ns in chunks:
        passes = out[-1][1] if out and out[-1][0] else []
        if (is_hw and mesh.multi_pass and passes
                and not (any(uses_fnp2(p, mesh) for p in passes[:-1]) and fnp2_again(passes[-1], ns[0], mesh))
                and not (uses_fnp2(passes[-1], mesh) and uses_fnp2(ns, mesh))):
            out[-1][1].append(ns)
        else:
            out.append((is_hw, [ns]))
    return out
