"""The rest of the Akida 1.0 API against the vendor's: devices, enums, layer
attributes, ``to_dict``, ``evaluate``, ``add_classes``, ``component_count``."""
import contextlib
import io
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import akida_sim
from akida_sim import zoo
from akida_sim.summary import software_note
from model_specs import STATS, assert_identical, build_case, model_cases, oracle_settings

akida = pytest.importorskip("akida")
pytestmark = pytest.mark.oracle

ENUMS = ["Padding", "PoolType", "LayerType", "BackendType", "IpVersion", "MapMode"]


# ----------------------------------------------------------------------
# enums and devices


@pytest.mark.parametrize("enum", ENUMS)
def test_enums_print_alike(enum):
    sim, vendor = getattr(akida_sim, enum), getattr(akida, enum)
    for member in sim:
        theirs = getattr(vendor, member.name)
        assert str(member) == str(theirs)
        assert repr(member) == repr(theirs)
        assert f"{member}" == f"{theirs}"
        assert member.name == theirs.name
        assert int(member) == (theirs.value if enum == "MapMode" else int(theirs))


def test_np_types_print_alike():
    for member in akida_sim.NP.Type:
        theirs = getattr(akida.NP.Type, member.name)
        assert (str(member), repr(member), int(member)) == (str(theirs), repr(theirs), int(theirs))


def mesh_of(device, ident):
    mesh = device.mesh
    return ([(ident(n.ident), [t.name for t in n.types]) for n in mesh.nps],
            ident(mesh.dma_event), ident(mesh.dma_conf), ident(mesh.hrc.ident),
            (mesh.np_sram_size.input_bytes, mesh.np_sram_size.weight_bytes), str(device.version), device.desc)


def vendor_ident(ident):
    return tuple(ident) if isinstance(ident, tuple) else (ident.col, ident.row, ident.id)


@pytest.mark.parametrize("name", ["AKD1000", "TwoNodesIPv1"])
def test_virtual_devices_alike(name):
    sim, vendor = getattr(akida_sim, name)(), getattr(akida, name)()
    assert mesh_of(sim, tuple) == mesh_of(vendor, vendor_ident)
    assert int(sim.ip_version) == int(vendor.ip_version)


def test_devices_is_the_simulated_akd1000():
    (device,) = akida_sim.devices()
    assert mesh_of(device, tuple) == mesh_of(akida.AKD1000(), vendor_ident)


# ----------------------------------------------------------------------
# layer attributes and to_dict


INT32_EDGES = (-2 ** 31, 2 ** 31 - 1)


def plain(layer_dict):
    """A layer dict as JSON reads it back (tuples as lists). The bitwidth of a
    variable holding an int32 limit is dropped: the vendor's overflows there
    (akida_sim reports 32)."""
    layer_dict = json.loads(json.dumps(layer_dict))
    for variable in layer_dict["variables"].values():
        if variable["dtype"] == "int32" and np.isin(np.asarray(variable["data"]), INT32_EDGES).any():
            del variable["bitwidth"]
    return layer_dict


@oracle_settings(60)
@given(case=model_cases())
def test_layer_attributes_and_dicts_alike(case):
    vendor, sim = build_case(akida, case), build_case(akida_sim, case)
    for v, s in zip(vendor.layers, sim.layers):
        assert s.input_dims == v.input_dims
        assert s.output_dims == v.output_dims
        assert s.input_bits == v.input_bits
        assert s.output_signed == v.output_signed
        assert [l.name for l in s.inbounds] == [l.name for l in v.inbounds]
        assert s.variables.names == v.variables.names
        for name in v.variables.names:
            assert_identical(s.variables[name], v.variables[name], f"{v.name}.{name}")
        assert plain(s.to_dict()) == plain(v.to_dict()), v.name
    expected, got = vendor.to_dict(), sim.to_dict()
    for key in ("IP version", "input_shape", "output_shape", "learning"):
        assert got[key] == expected[key], key
    assert [plain(l) for l in got["layers"]] == [plain(l) for l in expected["layers"]]
    assert int(sim.ip_version) == int(vendor.ip_version)
    STATS["api: to_dict compared"] += 1


# ----------------------------------------------------------------------
# evaluate


def _fc_model(ak, activation, units=6, input_bits=2):
    model = ak.Model()
    model.add(ak.InputData(input_shape=(4, 4, 2), input_bits=input_bits))
    model.add(ak.FullyConnected(units=units, weights_bits=4, activation=activation, act_bits=2))
    return model


