"""hw_model against golden results observed from the vendor mapper (akida 2.19.3, AKD1000 virtual device).

The golden file ``data/akd1000_golden.json`` holds, for ~100 random single-layer and multi-layer
models, what the vendor's public API returned: sequence names, NPs per layer (count, types, filters
per NP), program length and the hw_only error text.  Goldens are used here because the oracle is an
optional dependency; ``tests/oracle/test_oracle_mapping.py`` re-checks against the live oracle.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from hw_model import (LayerSpec, MappingError, NPType, akd1000, make_mesh, make_spec, map_layers,
                      NPSlot, SramSize)

GOLDEN = json.loads((Path(__file__).parent / "data" / "akd1000_golden.json").read_text())
CASES = GOLDEN["cases"]
MODES = ("AllNps", "HwPr", "Minimal")


def specs_of(desc: dict) -> list[LayerSpec]:
    """Turn a golden model description into LayerSpecs (shapes chained, input bits = previous act bits)."""
    specs, shape, bits = [], tuple(desc["input"]), desc["input_bits"]
    for L in desc["layers"]:
        kind = L["kind"]
        sp = make_spec(kind, L["name"], shape, L["filters"], kernel=L.get("k", 1), stride=L.get("s", 1),
                       padding=L.get("padding", "same"), pool_type=L.get("pool", "none"),
                       pool_size=L.get("ps", -1), pool_stride=L.get("pst", -1), weights_bits=L.get("wb", 4),
                       input_bits=8 if kind == "input_conv" else bits, act_bits=L.get("ab", 4),
                       activation=L.get("act", True))
        specs.append(sp)
        shape, bits = sp.output_shape, L.get("ab", 4)
    return specs


def summary(mapping) -> list:
    out = []
    for s in mapping.sequences:
        layers = {L.name: [len(L.nps), dict(Counter(n.type.value for n in L.nps)),
                           dict(Counter(str(n.filters) for n in L.nps))] for L in s.layers}
        out.append([s.name, s.program_bytes, layers])
    return out


def _ids():
    return [c["id"] for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=_ids())
@pytest.mark.parametrize("mode", MODES)
def test_golden_mapping(case, mode):
    obs = case["observed"][mode]
    if case["id"] in GOLDEN["known_misses"].get(mode, []):
        pytest.xfail("known miss of the model (see golden file 'known_misses')")
    got = summary(map_layers(specs_of(case["desc"]), mode=mode))
    assert [s[0] for s in got] == [s[0] for s in obs], "sequence names"
    for (gname, gprog, glayers), (oname, oprog, olayers) in zip(got, obs):
        for name, (n, types, filters) in olayers.items():
            assert glayers[name][0] == n, f"{name}: NP count"
            assert glayers[name][1] == types, f"{name}: NP types"
            assert glayers[name][2] == filters, f"{name}: filters per NP"
        if oprog is None:
            assert gprog is None
        else:
            assert gprog == pytest.approx(oprog, rel=0.01), f"{oname}: program bytes"


@pytest.mark.parametrize("case", [c for c in CASES if c.get("hw_only_error")], ids=lambda c: c["id"])
def test_golden_hw_only_message(case):
    if case["id"] in GOLDEN["known_misses"].get("hw_only", []):
        pytest.xfail("known miss of the model")
    with pytest.raises(MappingError) as e:
        map_layers(specs_of(case["desc"]), hw_only=True)
    assert str(e.value) == case["hw_only_error"]


def test_golden_exact_rate():
    """Program bytes are exact (not only within 1 %) on most golden cases."""
    exact = total = 0
    for case in CASES:
        got = summary(map_layers(specs_of(case["desc"]), mode="AllNps"))
        obs = case["observed"]["AllNps"]
        total += 1
        exact += [s[1] for s in got] == [s[1] for s in obs]
    assert exact / total >= 0.85


def test_akd1000_mesh_facts():
    m = akd1000()
    assert len(m.slots) == 78 and len(m.nodes) == 20
    assert m.count(NPType.CNP1) == 78 and m.count(NPType.CNP2) == 54
    assert m.count(NPType.FNP3) == 18 and m.count(NPType.FNP2) == 4
    assert m.dma_event == (3, 1, 0) and m.dma_conf == (3, 1, 1) and m.hrc == (0, 0, 0)
    assert (m.sram.input_bytes, m.sram.weight_bytes) == (43008, 44800)
    order = m.allocation_order(NPType.CNP1)
    assert [s.ident for s in order[:3]] == [(3, 1, 2), (3, 1, 3), (1, 3, 1)]
    assert order[-1].types == (NPType.CNP1, NPType.FNP2)


def test_single_conv_minimal_and_allnps():
    sp = make_spec("conv", "c", (32, 32, 64), 64, kernel=3, weights_bits=4, input_bits=4)
    mi = map_layers([sp], mode="Minimal")
    assert mi.sequence_names == ["HW/c"] and mi.n_nps == 1 and mi.program_bytes == 25776
    al = map_layers([sp], mode="AllNps")
    assert al.n_nps == 64 and al.program_bytes == 539648


def test_hw_only_raises_vendor_text():
    sp = make_spec("conv", "c", (8, 8, 16), 8, kernel=3, padding="valid")
    with pytest.raises(MappingError, match=r"^Cannot map layer 'c'\. Only padding same is supported\.$"):
        map_layers([sp], hw_only=True)
    m = map_layers([sp])
    assert m.sequence_names == ["SW/c"] and m.sequences[0].program_bytes is None


def test_what_if_mesh_with_fewer_nps_splits_sequences():
    slots = [NPSlot(1, r, i, (NPType.CNP1, NPType.FNP3) if i == 0 else (NPType.CNP1,))
             for r in (1, 2) for i in range(4)]
    small = make_mesh("tiny", slots, sram=SramSize(43008, 44800))
    specs = [make_spec("conv", f"c{i}", (32, 32, 64), 64, kernel=3) for i in range(12)]
    m = map_layers(specs, small, mode="Minimal")
    assert m.sequence_names == ["HW/c0-c7", "HW/c8-c11"]
    assert m.n_nps == 12
    big = [make_spec("conv", "big", (32, 32, 256), 256, kernel=3)]   # needs 16 CNPs
    assert map_layers(big, small, mode="Minimal").sequence_names == ["SW/big"]
    with pytest.raises(MappingError, match="Not enough hardware components of type CNP1 available"):
        map_layers(big, small, hw_only=True)


def _chain(input_shape, input_bits, layers):
    """Specs for a chain given as (kind, name, filters, kernel, stride, weights_bits, act_bits, extra)."""
    return specs_of({"input": list(input_shape), "input_bits": input_bits,
                     "layers": [dict(kind=k, name=n, filters=f, k=ks, s=st, wb=wb, ab=ab, **extra)
                                for k, n, f, ks, st, wb, ab, extra in layers]})


def _filters(mapping):
    return {L.name: sorted(L.filters_per_np) for s in mapping.sequences for L in s.layers}


def test_one_channel_conv_stops_allnps_spreading():
    # vendor (akida 2.19.3, AllNps): conv96 on one channel -> 3 x 32 (4 x 24 would break the
    # parity rule), and the whole model stops at 32 filters per NP
    specs = _chain((8, 8, 1), 2, [("conv", "l0", 96, 5, 1, 4, 1, {}), ("conv", "l1", 96, 1, 1, 2, 1, {}),
                                  ("separable", "l2", 384, 3, 2, 4, 2, {}),
                                  ("conv", "l3", 200, 3, 1, 1, 4, {"pool": "average"})])
    m = map_layers(specs, mode="AllNps")
    assert _filters(m) == {"l0": [32] * 3, "l1": [32] * 3, "l2": [32] * 12, "l3": [26] + [29] * 6}
    assert m.program_bytes == 241400
    assert map_layers(specs, mode="Minimal").program_bytes == 188672


def test_one_channel_conv_mapped_when_spread():
    # vendor: conv200 on one channel is software in Minimal (25 groups of 8: odd) but 2 tiles x
    # 8 NPs x 25 filters in AllNps (7 x 29 and 8 x 25 valid, 9 x 23 not)
    specs = _chain((40, 8, 1), 2, [("conv", "l0", 200, 7, 1, 4, 4, {}), ("conv", "l1", 256, 3, 2, 4, 4, {}),
                                   ("separable", "l2", 48, 3, 2, 4, 1, {}), ("conv", "l3", 16, 3, 1, 4, 2, {})])
    mi = map_layers(specs, mode="Minimal")
    assert mi.sequence_names == ["SW/l0", "HW/l1-l3"] and mi.sequences[1].program_bytes == 742008
    al = map_layers(specs, mode="AllNps")
    assert al.sequence_names == ["HW/l0-l3"] and al.program_bytes == 1133896
    assert _filters(al) == {"l0": [25] * 16, "l1": [16, 16] + [24] * 20, "l2": [24, 24], "l3": [16]}


# Spatial tiles of single 8-filter layers (Minimal, 1 filter group) observed on the vendor mapper
# (akida 2.19.3, sweeps /tmp/hw/data/sp{A,B,C,P}.json and the seed 700-707 sweeps): row halo
# thresholds (2 tiles up to 2R-(k-1) rows, 3+ tiles ny*(R-(k-1))), 1-bit rows byte-aligned,
# odd-C rows 32-bit aligned, max-pooled tiles rounded to the pool size.
SPATIAL_CASES = [
    # (x, y, C, k, input_bits, kind, pool, tiles)
    (16, 82, 128, 3, 4, "conv", "none", 2),
    (16, 84, 128, 3, 4, "conv", "none", 3),
    (16, 120, 128, 3, 4, "conv", "none", 3),
    (16, 122, 128, 3, 4, "conv", "none", 4),
    (128, 64, 64, 7, 4, "conv", "none", 8),
    (56, 64, 256, 3, 4, "conv", "none", 14),
    (100, 100, 43, 3, 4, "conv", "none", 7),
    (100, 100, 39, 3, 4, "conv", "none", 6),
    (25, 32, 384, 3, 1, "conv", "none", 2),
    (56, 56, 200, 3, 1, "conv", "none", 3),
    (90, 110, 275, 7, 1, "separable", "none", 15),
    (85, 90, 256, 7, 4, "separable", "max", 55),
    (258, 50, 128, 7, 4, "conv", "max", 34),
]


@pytest.mark.parametrize("x,y,c,k,ib,kind,pool,tiles", SPATIAL_CASES)
def test_spatial_split_matches_vendor(x, y, c, k, ib, kind, pool, tiles):
    from hw_model.mapping import cnp_spatial_split
    ps = 2 if pool == "max" else -1
    spec = make_spec(kind, "c", (x, y, c), 8, kernel=k, pool_type=pool, pool_size=ps, pool_stride=ps,
                     weights_bits=2, input_bits=ib)
    assert cnp_spatial_split(spec, akd1000()) == tiles


# Vendor observations (akida 2.19.3, Minimal, len(seq.program)) of single layers whose NP items
# straddle 256 KiB chunk boundaries (sweeps /tmp/hw/data3/convsweep*.py, sepsweep.py): the chunk
# items are [header, filter records, weights] (conv) and [header, records, dw, pw] (separable).
@pytest.mark.parametrize("kind, shape, ib, filters, k, wb, program", [
    ("conv", (48, 128, 200), 4, 384, 3, 1, 3147632),
    ("conv", (160, 128, 200), 1, 512, 3, 1, 3357448),
    ("conv", (128, 32, 512), 4, 512, 1, 1, 2680600),
    ("separable", (96, 64, 384), 4, 256, 3, 2, 1504904),
    ("separable", (48, 128, 384), 4, 256, 7, 2, 3533264),
])
def test_program_chunk_items_match_vendor(kind, shape, ib, filters, k, wb, program):
    spec = make_spec(kind, "L0", shape, filters, kernel=k, weights_bits=wb, input_bits=ib, act_bits=4)
    m = map_layers([spec], mode="Minimal")
    assert [s.program_bytes for s in m.sequences] == [program]
