"""The vendor's tutorial flows run on both packages: same calls, same results.

The KWS edge-learning flow (predict_classes in batches, pop_layer, a binary
edge layer, compile, fit in batches, save and reload, add_classes, fit the
new classes) with the random parts (the initial connections drawn by compile
and add_classes) set to the same values on both sides; the label forms ``fit``
accepts; the layer attributes scripts read.
"""
import numpy as np
import pytest

import akida_sim
from model_specs import assert_identical

akida = pytest.importorskip("akida")
pytestmark = [pytest.mark.oracle, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _kws_model(ak, rng_seed):
    """The same small DS-CNN in ``ak`` (either package), random weights from ``rng_seed``."""
    rng = np.random.default_rng(rng_seed)
    model = ak.Model()
    model.add(ak.InputConvolutional(input_shape=(49, 10, 1), kernel_size=(5, 5), filters=8, kernel_stride=(2, 2),
                                    weights_bits=8, act_bits=4, name="conv_0"))
    model.add(ak.SeparableConvolutional((3, 3), 8, "separable_1", ak.Padding.Same, (1, 1), 4, act_bits=4))
    model.add(ak.SeparableConvolutional(kernel_size=(3, 3), filters=16, weights_bits=4, act_bits=1,
                                        pool_type=ak.PoolType.Average, name="separable_2"))
    model.add(ak.FullyConnected(units=8, weights_bits=2, activation=False, name="dense_3"))
    for layer in model.layers:
        names = layer.get_variable_names()
        top = {2: 1, 4: 7, 8: 40}[layer.parameters.weights_bits]
        for name in ("weights", "weights_pw"):
            if name in names:
                shape = layer.get_variable(name).shape
                layer.set_variable(name, rng.integers(-top, top + 1, shape).astype(np.int8))
        layer.set_variable("threshold", rng.integers(0, 30, layer.get_variable("threshold").shape).astype(np.int32))
    return model


def _connections(rng, n_inputs, units, num_weights):
    w = np.zeros((1, 1, n_inputs, units), np.int8)
    for j in range(units):
        w[0, 0, rng.choice(n_inputs, num_weights, replace=False), j] = 1
    return w


def _learning_state(model):
    layer = model.layers[-1]
    return {name: layer.get_variable(name) for name in ("weights", "threshold_learning", "thswap")}


def test_kws_edge_learning_flow_alike(tmp_path):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (40, 49, 10, 1), dtype=np.uint8)
    y_train = rng.integers(0, 4, 40)
    x_new = rng.integers(0, 256, (12, 49, 10, 1), dtype=np.uint8)
    y_new = rng.integers(0, 2, 12) + 4
    sim, vendor = _kws_model(akida_sim, 1), _kws_model(akida, 1)
    for i in range(0, 40, 16):
        assert_identical(sim.predict_classes(x_train[i:i + 16]), vendor.predict_classes(x_train[i:i + 16]),
                         "predict_classes")
    num_classes, per_class, num_weights = 4, 3, 5
    edge_weights = _connections(rng, 16, num_classes * per_class, num_weights)
    for model in (sim, vendor):
        ak = akida_sim if model is sim else akida
        model.pop_layer()
        model.add(ak.FullyConnected(name="akida_edge_layer", units=num_classes * per_class, activation=False))
        model.compile(optimizer=ak.AkidaUnsupervised(num_weights=num_weights, num_classes=num_classes,
                                                     learning_competition=0.1))
        model.layers[-1].set_variable("weights", edge_weights)
    for i in range(0, 40, 16):
        s = slice(i, i + 16)
        assert_identical(sim.fit(x_train[s], y_train[s].astype(np.int32)),
                         vendor.fit(x_train[s], y_train[s].astype(np.int32)), "fit")
    for name, value in _learning_state(vendor).items():
        assert_identical(_learning_state(sim)[name], value, name)
    sim.save(str(tmp_path / "sim.fbz"))
    vendor.save(str(tmp_path / "vendor.fbz"))
    sim, vendor = akida_sim.Model(str(tmp_path / "sim.fbz")), akida.Model(str(tmp_path / "vendor.fbz"))
    sim.add_classes(2)
    vendor.add_classes(2)
    assert sim.output_shape == vendor.output_shape
    # the new neurons' connections are drawn at random: give both sides the same
    weights = vendor.layers[-1].get_variable("weights")
    weights[..., num_classes * per_class:] = _connections(rng, 16, 2 * per_class, num_weights)
    for model in (sim, vendor):
        model.layers[-1].set_variable("weights", weights)
    assert_identical(sim.fit(x_new, y_new.astype(np.int32)), vendor.fit(x_new, y_new.astype(np.int32)), "fit new")
    for name, value in _learning_state(vendor).items():
        assert_identical(_learning_state(sim)[name], value, name)
    assert_identical(sim.predict_classes(x_new, num_classes=6), vendor.predict_classes(x_new, num_classes=6))
    assert sim.evaluate(x_new, y_new.astype(np.int32), num_classes=6) == \
        vendor.evaluate(x_new, y_new.astype(np.int32), num_classes=6)