@pytest.mark.parametrize("activation", [False, True])
@pytest.mark.parametrize("num_classes", [0, 2, 3, 6])
def test_evaluate_alike(activation, num_classes):
    rng = np.random.default_rng(num_classes + 10 * activation)
    weights = rng.integers(-7, 8, (1, 1, 32, 6)).astype(np.int8)
    threshold = rng.integers(-20, 20, 6).astype(np.int32)
    step = rng.uniform(0.1, 8, 6).astype(np.float32)
    x = rng.integers(0, 4, (300, 4, 4, 2)).astype(np.uint8)
    labels = rng.integers(0, num_classes or 6, 300).astype(np.int32)
    results = []
    for ak in (akida, akida_sim):
        model = _fc_model(ak, activation)
        for name, value in (("weights", weights), ("threshold", threshold), ("act_step", step)):
            model.layers[1].set_variable(name, value)
        results.append(model.evaluate(x, labels, num_classes=num_classes, batch_size=7))
    assert results[1] == results[0]


def test_evaluate_multi_position_output_alike():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 4, (200, 4, 4, 2)).astype(np.uint8)
    labels = rng.integers(0, 3, 200).astype(np.int32)
    weights = rng.integers(-1, 2, (3, 3, 2, 3)).astype(np.int8)
    results = []
    for ak in (akida, akida_sim):
        model = ak.Model()
        model.add(ak.InputData(input_shape=(4, 4, 2), input_bits=2))
        model.add(ak.Convolutional(kernel_size=(3, 3), filters=3, weights_bits=2, activation=False))
        model.layers[1].set_variable("weights", weights)
        results.append(model.evaluate(x, labels))
    assert results[1] == results[0]


@pytest.mark.parametrize("labels, num_classes", [
    (np.zeros(4, np.int64), 0), (np.zeros(3, np.int32), 0), (np.zeros((2, 2), np.int32), 0),
    (np.zeros(4, np.int32), 1), (np.zeros(4, np.int32), 4),
])
def test_evaluate_refusals_alike(labels, num_classes):
    x = np.zeros((4, 4, 4, 2), np.uint8)
    raised = []
    for ak in (akida, akida_sim):
        with pytest.raises(Exception) as info:
            _fc_model(ak, False).evaluate(x, labels, num_classes=num_classes)
        raised.append(info.value)
    assert isinstance(raised[1], type(raised[0]))


# ----------------------------------------------------------------------
# add_classes


def _learner(ak, n_inputs, units, num_weights, num_classes):
    model = ak.Model()
    model.add(ak.InputData(input_shape=(1, 1, n_inputs), input_bits=1))
    model.add(ak.FullyConnected(units=units, weights_bits=1, activation=False, name="fc"))
    model.compile(ak.AkidaUnsupervised(num_weights=num_weights, num_classes=num_classes, plasticity_decay=0.1))
    return model


@oracle_settings(30)
@given(num_classes=st.sampled_from([1, 2, 3, 4]), per_class=st.integers(1, 5), add=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16))
def test_add_classes_then_learning_alike(num_classes, per_class, add, seed):
    """Same variables and optimizer after add_classes (the new neurons' random
    connections aside), and, once those are copied, the same learning after."""
    rng = np.random.default_rng(seed)
    n_inputs, k = 48, 10
    units = per_class * num_classes
    models = [_learner(ak, n_inputs, units, k, num_classes) for ak in (akida, akida_sim)]
    weights = np.zeros((n_inputs, units), np.int8)
    for j in range(units):
        weights[rng.choice(n_inputs, k, replace=False), j] = 1
    x = (rng.random((20, 1, 1, n_inputs)) < 0.3).astype(np.uint8)
    labels = rng.integers(0, num_classes, 20).astype(np.int32)
    for model in models:
        model.layers[1].set_variable("weights", weights.reshape(1, 1, n_inputs, units))
        model.fit(x, labels)
        model.add_classes(add)
    vendor, sim = models
    v, s = vendor.layers[1], sim.layers[1]
    assert s.output_dims == v.output_dims and sim.output_shape == vendor.output_shape
    assert s.get_variable_names() == v.get_variable_names()
    assert float(sim.learning.num_classes) == float(vendor.learning.num_classes)
    for name in v.get_variable_names():
        if name != "weights":
            assert_identical(s.get_variable(name), v.get_variable(name), name)
    vw, sw = v.get_variable("weights"), s.get_variable("weights")
    assert_identical(sw[..., :units], vw[..., :units], "learned weights")
    assert (sw.reshape(n_inputs, -1).sum(axis=0) == k).all()
    # Continue learning from the vendor's new connections: the hidden counter
    # restarted at add_classes on both sides (set it without resetting it again).
    s._variables["weights"] = vw
    sim._on_variable_set(s, "weights")
    x2 = (rng.random((30, 1, 1, n_inputs)) < 0.3).astype(np.uint8)
    labels2 = rng.integers(0, int(vendor.learning.num_classes), 30).astype(np.int32)
    assert_identical(sim.fit(x2, labels2), vendor.fit(x2, labels2), "fit after add_classes")
    for name in v.get_variable_names():
        assert_identical(s.get_variable(name), v.get_variable(name), f"{name} after fit")
    STATS["api: add_classes compared"] += 1


def test_sim_refuses_add_classes_without_class_blocks():
    """With num_classes=0 the vendor's add_classes exhausts memory: akida_sim refuses it."""
    model = _learner(akida_sim, 16, 4, 4, 0)
    with pytest.raises(ValueError, match="num_classes=0"):
        model.add_classes(1)


