"""Map a chain of layers on a mesh as the vendor's ``model.map`` does: ``map_layers``.

Rules were found by sweeping the vendor's public API (akida 2.19.3, ``model.map`` on
``akida.AKD1000()``, black box) one factor at a time; see
``../shared/reference/akd1000_mapping.md``.  A reader looking for a rule finds it in:

- :mod:`hw_model.capacity`: what fits one NP (filters per CNP, spatial tiles, FNP3 or FNP2);
- :mod:`hw_model.rules`: the design rules, each a small named function returning the vendor's
  reason text (``map_layers(..., hw_only=True)`` raises :class:`MappingError` with it);
- :mod:`hw_model.allocation`: how NPs are dealt to layers (Minimal: fewest filter groups;
  AllNps/HwPr: one filters-per-NP target for the whole model, for HwPr on a multi-pass mesh
  the one at which every two consecutive layers share a pass; slots in mesh order);
- :mod:`hw_model.sequences`: where sequences are cut (NP budget, max pooling, software layers);
- :mod:`hw_model.program`: program bytes of a hardware sequence.

This module runs them in order and writes the vendor's hw_only error text.
Not modelled: the AllNps sequence partition of a few large models, some hw_only texts.
"""
from __future__ import annotations

import math
from typing import Sequence

from .allocation import allocate, cnps_at, one_channel_split_ok, pair_target, seq_min_f, sequence_header_bytes
from .capacity import LayerNeed, layer_need
from .layer_spec import LayerSpec
from .mapped import (MODES, LayerMapping, MappingError, ModelMapping, PassMapping, SequenceMapping, Violation,
                     not_enough_cnps)
from .mesh import Mesh, NPType, akd1000
from .rules import CNP_KINDS, MAXPOOL_LAST_MSG, layer_violations, one_channel_neuron_groups
from .sequences import fits_in_one_sequence, group_passes, partition, seq_name

_CAPACITY_RULES = ("filter_fits_cnp", "one_channel_neuron_groups", "maxpool_fits_output")


