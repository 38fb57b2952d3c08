"""``import akida_sim`` does not import TensorFlow or Keras (conversion imports nothing itself)."""
import subprocess
import sys


def test_import_akida_sim_leaves_tensorflow_unloaded():
    code = ("import sys, akida_sim; akida_sim.convert; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
