"""What fits one NP: filters per CNP (weight memory), spatial tiles (input memory), FNP type.

Capacities of the AKD1000's NPs found by sweeping the vendor's public API one factor at a
time (see ``../shared/reference/akd1000_mapping.md`` section 2.2); the packing units come
from :mod:`hw_model.program`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import program
from .layer_spec import LayerSpec
from .mesh import Mesh, NPType



def fits_cnp(spec: LayerSpec, filters: int, mesh: Mesh) -> bool:
    if filters > max_filters(spec, mesh):
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
    for f in range(min(spec.filters, max_filters(spec, mesh)), 0, -1):
        if fits_cnp(spec, f, mesh):
            return f
    return 0


def cnp_min_groups(spec: LayerSpec, mesh: Mesh) -> int:
    """Fewest filter groups such that ceil(F/groups) filters fit in one CNP (0: impossible)."""
    if cnp_filter_cap(spec, mesh) == 0:
        return 0
    g = math.ceil(spec.filters / max_filters(spec, mesh))
    while g <= spec.filters:
        if fits_cnp(spec, math.ceil(spec.filters / g), mesh):
            return g
        g += 1
    return 0


def max_filters(spec: LayerSpec, mesh: Mesh) -> int:
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
# rows swept over x, y, C, k, input bits and max pooling, plus the layers of the random sweeps):
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

