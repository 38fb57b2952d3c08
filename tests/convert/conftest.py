"""Shared fixtures of the conversion tests: TensorFlow is imported once per session.

The tests need the ``keras`` extra (TensorFlow with Keras 3, and tf_keras);
they are skipped without it.
"""
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(scope="session")
def tf_keras():
    return pytest.importorskip("tf_keras")


@pytest.fixture(scope="session")
def digits():
    """sklearn's bundled 8x8 digits upscaled to 16x16 uint8 images (0..240), split train/test."""
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    images = (np.kron(data.images, np.ones((2, 2)))[..., None] * 15).astype(np.uint8)
    order = np.random.default_rng(0).permutation(len(images))
    train, test = order[:1400], order[1400:]
    return images[train], data.target[train], images[test], data.target[test]