def _learner(ak, weights):
    model = ak.Model()
    model.add(ak.InputData(input_shape=(1, 1, 32), input_bits=1))
    model.add(ak.FullyConnected(units=8, activation=False))
    model.compile(optimizer=ak.AkidaUnsupervised(num_weights=6, num_classes=4))
    model.layers[-1].set_variable("weights", weights)
    return model


@pytest.mark.parametrize("labels", [
    3.0, np.float32(2), -1.0, True, 2, -5, [2], [0, 1, 2, 3, 0, 1], np.array([[2]]),
    np.array([0, 1, 2, 3, 0, 1], np.int32).reshape(6, 1), np.array([0, 1, 2, 3, 0, 1], np.int16),
    np.array([0, 1, 2, 3, 0, 1], np.uint64), [],
], ids=repr)
def test_fit_label_forms_alike(labels):
    rng = np.random.default_rng(7)
    x = (rng.random((6, 1, 1, 32)) < 0.4).astype(np.uint8)
    weights = _connections(rng, 32, 8, 6)
    sim, vendor = _learner(akida_sim, weights), _learner(akida, weights)
    assert_identical(sim.fit(x, labels), vendor.fit(x, labels), "fit")
    for name, value in _learning_state(vendor).items():
        assert_identical(_learning_state(sim)[name], value, name)


@pytest.mark.parametrize("labels", [3.5, 4.0, 2 ** 40, np.array([0., 1, 2, 3, 0, 1]), np.array([True, False] * 3),
                                    np.arange(7) % 4, np.array([4] * 6)], ids=repr)
def test_fit_label_refusals_alike(labels):
    x = np.zeros((6, 1, 1, 32), np.uint8)
    weights = _connections(np.random.default_rng(8), 32, 8, 6)
    with pytest.raises(Exception) as theirs:
        _learner(akida, weights).fit(x, labels)
    with pytest.raises(type(theirs.value)):
        _learner(akida_sim, weights).fit(x, labels)


def test_layer_splittable_and_target_components_alike():
    sim, vendor = _kws_model(akida_sim, 2), _kws_model(akida, 2)
    first = [akida_sim.Model(), akida.Model()]
    first[0].add(akida_sim.InputData(input_shape=(4, 4, 2), input_bits=1))
    first[1].add(akida.InputData(input_shape=(4, 4, 2), input_bits=1))
    for ours, theirs in zip(sim.layers + first[0].layers, vendor.layers + first[1].layers):
        assert ours.splittable == theirs.splittable, ours.name
        for member in akida_sim.NP.Type:
            assert ours.is_target_component(member) == \
                theirs.is_target_component(getattr(akida.NP.Type, member.name)), (ours.name, member)


def test_unmapped_power_events_and_module_functions_alike():
    rng = np.random.default_rng(9)
    x = (rng.random((4, 1, 1, 32)) < 0.4).astype(np.uint8)
    weights = _connections(rng, 32, 8, 6)
    sim, vendor = _learner(akida_sim, weights), _learner(akida, weights)
    assert sim.power_events == vendor.power_events == []
    sim.fit(x, 1)
    vendor.fit(x, 1)
    assert_identical(akida_sim.get_learning_histogram(sim.layers[-1]),
                     akida.get_learning_histogram(vendor.layers[-1]), "histogram")
    assert_identical(akida_sim.predict_classes(sim, x, 4), akida.predict_classes(vendor, x, 4), "predict_classes")
    assert akida_sim.get_variable_names(sim.layers[-1]) == akida.get_variable_names(vendor.layers[-1])


def test_compiled_model_dict_alike():
    weights = _connections(np.random.default_rng(10), 32, 8, 6)
    sim, vendor = _learner(akida_sim, weights), _learner(akida, weights)
    ours, theirs = sim.to_dict(), vendor.to_dict()
    assert ours["learning"] == theirs["learning"]
    assert [type(v) for v in ours["learning"].values()] == [type(v) for v in theirs["learning"].values()]
    for mine, vendors in zip(ours["layers"], theirs["layers"]):
        for name, variable in vendors["variables"].items():
            assert mine["variables"][name]["shape"] == variable["shape"], name
            assert mine["variables"][name]["dtype"] == variable["dtype"], name


