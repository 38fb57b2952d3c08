"""The ConversionReport of a model quantized by quantizeml, and ``akida-sim convert`` of such a model file.

The models are the look-alikes of qml_look_alikes (no vendor package
needed); tests/oracle/test_oracle_quantizeml.py checks a real quantizeml
model's report against the vendor's converter.
"""
import warnings

import numpy as np
import pytest

import akida_sim
from akida_sim import cli
from qml_look_alikes import (CUSTOM_OBJECTS, OUT4, Dequantizer, InputQuantizer, QuantizedConv2D, QuantizedDense,
                             QuantizedFlatten, QuantizedReLU, QuantizedRescaling, QuantizedSeparableConv2D, qml_model,
                             tf_keras, weights_config, with_weights)

#: uint8 images and class labels for the look-alike models (6x6x1 inputs, 2 classes).
IMAGES = np.random.default_rng(1).integers(0, 256, (24, 6, 6, 1)).astype(np.uint8)
LABELS = np.arange(24) % 2
#: Weight error columns of a report row.
WEIGHT_COLUMNS = ("weight_rms_error", "weight_max_abs_error", "weight_relative_error")


def _hand_weight_errors(kernel, bits):
    """RMS, max and relative error of a per-channel symmetric quantization of ``kernel`` at ``bits``, float64."""
    kernel = kernel.astype(np.float64)
    top = 2 ** (bits - 1) - 1
    scales = np.max(np.abs(kernel), axis=tuple(range(kernel.ndim - 1))) / top
    error = np.clip(np.round(kernel / scales), -top - 1, top) * scales - kernel
    rms = np.sqrt(np.mean(error ** 2))
    return rms, np.max(np.abs(error)), rms / np.sqrt(np.mean(kernel ** 2))


def test_the_report_has_one_row_per_akida_layer_and_says_quantizeml():
    model = qml_model()
    converted, report = akida_sim.convert(model, return_report=True)
    assert report.method == "quantizeml" and report.samples == 0 and report.input_scaling == (1, 0)
    assert [row["name"] for row in report.layers] == [layer.name for layer in converted.layers]
    first, last = report.layers
    assert first["akida_type"] == "InputConvolutional" and first["keras_layers"] == ["conv", "relu"]
    assert (first["weights_bits"], first["act_bits"], last["weights_bits"], last["act_bits"]) == (8, 4, 4, None)
    assert first["act_step_keras"] == 0.5  # ReLU range 6 on 4 unsigned bits: frac_bits 1
    assert last["act_step_keras"] is None
    for row in report.layers:
        assert row["calibrated_max_value"] is None
        assert row["act_step_clamped"] is False and row["threshold_clipped"] is False
        assert all(np.isfinite(row[column]) for column in WEIGHT_COLUMNS)
        assert not any(key.startswith("output_") for key in row)
    assert report.output_error is None and report.float_accuracy is None
    text = str(report)
    assert text.startswith("ConversionReport: 2 layers, 0 samples, input_scaling=(1, 0), method=quantizeml")
    assert "accuracy" not in text


@pytest.mark.parametrize("layer, bits, row", [("conv", 8, 0), ("dense", 4, 1)])
def test_weight_errors_are_the_dequantized_integers_against_the_float_kernel(layer, bits, row):
    model = qml_model()
    _, report = akida_sim.convert(model, return_report=True)
    expected = _hand_weight_errors(model.get_layer(layer).get_weights()[0], bits)
    got = tuple(report.layers[row][column] for column in WEIGHT_COLUMNS)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_a_separable_row_has_depthwise_and_pointwise_weight_errors():
    separable = QuantizedSeparableConv2D(4, 3, padding="same", name="separable", quant_config={
        "dw_weight_quantizer": {"bitwidth": 4}, "pw_weight_quantizer": {"bitwidth": 4}})
    model = qml_model(hidden=[separable, QuantizedReLU(max_value=6.0, name="relu_2", quant_config=OUT4)])
    _, report = akida_sim.convert(model, return_report=True)
    row = report.layers[1]
    assert row["akida_type"] == "SeparableConvolutional" and row["keras_layers"] == ["separable", "relu_2"]
    for prefix in ("weight", "weight_pw"):
        assert all(np.isfinite(row[column.replace("weight", prefix)]) for column in WEIGHT_COLUMNS)
    pointwise = separable.get_weights()[1]
    np.testing.assert_allclose(row["weight_pw_rms_error"], _hand_weight_errors(pointwise, 4)[0], rtol=1e-5)


def test_samples_and_labels_give_both_accuracies():
    model = qml_model()
    converted, report = akida_sim.convert(model, return_report=True, samples=IMAGES, labels=LABELS)
    assert report.samples == len(IMAGES)
    keras_classes = np.argmax(model.predict(IMAGES.astype(np.float32), verbose=0), axis=1)
    akida_classes = np.argmax(converted.predict(IMAGES).reshape(len(IMAGES), -1), axis=1)
    assert report.float_accuracy == np.mean(keras_classes == LABELS)
    assert report.converted_accuracy == np.mean(akida_classes == LABELS)
    assert "accuracy: float" in str(report) and report.warnings == []


