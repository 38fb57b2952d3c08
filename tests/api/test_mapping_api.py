"""Model.map, sequences, layer mappings, mapped summary and statistics (no vendor needed)."""
import contextlib
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import akida_sim as ak
from akida_sim import zoo
from hw_model import make_mesh
from hw_model.mesh import NPType as HwNPType
from hw_model.cost_table import AKD1000_COSTS


def ones(model):
    for layer in model.layers:
        for name in layer.get_variable_names():
            if name.startswith("weights"):
                layer.set_variable(name, np.ones_like(layer.get_variable(name)))
    return model


def small_model(fc_activation=False):
    m = ak.Model()
    m.add(ak.InputData(input_shape=(16, 16, 8), input_bits=4))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=32, weights_bits=4, act_bits=4, name="c1"))
    m.add(ak.SeparableConvolutional(kernel_size=(3, 3), filters=16, weights_bits=4, act_bits=4, name="s2",
                                    pool_type=ak.PoolType.Average))
    m.add(ak.FullyConnected(units=5, weights_bits=4, activation=fc_activation, name="fc"))
    return ones(m)


def test_unmapped_model_has_one_software_sequence():
    m = small_model()
    (seq,) = m.sequences
    assert seq.name == "SW/c1-fc" and seq.backend == ak.BackendType.Software and seq.program is None
    assert [l.name for l in seq.passes[0].layers] == ["c1", "s2", "fc"]
    assert m.device is None and all(l.mapping is None for l in m.layers)


def test_akd1000_device_mirrors_the_vendor_mesh():
    d = ak.AKD1000()
    assert d.version == "BC.00.000.002" and d.desc == "VirtualDevice/BC.00.000.002" and d.ip_version == 1
    assert len(d.mesh.nps) == 78
    assert d.mesh.dma_event == (3, 1, 0) and d.mesh.dma_conf == (3, 1, 1)
    assert d.mesh.hrc.ident == (0, 0, 0) and d.mesh.hrc.types == [ak.NPType.HRC]
    assert d.mesh.np_sram_size.input_bytes == 43008 and d.mesh.np_sram_size.weight_bytes == 44800
    assert sum(ak.NPType.FNP3 in n.types for n in d.mesh.nps) == 18


def test_map_allocates_nps_and_builds_a_program():
    m = small_model()
    m.map(ak.AKD1000())
    (seq,) = m.sequences
    assert seq.name == "HW/c1-fc" and seq.backend == ak.BackendType.Hardware
    assert isinstance(seq.program, bytes) and len(seq.program) > 0
    c1, s2, fc = (m.get_layer(n) for n in ("c1", "s2", "fc"))
    assert len(c1.mapping.nps) == 32 and {n.type for n in c1.mapping.nps} == {ak.NPType.CNP1}
    assert sum(n.filters for n in c1.mapping.nps) == 32
    assert len(s2.mapping.nps) == 16
    assert [n.type for n in fc.mapping.nps] == [ak.NPType.FNP3] and fc.mapping.nps[0].filters == 5
    idents = [n.ident for l in (c1, s2, fc) for n in l.mapping.nps]
    assert len(set(idents)) == len(idents)


def test_minimal_mode_uses_fewer_nps_and_a_smaller_program():
    a, b = small_model(), small_model()
    a.map(ak.AKD1000())
    b.map(ak.AKD1000(), mode=ak.MapMode.Minimal)
    count = lambda m: sum(len(l.mapping.nps) for l in m.layers if l.mapping)  # noqa: E731
    assert count(b) < count(a)
    assert len(b.sequences[0].program) < len(a.sequences[0].program)


def test_program_holds_the_weights_and_changes_with_them():
    m = small_model()
    m.map(ak.AKD1000())
    before = m.sequences[0].program
    c1 = m.get_layer("c1")
    c1.set_variable("weights", np.full_like(c1.get_variable("weights"), -3))
    m.map(ak.AKD1000())
    after = m.sequences[0].program
    assert len(before) == len(after) and before != after


def test_unmappable_layer_goes_to_software_or_raises_with_hw_only():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(8, 8, 2), input_bits=4))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=4, weights_bits=8, act_bits=4, name="c8"))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=4, weights_bits=4, act_bits=4, name="c4"))
    ones(m)
    m.map(ak.AKD1000())
    assert [s.name for s in m.sequences] == ["SW/c8", "HW/c4"]
    assert m.get_layer("c8").mapping is None
    with pytest.raises(RuntimeError, match="Cannot map layer 'c8'.*bitwidth"):
        m.map(ak.AKD1000(), hw_only=True)


def test_map_none_unmaps_and_popping_a_layer_maps_again():
    m = small_model()
    m.map(ak.AKD1000())
    m.map(None)
    assert m.device is None and m.sequences[0].backend == ak.BackendType.Software
    device = ak.AKD1000()
    m.map(device)
    last = m.layers[-1]
    m.pop_layer()
    assert m.device is device and last.mapping is None
    assert all(last not in s.layers for s in m.sequences)


