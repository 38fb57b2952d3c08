"""hw_model's mapper: its documented rules and invariants (no vendor data here).

The oracle suite (tests/oracle/test_oracle_mapping.py, test_oracle_model_map.py) compares the
mapper with the vendor's live; these tests check what the modules document: each design rule
fires on its condition, NPs are dealt as described, sequences are cut where described, and
program bytes follow the program model's formulas.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hw_model import (MappingError, NPSlot, NPType, SramSize, akd1000, check_layer, make_mesh, make_spec,
                      map_layers)
from hw_model import program
from hw_model.allocation import deal, one_channel_split_ok
from hw_model.capacity import cnp_filter_cap, cnp_min_groups, cnp_spatial_split, layer_need
from hw_model.rules import HRC_MAX_FILTERS, MAXPOOL_LAST_MSG, ZERO_WEIGHTS_MSG

MODES = ("AllNps", "HwPr", "Minimal")


def conv(name, shape, filters, **kw):
    kw.setdefault("kernel", 3)
    return make_spec("conv", name, shape, filters, **kw)


def chain(*layers):
    """Specs chained: each layer's input is the previous output (layers: (kind, name, filters, kw))."""
    specs, shape = [], None
    for kind, name, filters, kw in layers:
        shape = kw.pop("input_shape", shape)
        sp = make_spec(kind, name, shape, filters, **kw)
        specs.append(sp)
        shape = sp.output_shape
    return specs


# ----------------------------------------------------------------------------- the mesh

def test_akd1000_mesh_is_the_published_80_slots():
    """20 nodes x 4 slots = the published 80 NPUs, two of them the DMAs: 78 NPs, all CNP1-capable."""
    m = akd1000()
    assert len(m.nodes) == 20 and len(m.slots) == 20 * 4 - 2
    assert m.count(NPType.CNP1) == len(m.slots)
    assert m.dma_event not in [s.ident for s in m.slots] and m.dma_conf not in [s.ident for s in m.slots]
    order = m.allocation_order(NPType.CNP1)
    assert order[0].types == (NPType.CNP1,) and order[-1].can_be(NPType.FNP2)
    assert len({s.ident for s in order}) == len(order)


# ----------------------------------------------------------------------------- design rules

