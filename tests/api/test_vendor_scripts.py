"""The vendor's Akida 1.0 tutorials, condensed, run with ``import akida_sim as akida``.

Each test follows the calls one public tutorial or user-guide page makes on
akida objects (KWS and vision edge learning, "Tips to set Akida edge learning
parameters", GXNOR/MNIST inference, mapping on a device), with the dataset and
model downloads replaced by small random data and locally built models of the
same kind of architecture.
"""
import os
from math import ceil

import numpy as np
import pytest

import akida_sim as akida
from akida_sim import cli


def _randomize(model, rng):
    """Random legal weights and small thresholds in every layer of ``model``."""
    for layer in model.layers:
        names = layer.get_variable_names()
        bits = layer.parameters.weights_bits if "weights" in names else None
        top = {1: 1, 2: 1, 4: 7}.get(bits, 40)
        low = 0 if bits == 1 else -top
        for name in ("weights", "weights_pw"):
            if name in names:
                shape = layer.get_variable(name).shape
                layer.set_variable(name, rng.integers(low, top + 1, shape).astype(np.int8))
        if "threshold" in names:
            shape = layer.get_variable("threshold").shape
            layer.set_variable("threshold", rng.integers(0, 20, shape).astype(np.int32))


def _ds_cnn_kws(rng):
    """A small DS-CNN keyword-spotting model: MFCC (49, 10, 1) in, 8 classes out."""
    model = akida.Model()
    model.add(akida.InputConvolutional(input_shape=(49, 10, 1), kernel_size=(5, 5), filters=8,
                                       kernel_stride=(2, 2), weights_bits=8, act_bits=4, name="conv_0"))
    model.add(akida.SeparableConvolutional(kernel_size=(3, 3), filters=8, weights_bits=4, act_bits=4,
                                           name="separable_1"))
    # positional arguments in the vendor's order: kernel_size, filters, name, padding, kernel_stride, weights_bits
    model.add(akida.SeparableConvolutional((3, 3), 8, "separable_2", akida.Padding.Same, (1, 1), 4, act_bits=1,
                                           pool_type=akida.PoolType.Average))
    model.add(akida.FullyConnected(units=8, weights_bits=2, activation=False, name="dense_3"))
    _randomize(model, rng)
    return model


def test_kws_edge_learning_tutorial(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (24, 49, 10, 1), dtype=np.uint8)
    y_train = rng.integers(0, 8, 24)
    x_val = rng.integers(0, 256, (10, 49, 10, 1), dtype=np.uint8)
    y_val = rng.integers(0, 8, 10)
    model_ak = _ds_cnn_kws(rng)
    model_ak.summary()

    # accuracy of the converted model, in batches
    batch_size = 4
    preds_ak = np.zeros(y_val.shape[0])
    num_batches_val = ceil(x_val.shape[0] / batch_size)
    for i in range(num_batches_val):
        s = slice(i * batch_size, (i + 1) * batch_size)
        preds_ak[s] = model_ak.predict_classes(x_val[s])
    assert 0 <= np.sum(preds_ak == y_val) / y_val.shape[0] <= 1

    # replace the last layer by a binary-weight classification layer
    num_classes, num_neurons_per_class = 8, 3
    model_ak.pop_layer()
    spikes = model_ak.forward(x_train[:6])
    num_weights = int(1.2 * np.median(spikes.sum(axis=(1, 2, 3))))
    num_weights = min(max(num_weights, 1), model_ak.get_layer("separable_2").output_dims[-1])
    layer_fc = akida.FullyConnected(name="akida_edge_layer", units=num_classes * num_neurons_per_class,
                                    activation=False)
    model_ak.add(layer_fc)
    model_ak.compile(optimizer=akida.AkidaUnsupervised(num_weights=num_weights, num_classes=num_classes,
                                                       learning_competition=0.1))
    model_ak.summary()
    for i in range(ceil(x_train.shape[0] / batch_size)):
        s = slice(i * batch_size, (i + 1) * batch_size)
        model_ak.fit(x_train[s], y_train[s].astype(np.int32))
    learned = model_ak.get_layer("akida_edge_layer").get_variable("threshold_learning")
    assert (learned > 0).any()

    model_file = os.path.join(tmp_path, "ds_cnn_edge_kws.fbz")
    model_ak.save(model_file)
    del model_ak

    # edge learning: three new classes on the reloaded model, no recompile
    x_new = rng.integers(0, 256, (9, 49, 10, 1), dtype=np.uint8)
    y_new = rng.integers(0, 3, 9) + num_classes
    model_edge = akida.Model(model_file)
    model_edge.add_classes(3)
    assert model_edge.output_shape == [1, 1, (num_classes + 3) * num_neurons_per_class]
    model_edge.fit(x_new, y_new.astype(np.int32))
    preds_new = model_edge.predict_classes(x_new, num_classes=num_classes + 3)
    assert preds_new.shape == (9,) and preds_new.max() < num_classes + 3
    accuracy = model_edge.evaluate(x_new, y_new.astype(np.int32), num_classes=num_classes + 3)
    assert accuracy == pytest.approx(np.mean(preds_new == y_new))
    assert "Learning Summary" in capsys.readouterr().out


