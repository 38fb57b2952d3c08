"""The built-in digits model: packaged file, test split, accuracy, mapping, and its rebuild."""
import numpy as np
import pytest

import akida_sim as akida
from akida_sim import digits, zoo


@pytest.fixture(scope="module")
def model():
    return zoo.build("digits")


@pytest.fixture(scope="module")
def split():
    return zoo.labelled_data("digits")


def test_digits_is_the_default_trained_model():
    assert zoo.DEFAULT_MODEL == "digits" in zoo.MODELS and zoo.TRAINED == {"digits"}
    assert zoo.LABELLED_DATA["digits"] is zoo.digits_test_split


def test_the_test_split(split):
    x, y = split
    assert x.dtype == np.uint8 and x.shape == (450, 8, 8, 1)
    assert y.dtype == np.int64 and y.shape == (450,)
    assert y.min() == 0 and y.max() == 9 and np.bincount(y).min() >= 43  # stratified: every digit
    assert x.max() == 255 and x.min() == 0


def test_the_packaged_model_classifies_the_test_split(model, split):
    x, y = split
    assert model.input_shape == [8, 8, 1] and model.output_shape == [1, 1, 10]
    assert [type(l).__name__ for l in model.layers] == [
        "InputConvolutional", "Convolutional", "SeparableConvolutional", "FullyConnected"]
    assert (model.predict_classes(x) == y).mean() >= 0.97


def test_build_keeps_the_trained_variables(model):
    again = zoo.build("digits", seed=7)
    for a, b in zip(model.layers, again.layers):
        for name in a.get_variable_names():
            np.testing.assert_array_equal(a.get_variable(name), b.get_variable(name))


def test_it_maps_entirely_on_the_akd1000(split):
    model = zoo.build("digits")  # a fresh copy: mapping changes the model's state
    model.map(akida.AKD1000(), hw_only=True)
    assert [s.backend for s in model.sequences] == [akida.BackendType.Hardware]
    x, _ = split
    unmapped = zoo.build("digits").forward(x)
    np.testing.assert_array_equal(model.forward(x), unmapped)
    assert model.statistics.fps > 0 and model.statistics.energy > 0


def test_random_models_have_no_labelled_data_and_unknown_names_are_refused():
    assert zoo.labelled_data("dscnn_kws") is None
    with pytest.raises(ValueError, match=r"unknown model 'digitz', expected one of \['akidanet_05_224', "):
        zoo.labelled_data("digitz")
    with pytest.raises(ValueError, match="unknown model 'digitz'"):
        zoo.build("digitz")


def test_pixels_become_uint8():
    np.testing.assert_array_equal(digits.to_uint8(np.array([[0.0, 8.0, 16.0]])),
                                  np.array([[0, 128, 255]], np.uint8)[..., None])


def test_the_shipped_split_is_the_one_the_build_makes(split):
    pytest.importorskip("sklearn")
    _, _, x_test, y_test = digits.load_split()
    np.testing.assert_array_equal(x_test, split[0])
    np.testing.assert_array_equal(y_test, split[1])


@pytest.mark.slow
def test_the_build_script_rebuilds_the_model(tmp_path, model, split):
    pytest.importorskip("sklearn")
    pytest.importorskip("tensorflow")
    report = digits.build(tmp_path)
    rebuilt = akida.Model(report["model_file"])
    x, y = split
    assert report["akida_accuracy"] == (rebuilt.predict_classes(x) == y).mean() >= 0.97
    # the same recipe: the rebuilt model answers as the packaged one (exactly, on the same TF build and CPU)
    assert (rebuilt.predict_classes(x) == model.predict_classes(x)).mean() >= 0.97
    with np.load(report["test_file"]) as rebuilt_split:
        np.testing.assert_array_equal(rebuilt_split["x"], x)
