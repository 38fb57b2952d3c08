"""Reproduce the vendor mapper on a mesh: HW/SW split, sequences, NPs per layer, program bytes.

Rules were found by sweeping the vendor's public API (akida 2.19.3, ``model.map`` on
``akida.AKD1000()``, black box) one factor at a time; see
``/work/shared/reference/akd1000_mapping.md``.  Design rules are small named functions
(``PHASE1_RULES`` ... ``PHASE3_RULES``); each returns the vendor's reason text or ``None``.
``map_layers(..., hw_only=True)`` raises :class:`MappingError` with the vendor's text.

Allocation model (observed with the vendor's public API):
- Conv/Separable need ``s`` spatial tiles (input SRAM, :func:`cnp_spatial_split`) times ``g``
  filter groups; Minimal uses the fewest groups whose ``ceil(F/g)`` filters fit one CNP's weight
  memory (:func:`cnp_min_groups`, packing from :mod:`hw_model.program`).
- AllNps/HwPr: one filters-per-NP target ``f`` for the whole model, the largest of the HW
  sequences' smallest feasible ``f`` (``sum(s_i * max(g_i, ceil(F_i/f))) <= CNP1 slots - FCs``).
- Filters are dealt ``ceil(F/g)`` per NP, the last group takes the rest; CNPs take slots in
  :meth:`Mesh.allocation_order` order, FCs the first free FNP3 (FNP2 when heavy or none left).
- A run of HW layers needing more CNPs than the mesh has (Minimal counts) is cut into several
  HW sequences; a layer breaking a rule becomes a ``SW/...`` sequence.
- 1-input-channel convs: every NP's filter count / 8 (rounded up) must be even (F <= 16 exempt);
  AllNps spreading stops at the first target breaking this for such a layer, and such a layer
  that is invalid on its Minimal split is still mapped when spread to a valid split.
- Spatial tiles (:func:`cnp_spatial_split`): same halo rule on both axes, tile rows byte-aligned
  per channel and 32-bit aligned overall, tile extents rounded to the max-pool size (calibration:
  spatial sweeps of single conv/separable layers).
- Not modelled: the AllNps sequence partition of a few large models, some hw_only texts.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from . import program
from .layer_spec import LayerSpec
from .mesh import Mesh, NPType, akd1000

MODES = ("AllNps", "HwPr", "Minimal")


class MappingError(RuntimeError):
    """A layer cannot be mapped on hardware (raised by ``map_layers(hw_only=True)``)."""


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
class SequenceMapping:
    name: str
    backend: str                     # "Hardware" or "Software"
    layers: tuple[LayerMapping, ...]
    program_bytes: int | None        # None for software sequences

    @property
    def n_nps(self) -> int:
        return sum(L.n_nps for L in self.layers)


@dataclass(frozen=True)
class ModelMapping:
    mode: str
    mesh: str
    sequences: tuple[SequenceMapping, ...]
    violations: tuple[Violation, ...] = field(default=())

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


# ----------------------------------------------------------------------------------------------
# Capacities of one CNP
# ----------------------------------------------------------------------------------------------


def _fits_cnp(spec: LayerSpec, filters: int, mesh: Mesh) -> bool:
    if filters > _max_filters(spec, mesh):
        return False
    if spec.kind == "conv":
        if program.conv_units(spec, filters) > mesh.limits.conv_max_units_per_channel:
            return False
        return program.conv_weight_bytes(spec, filters) <= mesh.limits.cnp_weight_bytes
    if spec.kind == "separable":
        return program.sep_words(spec, filters) * program.SEP_WORD_BYTES <= mesh.limits.cnp_weight_bytes
    raise KeyError(spec.kind)


def cnp_filter_cap(spec: LayerSpec, mesh: Mesh) -> int:
    """Most filters of ``spec`` (up to its own count) one CNP can hold; 0 if not even one fits."""
    for f in range(min(spec.filters, _max_filters(spec, mesh)), 0, -1):
        if _fits_cnp(spec, f, mesh):
            return f
    return 0


def cnp_min_groups(spec: LayerSpec, mesh: Mesh) -> int:
    """Fewest filter groups such that ceil(F/groups) filters fit in one CNP (0: impossible)."""
    if cnp_filter_cap(spec, mesh) == 0:
        return 0
    g = math.ceil(spec.filters / _max_filters(spec, mesh))
    while g <= spec.filters:
        if _fits_cnp(spec, math.ceil(spec.filters / g), mesh):
            return g
        g += 1
    return 0


def _max_filters(spec: LayerSpec, mesh: Mesh) -> int:
    m = mesh.limits.cnp_max_filters
    if spec.kind == "conv" and spec.in_channels == 1:
        m -= m % 16   # 1-channel conv: filters/8 per NP must be even (observed cap 496)
    return m


def _tile_halo(n: int, halo: int) -> int:
    """Extra input pixels a tile holds along one axis cut into ``n`` tiles: none for one tile,
    (k-1)//2 with two tiles (one inner edge each), k-1 with three or more (middle tiles have two
    inner edges).  Same rule on both axes (calibration: row thresholds of conv layers swept over
    x = 16, 32, C = 128..512, k = 1..7, y = 20..140 step 2 put ny=2 at 2*R-(k-1) and ny>=3 at
    ny*(R-(k-1)); columns from the earlier spatial sweeps)."""
    return 0 if n == 1 else halo // 2 if n == 2 else halo


def _round_up(v: int, m: int) -> int:
    return -(-v // m) * m


# Input SRAM layout of a CNP tile (calibration: spatial sweeps of single conv/separable layers,
# /tmp/hw/data/sp{A,B,C,R,P,Q}.json, plus the training sweeps' layers):
# * a tile row of ``w`` pixels is stored in whole bytes per channel: w is rounded up to a multiple
#   of 8 // input_bits (even for 4-bit, 4 for 2-bit, 8 for 1-bit inputs; calibration: layers with
#   1-, 2- and 4-bit inputs);
# * a tile row (w * C * input_bits bits) takes whole 32-bit words (calibration: layers with odd C,
#   row rounding to 1, 2, 4, 8 and 16 bytes compared).
_SRAM_ROW_ALIGN_BYTES = 4


def cnp_spatial_split(spec: LayerSpec, mesh: Mesh) -> int:
    """Spatial tiles needed for the input of a conv/separable layer (input SRAM per NP).

    Model (calibration: spatial sweeps of single conv/separable layers, see the constants
    above): the input is cut into nx >= ceil(x / cnp_max_width) columns and ny rows of
    tiles of ceil(x/nx) x ceil(y/ny) pixels (with max pooling, rounded up to a multiple of the
    pool size when the axis is cut; calibration: two-layer probes with max pooling), each plus
    the halo of :func:`_tile_halo`; the tile width is then aligned as described above and one tile
    holds rows = min(cnp_max_height, input_bytes // row_bytes) rows.  For each nx the fewest ny
    whose tile height fits is taken, and the vendor uses the nx giving the fewest tiles.
    """
    x, y, c = spec.input_shape
    ib = spec.input_bits
    halo = spec.k - 1
    p = spec.pool_size[0] if spec.pool_type == "max" and spec.pool_size[0] > 0 else 1
    walign = max(1, 8 // ib)
    best = None
    nx0 = math.ceil(x / mesh.limits.cnp_max_width)
    for nx in range(nx0, x + 1):
        tw = math.ceil(x / nx)
        if nx > 1:
            tw = _round_up(tw, p)
        w = _round_up(tw + _tile_halo(nx, halo), walign)
        row_bytes = _round_up(math.ceil(w * c * ib / 8), _SRAM_ROW_ALIGN_BYTES)
        rows = min(mesh.limits.cnp_max_height, mesh.sram.input_bytes // row_bytes)
        ny = None
        for n in range(1, y + 1):
            th = math.ceil(y / n)
            if n > 1:
                th = _round_up(th, p)
            if th + _tile_halo(n, halo) <= rows:
                ny = n
                break
        if ny is None:
            continue
        if best is None or nx * ny < best:
            best = nx * ny
        if ny == 1:
            break
    return best if best is not None else 10**6


@dataclass(frozen=True)
class LayerNeed:
    """Hardware needs of one layer, independent of the mode."""

    spec: LayerSpec
    engine: str            # "CNP", "FNP", "HRC"
    spatial: int = 0       # CNP tiles
    cap: int = 0           # CNP filters per NP max
    min_groups: int = 0    # CNP filter groups in Minimal
    fnp_type: NPType | None = None

    @property
    def min_cnps(self) -> int:
        return self.spatial * self.min_groups if self.engine == "CNP" else 0


def layer_need(spec: LayerSpec, mesh: Mesh) -> LayerNeed:
    if spec.kind == "input_conv":
        return LayerNeed(spec, "HRC")
    if spec.kind == "fully_connected":
        if spec.weights_bits not in program.FC_BLOCK_BYTES:
            return LayerNeed(spec, "FNP", fnp_type=NPType.FNP3)  # rejected by fc_weight_bits
        heavy = program.fc_weight_bytes(spec) > mesh.limits.fnp3_max_weight_bytes
        return LayerNeed(spec, "FNP", fnp_type=NPType.FNP2 if heavy else NPType.FNP3)
    s = cnp_spatial_split(spec, mesh)
    try:
        cap = cnp_filter_cap(spec, mesh)
    except KeyError:
        cap = 0
    g = cnp_min_groups(spec, mesh) if cap else 0
    return LayerNeed(spec, "CNP", spatial=s, cap=cap, min_groups=g)


# ----------------------------------------------------------------------------------------------
# Design rules: each returns the vendor's reason text or None.  Order = order of the vendor's
# concatenated messages.
# ----------------------------------------------------------------------------------------------
Rule = Callable[[LayerNeed, Mesh], "str | None"]
_CNP_KINDS = ("conv", "separable")


def conv_stride_needs_3x3(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in _CNP_KINDS and max(sp.stride) > 1 and sp.k != 3:
        return f"Convolution stride {max(sp.stride)} is only supported for 3x3 kernels."
    return None


def cnp_weight_bits(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "conv" and sp.weights_bits not in (1, 2, 4):
        return "Standard CNP weights bitwidth must be 1, 2 or 4."
    if sp.kind == "separable" and sp.weights_bits not in (2, 4):
        return "Separable CNP weights bitwidth must be 2 or 4."
    return None


def padding_same_only(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind in _CNP_KINDS and n.spec.padding != "same":
        return "Only padding same is supported."
    return None


def gap_max_width(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in _CNP_KINDS and sp.pool_type == "average" and sp.input_shape[0] > mesh.limits.gap_max_width:
        return f"With average pooling, input height cannot exceed {mesh.limits.gap_max_width}."
    return None


def gap_min_rows(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in _CNP_KINDS and sp.pool_type == "average":
        rows = sp.conv_output_shape[1]
        if rows < 3:
            return ("When using Global Average Pooling, the output of the convolution must have at "
                    f"least 3 rows (currently {rows}).")
    return None


def maxpool_fits_output(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in _CNP_KINDS and sp.pool_type == "max":
        ox, oy, _ = sp.conv_output_shape
        if sp.pool_size[0] > ox or sp.pool_size[1] > oy:
            return "Pooling size cannot be greater than input dimensions."
    return None


def filter_fits_cnp(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind in _CNP_KINDS and cnp_weight_bits(n, mesh) is None and n.cap == 0:
        return "Filter size is too big to fit in a CNP: try decreasing the input channels or the bitwidth."
    return None


def one_channel_neuron_groups(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "conv" and sp.in_channels == 1 and n.min_groups:
        per_np = math.ceil(sp.filters / n.min_groups)
        if per_np > 8 and math.ceil(per_np / 8) % 2:
            # the vendor repeats the message once per spatial tile (calibration: hw_only texts of
            # the random multi-layer sweeps for layers split over 1, 2, 4 and 7 tiles)
            return " ".join(["With one input channel, the number of neurons per NP / 8 must be even."]
                            * max(1, n.spatial))
    return None


def stride_maxpool_single_np(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if (sp.kind in _CNP_KINDS and sp.pool_type == "max" and max(sp.stride) > 1 and n.min_groups
            and n.min_cnps > 1):
        return "Cannot have convolution stride > 1 and max pooling if the layer is mapped on multiple NPs."
    return None


def fc_weight_bits(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "fully_connected" and not 1 <= n.spec.weights_bits <= 4:
        return "Weight bits should be between 1 and 4 inclusive."
    return None


def fc_max_inputs(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "fully_connected":
        x, y, c = sp.input_shape
        if x * y * c > mesh.limits.fnp_max_inputs:
            return ("Input dimensions are too large to fit in a FNP. The maximum value is "
                    f"{mesh.limits.fnp_max_inputs}.")
    return None


# Max filters of InputConvolutional by (input channels, kernel): vendor doc table, observed messages.
HRC_MAX_FILTERS = {(1, 3): 512, (1, 5): 192, (1, 7): 96, (3, 3): 192, (3, 5): 64, (3, 7): 32}


def hrc_max_filters(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "input_conv":
        lim = HRC_MAX_FILTERS.get((min(sp.in_channels, 3) if sp.in_channels != 1 else 1, sp.k))
        if lim is not None and sp.filters > lim:
            return f"The parameter num_neurons should be set between 1 and {lim}."
    return None


def hrc_min_rows(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "input_conv" and n.spec.input_shape[1] < 5:
        return "Input second dimension size cannot be smaller than 5."
    return None


def hrc_no_average_pool(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "input_conv" and n.spec.pool_type == "average":
        return "The parameter pool_type cannot be Average."
    return None


def hrc_needs_activation(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "input_conv" and not n.spec.activation:
        return "The first convolutional layer of a model can only be mapped if its activations are enabled."
    return None


def hrc_maxpool_rows(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "input_conv" and sp.pool_type == "max" and sp.output_shape[1] < 2:
        return "With max pooling, output second dimension size must be at least 2."
    return None


def weights_not_all_zero(n: LayerNeed, mesh: Mesh) -> str | None:
    # Observed behaviour (reference 2.1); the vendor's hw_only text for it was not recorded,
    # so this message is ours.
    if n.spec.kind in ("conv", "separable", "input_conv") and n.spec.weights_all_zero:
        return "All weights are zero (such a layer is run in software)."
    return None


def gap_no_spatial_split(n: LayerNeed, mesh: Mesh) -> str | None:
    """GAP needs all input rows of the full width in one NP's input SRAM (observed: hw_only texts)."""
    sp = n.spec
    if sp.kind in _CNP_KINDS and sp.pool_type == "average":
        x, y, c = sp.input_shape
        w = x + x % 2
        rows = min(mesh.limits.cnp_max_height, (mesh.sram.input_bytes * 8) // (w * c * sp.input_bits))
        if y > rows:
            return "With average pooling, spatial split is impossible."
    return None


# The vendor reports all failing checks of the first phase that has any, joined with a space, in
# this order (observed on the sweeps' hw_only failures): parameters, then weight bits, then capacity,
# then the sequence rule for max pooling.
PHASE1_RULES: tuple[Rule, ...] = (
    hrc_max_filters, hrc_min_rows, hrc_no_average_pool, hrc_maxpool_rows, hrc_needs_activation,
    conv_stride_needs_3x3, padding_same_only, gap_max_width, gap_no_spatial_split,
    gap_min_rows, fc_weight_bits, fc_max_inputs,
)
PHASE2_RULES: tuple[Rule, ...] = (cnp_weight_bits,)
PHASE3_RULES: tuple[Rule, ...] = (
    maxpool_fits_output, filter_fits_cnp, one_channel_neuron_groups, stride_maxpool_single_np,
    weights_not_all_zero,
)
RULES: tuple[Rule, ...] = PHASE1_RULES + PHASE2_RULES + PHASE3_RULES
MAXPOOL_LAST_MSG = ("A convolutional or separable convolutional layer with max pooling cannot be the last "
                    "layer of a sequence.")


def check_layer(spec: LayerSpec, mesh: Mesh | None = None, next_spec: LayerSpec | None = None) -> list[Violation]:
    """Rule violations of one layer as the vendor reports them (``next_spec``: the following layer)."""
    mesh = mesh or akd1000()
    return _violations(layer_need(spec, mesh), mesh, next_spec)


def _one_channel_splittable(n: LayerNeed, mesh: Mesh) -> bool:
    """AllNps/HwPr: a 1-input-channel conv failing the per-NP parity on its Minimal split is still
    mapped when some split over more NPs satisfies it (observed: conv200 on one channel is
    software in Minimal, 8 NPs x 25 filters in AllNps/HwPr; source: random multi-layer sweeps)."""
    top = mesh.count(NPType.CNP1) // max(1, n.spatial)
    return any(_one_channel_split_ok(n.spec, g) and math.ceil(n.spec.filters / g) <= n.cap
               for g in range(max(1, n.min_groups), min(top, n.spec.filters) + 1))


def _violations(n: LayerNeed, mesh: Mesh, next_spec: LayerSpec | None = None,
                mode: str = "Minimal", revoked: frozenset = frozenset()) -> list[Violation]:
    if n.spec.kind == "input_data":
        return []
    for rules in (PHASE1_RULES, PHASE2_RULES, PHASE3_RULES):
        out = [Violation(r.__name__, n.spec.name, m) for r in rules if (m := r(n, mesh))]
        if (mode != "Minimal" and rules is PHASE3_RULES and n.min_groups and n.spec.name not in revoked
                and _one_channel_splittable(n, mesh)):
            out = [v for v in out if v.rule != "one_channel_neuron_groups"]
        if out:
            return out
    if (n.spec.kind in _CNP_KINDS and n.spec.pool_type == "max"
            and (next_spec is None or next_spec.kind not in _CNP_KINDS)):
        return [Violation("maxpool_not_last", n.spec.name, MAXPOOL_LAST_MSG)]
    return []


# ----------------------------------------------------------------------------------------------
# Sequences and allocation
# ----------------------------------------------------------------------------------------------
def _deal(filters: int, groups: int) -> list[int]:
    q = math.ceil(filters / groups)
    out = [q] * (groups - 1) + [filters - q * (groups - 1)]
    if out[-1] <= 0:  # cannot happen with groups = ceil(F/f); keep a balanced split otherwise
        base, extra = divmod(filters, groups)
        out = [base + (1 if i < extra else 0) for i in range(groups)]
    return out


def _seq_name(prefix: str, names: Sequence[str]) -> str:
    return f"{prefix}/{names[0]}" if len(names) == 1 else f"{prefix}/{names[0]}-{names[-1]}"


def _cnp_budget(mesh: Mesh, needs: Sequence[LayerNeed]) -> int:
    n_fc = sum(1 for n in needs if n.engine == "FNP")
    return mesh.count(NPType.CNP1) - n_fc


def _cnps_at(n: LayerNeed, f: int | None) -> int:
    """CNPs a layer takes at filters-per-NP target ``f`` (None: its minimum)."""
    if f is None or n.engine != "CNP":
        return n.min_cnps
    return n.spatial * max(n.min_groups, math.ceil(n.spec.filters / f))


def _fits_in_one_sequence(mesh: Mesh, needs: Sequence[LayerNeed], f: int | None = None) -> bool:
    cnps = sum(_cnps_at(n, f) for n in needs)
    fnp3 = sum(1 for n in needs if n.fnp_type == NPType.FNP3)
    fnp2 = sum(1 for n in needs if n.fnp_type == NPType.FNP2)
    n_f3, n_f2 = mesh.count(NPType.FNP3), mesh.count(NPType.FNP2)
    if fnp2 > n_f2 or fnp3 + fnp2 > n_f3 + n_f2:
        return False
    return cnps <= _cnp_budget(mesh, needs)


def _seq_min_f(needs: Sequence[LayerNeed], mesh: Mesh) -> int:
    """Smallest filters-per-NP f with which a HW sequence still fits the CNP budget (AllNps/HwPr)."""
    budget = _cnp_budget(mesh, needs)
    mins = [n.min_groups if n.engine == "CNP" else 0 for n in needs]
    fmax = max([n.spec.filters for n in needs if n.engine == "CNP"], default=1)
    best, seen_valid = fmax, [False] * len(needs)
    for f in range(fmax, 0, -1):
        gs = [max(m, math.ceil(n.spec.filters / f)) if n.engine == "CNP" else 0 for n, m in zip(needs, mins)]
        if sum(g * n.spatial for g, n in zip(gs, needs)) > budget:
            break
        ok = [_one_channel_split_ok(n.spec, g) for n, g in zip(needs, gs)]
        if any(seen and not v for seen, v in zip(seen_valid, ok)):
            break
        best = f
        seen_valid = [seen or v for seen, v in zip(seen_valid, ok)]
    return best


def _one_channel_split_ok(spec: LayerSpec, groups: int) -> bool:
    """A 1-input-channel conv split over several NPs needs every NP's filter count / 8 (rounded
    up) even; the vendor stops spreading the whole model at the first filters-per-NP target that
    breaks this for a layer whose split was valid at a larger target; a layer invalid from the
    start does not stop it (conv200 on one channel: 1..6 NPs invalid, 7 x 29 and 8 x 25 valid,
    9 x 23 invalid -> f = 25 for the model); a layer still invalid at the final target goes to
    software (see map_layers) (calibration: 1-channel convs in the random multi-layer sweeps,
    e.g. conv32 -> [11, 11, 10], conv64 -> 2 x 32, conv96 -> 3 x 32, conv256 -> 2 x 128,
    conv384 -> 6 x 64, conv512 -> 4 x 128)."""
    # ... a layer of at most 16 filters may be split freely (observed 16 -> [8, 8], [6, 6, 4],
    # 16 x 1; as a single NP F <= 16 is always accepted, see one_channel_neuron_groups)
    if spec.kind != "conv" or spec.in_channels != 1 or spec.filters <= 16:
        return True
    return all(math.ceil(q / 8) % 2 == 0 for q in _deal(spec.filters, groups))


def _groups(needs: Sequence[LayerNeed], mode: str, f: int | None) -> list[int]:
    """Filter groups per CNP layer (0 for non-CNP layers); ``f``: filters per NP target (None: Minimal)."""
    mins = [n.min_groups if n.engine == "CNP" else 0 for n in needs]
    if mode == "Minimal" or f is None:
        return mins
    return [max(m, math.ceil(n.spec.filters / f)) if n.engine == "CNP" else 0 for n, m in zip(needs, mins)]


def _allocate(needs: Sequence[LayerNeed], mode: str, mesh: Mesh, f: int | None) -> tuple[list[LayerMapping], int]:
    groups = _groups(needs, mode, f)
    cnp_free = mesh.allocation_order(NPType.CNP1)
    used: set[tuple[int, int, int]] = set()
    result: dict[str, LayerMapping] = {}
    prog = program.SEQ_HEADER
    for n, g in zip(needs, groups):
        if n.engine != "CNP":
            continue
        nps = []
        blocks: list[int] = []
        for _tile in range(n.spatial):
            for f in _deal(n.spec.filters, g):
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
            if len(needs) > 1:
                prog += program.HRC_CHAIN_EXTRA
                if not needs[-1].spec.activation:
                    prog -= program.HRC_RAW_OUTPUT_SAVING
    return [result[n.spec.name] for n in needs], prog


# hw_only walk stops at these (calibration: hw_only texts; filter too big from the single-layer
# sweeps, 1-channel parity and pool size > input from the random multi-layer sweeps in all modes)
_CAPACITY_RULES = ("filter_fits_cnp", "one_channel_neuron_groups", "maxpool_fits_output")


def _available(m: int) -> str:
    """Vendor wording: "1 is available" (observed in the sweeps), "M are available" else."""
    return "1 is available" if m == 1 else f"{m} are available"


def _maxpool_run_before(needs: Sequence[LayerNeed], viols: dict[str, list[Violation]], i: int,
                        bad: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Every max-pool layer of the run just before failing layer ``i``, first one first (golden n001:
    l2, l3 with max pooling before a failing l4 -> both reported, in order)."""
    j, run = i - 1, []
    while (j >= 0 and needs[j].spec.kind in _CNP_KINDS and needs[j].spec.pool_type == "max"
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
    free = mesh.count(NPType.CNP1)
    for i, n in enumerate(needs):
        vs = viols[n.spec.name]
        if vs:
            bad.extend(_maxpool_run_before(needs, viols, i, bad))
            bad.append((n.spec.name, [v.message for v in vs]))
            if any(v.rule in _CAPACITY_RULES for v in vs):
                break
            continue
        run = _maxpool_run_before(needs, viols, i, bad)
        if n.engine == "FNP":
            free -= 1   # an FC takes one of the slots counted (calibration: the vendor's "M are
            continue    # available" counts FCs before, not after, the layer; hw_only texts of
                        # the random multi-layer sweeps)
        if n.min_cnps > free:
            if not bad:
                # max-pool layers just before are reported first (calibration: hw_only texts of
                # the random multi-layer sweeps, all three modes)
                bad.extend(run)
                bad.append((n.spec.name, [f"Not enough hardware components of type CNP1 available. "
                                          f"{n.min_cnps} are needed but {_available(free)}."]))
            break
        free -= n.min_cnps
    if len(bad) == 1:
        name, msgs = bad[0]
        raise MappingError(f"Cannot map layer '{name}'. " + " ".join(msgs))
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
        # 1-input-channel convs that only map when spread (see _one_channel_splittable) go back to
        # software when the model's filters-per-NP target leaves their split invalid (observed:
        # conv24 on one channel next to a conv48 on one channel that stops spreading at 48, or in
        # a model whose NP budget keeps the target above 12; random multi-layer sweeps)
        for _ in range(len(specs)):
            mapping, f_model = _map(specs, mesh, mode, False, revoked)
            bad = {n.spec.name for s in mapping.sequences if s.backend == "Hardware" for L in s.layers
                   for n in [layer_need(_spec_named(specs, L.name), mesh)]
                   if f_model and one_channel_neuron_groups(n, mesh)
                   and not _one_channel_split_ok(n.spec, max(n.min_groups, math.ceil(n.spec.filters / f_model)))}
            if not bad:
                break
            revoked |= bad
    return _map(specs, mesh, mode, hw_only, revoked)[0]


def _spec_named(specs: Sequence[LayerSpec], name: str) -> LayerSpec:
    return next(s for s in specs if s.name == name)


def _partition(needs: Sequence[LayerNeed], hw: list[bool], viols: dict[str, list[Violation]], mesh: Mesh,
               hw_only: bool, all_viols: list[Violation], f: int | None) -> list[tuple[bool, list[LayerNeed]]]:
    """Greedy sequence partition; layers cost their CNPs at filters-per-NP target ``f`` (None: minimum)."""
    def fail(name: str, msgs: list[str]):
        raise MappingError(f"Cannot map layer '{name}'. " + " ".join(msgs))

    # group consecutive HW-capable layers; cut on capacity; max-pool may not end a sequence
    chunks: list[tuple[bool, list[LayerNeed]]] = []
    i = 0
    while i < len(needs):
        if not hw[i]:
            if hw_only:
                fail(needs[i].spec.name, [v.message for v in viols[needs[i].spec.name]])
            chunks.append((False, [needs[i]]))
            i += 1
            continue
        cur: list[LayerNeed] = []
        while i < len(needs) and hw[i]:
            if cur and not _fits_in_one_sequence(mesh, cur + [needs[i]], f):
                break
            if not cur and not _fits_in_one_sequence(mesh, [needs[i]], f):
                if hw_only:
                    n = needs[i]
                    fail(n.spec.name, [f"Not enough hardware components of type CNP1 available. "
                                       f"{n.min_cnps} are needed but {_available(mesh.count(NPType.CNP1))}."])
                chunks.append((False, [needs[i]]))
                i += 1
                break
            cur.append(needs[i])
            i += 1
        if cur:
            # a conv/sep with max pooling cannot end a sequence
            tail: list[LayerNeed] = []
            if i < len(needs) and hw[i]:
                # cut on capacity: max-pool layers at the end start the next sequence instead of
                # going to software; if nothing else is left, the first one goes to software
                # (calibration: sequence partitions of the random multi-layer sweeps, vendor API)
                start = i - len(cur)
                while cur and cur[-1].spec.kind in _CNP_KINDS and cur[-1].spec.pool_type == "max":
                    cur.pop()
                    i -= 1
                if not cur:
                    cur, i = [needs[start]], start + 1
            while cur and cur[-1].spec.kind in _CNP_KINDS and cur[-1].spec.pool_type == "max":
                if hw_only:
                    fail(cur[-1].spec.name, [MAXPOOL_LAST_MSG])
                all_viols.append(Violation("maxpool_not_last", cur[-1].spec.name, MAXPOOL_LAST_MSG))
                tail.insert(0, cur.pop())
            if cur:
                chunks.append((True, cur))
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


def _map(specs: Sequence[LayerSpec], mesh: Mesh, mode: str, hw_only: bool,
         revoked: frozenset) -> tuple[ModelMapping, int | None]:
    needs = [layer_need(s, mesh) for s in specs]
    viols = {n.spec.name: _violations(n, mesh, specs[i + 1] if i + 1 < len(specs) else None, mode, revoked)
             for i, n in enumerate(needs)}
    all_viols: list[Violation] = [v for n in needs for v in viols[n.spec.name]]
    hw = [not viols[n.spec.name] for n in needs]

    def fail(name: str, msgs: list[str]):
        raise MappingError(f"Cannot map layer '{name}'. " + " ".join(msgs))

    if hw_only:
        _check_hw_only(needs, viols, mesh)

    merged = _partition(needs, hw, viols, mesh, hw_only, all_viols, None)
    # AllNps/HwPr: the sequence partition is the greedy one at the smallest filters-per-NP target f
    # that still needs no more HW sequences than the Minimal (f = None) partition; each layer then
    # costs spatial * max(min_groups, ceil(F / f)) CNPs, and the same layers must stay on hardware
    # (calibration: AllNps/HwPr sequence partitions of the random multi-layer sweeps, vendor API;
    # e.g. [l0-l1][l2-fc0] at f = 29 where the Minimal partition is [l0-l2][l3-fc0])
    if mode != "Minimal":
        def hw_shape(part):
            return (sum(1 for is_hw, _ in part if is_hw),
                    {n.spec.name for is_hw, ns in part if is_hw for n in ns})
        n_hw = hw_shape(merged)
        fs = [_seq_min_f(ns, mesh) for is_hw, ns in merged if is_hw and any(n.engine == "CNP" for n in ns)]
        f = max(fs) if fs else None
        while f is not None and f > 1:
            trial = _partition(needs, hw, viols, mesh, False, [], f - 1)
            if hw_shape(trial) != n_hw:
                break
            f -= 1
            merged = trial
    # AllNps/HwPr: one filters-per-NP target for the whole model, set by its most constrained
    # HW sequence (observed: a sequence after a software layer is spread no further than that).
    f_model = None
    if mode != "Minimal":
        fs = [_seq_min_f(ns, mesh) for is_hw, ns in merged if is_hw and any(n.engine == "CNP" for n in ns)]
        f_model = max(fs) if fs else None
    seqs = []
    for is_hw, ns in merged:
        names = [n.spec.name for n in ns]
        if is_hw:
            layers, prog = _allocate(ns, mode, mesh, f_model)
            seqs.append(SequenceMapping(_seq_name("HW", names), "Hardware", tuple(layers), prog))
        else:
            layers = [LayerMapping(n.spec.name, n.spec.kind) for n in ns]
            seqs.append(SequenceMapping(_seq_name("SW", names), "Software", tuple(layers), None))
    return ModelMapping(mode, mesh.name, tuple(seqs), tuple(all_viols)), f_model
