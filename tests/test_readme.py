"""Every Python block of README.md runs as written, in order, with real output.

Blocks that import the vendor's package run in tests/oracle/test_oracle_readme.py.
Slow blocks (e.g. training with TensorFlow) run here too: the README keeps them small.
"""
import os

import numpy as np
import pytest

from tests.readme_blocks import needs_vendor, python_blocks, run_blocks


@pytest.fixture()
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    return tmp_path


def test_readme_has_python_examples():
    blocks = python_blocks()
    assert len(blocks) >= 4
    assert any(needs_vendor(source) for _, source in blocks)


def test_readme_blocks_run_in_order(in_tmp, capsys):
    blocks = [b for b in python_blocks() if not needs_vendor(b[1])]
    namespace = run_blocks(blocks, {"__name__": "readme"})
    out = capsys.readouterr().out
    # the first example sets every layer's weights: real, varied outputs
    potentials = namespace["potentials"]
    assert potentials.any() and len(np.unique(potentials)) > 3
    assert os.path.exists(in_tmp / "model.aksim")
    # the edge-learning example learns its classes
    assert namespace["accuracy"] > 0.5
    assert namespace["learner"].output_shape == [1, 1, 600]
    # the hardware example names layers that exist and prints chip figures
    assert "Floor power (mW)" in out and "HW/" in out
    assert "Model Summary" in out
