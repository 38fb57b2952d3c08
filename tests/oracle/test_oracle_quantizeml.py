"""akida_sim.convert of quantizeml-quantized models against the vendor's cnn2snn.convert.

Random tf_keras float models are quantized with the vendor's current flow
(``quantizeml.models.quantize`` under ``cnn2snn.set_akida_version(AkidaVersion.v1)``);
``akida_sim.convert`` of the quantized model must give the layers, the
parameters and every variable of ``cnn2snn.convert`` (whose model starts with
a software Quantizer layer, the identity on uint8 images, which akida_sim's
model does without), and the same ``forward`` outputs on uint8 images.
"""
import os
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import akida_sim
from model_specs import STATS
from test_oracle_convert import _zoo_model, assert_same_models, outcome, set_random_weights

akida = pytest.importorskip("akida")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
cnn2snn = pytest.importorskip("cnn2snn")
quantizeml_models = pytest.importorskip("quantizeml.models")
keras = pytest.importorskip("tf_keras")
pytestmark = pytest.mark.oracle

#: Random models compared.
MODELS = 12
#: uint8 calibration images per model.
CALIBRATION = 32


def _conv_block(rng, layers, spatial, first, last):
    """Keras layers of one conv/separable block and the spatial size after it (None after a GAP)."""
    separable = not first and rng.random() < 0.4
    kernel = int(rng.choice([1, 3, 5] if spatial >= 5 else [1, 3]))
    stride = int(rng.choice([1, 2])) if (kernel > 1 or first) else 1
    padding = "same" if kernel == 1 else str(rng.choice(["same", "valid"]))
    out = -(-spatial // stride) if padding == "same" else (spatial - kernel) // stride + 1
    if out < 1:
        padding, out = "same", -(-spatial // stride)
    block = [(layers.SeparableConv2D if separable else layers.Conv2D)(
        int(rng.integers(2, 7)), kernel, strides=stride, padding=padding, use_bias=bool(rng.random() < 0.8))]
    if rng.random() < 0.5:
        block.append(layers.BatchNormalization())
    pool = str(rng.choice(["none", "max", "gap"], p=[0.5, 0.3, 0.2])) if not first or not last else "none"
    relu = [] if last else [layers.ReLU(float(rng.choice([1.0, 2.0, 6.0])))]
    if pool == "max" and out >= 2 and not last:
        size = int(rng.choice([2, 3])) if out >= 3 else 2
        pool_stride = int(rng.integers(1, size + 1))
        pooled = -(-out // pool_stride) if padding == "same" else (out - size) // pool_stride + 1
        if pooled >= 1:
            return block + [layers.MaxPooling2D(size, pool_stride, padding=padding)] + relu, pooled
    if pool == "gap" and not first and out * out <= 256:
        return block + [layers.GlobalAveragePooling2D()] + relu, None
    return block + relu, out


def random_float_model(seed):
    """(tf_keras float model on uint8 images, calibration images, test images) for ``seed``."""
    rng = np.random.default_rng(seed)
    layers = keras.layers
    spatial = int(rng.integers(5, 12))
    channels = int(rng.choice([1, 3]))
    body = [keras.Input((spatial, spatial, channels))]
    blocks = int(rng.integers(2, 5))
    conv_blocks = int(rng.integers(1, blocks + 1))
    size, flattened = spatial, False
    for k in range(blocks):
        last = k == blocks - 1
        if k < conv_blocks and size is not None:
            block, size = _conv_block(rng, layers, size, k == 0, last)
            body += block
            continue
        if not flattened:
            body.append(layers.Flatten())
            flattened = True
        body.append(layers.Dense(int(rng.integers(2, 9)), use_bias=bool(rng.random() < 0.8)))
        if not last:
            body.append(layers.ReLU(float(rng.choice([1.0, 4.0]))))
    if rng.random() < 0.3:
        body.append(layers.Softmax())
    model = keras.Sequential(body)
    set_random_weights(model, rng)
    images = rng.integers(0, 256, (CALIBRATION + 6, spatial, spatial, channels)).astype(np.uint8)
    images[0] = 255  # the InputQuantizer calibrates on the full uint8 range
    images[1] = 0
    return model, images[:CALIBRATION], images[CALIBRATION:]


def quantize(model, samples, weight_bits=4, activation_bits=4, input_weight_bits=8, per_tensor=True):
    """The model quantized by quantizeml for Akida 1.0 (activation ranges per tensor or per channel)."""
    params = quantizeml_models.QuantizationParams(weight_bits=weight_bits, activation_bits=activation_bits,
                                                  input_weight_bits=input_weight_bits,
                                                  per_tensor_activations=per_tensor, input_dtype="uint8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cnn2snn.set_akida_version(cnn2snn.AkidaVersion.v1):
            return quantizeml_models.quantize(model, qparams=params, samples=samples.astype(np.float32),
                                              num_samples=len(samples), batch_size=len(samples))


def vendor_convert(qmodel):
    with cnn2snn.set_akida_version(cnn2snn.AkidaVersion.v1):
        return cnn2snn.convert(qmodel)


def assert_same_as_vendor(ours, theirs, images):
    """Same layers, parameters and variables as the vendor's model (its software Quantizer aside), same outputs."""
    vendor_layers = list(theirs.layers)
    quantizer = vendor_layers.pop(0)
    assert quantizer.parameters.layer_type == akida.LayerType.Quantizer
    np.testing.assert_array_equal(quantizer.variables["scales"], 1)
    np.testing.assert_array_equal(quantizer.variables["zero_points"], 0)
    assert_same_models(ours, SimpleNamespace(layers=vendor_layers, forward=theirs.forward), images)
    STATS["quantizeml: models compared (layers, variables and forward identical)"] += 1


@pytest.mark.parametrize("seed", range(MODELS))
def test_quantizeml_model_converts_to_the_vendors_layers_and_integers(seed):
    rng = np.random.default_rng(1000 + seed)
    model, samples, images = random_float_model(seed)
    bits = dict(weight_bits=int(rng.choice([2, 4])), activation_bits=int(rng.choice([1, 2, 4])),
                input_weight_bits=int(rng.choice([4, 8])), per_tensor=bool(rng.random() < 0.5))
    qmodel = quantize(model, samples, **bits)
    theirs, vendor_error = outcome(lambda: vendor_convert(qmodel))
    ours, error = outcome(lambda: akida_sim.convert(qmodel))
    if vendor_error is not None:
        assert error is not None, f"the vendor refused ({vendor_error}), akida_sim converted"
        STATS["quantizeml: models both refused"] += 1
        return
    assert error is None, error
    assert_same_as_vendor(ours, theirs, images)


@pytest.mark.parametrize("name", ["gxnor_mnist", "akidanet"])
def test_vendor_zoo_architecture_quantized_by_quantizeml_converts_to_the_vendors_integers(name):
    model = _zoo_model(name)
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (CALIBRATION + 4,) + tuple(model.input_shape[1:])).astype(np.uint8)
    images[0] = 255
    qmodel = quantize(model, images[:CALIBRATION])
    assert_same_as_vendor(akida_sim.convert(qmodel), vendor_convert(qmodel), images[CALIBRATION:])


def test_a_model_quantized_for_akida_2_is_refused_naming_the_layer():
    """quantizeml's defaults (Akida 2.0: 8-bit weights and activations): both converters refuse it for Akida 1.0."""
    model, samples, _ = random_float_model(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qmodel = quantizeml_models.quantize(model, samples=samples.astype(np.float32), num_samples=len(samples),
                                            batch_size=len(samples))
    with pytest.raises(ValueError):
        vendor_convert(qmodel)
    relu = [layer.name for layer in qmodel.layers if type(layer).__name__ == "QuantizedReLU"][0]
    with pytest.raises(akida_sim.ConversionError, match=f"'{relu}'.*activations of 8 bits.*Akida 2.0"):
        akida_sim.convert(qmodel)


#: The random model whose report is checked (its last layer has no activation: both accuracies are given).
REPORT_SEED = 3


@pytest.fixture(scope="module")
def reported():
    """(quantizeml model, uint8 images, labels: the float model's classes) of ``REPORT_SEED``."""
    model, samples, _ = random_float_model(REPORT_SEED)
    images = np.random.default_rng(7).integers(0, 256, (64,) + tuple(model.input_shape[1:])).astype(np.uint8)
    labels = np.argmax(model.predict(images.astype(np.float32), verbose=0), axis=1)
    return quantize(model, samples), images, labels


def _accuracy(scores, labels):
    return np.mean(np.argmax(np.asarray(scores).reshape(len(labels), -1), axis=1) == labels)


def test_a_quantizeml_models_report_gives_the_accuracy_of_the_vendors_converted_model(reported):
    """converted_accuracy is the vendor's converted model's on the same uint8 images; float_accuracy the Keras one's."""
    qmodel, images, labels = reported
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, report = akida_sim.convert(qmodel, return_report=True, samples=images, labels=labels)
    vendor = vendor_convert(qmodel)
    assert report.method == "quantizeml" and report.samples == len(images)
    assert [row["name"] for row in report.layers] == [layer.name for layer in ours.layers]
    assert report.converted_accuracy == _accuracy(vendor.predict(images), labels)
    assert report.float_accuracy == _accuracy(qmodel.predict(images.astype(np.float32), verbose=0), labels)


def test_the_cli_converts_a_saved_quantizeml_model_file(reported, tmp_path):
    """``akida-sim convert`` of the model saved as .h5, in a new process (it imports quantizeml): the same model."""
    qmodel, images, labels = reported
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qmodel.save(tmp_path / "qml.h5")
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", labels)
    done = subprocess.run([sys.executable, "-m", "akida_sim", "convert", str(tmp_path / "qml.h5"), "--samples",
                           str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "method=quantizeml" in done.stdout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = akida_sim.convert(qmodel)
    saved = akida_sim.Model(str(tmp_path / "qml.aksim"))
    np.testing.assert_array_equal(saved.forward(images), converted.forward(images))