def test_a_last_layer_with_activation_gives_no_converted_accuracy():
    model = with_weights(tf_keras.Sequential([
        tf_keras.Input((6, 6, 1)), InputQuantizer(name="input_quantizer"),
        QuantizedConv2D(3, 3, name="conv", quant_config=weights_config(8)),
        QuantizedReLU(max_value=6.0, name="relu", quant_config=OUT4), QuantizedFlatten(name="flatten"),
        QuantizedDense(2, name="dense", quant_config=weights_config(4)),
        QuantizedReLU(max_value=6.0, name="relu_2", quant_config=OUT4), Dequantizer(name="dequantizer")]))
    _, report = akida_sim.convert(model, return_report=True, samples=IMAGES, labels=LABELS)
    assert report.float_accuracy is not None and report.converted_accuracy is None
    assert report.layers[-1]["act_step_keras"] == 0.5


def test_a_first_rescaling_gives_the_input_scaling():
    model = with_weights(tf_keras.Sequential([
        tf_keras.Input((6, 6, 1)), InputQuantizer(name="input_quantizer"), QuantizedRescaling(1 / 255, name="scale"),
        QuantizedConv2D(3, 3, name="conv", quant_config=weights_config(8)),
        QuantizedReLU(max_value=6.0, name="relu", quant_config=OUT4), QuantizedFlatten(name="flatten"),
        QuantizedDense(2, name="dense", quant_config=weights_config(4)), Dequantizer(name="dequantizer")]))
    _, report = akida_sim.convert(model, return_report=True)
    assert report.input_scaling == (255, 0) and "input_scaling=(255, 0)" in str(report)


def test_samples_off_the_uint8_grid_warn_and_the_report_keeps_the_warning():
    with pytest.warns(UserWarning, match="does not match the model's input"):
        _, report = akida_sim.convert(qml_model(), return_report=True, samples=IMAGES / 255, labels=LABELS)
    assert len(report.warnings) == 1 and "does not match the model's input" in report.warnings[0]


@pytest.mark.parametrize("arguments, match", [
    (dict(labels=LABELS), "'labels' need 'samples'"),
    (dict(samples=IMAGES[:, :5]), r"'samples' have shape \(5, 6, 1\) per sample, the model input is \(6, 6, 1\)"),
    (dict(samples=IMAGES[:0]), r"'samples' must be a batch"),
    (dict(samples=np.full((2, 6, 6, 1), np.nan)), "'samples' must be finite"),
    (dict(samples=IMAGES, labels=LABELS + 1), r"'labels' holds classes in \[1, 2\], the model has 2 outputs"),
])
def test_bad_samples_or_labels_are_refused(arguments, match):
    with pytest.raises(akida_sim.ConversionError, match=match):
        akida_sim.convert(qml_model(), return_report=True, **arguments)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The look-alike model saved as .h5 and .keras by tf_keras, with uint8 samples and labels as .npy files."""
    folder = tmp_path_factory.mktemp("cli_quantizeml")
    model = qml_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf_keras calls HDF5 a legacy format
        model.save(folder / "qml.h5")
    model.save(folder / "qml.keras")
    np.save(folder / "x.npy", IMAGES)
    np.save(folder / "y.npy", LABELS)
    return folder


@pytest.mark.parametrize("name", ["qml.h5", "qml.keras"])
def test_the_cli_converts_a_quantizeml_model_file_with_samples_and_labels(saved, capsys, monkeypatch, name):
    monkeypatch.chdir(saved)
    with tf_keras.utils.custom_object_scope(CUSTOM_OBJECTS):  # where quantizeml is imported, its classes are known
        assert cli.main(["convert", name, "--samples", "x.npy", "--labels", "y.npy", "-o", "qml.aksim"]) == 0
    out = capsys.readouterr().out
    assert "Model Summary" in out and "accuracy: float" in out
    assert "ConversionReport: 2 layers, 24 samples, input_scaling=(1, 0), method=quantizeml" in out
    converted = akida_sim.Model(str(saved / "qml.aksim"))
    np.testing.assert_array_equal(converted.forward(IMAGES), akida_sim.convert(qml_model()).forward(IMAGES))


@pytest.mark.parametrize("options", [["--weights-bits", "4"], ["--act-bits", "relu=2"], ["--method", "hardware"],
                                     ["--input-weights-bits", "8", "--input-scaling", "1", "0"]])
def test_the_cli_refuses_quantization_options_for_a_quantizeml_model(saved, capsys, monkeypatch, options):
    monkeypatch.chdir(saved)
    with tf_keras.utils.custom_object_scope(CUSTOM_OBJECTS):
        assert cli.main(["convert", "qml.h5", *options]) == 2
    err = capsys.readouterr().err
    named = [option for option in options if option.startswith("--")]
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"akida-sim: error: {', '.join(named)}: ")
    assert "quantized by quantizeml already" in err


def test_the_cli_says_to_install_quantizeml_for_a_quantizeml_model_file(saved, capsys, monkeypatch):
    from akida_sim import cli_convert

    real_import = cli_convert.quiet_import

    def no_quantizeml(name):
        if name == "quantizeml":
            raise ImportError(f"No module named {name!r}")
        return real_import(name)

    monkeypatch.setattr(cli_convert, "quiet_import", no_quantizeml)
    monkeypatch.chdir(saved)
    assert cli.main(["convert", "qml.keras"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "MODEL 'qml.keras' holds quantizeml layers" in err and "akida-sim[quantizeml]" in err