def test_vision_edge_learning_tutorial():
    rng = np.random.default_rng(1)
    model_ak = akida.Model()
    model_ak.add(akida.InputConvolutional(input_shape=(16, 16, 3), kernel_size=(3, 3), filters=8,
                                          kernel_stride=(2, 2), weights_bits=8, act_bits=1))
    model_ak.add(akida.Convolutional(kernel_size=(3, 3), filters=16, weights_bits=4, act_bits=1))
    model_ak.add(akida.FullyConnected(units=10, activation=False))
    _randomize(model_ak, rng)
    object_dict = {k: [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(4)] for k in (15, 17, 24)}
    object_ids = list(object_dict)
    num_classes = len(object_dict)
    model_ak.pop_layer()
    model_ak.add(akida.FullyConnected(name="akida_edge_layer", units=num_classes * 1, activation=False))
    model_ak.compile(optimizer=akida.AkidaUnsupervised(num_weights=30, num_classes=num_classes,
                                                       learning_competition=0.1))
    num_shots = 1
    for i in range(len(object_ids)):
        for image in object_dict[object_ids[i]][:num_shots]:
            model_ak.fit(np.expand_dims(image, axis=0), i)  # one Python int label
    for i in range(len(object_ids)):
        test_images = object_dict[object_ids[i]][num_shots:]
        predictions = np.zeros(len(test_images))
        for j in range(len(test_images)):
            predictions[j] = model_ak.predict_classes(np.expand_dims(test_images[j], axis=0),
                                                      num_classes=num_classes)[0]
        assert set(predictions) <= set(range(num_classes))


def test_learning_parameters_tutorial():
    rng = np.random.default_rng(2)
    spikes = (rng.random((30, 2, 2, 16)) < 0.2).astype(np.uint8)
    num_weights = int(1.2 * np.median(spikes.sum(axis=(1, 2, 3))))

    def create_one_fc_model(units):
        model_fc = akida.Model()
        model_fc.add(akida.InputData(name="input", input_shape=(spikes.shape[-3], spikes.shape[-2],
                                                                spikes.shape[-1]), input_bits=1))
        model_fc.add(akida.FullyConnected(name="akida_edge_layer", units=units, activation=False))
        model_fc.compile(optimizer=akida.AkidaUnsupervised(num_weights=num_weights, num_classes=1,
                                                           initial_plasticity=1, min_plasticity=0.1,
                                                           plasticity_decay=0.25, learning_competition=0.0))
        return model_fc

    neurons_per_class = [2, 5, 10]
    losses, learned = [], []
    for n in neurons_per_class:
        model_fc = create_one_fc_model(units=n)
        model_fc.fit(spikes[rng.permutation(len(spikes))])
        out = model_fc.forward(spikes)
        losses.append(np.sum(num_weights - out.max(axis=(1, 2, 3))) / len(spikes))
        layer = model_fc.get_layer("akida_edge_layer")
        learned.append(int(np.sum(layer.get_variable("threshold_learning") > 0)))
        histogram = akida.get_learning_histogram(layer)
        assert histogram[:, 1].sum() == learned[-1]
    assert all(1 <= k <= n for k, n in zip(learned, neurons_per_class))
    assert min(losses) >= 0


