"""Real data: a float Keras CNN trained on sklearn's digits, converted at 4 bits; a 1-bit
feature extractor with edge learning on top."""
import numpy as np
import pytest

import akida_sim
from keras_models import digits_cnn


@pytest.fixture(scope="module")
def trained(keras, digits):
    train_x, train_y, _, _ = digits
    keras.utils.set_random_seed(0)
    model = digits_cnn(keras)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(train_x.astype(np.float32), train_y, epochs=8, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def converted(trained, digits):
    train_x, train_y, _, _ = digits
    return akida_sim.convert(trained, samples=train_x[:400], labels=train_y[:400], return_report=True)


def test_4bit_accuracy_within_2_points_of_float(trained, converted, digits):
    _, _, test_x, test_y = digits
    model, _ = converted
    float_accuracy = np.mean(np.argmax(trained.predict(test_x.astype(np.float32), verbose=0), axis=1) == test_y)
    akida_accuracy = np.mean(np.argmax(model.predict(test_x).reshape(len(test_x), -1), axis=1) == test_y)
    assert float_accuracy > 0.9
    assert akida_accuracy >= float_accuracy - 0.02


def test_layers_and_report_rows(converted):
    model, report = converted
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputConvolutional", "SeparableConvolutional", "Convolutional", "FullyConnected"]
    assert [row["name"] for row in report.layers] == [layer.name for layer in model.layers]
    first = report.layers[0]
    assert first["keras_layers"] == ["conv2d", "batch_normalization", "max_pooling2d", "re_lu"]
    assert (first["weights_bits"], first["act_bits"]) == (8, 4)
    assert first["calibrated_max_value"] > 0
    assert report.layers[-1]["act_bits"] is None
    assert report.input_scaling == (255.0, -0.0)
    assert report.samples == 400
    assert report.float_accuracy > 0.9 and report.converted_accuracy > 0.9
    for row in report.layers:
        assert 0 < row["weight_relative_error"] < 0.2
        assert 0 < row["output_relative_error"] < 0.5
    pandas = pytest.importorskip("pandas")
    frame = report.to_dataframe()
    assert isinstance(frame, pandas.DataFrame) and len(frame) == 4
    assert "output_rms_error" in frame.columns
    assert "conv2d" in str(report)
    assert str(report).splitlines()[0].endswith(", 400 samples, input_scaling=(255, 0), method=hardware")  # no -0.0


def test_predict_tracks_keras_on_held_out_images(trained, converted, digits):
    """predict returns Keras units: on unseen images its error stays near what the report measured."""
    _, _, test_x, _ = digits
    model, report = converted
    logits = trained.predict(test_x.astype(np.float32), verbose=0)
    predicted = model.predict(test_x).reshape(logits.shape)
    rms = np.sqrt(np.mean((predicted - logits) ** 2))
    assert rms <= 1.5 * report.output_error
    assert rms <= 0.5 * np.sqrt(np.mean(logits ** 2))


def test_one_bit_feature_extractor_learns_on_chip(keras, trained, digits):
    """The edge-learning workflow: a 1-bit feature extractor, then an AkidaUnsupervised FullyConnected."""
    train_x, train_y, test_x, test_y = digits
    last_relu = trained.layers[-3]
    extractor = keras.Model(trained.inputs, last_relu.output)
    model = akida_sim.convert(extractor, act_bits={last_relu.name: 1}, samples=train_x[:400])
    assert model.layers[-1].parameters.act_bits == 1
    features = model.forward(test_x[:50])
    assert features.dtype == np.uint8 and set(np.unique(features)) <= {0, 1}
    inputs = int(np.prod(model.output_shape))
    model.add(akida_sim.FullyConnected(units=50, weights_bits=1, activation=False, name="classifier"))
    model.compile(akida_sim.AkidaUnsupervised(num_weights=inputs // 4, num_classes=10), seed=0)
    model.fit(train_x, input_labels=train_y)
    accuracy = np.mean(model.predict_classes(test_x, num_classes=10) == test_y)
    assert accuracy > 0.8