@pytest.mark.parametrize("activation", [True, False])
@pytest.mark.parametrize("kind", ["zero", "eye", "neg", "tie"])
def test_evaluate_with_silent_samples_alike(activation, kind):
    weights = {"zero": np.zeros((4, 3)), "eye": np.eye(4, 3), "neg": -np.eye(4, 3), "tie": np.ones((4, 3))}[kind]
    x = np.eye(4, dtype=np.uint8).reshape(4, 1, 1, 4)
    results = []
    for ak in (akida_sim, akida):
        model = ak.Model()
        model.add(ak.InputData(input_shape=(1, 1, 4), input_bits=1))
        model.add(ak.FullyConnected(units=3, activation=activation, weights_bits=2))
        model.layers[1].set_variable("weights", weights.astype(np.int8).reshape(1, 1, 4, 3))
        results.append([model.evaluate(x, np.array(labels, np.int32))
                        for labels in ([0, 0, 0, 0], [0, 1, 2, 0], [1, 1, 1, 1], [2, 2, 2, 2], [0, 1, 2, 2])])
    assert results[0] == results[1]


@pytest.mark.parametrize("name", ["AKD1000", "TwoNodesIPv1"])
def test_device_texts_alike(name):
    sim, vendor = getattr(akida_sim, name)(), getattr(akida, name)()
    assert repr(sim.mesh).replace("akida_sim.", "akida.") == repr(vendor.mesh)
    assert repr(sim.mesh.hrc).replace("akida_sim.", "akida.") == repr(vendor.mesh.hrc)
    assert str(sim.ip_version) == str(vendor.ip_version)
    assert [n.has_lut for n in sim.mesh.nps] == [n.has_lut for n in vendor.mesh.nps]
    assert (str(sim.version), repr(sim.version)) == (str(vendor.version), repr(vendor.version))
    for attribute in ("vendor_id", "product_id", "major_rev", "minor_rev"):
        assert getattr(sim.version, attribute) == getattr(vendor.version, attribute), attribute
    assert str(sim.version.ip_version) == str(vendor.version.ip_version)


@pytest.mark.parametrize("seed", range(6))
def test_copied_compiled_model_continues_learning_alike(seed):
    """Model(layers=compiled.layers) is compiled too; its selection counter restarts."""
    rng = np.random.default_rng(seed)
    x = (rng.random((40, 1, 1, 256)) < 0.1).astype(np.uint8)
    y = rng.integers(0, 2, 40).astype(np.int32)
    weights = _connections(rng, 256, 6, 20)
    copies = []
    for ak in (akida_sim, akida):
        model = ak.Model()
        model.add(ak.InputData(input_shape=(1, 1, 256), input_bits=1))
        model.add(ak.FullyConnected(6, activation=False, name="fc"))
        model.compile(optimizer=ak.AkidaUnsupervised(num_weights=20, num_classes=2, learning_competition=0.2))
        model.layers[-1].set_variable("weights", weights)
        model.fit(x[:3], y[:3])
        copy = ak.Model(layers=model.layers)
        assert copy.learning is not None and copy.layers[-1] is not model.layers[-1]
        copy.fit(x[3:], y[3:])
        copies.append(copy)
    for name, value in _learning_state(copies[1]).items():
        assert_identical(_learning_state(copies[0])[name], value, name)


def _sequence_texts(model):
    return [(s.name, str(s.backend), [layer.name for p in s.passes for layer in p.layers]) for s in model.sequences]


@pytest.mark.parametrize("mode", ["AllNps", "Minimal"])
def test_mapped_model_stays_mapped_after_pop_and_add_classes_alike(mode):
    models = []
    for ak in (akida_sim, akida):
        model = _kws_model(ak, 3)
        model.map(ak.AKD1000(), mode=getattr(ak.MapMode, mode))
        model.pop_layer()
        models.append(model)
    assert _sequence_texts(models[0]) == _sequence_texts(models[1])
    assert (models[0].device is not None) == (models[1].device is not None)
    weights = _connections(np.random.default_rng(11), 16, 6, 4)
    for model, ak in zip(models, (akida_sim, akida)):
        model.add(ak.FullyConnected(units=6, activation=False, name="edge"))
        model.compile(optimizer=ak.AkidaUnsupervised(num_weights=4, num_classes=2))
        model.layers[-1].set_variable("weights", weights)
        model.map(ak.AKD1000(), mode=getattr(ak.MapMode, mode))
        model.add_classes(1)
    assert _sequence_texts(models[0]) == _sequence_texts(models[1])
    assert models[0].device is not None and models[1].device is not None