def test_gxnor_mnist_inference_tutorial(tmp_path, capsys):
    rng = np.random.default_rng(3)
    model = akida.Model()
    model.add(akida.InputConvolutional(input_shape=(28, 28, 1), kernel_size=(5, 5), filters=8, weights_bits=2,
                                       pool_type=akida.PoolType.Max, pool_size=(2, 2), act_bits=2, name="conv_0"))
    model.add(akida.Convolutional(kernel_size=(3, 3), filters=16, weights_bits=2, act_bits=2,
                                  pool_type=akida.PoolType.Max, pool_size=(2, 2), name="conv_1"))
    model.add(akida.FullyConnected(units=10, weights_bits=2, activation=False, name="dense_2"))
    _randomize(model, rng)
    model.save(str(tmp_path / "gxnor_mnist.fbz"))
    model_akida = akida.Model(str(tmp_path / "gxnor_mnist.fbz"))
    model_akida.summary()
    test_set = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    test_set = np.expand_dims(test_set, -1)
    test_label = rng.integers(0, 10, 12)
    results = model_akida.predict_classes(test_set[:12], num_classes=10)
    accuracy = np.mean(test_label == results)
    print("Model statistics")
    print(model_akida.statistics)
    outputs = model_akida.predict(test_set[0].reshape(1, 28, 28, 1))
    assert outputs.squeeze().shape == (10,) and 0 <= accuracy <= 1
    assert "Average framerate = " in capsys.readouterr().out


def test_mapping_user_guide_flow(capsys):
    rng = np.random.default_rng(4)
    model = _ds_cnn_kws(rng)
    device = akida.devices()[0]
    assert device.version == akida.AKD1000().version and len(device.mesh.nps) == 78
    model.map(device)
    model.summary()
    assert model.device is device
    for sequence in model.sequences:
        assert sequence.backend in (akida.BackendType.Hardware, akida.BackendType.Software)
        assert [layer for p in sequence.passes for layer in p.layers]
    for layer in model.layers[1:]:
        if layer.mapping is not None:
            assert all(layer.is_target_component(np_.type) for np_ in layer.mapping.nps)
    assert model.power_events == []
    model.forward(rng.integers(0, 256, (3, 49, 10, 1), dtype=np.uint8))
    metrics = model.metrics
    assert metrics["inference_frames"] == 3 and metrics["inference_clk"] > 0 and metrics["program_clk"] > 0
    assert str(model.statistics)
    events, s = model.power_events, model.statistics
    assert events[0].ts == metrics["inference_start"] and events[0].voltage is None
    assert [e.power for e in events] == [s.powers["floor"], s.powers["max"], s.powers["floor"]]
    ts = [e.ts for e in events] + [metrics["inference_start"] + s.time_s * 1e3]
    held = sum(e.power * (t1 - t0) for e, t0, t1 in zip(events, ts, ts[1:]))
    assert held / (s.time_s * 1e3) == pytest.approx(s.powers["average"])   # the levels average as modelled
    model.map(None)
    assert model.power_events == [] and model.device is None
    assert "HW/" in capsys.readouterr().out


def _learner(num_classes=4):
    model = akida.Model()
    model.add(akida.InputData(input_shape=(1, 1, 32), input_bits=1))
    model.add(akida.FullyConnected(units=8, activation=False))
    model.compile(optimizer=akida.AkidaUnsupervised(num_weights=6, num_classes=num_classes, seed=5))
    return model


SAMPLES = (np.random.default_rng(5).random((6, 1, 1, 32)) < 0.4).astype(np.uint8)