def test_map_argument_errors():
    m = small_model()
    with pytest.raises(TypeError, match="device"):
        m.map("AKD1000")
    with pytest.raises(ValueError, match="mode"):
        m.map(ak.AKD1000(), mode=7)
    with pytest.raises(TypeError, match="hw_only"):
        m.map(ak.AKD1000(), hw_only="yes")


def test_mapped_summary_lists_components_and_program_size():
    m = small_model()
    m.map(ak.AKD1000())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        m.summary()
    text = out.getvalue()
    size = len(m.sequences[0].program)
    assert "NPs  Skip DMAs  External Memory (Bytes)" in text
    assert f"HW/c1-fc (Hardware) - size: {size} bytes" in text
    assert "32 CNP1" in text and "1 FNP3" in text
    assert "Component (type)  Count" in text


def test_statistics_unmapped_then_mapped():
    m = small_model()
    assert str(m.statistics) == "Average framerate = N/A"
    x = np.random.default_rng(0).integers(0, 16, (4, 16, 16, 8), dtype=np.uint8)
    m.forward(x)
    assert m.statistics.fps > 0 and m.statistics.inference_clk is None
    m.map(ak.AKD1000())
    assert str(m.statistics) == "Average framerate = N/A"
    y = m.forward(x)
    s = m.statistics
    assert s.inference_frames == 4 and s.inference_clk > 0 and s.program_clk > 0
    assert s.powers["average"] > s.powers["floor"] > 0 and s.energy > 0 and s.fps > 0
    assert [r.name for r in s.layers] == ["c1", "s2", "fc"]
    assert s.inference_clk_range[0] < s.inference_clk < s.inference_clk_range[1]
    assert s.layers[0].input_events == np.count_nonzero(x) / 4
    assert np.array_equal(y, small_model().forward(x))  # mapping never changes the integers


def test_statistics_scale_with_events():
    """More non-zero inputs cost more clocks and energy per frame."""
    m = small_model()
    m.map(ak.AKD1000())
    rng = np.random.default_rng(1)
    sparse = np.where(rng.random((2, 16, 16, 8)) < 0.1, 15, 0).astype(np.uint8)
    dense = np.full((2, 16, 16, 8), 15, np.uint8)
    m.forward(sparse)
    low = m.statistics
    m.forward(dense)
    high = m.statistics
    assert high.clk_per_frame > low.clk_per_frame and high.dynamic_mj_per_frame > low.dynamic_mj_per_frame


def test_what_if_device_with_a_faster_clock_and_fewer_nps():
    base = ak.AKD1000()
    fast = ak.Device(base.hw_mesh, AKD1000_COSTS.what_if(
        "double clock", clock_hz=AKD1000_COSTS.clock_hz.value * 2))
    m = small_model()
    x = np.full((1, 16, 16, 8), 7, np.uint8)
    m.map(base)
    m.forward(x)
    base_stats = m.statistics
    m.map(fast)
    m.forward(x)
    assert m.statistics.chip_s == pytest.approx(base_stats.chip_s / 2)
    assert m.statistics.chip_fps == pytest.approx(2 * base_stats.chip_fps)
    assert m.statistics.host_s == pytest.approx(base_stats.host_s)   # the host is not faster
    small = ak.Device(make_mesh("8 NPs", base.hw_mesh.slots[:8], sram=base.hw_mesh.sram))
    m.map(small)
    assert sum(len(l.mapping.nps) for l in m.layers if l.mapping) <= 8


def test_zoo_models_map_and_report():
    for name in ("dscnn_kws", "mnist"):
        m = zoo.build(name)
        m.map(ak.AKD1000())
        m.forward(zoo.random_inputs(m, 2, np.random.default_rng(0)))
        assert m.statistics.fps > 0
        assert all(len(s.program) > 0 for s in m.sequences if s.backend == ak.BackendType.Hardware)


def test_model_mapped_entirely_to_software_reports_host_statistics():
    m = ak.Model()
    m.add(ak.InputConvolutional(input_shape=(8, 8, 3), kernel_size=(3, 3), filters=4, weights_bits=8,
                                activation=False, name="ic"))
    ones(m)
    m.map(ak.AKD1000())
    assert [s.backend for s in m.sequences] == [ak.BackendType.Software]
    m.forward(np.ones((2, 8, 8, 3), np.uint8))
    assert m.statistics.fps > 0 and m.statistics.inference_clk is None