def test_named_hardware_versions_alike():
    for name in ("NSoC_v1", "NSoC_v2", "TwoNodesIP_v1"):
        assert repr(getattr(akida_sim, name)) == repr(getattr(akida, name)), name
    assert (akida_sim.AKD1000().version == akida_sim.NSoC_v2) == (akida.AKD1000().version == akida.NSoC_v2)


def test_unbound_input_layers_alike():
    for make in (lambda ak: ak.InputData(input_shape=(8, 8, 2), input_bits=2),
                 lambda ak: ak.InputConvolutional(input_shape=(8, 8, 3), kernel_size=(3, 3), filters=4,
                                                  kernel_stride=(2, 2))):
        ours, theirs = make(akida_sim), make(akida)
        for attribute in ("input_dims", "output_dims", "input_bits", "output_signed"):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
        assert repr(ours).replace("akida_sim.", "akida.") == repr(theirs)


def test_mapping_a_model_without_neural_layers_alike():
    for ak in (akida_sim, akida):
        model = ak.Model()
        model.map(ak.AKD1000())
        model.add(ak.InputData(input_shape=(8, 8, 2), input_bits=1))
        assert model.device is not None and list(model.sequences) == [], ak.__name__


def test_metrics_of_the_last_software_forward_survive_map_unmap_and_pop_alike():
    """``model.metrics`` keeps the last software forward's counters (names, frame count, the
    window's own values) across map, hw_only map, map(None) and pop_layer."""
    x = np.random.default_rng(3).integers(0, 15, (5, 49, 10, 1)).astype(np.uint8)
    seen = []
    for ak in (akida_sim, akida):
        model = _kws_model(ak, 7)
        steps = [model.metrics.names]
        model.forward(x)
        window = [model.metrics[n] for n in model.metrics.names]
        for change in (lambda: model.map(ak.AKD1000()), lambda: model.map(ak.AKD1000(), hw_only=True),
                       lambda: model.map(None), model.pop_layer):
            change()
            steps.append((model.metrics.names, model.metrics["inference_frames"],
                          [model.metrics[n] for n in model.metrics.names] == window))
        seen.append(steps)
    assert seen[0] == seen[1]


def test_seed_guide_names_give_the_vendors_forward_of_todays_names():
    """A model written with the Akida Execution Engine user guide's names (threshold_fire,
    threshold_fire_bits, threshold_fire_step, pooling_*) forwards as the vendor's same model
    written with today's names."""
    rng = np.random.default_rng(5)
    sim = akida_sim.Model()
    sim.add(akida_sim.InputConvolutional(input_shape=(12, 10, 3), kernel_size=(3, 3), filters=8, weights_bits=8,
                                         threshold_fire=40, threshold_fire_bits=4, threshold_fire_step=3.0,
                                         pooling_type=akida_sim.PoolType.Max, pooling_width=2, pooling_height=2,
                                         pooling_stride_x=2, pooling_stride_y=2, name="ic"))
    sim.add(akida_sim.SeparableConvolutional(kernel_size=(3, 3), filters=16, weights_bits=4, threshold_fire=5,
                                             threshold_fire_bits=2, threshold_fire_step=1.5, name="sep"))
    sim.add(akida_sim.Convolutional(kernel_size=(3, 3), filters=8, weights_bits=4, threshold_fire=3,
                                    threshold_fire_bits=4, pooling_type=akida_sim.PoolType.Average, name="gap"))
    sim.add(akida_sim.FullyConnected(units=4, weights_bits=2, threshold_fire=1, threshold_fire_bits=1, name="fc"))
    for layer in sim.layers:
        for name in layer.get_variable_names():
            if name.startswith("weights"):
                top = 40 if layer.name == "ic" else 1
                layer.set_variable(name, rng.integers(-top, top + 1, layer.get_variable(name).shape).astype(np.int8))
    vendor = sim.to_akida(akida)   # rebuilt from today's names (get_config) and the variables
    x = rng.integers(0, 256, (4, 12, 10, 3)).astype(np.uint8)
    assert_identical(sim.forward(x), vendor.forward(x))
    assert [l.get_variable("threshold").tolist() for l in sim.layers] == \
        [l.get_variable("threshold").tolist() for l in vendor.layers]
