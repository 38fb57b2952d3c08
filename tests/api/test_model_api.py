"""The rest of the Akida 1.0 API: devices, enums, Variables, macs, metrics,
evaluate, add_classes, component counts (the vendor-facing checks live in
tests/oracle/test_oracle_model_api.py)."""
import re

import numpy as np
import pytest

import akida_sim as ak
from akida_sim import zoo

# ----------------------------------------------------------------------------- devices


def test_devices_returns_the_simulated_akd1000():
    (device,) = ak.devices()
    assert len(device.mesh.nps) == 78 and device.desc == ak.AKD1000().desc


def test_two_nodes_ip():
    device = ak.TwoNodesIPv1()
    assert len(device.mesh.nps) == 8 and len(device.hw_mesh.nodes) == 2
    assert device.hw_mesh.limits.cnp_max_filters == 512
    assert sum(ak.NPType.FNP2 in n.types for n in device.mesh.nps) == 1


def test_what_if_device_defaults_are_the_akd1000s():
    device = ak.what_if_device()
    reference = ak.AKD1000()
    assert len(device.mesh.nps) == 80 and len(device.hw_mesh.nodes) == 20
    assert device.hw_mesh.sram == reference.hw_mesh.sram
    assert device.costs == reference.costs
    small = ak.what_if_device(nodes=3, nps_per_node=2, clock_hz=50e6, input_sram_bytes=1000,
                              weight_sram_bytes=2000)
    assert len(small.mesh.nps) == 6 and small.costs.clock_hz.value == 50e6
    assert (small.hw_mesh.sram.input_bytes, small.hw_mesh.sram.weight_bytes) == (1000, 2000)
    assert len({n.ident for n in small.mesh.nps}) == 6



def test_a_what_if_devices_repr_tells_it_from_the_akd1000():
    assert repr(ak.AKD1000()) == ("<akida_sim.Device, desc=VirtualDevice/BC.00.000.002, mesh=AKD1000, nodes=20, "
                                  f"nps=78, clock_mhz={ak.AKD1000().costs.clock_hz.value / 1e6:g}>")
    small = ak.what_if_device(nodes=2, nps_per_node=4, clock_hz=100e6)
    assert small.desc == ak.AKD1000().desc  # the version it models
    assert repr(small) == ("<akida_sim.Device, desc=VirtualDevice/BC.00.000.002, mesh=what-if, nodes=2, nps=8, "
                           "clock_mhz=100>")


def test_what_if_device_maps_and_its_clock_scales_the_frame_rate():
    x = zoo.random_inputs(zoo.build("mnist"), 2, np.random.default_rng(0))
    fps = []
    for clock in (100e6, 200e6):
        model = zoo.build("mnist")
        model.map(ak.what_if_device(clock_hz=clock))
        model.forward(x)
        fps.append((model.statistics.chip_fps, model.statistics.fps))
    (chip_slow, slow), (chip_fast, fast) = fps
    assert chip_fast == pytest.approx(2 * chip_slow)   # the chip alone scales with the clock
    assert slow < fast < 2 * slow                      # the host's time does not


@pytest.mark.parametrize("kwargs", [dict(nodes=0), dict(nps_per_node=-1), dict(nodes=2.5), dict(clock_hz=0),
                                    dict(clock_hz="fast"), dict(input_sram_bytes=0), dict(weight_sram_bytes=True)])
def test_what_if_device_refuses_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        ak.what_if_device(**kwargs)


# ----------------------------------------------------------------------------- enums


@pytest.mark.parametrize("member, text", [
    (ak.BackendType.Hardware, "BackendType.Hardware"), (ak.Padding.Same, "Padding.Same"),
    (ak.PoolType.NoPooling, "PoolType.NoPooling"), (ak.LayerType.FullyConnected, "LayerType.FullyConnected"),
    (ak.MapMode.Minimal, "MapMode.Minimal"), (ak.IpVersion.v1, "IpVersion.v1"), (ak.NP.Type.CNP1, "Type.CNP1"),
])
def test_enums_print_like_the_vendors(member, text):
    assert str(member) == f"{member}" == "%s" % member == text
    assert repr(member) == f"<{text}: {int(member)}>"
    assert member == int(member) and type(member)(int(member)) is member


def test_enums_keep_their_values():
    assert [int(m) for m in ak.Padding] == [0, 1] and int(ak.NPType.FNP3) == 5
    assert int(ak.LayerType.SeparableConvolutional) == 5 and ak.NP.Type is ak.NPType


# ----------------------------------------------------------------------------- layers