@pytest.mark.parametrize("spec, rule", [
    (conv("c", (8, 8, 16), 8, padding="valid"), "padding_same_only"),
    (conv("c", (8, 8, 16), 8, weights_bits=8), "cnp_weight_bits"),
    (make_spec("separable", "s", (8, 8, 16), 8, kernel=3, weights_bits=1), "cnp_weight_bits"),
    (conv("c", (8, 8, 16), 8, kernel=5, stride=2), "conv_stride_needs_3x3"),
    (conv("c", (48, 8, 16), 8, pool_type="average"), "gap_max_width"),
    (make_spec("fully_connected", "f", (1, 1, 57335), 4), "fc_max_inputs"),
    (make_spec("fully_connected", "f", (1, 1, 64), 4, weights_bits=8), "fc_weight_bits"),
    (make_spec("input_conv", "i", (32, 32, 3), 193, kernel=3, input_bits=8), "hrc_max_filters"),
    (make_spec("input_conv", "i", (32, 4, 3), 8, kernel=3, input_bits=8), "hrc_min_rows"),
    (make_spec("input_conv", "i", (32, 32, 3), 8, kernel=3, input_bits=8, activation=False), "hrc_needs_activation"),
    (conv("c", (16, 16, 1024), 8), "filter_fits_cnp"),
    (make_spec("input_conv", "i", (32, 32, 1), 8, kernel=1, input_bits=8), "hrc_kernel_size"),
    (make_spec("input_conv", "i", (32, 32, 3), 8, kernel=9, input_bits=8), "hrc_kernel_size"),
    (make_spec("input_conv", "i", (32, 32, 2), 8, kernel=3, input_bits=8), "hrc_input_channels"),
    (conv("c", (8, 8, 16), 8, kernel=9), "cnp_kernel_size"),
    (make_spec("separable", "s", (8, 8, 16), 8, kernel=1), "cnp_kernel_size"),
    (make_spec("input_conv", "i", (32, 32, 1), 8, kernel=(3, 5), input_bits=8), "hrc_symmetric_kernel"),
    (make_spec("input_conv", "i", (32, 32, 1), 8, kernel=3, stride=(1, 4), input_bits=8), "hrc_strides"),
    (make_spec("input_conv", "i", (32, 32, 1), 8, kernel=3, pool_type="max", pool_size=(2, 3), input_bits=8),
     "hrc_max_pool_size"),
    (conv("c", (8, 8, 16), 8, kernel=(3, 5)), "cnp_square_kernel"),
    (conv("c", (8, 8, 16), 8, stride=(1, 2)), "cnp_equal_strides"),
    (conv("c", (9, 9, 16), 8, stride=3), "cnp_stride_values"),
    (conv("c", (16, 16, 16), 8, pool_type="max", pool_size=4), "cnp_max_pool_size"),
    (conv("c", (16, 16, 16), 8, pool_type="max", pool_size=3), "cnp_max_pool_size"),
    (conv("c", (16, 16, 16), 8, pool_type="max", pool_size=(2, 1)), "cnp_square_max_pool"),
    (conv("c", (16, 16, 16), 8, pool_type="max", pool_size=2, pool_stride=(1, 2)), "cnp_equal_pool_strides"),
    (make_spec("input_conv", "i", (32, 32, 1), 8, kernel=3, input_bits=8, act_bits=3), "hrc_act_bits"),
    (make_spec("input_conv", "i", (32, 32, 1), 2, kernel=3, input_bits=8, act_steps=(1.0, 2.0 ** 21)),
     "hrc_act_step_range"),
    (make_spec("fully_connected", "f", (1, 1, 64), 4, input_bits=3), "fc_input_bits"),
])
def test_each_rule_fires_on_its_condition(spec, rule):
    assert rule in [v.rule for v in check_layer(spec)]
    m = map_layers([spec])
    assert m.sequences[0].backend == "Software"
    with pytest.raises(MappingError, match=rf"^Cannot map layer '{spec.name}'\. "):
        map_layers([spec], hw_only=True)


def test_fc_input_limit_is_the_documented_57334():
    assert not check_layer(make_spec("fully_connected", "f", (1, 1, 57334), 4))
    assert check_layer(make_spec("fully_connected", "f", (1, 1, 57335), 4))


@pytest.mark.parametrize("key", sorted(HRC_MAX_FILTERS))
def test_hrc_filter_limits_follow_the_documented_table(key):
    c, k = key
    lim = HRC_MAX_FILTERS[key]
    ok = make_spec("input_conv", "i", (32, 32, c), lim, kernel=k, input_bits=8)
    bad = make_spec("input_conv", "i", (32, 32, c), lim + 1, kernel=k, input_bits=8)
    assert "hrc_max_filters" not in [v.rule for v in check_layer(ok)]
    assert [v.message for v in check_layer(bad) if v.rule == "hrc_max_filters"] == [
        f"The parameter num_neurons should be set between 1 and {lim}."]


@pytest.mark.parametrize("kind", ["conv", "separable", "input_conv", "fully_connected"])
def test_all_zero_weights_send_separable_and_input_conv_to_software(kind):
    shape = (1, 1, 64) if kind == "fully_connected" else (16, 16, 3 if kind == "input_conv" else 8)
    spec = make_spec(kind, "L", shape, 8, kernel=1 if kind == "fully_connected" else 3,
                     input_bits=8 if kind == "input_conv" else 4, weights_all_zero=True)
    backends = [s.backend for s in map_layers([spec]).sequences]
    if kind in ZERO_WEIGHTS_MSG:
        assert backends == ["Software"]
        with pytest.raises(MappingError, match=ZERO_WEIGHTS_MSG[kind]):
            map_layers([spec], hw_only=True)
    else:
        assert backends == ["Hardware"]


def test_max_pooling_never_ends_a_hardware_sequence():
    specs = chain(("conv", "a", 8, dict(input_shape=(16, 16, 8), kernel=3)),
                  ("conv", "b", 8, dict(kernel=3, pool_type="max", pool_size=2, pool_stride=2)))
    m = map_layers(specs)
    assert m.sequence_names == ["HW/a", "SW/b"]
    with pytest.raises(MappingError, match=MAXPOOL_LAST_MSG):
        map_layers(specs, hw_only=True)
    specs.append(make_spec("conv", "c", specs[-1].output_shape, 8, kernel=3))
    assert map_layers(specs).sequence_names == ["HW/a-c"]