@pytest.mark.parametrize("given, same_as", [
    (3.0, 3), (np.float32(2), 2), (-1.0, -1), (True, 1),
    (np.array([[0], [1], [2], [3], [0], [1]], np.int32), np.array([0, 1, 2, 3, 0, 1], np.int32)),
    ([2], 2), (np.array([[2]]), 2), (np.array([0, 1, 2, 3, 0, 1], np.uint64), np.array([0, 1, 2, 3, 0, 1])),
])
def test_fit_label_forms_the_vendor_accepts(given, same_as):
    a, b = _learner(), _learner()
    assert np.array_equal(a.fit(SAMPLES, given), b.fit(SAMPLES, same_as))
    for name in ("weights", "threshold_learning", "thswap"):
        assert np.array_equal(a.layers[-1].get_variable(name), b.layers[-1].get_variable(name))


@pytest.mark.parametrize("labels, error, words", [
    (3.5, akida.SimTypeError, "3.5"),
    (2 ** 40, akida.SimTypeError, "int32"),
    (np.zeros((1, 6), np.int32), akida.SimValueError, "shape (1, 6)"),
    (np.zeros((2, 3), np.int32), akida.SimValueError, "shape (2, 3)"),
    (4.0, akida.SimRuntimeError, "larger than allowed"),
    (np.array([True, False] * 3), akida.SimTypeError, "bool"),
])
def test_fit_refuses_other_labels(labels, error, words):
    model = _learner()
    with pytest.raises(error, match="labels|Label") as info:
        model.fit(SAMPLES, labels)
    assert words in str(info.value)


def test_layer_splittable_and_target_components():
    model = _ds_cnn_kws(np.random.default_rng(6))
    types = akida.NP.Type
    expected = {"conv_0": (False, {types.HRC}), "separable_1": (True, {types.CNP1, types.CNP2}),
                "separable_2": (True, {types.CNP1, types.CNP2}), "dense_3": (False, {types.FNP2, types.FNP3})}
    for layer in model.layers:
        splittable, targets = expected[layer.name]
        assert layer.splittable is splittable
        assert {t for t in types if layer.is_target_component(t)} == targets
    with pytest.raises(akida.SimTypeError, match="hw_type"):
        model.layers[0].is_target_component("HRC")


def test_module_functions_call_the_methods():
    model = _learner()
    model.fit(SAMPLES, 1)
    layer = model.layers[-1]
    assert np.array_equal(akida.get_learning_histogram(layer), layer.get_learning_histogram())
    assert layer.get_learning_histogram().dtype == np.uint32
    assert akida.get_variable_names(layer) == layer.get_variable_names()
    akida.set_variable(layer, "threshold", np.full(8, 2, np.int32))
    assert np.array_equal(akida.get_variable(layer, "threshold"), np.full(8, 2, np.int32))
    assert np.array_equal(akida.predict_classes(model, SAMPLES, num_classes=4),
                          model.predict_classes(SAMPLES, num_classes=4))


def test_cli_version_subcommand(capsys):
    assert cli.main(["version"]) == 0
    assert capsys.readouterr().out.strip() == akida.__version__


def test_copied_compiled_model_learns_like_a_reloaded_one(tmp_path):
    model = _learner()
    model.fit(SAMPLES[:3], [0, 1, 2])
    copy = akida.Model(layers=model.layers)
    assert copy.learning.get_config() == model.learning.get_config()
    model.save(str(tmp_path / "m.fbz"))
    reloaded = akida.Model(str(tmp_path / "m.fbz"))
    for other in (copy, reloaded):
        other.fit(SAMPLES[3:], [3, 0, 1])
    for name in ("weights", "threshold_learning", "thswap"):
        assert np.array_equal(copy.layers[-1].get_variable(name), reloaded.layers[-1].get_variable(name))
    assert model.layers[-1].get_variable("thswap").tolist() != copy.layers[-1].get_variable("thswap").tolist()


def test_adding_a_compiled_layer_copies_it_without_learning():
    model = _learner()
    model.fit(SAMPLES, 1)
    other = akida.Model(layers=model.layers[:1])
    other.add(model.layers[-1])
    assert other.learning is None and other.layers[-1] is not model.layers[-1]
    assert np.array_equal(other.layers[-1].get_variable("weights"), model.layers[-1].get_variable("weights"))
    assert np.array_equal(other.forward(SAMPLES), model.forward(SAMPLES))


