"""Keras imported through akida_sim prints none of TensorFlow's C++ log lines; the user's log level wins."""
import os
import subprocess
import sys

import pytest

pytest.importorskip("tensorflow")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = """
import os, sys
from akida_sim.tensorflow_logs import quiet_import
keras = quiet_import("keras")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.predict(keras.ops.zeros((1, 4)), verbose=0)  # TensorFlow's runtime starts (devices, kernels)
print("level", os.environ["TF_CPP_MIN_LOG_LEVEL"])
print("python stderr still works", file=sys.stderr)
"""


def run(level):
    """The script in a fresh Python, ``TF_CPP_MIN_LOG_LEVEL`` unset (None) or set to ``level``."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)


def test_keras_loads_without_cpp_log_lines():
    done = run(None)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["level 3"]
    assert done.stderr.splitlines() == ["python stderr still works"]


def test_the_users_own_level_wins():
    done = run("1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["level 1"]