def test_never_set_weights_map_like_the_vendor():
    """A never-set (all-zero) Convolutional or FullyConnected layer maps to hardware; a
    SeparableConvolutional with an all-zero depthwise or pointwise tensor goes to software."""
    m = ak.Model()
    m.add(ak.InputData(input_shape=(16, 16, 8), input_bits=4))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=8, weights_bits=4, act_bits=4, name="c"))
    m.add(ak.SeparableConvolutional(kernel_size=(3, 3), filters=8, weights_bits=4, act_bits=4, name="s"))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=8, weights_bits=4, act_bits=4, name="d"))
    m.map(ak.AKD1000())
    assert [(s.name, s.backend) for s in m.sequences] == [
        ("HW/c", ak.BackendType.Hardware), ("SW/s", ak.BackendType.Software), ("HW/d", ak.BackendType.Hardware)]
    s = m.get_layer("s")
    s.set_variable("weights", np.ones_like(s.get_variable("weights")))
    m.map(ak.AKD1000())
    assert [q.name for q in m.sequences] == ["HW/c", "SW/s", "HW/d"]   # pointwise still all zero
    s.set_variable("weights_pw", np.ones_like(s.get_variable("weights_pw")))
    m.map(ak.AKD1000())
    assert [q.name for q in m.sequences] == ["HW/c-d"]
    with pytest.raises(RuntimeError, match="All weights in a separable CNP layer cannot be zeroes"):
        s.set_variable("weights", np.zeros_like(s.get_variable("weights")))
        m.map(ak.AKD1000(), hw_only=True)


def test_reprs_of_sequences_passes_and_components():
    m = small_model()
    m.map(ak.AKD1000())
    (seq,) = m.sequences
    comp = m.get_layer("fc").mapping.nps[0]
    assert repr(comp) == (f"<akida_sim.NP.Component, ident={comp.ident}, type=Type.FNP3, filters=5, "
                          f"single_buffer=True>")
    assert "single_buffer=False" in repr(m.get_layer("c1").mapping.nps[0])
    text = repr(seq)
    assert text.startswith("<akida_sim.Sequence, name=HW/c1-fc, backend=Hardware, passes=[<akida_sim.Pass, layers=[")
    assert text.endswith(f"]>], program_size={len(seq.program)}>")
    assert repr(seq.passes[0]) in text and text.count("<akida_sim.NP.Component") == 32 + 16 + 1
    assert "program_size" not in repr(small_model().sequences[0])


def _sequences_of(model):
    return [(s.name, s.backend, [[l.name for l in p.layers] for p in s.passes],
             None if s.program is None else len(s.program)) for s in model.sequences]


@settings(max_examples=25, deadline=None)
@given(filters=st.lists(st.sampled_from([32, 64, 128, 256, 512]), min_size=1, max_size=8),
       channels=st.sampled_from([32, 64, 128]), fc=st.booleans(),
       mode=st.sampled_from(["AllNps", "HwPr", "Minimal"]))
def test_hw_only_on_the_two_node_ip_maps_as_without_it_or_refuses(filters, channels, fc, mode):
    """The 2-node IP runs a model too big for its NPs in several passes: with hw_only the same
    mapping as without it, or a refusal naming a layer that does not fit beside the one before."""
    def build():
        m = ak.Model()
        m.add(ak.InputData(input_shape=(16, 16, channels), input_bits=4))
        for i, f in enumerate(filters):
            m.add(ak.Convolutional(kernel_size=(3, 3), filters=f, weights_bits=4, act_bits=4, name=f"c{i}"))
        if fc:
            m.add(ak.FullyConnected(units=10, weights_bits=4, act_bits=4, name="fc"))
        return ones(m)

    free, strict = build(), build()
    free.map(ak.TwoNodesIPv1(), mode=ak.MapMode[mode])
    try:
        strict.map(ak.TwoNodesIPv1(), hw_only=True, mode=ak.MapMode[mode])
    except RuntimeError as exc:
        assert str(exc).startswith("Cannot map layer '")
        return
    assert _sequences_of(strict) == _sequences_of(free)
    assert all(s.backend == ak.BackendType.Hardware for s in strict.sequences)


def test_hw_only_on_the_two_node_ip_runs_six_wide_convolutions_in_two_passes():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(16, 16, 64), input_bits=4))
    for i in range(6):
        m.add(ak.Convolutional(kernel_size=(3, 3), filters=128, weights_bits=4, act_bits=4, name=f"c{i}"))
    ones(m).map(ak.TwoNodesIPv1(), hw_only=True)
    assert [[l.name for l in p.layers] for p in m.sequences[0].passes] == [["c0", "c1", "c2", "c3"], ["c4", "c5"]]
    m2 = ak.Model()
    m2.add(ak.InputData(input_shape=(16, 16, 64), input_bits=4))
    for i, f in enumerate([128, 128, 128, 512]):
        m2.add(ak.Convolutional(kernel_size=(3, 3), filters=f, weights_bits=4, act_bits=4, name=f"c{i}"))
    beside = ak.TwoNodesIPv1().hw_mesh.count(HwNPType.CNP1) - 2    # the CNPs c2 leaves to c3
    with pytest.raises(RuntimeError, match=f"Cannot map layer 'c3'. Not enough hardware components of type CNP1 "
                                           f"available. 8 are needed but {beside} are available."):
        ones(m2).map(ak.TwoNodesIPv1(), hw_only=True)
