"""akida_sim.plotting draws what it is given (Agg backend, no display), as a paper would print it."""
import re

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
    assert ax.get_xlabel() == "synaptic operations per frame"
    assert plotting.layer_statistics(model.statistics, "nps").get_xlabel() == "NPs"  # not "per frame"
    with pytest.raises(ValueError, match=r"'field' must be a per-layer field, one of \[.*'nps'.*got 'watts'"):
        plotting.layer_statistics(model.statistics, "watts")


def test_sweep_lines_per_hue_without_failed_rows():
    frame = pd.DataFrame({"width": [2, 1, 2, 1, 3], "depth": [1, 1, 2, 2, 2], "nps": [4, 2, 8, 4, 99],
                          "error": [None, None, None, None, "ValueError: too big"]})
    ax = plotting.sweep(frame, "width", "nps", hue="depth", logy=True)
    lines = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()}
    assert lines == {"1": ([1, 2], [2, 4]), "2": ([1, 2], [4, 8])} and ax.get_legend().get_title().get_text() == "depth"
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "width"
    with pytest.raises(ValueError, match="no column 'power'"):
        plotting.sweep(frame, "width", "power")


def inside_the_saved_file(ax, path):
    """Save the figure as it comes (no bbox_inches) and say whether every label, tick label and legend lies
    within the saved image."""
    fig = ax.figure
    fig.savefig(path)
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    artists = [ax.xaxis.label, ax.yaxis.label, ax.title]
    for axis in (ax.xaxis, ax.yaxis):  # the tick labels drawn: those of ticks within the axis' view
        low, high = sorted(axis.get_view_interval())
        artists += [text for text, at in zip(axis.get_ticklabels(), axis.get_ticklocs()) if low <= at <= high]
    artists += [ax.get_legend()] if ax.get_legend() else []
    boxes = [a.get_window_extent(renderer) for a in artists if a.get_visible() and (not hasattr(a, "get_text")
                                                                                   or a.get_text())]
    return all(frame.x0 - 0.5 <= b.x0 and b.x1 <= frame.x1 + 0.5 and frame.y0 - 0.5 <= b.y0
               and b.y1 <= frame.y1 + 0.5 for b in boxes)


def tick_texts(axis):
    axis.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


SWEEP = pd.DataFrame({"nodes": [2, 3, 4, 2, 3, 4], "mode": ["AllNps"] * 3 + ["HwPr"] * 3,
                      "nps": [8, 12, 12, 8, 12, 12], "energy_mj": [0.61, 0.52, 0.5, 0.61, 0.52, 0.5],
                      "fps": [550.0, 610.0, 640.0, 550.0, 610.0, 640.0], "sequences": [1] * 6})


def test_a_saved_sweep_figure_has_units_integer_ticks_and_everything_inside(tmp_path):
    ax = plotting.sweep(SWEEP, "nodes", "energy_mj", hue="mode")
    assert ax.get_xlabel() == "nodes" and ax.get_ylabel() == "energy per frame (mJ)"
    assert all(float(t).is_integer() for t in tick_texts(ax.xaxis))  # no 2.5 nodes
    assert inside_the_saved_file(ax, tmp_path / "energy.png")
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["AllNps", "HwPr (= AllNps)"]
    box, axes_box = legend.get_window_extent(), ax.get_window_extent()
    assert box.x0 >= axes_box.x1  # beside the data, not over it
    styles = [(line.get_marker(), line.get_linestyle()) for line in ax.get_lines()]
    assert styles[0] != styles[1]  # the coinciding line stays visible


def test_counts_get_integer_ticks_and_a_constant_no_false_range():
    ax = plotting.sweep(SWEEP[SWEEP["mode"] == "AllNps"], "nodes", "sequences")
    assert tick_texts(ax.yaxis) and all(float(t.replace("−", "-")).is_integer() for t in tick_texts(ax.yaxis))
    assert ax.get_ylim() == (0.0, 2.0)
    ax = plotting.sweep(SWEEP, "nodes", "nps", hue="mode")
    assert ax.get_ylabel() == "NPs" and all(float(t).is_integer() for t in tick_texts(ax.yaxis))


def test_log_axes_read_as_plain_numbers():
    ax = plotting.sweep(SWEEP, "nodes", "fps", hue="mode", logy=True)
    texts = tick_texts(ax.yaxis) + [t.get_text() for t in ax.yaxis.get_minorticklabels() if t.get_text()]
    assert texts and all(re.fullmatch(r"[0-9.]+", t) for t in texts), texts  # 600, not 6x10^2
    assert ax.get_ylabel() == "frame rate (frames/s)"