def _maxpool_run_before(needs: Sequence[LayerNeed], viols: dict[str, list[Violation]], i: int,
                        bad: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Every max-pool layer of the run just before failing layer ``i``, first one first (all are
    reported, in order)."""
    j, run = i - 1, []
    while (j >= 0 and needs[j].spec.kind in CNP_KINDS and needs[j].spec.pool_type == "max"
           and not viols[needs[j].spec.name] and all(name != needs[j].spec.name for name, _ in bad)):
        run.insert(0, (needs[j].spec.name, [MAXPOOL_LAST_MSG]))
        j -= 1
    return run


def _check_hw_only(needs: Sequence[LayerNeed], viols: dict[str, list[Violation]], mesh: Mesh) -> None:
    """Raise the vendor's hw_only error (observed behaviour).

    Layers are checked in order; failing layers are collected, a max-pooling layer just before a
    failing layer is reported as ending a sequence, and the walk stops at the first capacity error
    (filter too big, not enough NPs).  One failing layer: "Cannot map layer 'X'. <reasons>"; several:
    "Cannot map layer 'X':" followed by one "  * Layer 'Y': <reasons>" line each.
    """
    bad: list[tuple[str, list[str]]] = []
    total = free = mesh.count(NPType.CNP1)
    prev = 0    # NPs of the layer just before (multi-pass meshes)
    for i, n in enumerate(needs):
        vs = viols[n.spec.name]
        if vs:
            bad.extend(_maxpool_run_before(needs, viols, i, bad))
            bad.append((n.spec.name, [v.message for v in vs]))
            if any(v.rule in _CAPACITY_RULES for v in vs):
                break
            prev = 0
            continue
        run = _maxpool_run_before(needs, viols, i, bad)
        if mesh.multi_pass:
            # a multi-pass mesh starts a new pass where the NPs run out, so a layer only has to fit
            # beside the layer before it: "M are available" is the mesh's CNPs less that layer's
            # (observed, vendor API on the 2-node IP: six and twelve 3x3 convs of 128 filters map
            # in 2 and 3 passes; a 24-NP conv after a 2-NP one reports 6 available, after nothing 8)
            free = total - prev
            prev = 1 if n.engine == "FNP" else n.min_cnps
        if n.engine == "FNP":
            free -= 1   # an FC takes one of the slots counted (calibration: the vendor's "M are
            continue    # available" counts FCs before, not after, the layer; hw_only texts of
                        # the random multi-layer sweeps)
        if n.min_cnps > free:
            if not bad:
                # max-pool layers just before are reported first (calibration: hw_only texts of
                # the random multi-layer sweeps, all three modes)
                bad.extend(run)
                bad.append((n.spec.name, [not_enough_cnps(n.min_cnps, free)]))
            break
        free -= n.min_cnps
    if len(bad) == 1:
        name, msgs = bad[0]
        raise MappingError.for_layer(name, msgs)
    if bad:
        lines = [f"  * Layer '{name}': " + " ".join(msgs) for name, msgs in bad]
        raise MappingError(f"Cannot map layer '{bad[0][0]}':\n" + "\n".join(lines))


def map_layers(specs: Sequence[LayerSpec], mesh: Mesh | None = None, mode: str = "AllNps",
               hw_only: bool = False) -> ModelMapping:
    """Map a chain of layers (InputData layers are skipped) as the vendor's ``model.map`` does.

    Returns a :class:`ModelMapping`; with ``hw_only=True`` raises :class:`MappingError` with the
    vendor's text ``"Cannot map layer 'X'. <reasons>"`` when a layer cannot go to hardware.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    mesh = mesh or akd1000()
    specs = [s for s in specs if s.kind != "input_data"]
    revoked: frozenset = frozenset()
    if mode != "Minimal":
        # 1-input-channel convs that only map when spread (see one_channel_splittable) go back to
        # software when the model's filters-per-NP target leaves their split invalid (observed:
        # conv24 on one channel next to a conv48 on one channel that stops spreading at 48, or in
        # a model whose NP budget keeps the target above 12; random multi-layer sweeps)
        for _ in range(len(specs)):
            mapping, f_model = _map(specs, mesh, mode, False, revoked)
            bad = {n.spec.name for s in mapping.sequences if s.backend == "Hardware" for L in s.layers
                   for n in [layer_need(_spec_named(specs, L.name), mesh)]
                   if f_model and one_channel_neuron_groups(n, mesh)
                   and not one_channel_split_ok(n.spec, max(n.min_groups, math.ceil(n.spec.filters / f_model)))}
            if not bad:
                break
            revoked |= bad
    mapping = _map(specs, mesh, mode, hw_only, revoked)[0]
    check_register_values(mapping, specs)
    return mapping


THRESHOLD_BITS = {"input_conv": 24}   # signed register width of a threshold (others: 20 bits; observed)
NP_MAX_ACT_STEP = 65535                # largest act_step of a CNP or FNP (observed)


def check_register_values(mapping: ModelMapping, specs: Sequence[LayerSpec]) -> None:
    """Raise the vendor's error when a hardware layer's threshold or act_step does not fit its
    register: whatever ``hw_only``, the first such layer, its first such value; a layer without
    activation is not checked (observed)."""
    for seq in mapping.sequences:
        if seq.backend != "Hardware":
            continue
        for L in seq.layers:
            sp = _spec_named(specs, L.name)
            if not sp.activation:
                continue
            bits = THRESHOLD_BITS.get(sp.kind, 20)
            bad = next((t for t in sp.thresholds if not -(1 << bits - 1) <= t < 1 << bits - 1), None)
            if bad is not None:
                raise MappingError(f"Cannot map layer '{sp.name}'. Error: {bad} cannot fit in a {bits}-bit "
                                   f"signed integer.")
            if sp.kind != "input_conv":
                step = next((v for v in sp.act_steps if not 0 <= v <= NP_MAX_ACT_STEP), None)
                if step is not None:
                    engine = "FullyConnected" if sp.kind == "fully_connected" else "CNP"
                    raise MappingError(f"Cannot map layer '{sp.name}'. Error: Backend hardware({engine}): act_step "
                                       f"should be between 0 and {NP_MAX_ACT_STEP}. Receives act_step {int(step)}..")


def _spec_named(specs: Sequence[LayerSpec], name: str) -> LayerSpec:
    return next(s for s in specs if s.name == name)



def _fc_pass_after_split(chunks: list[tuple[bool, list[LayerNeed]]], f: int) -> bool:
    """A hardware chunk starts on a FullyConnected layer whose input layer, ending the hardware
    chunk before, runs on several CNPs at filters-per-NP target ``f``."""
    return any(is_hw and prev_hw and ns[0].engine == "FNP" and prev[-1].engine == "CNP" and cnps_at(prev[-1], f) > 1
               for (prev_hw, prev), (is_hw, ns) in zip(chunks, chunks[1:]))


def _map(specs: Sequence[LayerSpec], mesh: Mesh, mode: str, hw_only: bool,
         revoked: frozenset) -> tuple[ModelMapping, int | None]:
    needs = [layer_need(s, mesh) for s in specs]
    viols = {n.spec.name: layer_violations(n, mesh, specs[i + 1] if i + 1 < len(specs) else None, mode, revoked)
             for i, n in enumerate(needs)}
    all_viols: list[Violation] = [v for n in needs for v in viols[n.spec.name]]
    hw = [not viols[n.spec.name] for n in needs]

    if hw_only:
        _check_hw_only(needs, viols, mesh)

    merged = partition(needs, hw, viols, mesh, hw_only, all_viols, None)
    f_model = None
    # HwPr on a multi-pass mesh: every two consecutive hardware layers fit one pass at the model's
    # target (see allocation.pair_target), the passes cut greedily at it; but where a pass would
    # start on a FullyConnected layer whose input layer ends the pass before on several CNPs, the
    # model maps as AllNps (calibration, vendor API on the 2-node IP: conv/separable chains ending
    # or not in an FC, whose last CNP layer before a lone FC pass runs on 1 or 4 NPs; the DS-CNN and
    # MNIST nets, which keep their AllNps mapping).
    if mode == "HwPr" and mesh.multi_pass:
        f_pair = pair_target(needs, hw, mesh)
        trial = None if f_pair is None else partition(needs, hw, viols, mesh, False, [], f_pair)
        if trial is not None and not _fc_pass_after_split(trial, f_pair):
            merged, f_model = trial, f_pair
    # AllNps/HwPr: the sequence partition is the greedy one at the smallest filters-per-NP target f
    # that still needs no more HW sequences than the Minimal (f = None) partition; each layer then
    # costs spatial * max(min_groups, ceil(F / f)) CNPs, and the same layers must stay on hardware
    # (calibration: AllNps/HwPr sequence partitions of the random multi-layer sweeps, vendor API;
    # e.g. [l0-l1][l2-fc0] at f = 29 where the Minimal partition is [l0-l2][l3-fc0])
    if mode != "Minimal" and f_model is None:
        def hw_shape(part):
            return (sum(1 for is_hw, _ in part if is_hw),
                    {n.spec.name for is_hw, ns in part if is_hw for n in ns})
        n_hw = hw_shape(merged)
        fs = [seq_min_f(ns, mesh) for is_hw, ns in merged if is_hw and any(n.engine == "CNP" for n in ns)]
        f = max(fs) if fs else None
        while f is not None and f > 1:
            trial = partition(needs, hw, viols, mesh, False, [], f - 1)
            if hw_shape(trial) != n_hw:
                break
            f -= 1
            merged = trial
    # AllNps/HwPr: one filters-per-NP target for the whole model, set by its most constrained
    # HW sequence (observed: a sequence after a software layer is spread no further than that).
    if mode != "Minimal" and f_model is None:
        fs = [seq_min_f(ns, mesh) for is_hw, ns in merged if is_hw and any(n.engine == "CNP" for n in ns)]
        f_model = max(fs) if fs else None
    seqs = []
    for is_hw, passes in group_passes(merged, mesh):
        ns = [n for p in passes for n in p]
        names = [n.spec.name for n in ns]
        if is_hw:
            layers, pass_maps = [], []
            head = sequence_header_bytes(ns, len(passes), mesh)
            for k, p in enumerate(passes):
                pass_layers, prog = allocate(p, mode, mesh, f_model)
                layers.extend(pass_layers)
                pass_maps.append(PassMapping(tuple(n.spec.name for n in p), prog + (head if k == 0 else 0)))
            seqs.append(SequenceMapping(seq_name("HW", names), "Hardware", tuple(layers),
                                        sum(p.program_bytes for p in pass_maps), tuple(pass_maps)))
        else:
            layers = [LayerMapping(n.spec.name, n.spec.kind) for n in ns]
            seqs.append(SequenceMapping(seq_name("SW", names), "Software", tuple(layers), None))
    software = _software_reasons([n for is_hw, ns in merged if not is_hw for n in ns], viols, mesh, f_model)
    return ModelMapping(mode, mesh.name, tuple(seqs), tuple(all_viols), software), f_model


def _software_reasons(needs: Sequence[LayerNeed], viols: dict[str, list[Violation]], mesh: Mesh,
                      f: int | None) -> tuple[Violation, ...]:
    """Why each layer of ``needs`` (the software layers) is in software: the design rules it
    breaks; else its NPs exceed the mesh on their own (``layer_fits_mesh``); else it is a
    max-pooling layer that would end a sequence (``maxpool_not_last``)."""
    out: list[Violation] = []
    for n in needs:
        name = n.spec.name
        if viols[name]:
            out.extend(viols[name])
        elif not fits_in_one_sequence(mesh, [n], f):
            text = (not_enough_cnps(n.min_cnps, mesh.count(NPType.CNP1)) if n.engine != "FNP" else
                    f"Not enough hardware components of type {n.fnp_type.value} available.")
            out.append(Violation("layer_fits_mesh", name, text))
        else:   # the partition's only other cut: a max-pooling layer left at a sequence's end
            out.append(Violation("maxpool_not_last", name, MAXPOOL_LAST_MSG))
    return tuple(out)

