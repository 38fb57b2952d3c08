"""Physically sound structure of the cost model, on random models and meshes (hypothesis).

- Adding NPs to a layer never increases its stage clocks (counts built by ``layer_work`` over
  random layers, split over more tiles or filter groups).
- AllNps is never slower than Minimal on the chip, for random models.
- A what-if mesh with more nodes is never slower in the same mode.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import akida_sim as ak
from akida_sim import zoo
from hw_model.cost_table import AKD1000_COSTS as T
from hw_model.costs import LayerCounts, layer_work, stage_clocks


@st.composite
def split_layers(draw):
    """A random CNP layer's work on its busiest NP, for a split and a finer split of it."""
    kind = draw(st.sampled_from(["conv", "separable", "fully_connected"]))
    filters = draw(st.integers(1, 512))
    events = draw(st.floats(0, 1e5))
    kernel = 1 if kind == "fully_connected" else draw(st.sampled_from([1, 3, 5, 7] if kind == "conv" else [3, 5, 7]))
    stride = 1 if kind == "fully_connected" else draw(st.integers(1, 2))
    common = dict(kernel=kernel, stride=stride, filters=filters, in_channels=draw(st.integers(1, 256)),
                  conv_positions=draw(st.integers(1, 4096)))
    tiles = 1 if kind == "fully_connected" else draw(st.integers(1, 8))
    groups = draw(st.integers(1, filters))
    more_tiles = tiles if kind == "fully_connected" else draw(st.integers(tiles, 16))
    more_groups = draw(st.integers(groups, filters))

    def counts(t, g):
        np_events, np_ops, ops = layer_work(kind, events, tiles=t, np_filters=-(-filters // g), **common)
        return LayerCounts("l", kind, events, 4096, events / 2, ops, t * g, np_events, np_ops)

    return counts(tiles, groups), counts(more_tiles, more_groups)


@settings(max_examples=300, deadline=None)
@given(split_layers())
def test_more_nps_for_a_layer_never_cost_more_clocks(pair):
    fewer, more = pair
    assert more.nps >= fewer.nps
    assert stage_clocks(more, T) <= stage_clocks(fewer, T) * (1 + 1e-12)


def _random_model(draw):
    """A random small CNN: an input convolution, 1 to 3 convolution/separable layers, a classifier."""
    size = draw(st.sampled_from([16, 24, 32]))
    model = ak.Model()
    model.add(ak.InputConvolutional(input_shape=(size, size, draw(st.sampled_from([1, 3]))), kernel_size=(3, 3),
                                    filters=draw(st.sampled_from([8, 16, 32])), act_bits=4, name="conv_0",
                                    padding=ak.Padding.Same))
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from([ak.Convolutional, ak.SeparableConvolutional]))
        pool = dict(pool_type=ak.PoolType.Max, pool_size=(2, 2)) if draw(st.booleans()) and size > 8 else {}
        size = size // 2 if pool else size
        model.add(kind(kernel_size=(3, 3), filters=draw(st.sampled_from([16, 32, 64, 128])), act_bits=4,
                       weights_bits=4, padding=ak.Padding.Same, name=f"layer_{i + 1}", **pool))
    model.add(ak.FullyConnected(units=draw(st.sampled_from([2, 10, 32])), weights_bits=4, activation=False,
                                name="classifier"))
    zoo.randomize(model, np.random.default_rng(draw(st.integers(0, 10))))
    return model


def _chip(model, device, mode, x):
    model.map(device, mode=mode)
    model.forward(x)
    s = model.statistics
    return s.chip.steady_frame_clk, s.chip.first_frame_clk, s.chip.fps


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_allnps_never_slower_than_minimal_and_more_nodes_never_slower(data):
    model = _random_model(data.draw)
    x = zoo.random_inputs(model, 2, np.random.default_rng(0))
    nodes = sorted(data.draw(st.lists(st.integers(2, 24), min_size=2, max_size=3, unique=True)))
    for mode in (ak.MapMode.AllNps, ak.MapMode.Minimal):
        runs = [_chip(model, ak.what_if_device(nodes=n), mode, x) for n in nodes]
        for fewer, more in zip(runs, runs[1:]):
            assert more[0] <= fewer[0] * (1 + 1e-9) and more[1] <= fewer[1] * (1 + 1e-9), (mode, nodes, runs)
    device = ak.AKD1000()
    all_nps, minimal = _chip(model, device, ak.MapMode.AllNps, x), _chip(model, device, ak.MapMode.Minimal, x)
    assert all_nps[0] <= minimal[0] * (1 + 1e-9) and all_nps[1] <= minimal[1] * (1 + 1e-9)


@pytest.mark.parametrize("mode", [ak.MapMode.AllNps, ak.MapMode.Minimal])
def test_digits_on_growing_meshes_never_slows(mode):
    """The issue's example: the built-in digits net on what-if meshes of 1, 2, 5, 10 and 20 nodes."""
    model = zoo.build("digits")
    x = zoo.random_inputs(model, 4, np.random.default_rng(0))
    fps = [_chip(model, ak.what_if_device(nodes=n), mode, x)[2] for n in (1, 2, 5, 10, 20)]
    assert fps == sorted(fps), fps
