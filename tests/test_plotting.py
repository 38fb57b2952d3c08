"""akida_sim.plotting draws what it is given (Agg backend, no display)."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pd = pytest.importorskip("pandas")

import matplotlib.pyplot as plt  # noqa: E402

import akida_sim as akida  # noqa: E402
from akida_sim import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_learning_histogram_of_a_trained_layer():
    model = akida.Model()
    model.add(akida.InputData(input_shape=(1, 1, 32), input_bits=1))
    model.add(akida.FullyConnected(units=6, weights_bits=1, activation=False))
    model.compile(akida.AkidaUnsupervised(num_weights=8, num_classes=2), seed=0)
    x = (np.random.default_rng(0).random((20, 1, 1, 32)) < 0.5).astype(np.uint8)
    model.fit(x, np.arange(20) % 2)
    layer = model.layers[1]
    rows = layer.get_learning_histogram()
    assert len(rows) > 0
    ax = plotting.learning_histogram(layer)
    heights = [p.get_height() for p in ax.patches]
    assert heights == rows[:, 1].tolist() and [p.get_x() for p in ax.patches] == rows[:, 0].tolist()
    assert ax.get_title() == f"{rows[:, 1].sum()} neurons learned"
    with pytest.raises(ValueError, match=r"expected \(n, 2\) rows"):
        plotting.learning_histogram(np.zeros((3, 3)))


def test_layer_statistics_of_a_mapped_model():
    model = akida.Model()
    model.add(akida.InputData(input_shape=(8, 8, 4), input_bits=4))
    model.add(akida.Convolutional(kernel_size=(3, 3), filters=8, weights_bits=4, act_bits=4, name="c1"))
    model.add(akida.FullyConnected(units=3, weights_bits=4, activation=False, name="fc"))
    for layer in model.layers[1:]:
        layer.set_variable("weights", np.ones_like(layer.get_variable("weights")))
    with pytest.raises(ValueError, match="no per-layer rows"):
        plotting.layer_statistics(model.statistics)
    model.map(akida.AKD1000())
    model.forward(np.full((2, 8, 8, 4), 5, np.uint8))
    ax = plotting.layer_statistics(model.statistics, "synaptic_ops")
    bars = {t.get_text(): p.get_width() for t, p in zip(ax.get_yticklabels(), ax.patches)}
    assert bars == {r.name: r.synaptic_ops for r in model.statistics.layers} and len(bars) == 2
    assert ax.get_xlabel() == "synaptic_ops per frame"
    with pytest.raises(ValueError, match=r"'field' must be a per-layer field, one of \[.*'nps'.*got 'watts'"):
        plotting.layer_statistics(model.statistics, "watts")


def test_sweep_lines_per_hue_without_failed_rows():
    frame = pd.DataFrame({"width": [2, 1, 2, 1, 3], "depth": [1, 1, 2, 2, 2], "nps": [4, 2, 8, 4, 99],
                          "error": [None, None, None, None, "ValueError: too big"]})
    ax = plotting.sweep(frame, "width", "nps", hue="depth", logy=True)
    lines = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()}
    assert lines == {"depth=1": ([1, 2], [2, 4]), "depth=2": ([1, 2], [4, 8])}
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "width"
    with pytest.raises(ValueError, match="no column 'power'"):
        plotting.sweep(frame, "width", "power")


def test_sweep_rings_the_points_with_layers_in_software():
    frame = pd.DataFrame({"width": [1, 2, 3, 4], "nps": [2, 4, 1, 8], "software_layers": [0, 0, 2, 0],
                          "error": [None, None, None, None]})
    ax = plotting.sweep(frame, "width", "nps")
    rings = [c for c in ax.collections if c.get_label() == "layers in software"]
    assert len(rings) == 1 and rings[0].get_offsets().tolist() == [[3, 1]]
    assert "layers in software" in [t.get_text() for t in ax.get_legend().get_texts()]
    plain = plotting.sweep(frame.assign(software_layers=0), "width", "nps")
    assert not plain.collections and plain.get_legend() is None
