"""The built-in "digits" model: a small CNN trained on scikit-learn's bundled 8x8 digits.

scikit-learn ships the UCI handwritten digits (1797 images of 8x8 pixels,
values 0..16, classes 0..9) inside its package, so nothing is downloaded.
Images become uint8 (N, 8, 8, 1) with ``round(value * 255 / 16)``; a fixed
stratified split keeps TEST_FRACTION of them for testing. The Keras model
(``keras_model``) is trained on the pixels scaled to [0, 1] and converted
with ``akida_sim.convert(model, input_scaling=(255, 0))``: 8-bit weights
on the InputConvolutional, 4-bit weights and activations elsewhere.

``python -m akida_sim.digits [--out DIR]`` rebuilds the packaged files
(``akida_sim/data/digits.aksim`` and ``digits_test.npz``): seeds are fixed and
TensorFlow runs with deterministic ops, so a rebuild with the same versions
on the same kind of CPU gives the same layers and variables. Needs the ``notebooks`` extra
(scikit-learn, TensorFlow/Keras).
"""
import argparse
import pathlib

import numpy as np

from .tensorflow_logs import quiet_import

#: Fraction of the 1797 images kept for testing (stratified by class).
TEST_FRACTION = 0.25
#: Seed of the train/test split, of Keras' weight initialisation and of the shuffling.
SEED = 0
#: Training epochs of the packaged model.
EPOCHS = 30
#: Largest pixel value of the scikit-learn digits (pixels are 0..16).
DIGITS_MAX = 16
#: Filters of the three convolution blocks: Conv2D, Conv2D + max-pool, SeparableConv2D.
FILTERS = (16, 32, 64)
#: max_value of the hidden bounded ReLUs (4-bit activations: steps of 6/15).
RELU_MAX = 6.0
#: BatchNormalization momentum: moving statistics settle within a few epochs of this small set.
BN_MOMENTUM = 0.9
#: Packaged file names, in akida_sim/data/.
MODEL_FILE = "digits.aksim"
TEST_FILE = "digits_test.npz"
DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"


def _require(what, module, extra):
    try:
        return quiet_import(module)
    except ImportError:
        raise ImportError(f"akida_sim.digits needs {what}: pip install akida-sim[{extra}]") from None


def to_uint8(images):
    """scikit-learn digit images (N, 8, 8) in 0..16 -> uint8 (N, 8, 8, 1) in 0..255."""
    return np.round(np.asarray(images, np.float64) * (255 / DIGITS_MAX)).astype(np.uint8)[..., None]


def load_split():
    """(x_train, y_train, x_test, y_test): uint8 (N, 8, 8, 1) images and int64 labels 0..9."""
    datasets = _require("scikit-learn", "sklearn.datasets", "notebooks")
    selection = _require("scikit-learn", "sklearn.model_selection", "notebooks")
    digits = datasets.load_digits()
    x_train, x_test, y_train, y_test = selection.train_test_split(
        to_uint8(digits.images), digits.target.astype(np.int64), test_size=TEST_FRACTION, random_state=SEED,
        stratify=digits.target)
    return x_train, y_train, x_test, y_test


def keras_model(num_classes=10, features_max_value=RELU_MAX, filters=FILTERS):
    """The Keras CNN on (8, 8, 1) inputs in [0, 1]: three Conv > [MaxPool] > BatchNorm > ReLU blocks,
    Flatten, Dense(num_classes) logits. Only the second block pools: on Akida 1.0 a max-pooling
    layer cannot end a hardware sequence, and the layer before a FullyConnected does. ``features_max_value`` bounds the last hidden ReLU (the
    features the Dense layer reads; 1.0 for features converted to 1-bit spikes)."""
    keras = _require("Keras", "keras", "keras")
    layers = keras.layers
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(filters[0], 3, padding="same", use_bias=False, name="conv_0"),
        layers.BatchNormalization(momentum=BN_MOMENTUM, name="conv_0_bn"),
        layers.ReLU(RELU_MAX, name="conv_0_relu"),
        layers.Conv2D(filters[1], 3, padding="same", use_bias=False, name="conv_1"),
        layers.MaxPooling2D(2, padding="same", name="conv_1_pool"),
        layers.BatchNormalization(momentum=BN_MOMENTUM, name="conv_1_bn"),
        layers.ReLU(RELU_MAX, name="conv_1_relu"),
        layers.SeparableConv2D(filters[2], 3, padding="same", use_bias=False, name="separable_2"),
        layers.BatchNormalization(momentum=BN_MOMENTUM, name="separable_2_bn"),
        layers.ReLU(features_max_value, name="separable_2_relu"),
        layers.Flatten(name="flatten"),
        layers.Dense(num_classes, name="classifier"),
    ], name="digits_cnn")


def train(x, y, epochs=EPOCHS, seed=SEED, **model_args):
    """A ``keras_model(**model_args)`` fitted on uint8 images ``x`` and labels ``y``.

    Seeds Python, NumPy and TensorFlow with ``seed`` before the weights are
    drawn and runs TensorFlow's deterministic ops, so a call repeats exactly.
    """
    keras = _require("Keras", "keras", "keras")
    tf = _require("TensorFlow", "tensorflow", "keras")
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model = keras_model(**model_args)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x.astype(np.float32) / 255, y, epochs=epochs, batch_size=32, shuffle=True, verbose=0)
    return model


def keras_accuracy(model, x, y):
    """Top-1 accuracy of the Keras model on uint8 images."""
    return float((model.predict(x.astype(np.float32) / 255, verbose=0).argmax(axis=1) == y).mean())


def convert(model, **kwargs):
    """``akida_sim.convert`` of a model trained on pixels / 255 (uint8 images go in as they are)."""
    from . import convert as akida_convert

    return akida_convert(model, input_scaling=(255, 0), **kwargs)


def build(out_dir=DATA_DIR, epochs=EPOCHS):
    """Train, convert and save the packaged model and test split into ``out_dir``.

    Returns {"keras_accuracy", "akida_accuracy", "model_file", "test_file"}.
    """
    x_train, y_train, x_test, y_test = load_split()
    keras_net = train(x_train, y_train, epochs)
    model = convert(keras_net)
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir / MODEL_FILE))
    np.savez_compressed(out_dir / TEST_FILE, x=x_test, y=y_test.astype(np.uint8))
    return {"keras_accuracy": keras_accuracy(keras_net, x_test, y_test),
            "akida_accuracy": float((model.predict_classes(x_test) == y_test).mean()),
            "model_file": str(out_dir / MODEL_FILE), "test_file": str(out_dir / TEST_FILE)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m akida_sim.digits",
                                     description="Rebuild the packaged digits model and its test split")
    parser.add_argument("--out", default=str(DATA_DIR), help=f"output folder (default: {DATA_DIR})")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    for key, value in build(args.out, args.epochs).items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
