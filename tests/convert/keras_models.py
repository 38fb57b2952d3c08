"""Helpers building small Keras models for the conversion tests."""
import numpy as np


def random_weights(model, seed=0, scale=0.3):
    """Give every layer normal random weights (BatchNormalization variances and gammas positive)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, variance = weights
            layer.set_weights([np.abs(rng.normal(1, 0.3, gamma.shape)).astype(np.float32) + 0.1,
                               rng.normal(0, 0.2, beta.shape).astype(np.float32),
                               rng.normal(0, 0.2, mean.shape).astype(np.float32),
                               np.abs(rng.normal(1, 0.3, variance.shape)).astype(np.float32) + 0.1])
        else:
            layer.set_weights([(rng.normal(size=w.shape) * scale).astype(np.float32) for w in weights])
    return model


def digits_cnn(keras):
    """A small float CNN for 16x16x1 digits: Rescaling, 3 conv blocks (BN, ReLU, pools), Flatten, Dense."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input((16, 16, 1)), layers.Rescaling(1 / 255.0),
        layers.Conv2D(16, 3, padding="same"), layers.BatchNormalization(momentum=0.9), layers.ReLU(),
        layers.MaxPooling2D(padding="same"),
        layers.SeparableConv2D(32, 3, padding="same"), layers.BatchNormalization(momentum=0.9), layers.ReLU(),
        layers.MaxPooling2D(padding="same"),
        layers.Conv2D(32, 3, padding="same"), layers.BatchNormalization(momentum=0.9), layers.ReLU(),
        layers.Flatten(), layers.Dense(10),
    ])