def test_a_categorical_x_gives_grouped_bars():
    table = pd.DataFrame({"name": ["digits", "digits", "dscnn_kws", "dscnn_kws"],
                          "mode": ["AllNps", "Minimal"] * 2, "energy_mj": [0.5, 0.4, 2.0, 1.5],
                          "error": [None] * 4})
    ax = plotting.sweep(table, "name", "energy_mj", hue="mode")
    assert ax.get_lines() == [] and len(ax.patches) == 4
    assert [t.get_text() for t in ax.get_xticklabels()] == ["digits", "dscnn_kws"]
    assert sorted(p.get_height() for p in ax.patches) == [0.4, 0.5, 1.5, 2.0]
    with pytest.raises(ValueError, match="categorical"):
        plotting.sweep(table, "name", "energy_mj", logx=True)


def test_labels_read_units_from_the_name():
    assert plotting.label("latency_ms") == "latency (ms)" and plotting.label("chip_power_mw") == "chip power (mW)"
    assert plotting.label("clock_factor") == "clock factor" and plotting.label("nps") == "NPs"
    ax = plotting.sweep(SWEEP, "nodes", "fps", xlabel="AKD1000 nodes", ylabel="fps")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("AKD1000 nodes", "fps")


def test_confusion_matrix_has_counts_and_a_colour_bar(tmp_path):
    true = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 1, 2])
    ax = plotting.confusion_matrix(true, predicted)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert cells == {(0, 0): "1", (0, 1): "1", (0, 2): "0", (1, 0): "0", (1, 1): "3", (1, 2): "0",
                     (2, 0): "0", (2, 1): "0", (2, 2): "1"}
    assert len(ax.figure.axes) == 2 and ax.figure.axes[1].get_ylabel() == "samples"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert inside_the_saved_file(ax, tmp_path / "confusion.png")
    with pytest.raises(ValueError, match="'classes' must be an int >= 3"):
        plotting.confusion_matrix(true, predicted, classes=2)
    with pytest.raises(ValueError, match="two int arrays"):
        plotting.confusion_matrix(true, predicted[:3])


def test_learning_histogram_counts_are_integers(tmp_path):
    ax = plotting.learning_histogram(np.array([[10, 1], [40, 2], [55, 1]]))
    assert all(float(t).is_integer() for t in tick_texts(ax.yaxis))
    assert inside_the_saved_file(ax, tmp_path / "histogram.png")


def test_three_coinciding_lines_and_a_nullable_column():
    table = pd.DataFrame({"nodes": [1, 2] * 3, "mode": ["A", "A", "B", "B", "C", "C"],
                          "nps": pd.array([1, 2, 1, 2, 1, None], dtype="Int64")})
    ax = plotting.sweep(table, "nodes", "nps", hue="mode")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B (= A)", "C"]
    assert np.isnan(ax.get_lines()[2].get_ydata()[1])


def test_log_x_ticks_are_swept_values_that_do_not_overlap(tmp_path):
    neurons = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100, 150, 200, 250, 300]
    ax = plotting.sweep(pd.DataFrame({"neurons": neurons, "learned": [min(n, 20) for n in neurons]}),
                        "neurons", "learned", logx=True)
    ticks = list(ax.get_xticks())
    assert ticks[0] == 1 and ticks[-1] == 300 and set(ticks) <= set(neurons) and len(ticks) <= plotting.MAX_TICKS + 1
    assert min(np.diff(np.log10(ticks))) >= np.log10(300) / plotting.MAX_TICKS
    assert inside_the_saved_file(ax, tmp_path / "learned.png")
    fig = ax.figure
    boxes = [t.get_window_extent(fig.canvas.get_renderer()) for t in ax.get_xticklabels()]
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))  # no two labels overlap


def test_sweep_rings_the_points_with_layers_in_software():
    frame = pd.DataFrame({"width": [1, 2, 3, 4], "nps": [2, 4, 1, 8], "software_layers": [0, 0, 2, 0],
                          "error": [None, None, None, None]})
    ax = plotting.sweep(frame, "width", "nps")
    rings = [c for c in ax.collections if c.get_label() == "layers in software"]
    assert len(rings) == 1 and rings[0].get_offsets().tolist() == [[3, 1]]
    assert "layers in software" in [t.get_text() for t in ax.get_legend().get_texts()]
    plain = plotting.sweep(frame.assign(software_layers=0), "width", "nps")
    assert not plain.collections and plain.get_legend() is None