@pytest.mark.parametrize("compiled, add", [(False, 1), (True, 0), (True, -1), (False, 0)])
def test_add_classes_refusals_alike(compiled, add):
    raised = []
    for ak in (akida, akida_sim):
        model = _learner(ak, 16, 4, 4, 2) if compiled else _fc_model(ak, False)
        with pytest.raises(Exception) as info:
            model.add_classes(add)
        raised.append(info.value)
    assert isinstance(raised[1], type(raised[0]))


# ----------------------------------------------------------------------
# mapped models: component counts, macs and the TwoNodesIPv1 mapping


@pytest.mark.parametrize("name", ["mnist", "dscnn_kws"])
def test_component_count_and_macs(name):
    """Component counts as the vendor's (the mapping itself is compared in
    test_oracle_model_map.py); macs count every multiply-accumulate (the
    vendor's package reports 0 for Akida 1.0 layers)."""
    sim = zoo.build(name)
    vendor = sim.to_akida(akida)
    assert sim.component_count == {} == vendor.component_count
    vendor.map(akida.AKD1000())
    sim.map(akida_sim.AKD1000())
    assert {t.name: n for t, n in sim.component_count.items()} == \
        {t.name: n for t, n in vendor.component_count.items()}
    assert sim.macs == sum(layer.macs for layer in sim.layers) > 0


def _layer_nps(model, ident):
    return [(l.name, None if l.mapping is None else [(ident(n.ident), n.type.name, n.filters) for n in l.mapping.nps])
            for l in model.layers]


def _map_on_two_nodes(name, mode):
    sim = zoo.build(name)
    vendor = sim.to_akida(akida)
    vendor.map(akida.TwoNodesIPv1(), mode=getattr(akida.MapMode, mode))
    sim.map(akida_sim.TwoNodesIPv1(), mode=getattr(akida_sim.MapMode, mode))
    return sim, vendor


@pytest.mark.parametrize("mode", ["AllNps", "HwPr", "Minimal"])
@pytest.mark.parametrize("name", ["mnist", "dscnn_kws"])
def test_two_nodes_mapping_alike(name, mode):
    sim, vendor = _map_on_two_nodes(name, mode)
    assert _layer_nps(sim, tuple) == _layer_nps(vendor, vendor_ident)
    assert [(s.name, s.backend.name) for s in sim.sequences] == [(s.name, s.backend.name) for s in vendor.sequences]


@pytest.mark.parametrize("mode", ["AllNps", "Minimal"])
@pytest.mark.parametrize("name", ["mnist", "dscnn_kws", "akidanet_05_96", "akidanet_05_224"])
def test_two_nodes_programs_and_passes_alike(name, mode):
    """Programs, and a model too big for 8 NPs run as one sequence of several passes."""
    sim, vendor = _map_on_two_nodes(name, mode)
    assert [(s.name, s.backend.name, [[l.name for l in p.layers] for p in s.passes],
             None if s.program is None else len(s.program)) for s in sim.sequences] == \
        [(s.name, s.backend.name, [[l.name for l in p.layers] for p in s.passes],
          None if s.program is None else len(s.program)) for s in vendor.sequences]
    assert _layer_nps(sim, tuple) == _layer_nps(vendor, vendor_ident)
    texts = []
    for model in (sim, vendor):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            model.summary()
        texts.append(out.getvalue())
    # the passes of a sequence under their banners; akida_sim's note on software layers below
    assert texts[0] == texts[1] + software_note(sim)


@oracle_settings(30)
@given(case=model_cases())
def test_layer_and_model_texts_alike(case):
    vendor, sim = build_case(akida, case), build_case(akida_sim, case)
    for v, s in zip(vendor.layers, sim.layers):
        assert repr(s).replace("akida_sim.", "akida.") == repr(v)
        assert str(s) == str(v)
    assert str(sim).replace("akida_sim.", "akida.") == str(vendor)


def test_unmapped_metrics_and_variable_errors_alike():
    x = np.zeros((2, 4, 4, 2), np.uint8)
    raised, names = [], []
    for ak in (akida, akida_sim):
        model = _fc_model(ak, False)
        assert model.metrics.names == []
        model.forward(x)
        metrics = model.metrics
        names.append(metrics.names)
        assert metrics["inference_frames"] == 2
        assert 0 <= metrics["inference_end"] - metrics["inference_start"] < 60_000
        errors = []
        for call in (lambda: model.metrics["inference_clk"], lambda: model.layers[1].variables["bias"],
                     lambda: model.layers[1].variables.__setitem__("threshold", np.zeros(6, np.int64))):
            with pytest.raises(Exception) as info:
                call()
            errors.append(type(info.value))
        raised.append(errors)
    assert all(issubclass(s, v) for s, v in zip(raised[1], raised[0]))
    assert names[1] == names[0]