def small_model():
    rng = np.random.default_rng(0)
    model = ak.Model()
    model.add(ak.InputConvolutional(input_shape=(9, 7, 3), kernel_size=(3, 3), filters=4, kernel_stride=(2, 2),
                                    weights_bits=8, act_bits=1, name="ic"))
    model.add(ak.SeparableConvolutional(kernel_size=(3, 3), filters=5, weights_bits=4, name="sep",
                                        pool_type=ak.PoolType.Max, pool_size=(2, 2)))
    model.add(ak.Convolutional(kernel_size=(1, 1), filters=6, weights_bits=2, name="conv"))
    model.add(ak.FullyConnected(units=3, weights_bits=2, activation=False, name="fc"))
    for layer in model.layers:
        for name in layer.get_variable_names():
            if name.startswith("weights"):
                value = layer.get_variable(name)
                layer.set_variable(name, rng.integers(-1, 2, value.shape).astype(np.int8))
    return model


def test_macs_count_every_multiply_accumulate():
    model = small_model()
    ic, sep, conv, fc = model.layers
    # ic: 9x7 -> 5x4 positions (stride 2, Same), 3x3x3 kernel, 4 filters
    assert ic.macs == 5 * 4 * 3 * 3 * 3 * 4
    # sep on 5x4x4: depthwise 3x3 per channel and pointwise 4 -> 5, before the max pooling
    assert sep.macs == 5 * 4 * (3 * 3 * 4 + 4 * 5)
    assert conv.macs == 3 * 2 * 5 * 6
    assert fc.macs == 3 * 2 * 6 * 3
    assert model.macs == ic.macs + sep.macs + conv.macs + fc.macs
    assert ak.InputData(input_shape=(4, 4, 1)).macs == 0
    assert ak.Convolutional(kernel_size=(3, 3), filters=2).macs == 0  # not in a model yet


def test_variables_view():
    layer = small_model().get_layer("conv")
    variables = layer.variables
    assert variables.names == layer.get_variable_names() == ["act_step", "threshold", "weights"]
    assert "weights" in variables and "bias" not in variables
    variables["threshold"] = np.full(6, 3, np.int32)
    np.testing.assert_array_equal(layer.get_variable("threshold"), 3)
    copy = variables["threshold"]
    copy[:] = 9
    np.testing.assert_array_equal(layer.get_variable("threshold"), 3)
    with pytest.raises(ValueError, match="No such variable 'bias'"):
        variables["bias"]
    with pytest.raises(ValueError, match="Invalid value 5"):
        variables["weights"] = np.full((1, 1, 5, 6), 5, np.int8)
    with pytest.raises(TypeError):
        list(variables)


def test_layer_attributes():
    ic, sep, conv, fc = small_model().layers
    assert (sep.input_dims, sep.output_dims, sep.input_bits) == ([5, 4, 4], [3, 2, 5], 1)
    assert [l.name for l in fc.inbounds] == ["conv"] and ic.inbounds == []
    assert not conv.output_signed and fc.output_signed
    entry = conv.to_dict()
    assert entry["name"] == "conv" and entry["inbounds"] == ["sep"]
    assert entry["parameters"]["layer_type"] == "Convolutional" and entry["parameters"]["filters"] == 6
    assert entry["variables"]["weights"]["shape"] == (1, 1, 5, 6)
    assert entry["variables"]["weights"]["bitwidth"] == 2 and entry["variables"]["act_step"]["bitwidth"] == 0


# ----------------------------------------------------------------------------- model


def test_ip_version_component_count_and_metrics():
    model = small_model()
    assert model.ip_version == ak.IpVersion.v1
    assert model.component_count == {} and model.metrics.names == []
    x = np.random.default_rng(1).integers(0, 256, (3, 9, 7, 3)).astype(np.uint8)
    model.forward(x)
    assert model.metrics.names == ["inference_end", "inference_start", "inference_frames"]
    assert model.metrics["inference_frames"] == 3
    assert 0 <= model.metrics["inference_end"] - model.metrics["inference_start"] < 60_000
    with pytest.raises(ValueError, match="inference_clk : no such metrics"):
        model.metrics["inference_clk"]
    window = [model.metrics[n] for n in model.metrics.names]
    model.map(ak.AKD1000())   # the last software forward's counters stay, as the vendor's
    assert [model.metrics[n] for n in model.metrics.names] == window
    counts = model.component_count
    assert counts == {t: sum(c.type == t for l in model.layers if l.mapping for c in l.mapping.nps)
                      for t in counts} and sum(counts.values()) > 0
    model.forward(x)
    metrics = model.metrics
    assert metrics.names == ["inference_end", "inference_start", "inference_frames", "inference_clk",
                             "program_clk"]
    assert metrics["inference_frames"] == 3
    assert metrics["inference_clk"] == round(model.statistics.inference_clk)
    assert metrics["program_clk"] == round(model.statistics.program_clk)


def test_np_count_is_the_summarys_nps_column_without_the_hrc(capsys):
    model = small_model()
    assert model.np_count == 0
    model.map(ak.AKD1000())
    counts = model.component_count
    assert ak.NPType.HRC in counts  # the first layer runs on the HRC, which is no NP
    assert model.np_count == sum(n for t, n in counts.items() if t != ak.NPType.HRC) > 0
    assert model.np_count == sum(layer.mapping.np_count for layer in model.layers if layer.mapping)
    assert model.layers[0].mapping.np_count == 0
    model.summary()
    header, values = [re.split(r"\s{2,}", line.strip()) for line in capsys.readouterr().out.splitlines()[2:5:2]]
    assert int(values[header.index("NPs")]) == model.np_count


