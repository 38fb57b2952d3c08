"""Time mapping and cost estimation of a 100-layer model (run by hand).

    python benchmarks/bench_mapping.py

Prints the seconds ``Model.map`` takes and the seconds a mapped forward pass
spends pricing its events (target: both well under a second), and checks that
a forward on a mapped model never re-runs the mapper.
"""
import time
from unittest import mock

import numpy as np

import akida_sim as ak
from akida_sim import hardware


def hundred_layer_model():
    model = ak.Model()
    model.add(ak.InputData(input_shape=(8, 8, 16), input_bits=4))
    for i in range(98):
        model.add(ak.Convolutional(kernel_size=(1, 1), filters=16, weights_bits=2, act_bits=4, name=f"c{i}"))
    model.add(ak.FullyConnected(units=10, weights_bits=2, activation=False, name="fc"))
    rng = np.random.default_rng(0)
    for layer in model.layers[1:]:
        w = layer.get_variable("weights")
        layer.set_variable("weights", rng.integers(-1, 2, w.shape).astype(np.int8))
    return model


def main():
    model = hundred_layer_model()
    t0 = time.perf_counter()
    model.map(ak.AKD1000())
    mapped = time.perf_counter() - t0
    x = np.random.default_rng(1).integers(0, 16, (8, 8, 8, 16), dtype=np.uint8)
    model.forward(x)  # JIT warm-up
    with mock.patch.object(hardware, "map_layers", side_effect=AssertionError("forward re-ran the mapper")):
        t0 = time.perf_counter()
        model.forward(x)
        forward_mapped = time.perf_counter() - t0
    model.map(None)
    t0 = time.perf_counter()
    model.forward(x)
    forward_plain = time.perf_counter() - t0
    print(f"layers: {len(model.layers)}, sequences when mapped: see summary")
    print(f"map():                          {mapped:.3f} s")
    print(f"forward, mapped (with pricing): {forward_mapped:.3f} s")
    print(f"forward, unmapped:              {forward_plain:.3f} s")
    print(f"cost estimation overhead:       {forward_mapped - forward_plain:.3f} s")


if __name__ == "__main__":
    main()