def test_a_mapped_model_stays_mapped_when_its_layers_change():
    """The edge-learning pattern: load, map, pop the classifier, add and compile a learning layer."""
    rng = np.random.default_rng(7)
    model = _ds_cnn_kws(rng)
    device = akida.AKD1000()
    model.map(device, mode=akida.MapMode.Minimal)
    model.pop_layer()
    assert model.device is device and [s.layers[-1].name for s in model.sequences][-1] == "separable_2"
    model.add(akida.FullyConnected(units=6, activation=False, name="akida_edge_layer"))
    model.compile(optimizer=akida.AkidaUnsupervised(num_weights=4, num_classes=2))
    assert model.device is device
    fresh = akida.Model(layers=model.layers)
    fresh.map(device, mode=akida.MapMode.Minimal)
    assert [(s.name, s.backend) for s in model.sequences] == [(s.name, s.backend) for s in fresh.sequences]
    model.add_classes(1)
    assert model.device is device and model.sequences[-1].layers[-1].output_dims == [1, 1, 9]
    model.forward(rng.integers(0, 256, (2, 49, 10, 1), dtype=np.uint8))
    assert model.metrics["inference_clk"] > 0
    while model.layer_count > 1:
        model.pop_layer()
    assert model.device is device and [s.name for s in model.sequences] == ["HW/conv_0"]
    spikes = akida.Model()
    spikes.map(device)  # nothing to map yet
    assert spikes.device is device and spikes.sequences == []
    spikes.add(akida.InputData(input_shape=(8, 8, 2), input_bits=1))
    spikes.add(akida.Convolutional(kernel_size=(3, 3), filters=4))
    assert spikes.device is device and len(spikes.sequences) == 1
    spikes.pop_layer()  # only the InputData is left: still mapped, no sequence
    assert spikes.device is device and spikes.sequences == []
    spikes.add(akida.Convolutional(kernel_size=(3, 3), filters=4))
    assert spikes.device is device and len(spikes.sequences) == 1


def test_a_mapping_that_fails_after_a_change_raises_and_unmaps():
    model = akida.Model()
    model.add(akida.InputData(input_shape=(8, 8, 2), input_bits=1))
    model.add(akida.Convolutional(kernel_size=(3, 3), filters=8))
    model.layers[1].set_variable("weights", np.ones((3, 3, 2, 8), np.int8))
    model.map(akida.AKD1000(), hw_only=True)
    with pytest.raises(RuntimeError, match="Cannot map layer 'mp'"):
        model.add(akida.Convolutional(kernel_size=(3, 3), filters=8, pool_type=akida.PoolType.Max,
                                      pool_size=(2, 2), name="mp"))
    assert model.layers[-1].name == "mp" and model.device is None


def test_device_versions_read_like_the_vendor_s():
    version = akida.TwoNodesIPv1().version
    assert version == "BC.A1.003.006" and repr(version) == "BC.A1.003.006"
    assert (version.vendor_id, version.product_id, version.major_rev, version.minor_rev) == (0xBC, 0xA1, 3, 6)
    assert version.ip_version == akida.IpVersion.v1 == akida.AKD1000().ip_version
    assert version == akida.TwoNodesIP_v1 and akida.AKD1000().version == akida.NSoC_v2 != akida.NSoC_v1
    with pytest.raises(ValueError, match="version"):
        akida.Device(akida.AKD1000().hw_mesh, version="1.2")


def test_input_layers_know_their_shape_before_joining_a_model():
    inp = akida.InputData(input_shape=(8, 8, 2), input_bits=2)
    assert (inp.input_dims, inp.output_dims, inp.input_bits) == ([8, 8, 2], [8, 8, 2], 2)
    ic = akida.InputConvolutional(input_shape=(8, 8, 3), kernel_size=(3, 3), filters=4)
    assert (ic.input_dims, ic.output_dims, ic.input_bits) == ([8, 8, 3], [8, 8, 4], 8)