def test_evaluate():
    model = small_model()
    x = np.random.default_rng(2).integers(0, 256, (40, 9, 7, 3)).astype(np.uint8)
    predicted = model.predict(x).reshape(40, -1).argmax(axis=1).astype(np.int32)
    assert model.evaluate(x, predicted) == 1.0
    wrong = (predicted + 1) % 3
    wrong[:10] = predicted[:10]
    assert model.evaluate(x, wrong, batch_size=7) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="Labels must be int32"):
        model.evaluate(x, predicted.astype(np.int64))
    with pytest.raises(ValueError, match="Labels must be 1-D"):
        model.evaluate(x, predicted.reshape(4, 10))
    with pytest.raises(ValueError, match="same size"):
        model.evaluate(x, predicted[:5])
    with pytest.raises(ValueError, match="1class"):
        model.evaluate(x, predicted, num_classes=1)
    with pytest.raises(ValueError, match="not a multiple"):
        model.evaluate(x, predicted, num_classes=2)
    with pytest.raises(TypeError):
        model.evaluate(x, predicted, num_classes=-1)
    with pytest.raises(TypeError):
        model.evaluate(x, predicted.tolist())


def test_evaluate_counts_a_silent_sample_as_wrong():
    model = ak.Model()
    model.add(ak.InputData(input_shape=(1, 1, 4), input_bits=1))
    model.add(ak.FullyConnected(units=3, weights_bits=2))
    model.layers[1].set_variable("weights", np.eye(4, 3, dtype=np.int8).reshape(1, 1, 4, 3))
    x = np.eye(4, dtype=np.uint8).reshape(4, 1, 1, 4)  # the last sample makes no neuron spike
    assert model.evaluate(x, np.array([0, 1, 2, 0], np.int32)) == 0.75
    silent = ak.Model(layers=model.layers[:1])
    silent.add(ak.FullyConnected(units=3, weights_bits=2, activation=False))
    assert silent.evaluate(x, np.zeros(4, np.int32)) == 1.0  # potentials: ties go to the first class


def learner(num_classes=2, units=6, seed=0):
    model = ak.Model()
    model.add(ak.InputData(input_shape=(1, 1, 40), input_bits=1))
    model.add(ak.FullyConnected(units=units, weights_bits=1, activation=False, name="fc"))
    model.compile(ak.AkidaUnsupervised(num_weights=7, num_classes=num_classes), seed=seed)
    return model


def test_add_classes_keeps_the_learned_neurons():
    model = learner()
    x = (np.random.default_rng(3).random((20, 1, 1, 40)) < 0.3).astype(np.uint8)
    model.fit(x, np.arange(20, dtype=np.int32) % 2)
    fc = model.get_layer("fc")
    before = {name: fc.get_variable(name) for name in fc.get_variable_names()}
    model.map(ak.AKD1000())
    model.add_classes(3)
    assert model.device is not None and fc.output_dims == [1, 1, 15] and model.output_shape == [1, 1, 15]
    assert model.sequences[-1].layers[-1] is fc
    assert fc.parameters.units == 15 and model.learning.num_classes == 5.0
    for name, value in before.items():
        after = fc.get_variable(name)
        np.testing.assert_array_equal(after[..., :6], value)
    new = {name: fc.get_variable(name)[..., 6:] for name in before}
    assert (new["weights"].reshape(40, 9).sum(axis=0) == 7).all()
    assert (new["threshold"] == 0).all() and (new["act_step"] == 1).all()
    assert (new["threshold_learning"] == 0).all() and (new["thswap"] == 7).all()
    # the new classes learn
    out = model.fit(x[:4], 4)
    assert out.shape == (4, 1, 1, 15)
    assert (fc.get_variable("threshold_learning")[12:] > 0).any()
    reloaded = ak.Model.from_buffer(model.to_buffer())
    assert reloaded.learning.num_classes == 5 and type(reloaded.learning.num_classes) is int
    assert reloaded.output_shape == [1, 1, 15]


def test_add_classes_with_a_seed_is_reproducible():
    grown = []
    for _ in range(2):
        model = learner(seed=4)
        model.add_classes(1)
        grown.append(model.get_layer("fc").get_variable("weights"))
    np.testing.assert_array_equal(*grown)


def test_add_classes_refusals():
    with pytest.raises(RuntimeError, match="must be compiled"):
        small_model().add_classes(1)
    model = learner()
    for bad, error in ((0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(error):
            model.add_classes(bad)
    with pytest.raises(ValueError, match="num_classes=0"):
        learner(num_classes=0).add_classes(1)