# ----------------------------------------------------------------------------- capacities and dealing

@given(filters=st.integers(1, 600), groups=st.integers(1, 80))
@settings(max_examples=60, deadline=None)
def test_deal_gives_every_filter_once(filters, groups):
    groups = min(groups, filters)
    out = deal(filters, groups)
    assert len(out) == groups and sum(out) == filters and min(out) >= 1
    assert max(out) == math.ceil(filters / groups) or max(out) - min(out) <= 1


@given(k=st.sampled_from([1, 3, 5, 7]), c=st.sampled_from([1, 8, 64, 128, 256]),
       bits=st.sampled_from([1, 2, 4]), f=st.sampled_from([1, 8, 64, 200, 504]))
@settings(max_examples=40, deadline=None)
def test_minimal_groups_are_the_fewest_that_fit_one_cnp(k, c, bits, f):
    spec = conv("c", (16, 16, c), f, kernel=k, weights_bits=bits)
    mesh = akd1000()
    g = cnp_min_groups(spec, mesh)
    cap = cnp_filter_cap(spec, mesh)
    if cap == 0:
        assert g == 0
        return
    assert 1 <= g <= f and math.ceil(f / g) <= cap
    if g > 1:
        assert math.ceil(f / (g - 1)) > cap or math.ceil(f / (g - 1)) > mesh.limits.cnp_max_filters


def test_spatial_split_grows_with_the_input_and_follows_the_width_limit():
    mesh = akd1000()
    tiles = [cnp_spatial_split(conv("c", (x, 16, 8), 8), mesh) for x in (16, 32, 33, 64, 128)]
    assert tiles == sorted(tiles) and tiles[0] == tiles[1] == 1 and tiles[2] >= 2
    assert all(t >= math.ceil(x / mesh.limits.cnp_max_width) for t, x in zip(tiles, (16, 32, 33, 64, 128)))
    rows = [cnp_spatial_split(conv("c", (16, y, 128), 8), mesh) for y in (20, 80, 160, 320)]
    assert rows == sorted(rows) and rows[-1] > rows[0]


def test_one_channel_split_rule():
    """Every NP's filter count / 8, rounded up, must be even; 16 filters or fewer are exempt."""
    spec = conv("c", (16, 16, 1), 96)
    assert one_channel_split_ok(spec, 3)        # 3 x 32: 32 / 8 = 4
    assert not one_channel_split_ok(spec, 4)    # 4 x 24: 24 / 8 = 3
    assert one_channel_split_ok(conv("c", (16, 16, 1), 16), 3)
    assert one_channel_split_ok(conv("c", (16, 16, 8), 96), 4)


# ----------------------------------------------------------------------------- invariants of a mapping

LAYER = st.fixed_dictionaries({
    "kind": st.sampled_from(["conv", "separable"]), "filters": st.sampled_from([1, 8, 32, 64, 128, 256]),
    "kernel": st.sampled_from([3, 5]), "bits": st.sampled_from([2, 4])})


@given(layers=st.lists(LAYER, min_size=1, max_size=5), shape=st.sampled_from([(8, 8, 8), (16, 16, 16), (32, 24, 32)]),
       fc=st.booleans())
@example(layers=[{"kind": "conv", "filters": f, "kernel": k, "bits": b} for f, k, b in ((1, 3, 2), (1, 3, 2), (64, 3, 2),
                                                                                     (128, 5, 4))],
         shape=(8, 8, 8), fc=False)   # Minimal: fewer NPs, a longer program
@settings(max_examples=25, deadline=None)
def test_mapping_invariants(layers, shape, fc):
    specs, s = [], shape
    for i, L in enumerate(layers):
        sp = make_spec(L["kind"], f"l{i}", s, L["filters"], kernel=L["kernel"], weights_bits=L["bits"],
                       pool_type="average" if fc and i == len(layers) - 1 else "none")
        specs.append(sp)
        s = sp.output_shape
    if fc:
        specs.append(make_spec("fully_connected", "fc", s, 10))
    mesh = akd1000()
    maps = {mode: map_layers(specs, mode=mode) for mode in MODES}
    assert maps["HwPr"] == maps["AllNps"].__class__(**{**maps["AllNps"].__dict__, "mode": "HwPr"})
    for mode, m in maps.items():
        names = [L.name for q in m.sequences for L in q.layers]
        assert names == [sp.name for sp in specs], "every layer once, in order"
        for q in m.sequences:
            idents = [n.ident for L in q.layers for n in L.nps]
            assert len(idents) == len(set(idents)), "an NP serves one layer of a sequence"
            assert q.n_nps <= len(mesh.slots)
            if q.backend == "Hardware":
                assert q.program_bytes > program.SEQ_HEADER
                for L in q.layers:
                    spec = next(sp for sp in specs if sp.name == L.name)
                    if spec.kind in ("conv", "separable"):
                        tiles = layer_need(spec, mesh).spatial
                        assert sum(n.filters for n in L.nps) == spec.filters * tiles
            else:
                assert q.program_bytes is None and all(not L.nps for L in q.layers)
            for L in q.layers:   # every software layer says why, no hardware layer does
                assert bool(m.software_reasons(L.name)) == (q.backend == "Software"), L.name
    hw = lambda m: [q.name for q in m.sequences if q.backend == "Hardware"]  # noqa: E731
    if hw(maps["Minimal"]) == hw(maps["AllNps"]):
        # Fewer NPs; the program need not shrink (more filters per NP can lengthen it).
        assert maps["Minimal"].n_nps <= maps["AllNps"].n_nps


def test_a_smaller_mesh_cuts_the_model_into_sequences():
    slots = [NPSlot(1, r, i, (NPType.CNP1, NPType.FNP3) if i == 0 else (NPType.CNP1,))
             for r in (1, 2) for i in range(4)]
    small = make_mesh("tiny", slots, sram=SramSize(43008, 44800))
    specs = [conv(f"c{i}", (32, 32, 64), 64) for i in range(12)]
    m = map_layers(specs, small, mode="Minimal")
    assert len(m.sequences) > 1 and all(q.backend == "Hardware" for q in m.sequences)
    assert all(q.n_nps <= 8 for q in m.sequences)
    big = [conv("big", (32, 32, 256), 256)]
    alone = map_layers(big, small, mode="Minimal")
    assert alone.sequence_names == ["SW/big"]
    assert [(v.rule, v.layer) for v in alone.software_reasons("big")] == [("layer_fits_mesh", "big")]
    assert alone.software_reasons("big")[0].message.startswith("Not enough hardware components of type CNP1 available.")
    with pytest.raises(MappingError, match="Not enough hardware components of type CNP1 available"):
        map_layers(big, small, hw_only=True)


# ----------------------------------------------------------------------------- program bytes

def test_program_grows_with_nps_and_ignores_the_spatial_extent():
    a = map_layers([conv("c", (16, 16, 64), 64)], mode="Minimal")
    b = map_layers([conv("c", (16, 16, 64), 64)], mode="AllNps")
    assert b.n_nps > a.n_nps and b.program_bytes > a.program_bytes
    # one NP either way: the program does not depend on x, y
    assert (map_layers([conv("c", (8, 8, 64), 64)], mode="Minimal").program_bytes == a.program_bytes)


def test_sequence_program_is_the_sum_of_its_parts():
    spec = conv("c", (16, 16, 32), 16, weights_bits=4)
    m = map_layers([spec], mode="Minimal")
    items = program.np_chunk_items(spec, 16)
    assert m.program_bytes == program.SEQ_HEADER + program.LAYER_HEADER + sum(items) + program.chunk_overhead(items)


def test_chunk_overhead_counts_256_kib_chunks():
    assert program.chunk_overhead([100, 200]) == 0
    assert program.chunk_overhead([program.CHUNK_BYTES, 1]) == program.CHUNK_HEADER
    assert program.chunk_overhead([program.CHUNK_BYTES // 2 + 1] * 3) == 2 * program.CHUNK_HEADER


@pytest.mark.parametrize("filters", [8, 192, 193, 384, 385, 512])
def test_hrc_filters_are_held_in_blocks_of_192(filters):
    spec = make_spec("input_conv", "i", (64, 64, 1), filters, kernel=3, input_bits=8)
    blocks = math.ceil(filters / program.HRC_FILTER_BLOCK)
    expected = (program.HRC_HEADER_C1_K3 + filters * (program.FILTER_RECORD + program.HRC_WEIGHT_BYTES[3])
                + program.CHUNK_HEADER * (blocks - 1))
    assert program.hrc_bytes(spec) == expected
    alone = map_layers([spec]).program_bytes
    assert alone == program.SEQ_HEADER + program.LAYER_HEADER + expected


def test_fnp2_for_heavy_fully_connected_layers():
    light = make_spec("fully_connected", "f", (1, 1, 64), 10)
    heavy = make_spec("fully_connected", "f", (1, 1, 4096), 512)
    assert program.fc_weight_bytes(light) <= akd1000().limits.fnp3_max_weight_bytes < program.fc_weight_bytes(heavy)
    assert map_layers([light]).sequences[0].layers[0].nps[0].type == NPType.FNP3
    assert map_layers([heavy]).sequences[0].layers[0].nps[0].type == NPType.FNP2
    assert program.external_memory_bytes(heavy, "FNP2") == program.fc_weight_bytes(heavy)
    assert program.external_memory_bytes(heavy, "FNP3") == 0


@pytest.mark.parametrize("shape, units", [((16, 16, 64), 5), ((16, 16, 64), 6), ((8, 8, 128), 11), ((16, 16, 128), 3)])
def test_fnp2_external_memory_past_64_kib_is_held_in_64_byte_units(shape, units):
    spec = make_spec("fully_connected", "f", shape, units, weights_bits=4)
    records, held = program.fc_weight_bytes(spec), program.external_memory_bytes(spec, "FNP2")
    if records <= program.EXT_MEM_ALIGN_ABOVE:
        assert held == records
    else:
        assert held % program.EXT_MEM_ALIGN == 0 and 0 <= held - records < program.EXT_MEM_ALIGN


def _chain():
    """Twelve 1-NP conv layers, max pooling on the eighth (it would end an 8-NP chunk)."""
    specs, shape = [], (32, 32, 8)
    for i in range(12):
        sp = conv(f"c{i}", shape, 8, pool_type="max" if i == 7 else "none", pool_size=2 if i == 7 else -1)
        specs.append(sp)
        shape = sp.output_shape
    return specs


def _two_nodes(hw_version):
    slots = [NPSlot(1, r, i, (NPType.CNP1, NPType.CNP2)) for r in (2, 3) for i in range(4)]
    return make_mesh("two", slots, sram=akd1000().sram, hw_version=hw_version)


def test_a_multi_pass_version_runs_what_does_not_fit_as_passes_of_one_sequence():
    single, multi = _two_nodes("BC.00.000.002"), _two_nodes("BC.A1.003.006")
    assert not single.multi_pass and multi.multi_pass
    names = [f"c{i}" for i in range(12)]
    cut = map_layers(_chain(), single, mode="Minimal")
    # a sequence may not end on max pooling: the AKD1000's version starts the next one there
    assert [[L.name for L in s.layers] for s in cut.sequences] == [names[:7], names[7:]]
    passes = map_layers(_chain(), multi, mode="Minimal")
    assert len(passes.sequences) == 1
    seq = passes.sequences[0]
    assert [p.layers for p in seq.passes] == [tuple(names[:8]), tuple(names[8:])]   # a pass may end on it
    assert seq.program_bytes == sum(p.program_bytes for p in seq.passes)
    header = program.SEQ_HEADER + program.VERSION_HEADERS["BC.A1.003.006"].on_np
    assert seq.program_bytes == cut.program_bytes - 2 * program.SEQ_HEADER + header + program.PASS_HEADER
    # every pass starts from the whole mesh: NPs are reused
    idents = [n.ident for L in seq.layers for n in L.nps]
    assert len(set(idents)) == 8 < len(idents) == 12


@pytest.mark.parametrize("kind, bits", [("conv", 20), ("fully_connected", 20), ("input_conv", 24)])
def test_thresholds_must_fit_their_register_whatever_hw_only(kind, bits):
    shape = (1, 1, 64) if kind == "fully_connected" else (16, 16, 1 if kind == "input_conv" else 8)
    top = 2 ** (bits - 1)
    ok = make_spec(kind, "L", shape, 3, kernel=3, input_bits=8 if kind == "input_conv" else 4,
                   thresholds=(top - 1, -top, 0))
    assert map_layers([ok]).sequences[0].backend == "Hardware"
    for hw_only in (False, True):
        bad = make_spec(kind, "L", shape, 3, kernel=3, input_bits=8 if kind == "input_conv" else 4,
                        thresholds=(0, -top - 1, top))
        with pytest.raises(MappingError, match=rf"^Cannot map layer 'L'\. Error: {-top - 1} cannot fit in a "
                                               rf"{bits}-bit signed integer\.$"):
            map_layers([bad], hw_only=hw_only)
    raw = make_spec("conv", "L", (8, 8, 8), 3, kernel=3, activation=False, thresholds=(2 ** 30,))
    assert map_layers([raw]).sequences[0].backend == "Hardware"


def test_np_act_steps_must_fit_16_bits():
    ok = conv("c", (8, 8, 8), 2, act_steps=(65535.0, 0.0625))
    assert map_layers([ok]).sequences[0].backend == "Hardware"
    with pytest.raises(MappingError, match=r"Backend hardware\(CNP\): act_step should be between 0 and 65535\. "
                                           r"Receives act_step 70000\.\.$"):
        map_layers([conv("c", (8, 8, 8), 2, act_steps=(1.0, 70000.75))])


def _seps(filters, shape=(6, 6, 256), fc_units=0):
    specs = []
    for i, f in enumerate(filters):
        specs.append(make_spec("separable", f"s{i}", shape, f, kernel=3))
        shape = specs[-1].output_shape
    if fc_units:
        specs.append(make_spec("fully_connected", "fc", shape, fc_units))
    return specs


def _passes(mapping):
    return [[(L.name, len(L.nps)) for L in mapping.sequences[0].layers if L.name in p.layers]
            for p in mapping.sequences[0].passes]


def test_hwpr_on_a_multi_pass_mesh_spreads_every_pair_of_layers_over_one_pass():
    mesh = _two_nodes("BC.A1.003.006")
    # the target lets every two consecutive layers share a pass: [128, 256] fit 8 CNPs at 52
    # filters per NP (3 + 5), [256, 64] at 43; the model takes the larger, passes cut greedily
    assert _passes(map_layers(_seps([128, 256, 64]), mesh, mode="HwPr")) == [[("s0", 3), ("s1", 5)], [("s2", 2)]]
    assert _passes(map_layers(_seps([128, 256, 64]), mesh, mode="AllNps")) == [[("s0", 2), ("s1", 4), ("s2", 1)]]
    # a single-pass mesh of the same NPs keeps HwPr as AllNps
    single = _two_nodes("BC.00.000.002")
    assert (map_layers(_seps([128, 256, 64]), single, mode="HwPr").sequences
            == map_layers(_seps([128, 256, 64]), single, mode="AllNps").sequences)


def test_hwpr_keeps_the_allnps_mapping_where_a_lone_fc_pass_follows_a_split_layer():
    # the 2-node IP's NPs: the first of each node also an FNP2, an FNP3
    slots = [NPSlot(1, r, i, (NPType.CNP1, (NPType.FNP2, NPType.FNP3)[r - 2]) if i == 0 else (NPType.CNP1,))
             for r in (2, 3) for i in range(4)]
    mesh = make_mesh("two", slots, sram=akd1000().sram, hw_version="BC.A1.003.006")
    # at 64 filters per NP: [4, 4 CNPs] then the FC alone after a layer on 4 CNPs: AllNps instead
    specs = _seps([256, 256], fc_units=10)
    assert (map_layers(specs, mesh, mode="HwPr").sequences == map_layers(specs, mesh, mode="AllNps").sequences)
    # one more layer: the FC joins the last pass and the spread holds
    assert _passes(map_layers(_seps([256] * 3, fc_units=10), mesh, mode="HwPr")) == \
        [[("s0", 4), ("s1", 4)], [("s2", 4), ("fc", 1)]]
