"""Figures where a researcher would rather look than read (matplotlib, imported lazily).

Each helper draws on ``ax`` (when None, a new figure's axes laid out by
matplotlib's constrained layout, so labels, colour bars and legends stay
inside a saved file) and returns the axes. The figures are meant to be kept
as they come out: axis labels carry units (``label``), counts get integer
ticks, log axes plain numbers (600, not 6x10^2), legends sit beside the
data, and lines that coincide say so. matplotlib comes with the ``plot``
extra (``pip install akida-sim[plot]``).
"""
import numpy as np

from .errors import SimTypeError, SimValueError
from .sweeps import SOFTWARE_LAYERS

#: A log x axis of swept values gets ticks at least 1/MAX_TICKS of its decades apart (MAX_TICKS + 1 at most).
MAX_TICKS = 8
#: Axis labels of the columns akida_sim's studies use (``Statistics`` names;
#: energy and clocks per frame, as ``model.statistics`` gives them) and of
#: the per-layer statistics fields (per frame). Other names: see ``label``.
LABELS = {
    "nps": "NPs",
    "sequences": "sequences",
    "software_sequences": "software sequences",
    "program_kb": "program size (KiB)",
    "clk_per_frame": "clocks per frame",
    "fps": "frame rate (frames/s)",
    "chip_fps": "chip frame rate (frames/s)",
    "power_mw": "average power (mW)",
    "energy_mj": "energy per frame (mJ)",
    "input_events": "input events per frame",
    "output_events": "output events per frame",
    "synaptic_ops": "synaptic operations per frame",
    "stage_clk": "stage clocks per frame",
    "dynamic_uj": "dynamic energy per frame (µJ)",
}
#: Units read from the suffix of a name LABELS does not hold ("latency_ms" -> "latency (ms)").
UNIT_SUFFIXES = {"_mj": "mJ", "_uj": "µJ", "_mw": "mW", "_kb": "KiB", "_bytes": "bytes", "_ms": "ms", "_us": "µs",
                 "_s": "s", "_mhz": "MHz", "_hz": "Hz"}
#: Markers and line styles of successive ``hue`` groups, so that lines drawn over each other stay visible.
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINESTYLES = ("-", "--", ":", "-.")


def label(name):
    """The axis label of a column or field ``name``: LABELS, else its words and the unit of its suffix."""
    if name in LABELS:
        return LABELS[name]
    for suffix, unit in UNIT_SUFFIXES.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return f"{name[:-len(suffix)].replace('_', ' ')} ({unit})"
    return name.replace("_", " ")


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("akida_sim.plotting needs matplotlib: pip install akida-sim[plot]") from None
    return plt


def _axes(ax):
    if ax is not None:
        return ax
    return _pyplot().subplots(layout="constrained")[1]


def _is_count(values):
    """True when ``values`` (an array or pandas column) hold integers: their axis gets integer ticks."""
    return getattr(getattr(values, "dtype", None), "kind", np.asarray(values).dtype.kind) in "iu"


def _integer_ticks(axis):
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _plain_log_ticks(axis):
    """Log-axis tick labels as plain numbers; minor ticks labelled only when the axis spans under a decade."""
    from matplotlib.ticker import FuncFormatter

    def minor(value, _):
        low, high = axis.get_view_interval()
        return f"{value:g}" if low > 0 and high / low < 10 else ""

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(FuncFormatter(minor))


def legend_beside(ax, title=None):
    """The legend of ``ax``'s labelled artists to the right of the axes, off the data (matplotlib's
    constrained or tight layout makes room for it); ``title``: the legend's title. Returns the legend."""
    return ax.legend(title=title, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)


def learning_histogram(layer_or_rows, ax=None):
    """Bars of how many learned neurons reached each learning threshold.

    layer_or_rows: a compiled learning layer or the (n, 2) rows of its
    ``get_learning_histogram()``: [floor(100 * threshold_learning / num_weights), count].
    """
    rows = layer_or_rows.get_learning_histogram() if hasattr(layer_or_rows, "get_learning_histogram") \
        else layer_or_rows
    rows = np.asarray(rows)
    if rows.ndim != 2 or (rows.size and rows.shape[1] != 2):
        raise SimValueError(f"learning_histogram: expected (n, 2) rows [percent, count], got shape {rows.shape}")
    ax = _axes(ax)
    ax.bar(rows[:, 0], rows[:, 1], width=1.0, align="edge")
    ax.set_xlim(0, 100)
    ax.set_xlabel("threshold_learning (% of num_weights)")
    ax.set_ylabel("learned neurons")
    _integer_ticks(ax.yaxis)
    ax.set_title(f"{int(rows[:, 1].sum()) if rows.size else 0} neurons learned")
    return ax


def layer_statistics(statistics, field="synaptic_ops", ax=None):
    """Horizontal bars of one per-layer field of a mapped model's statistics.

    statistics: ``model.statistics`` after a forward pass on a mapped model;
    field: a numeric field of its per-layer rows (``statistics.layers``, per
    frame), e.g. "nps", "input_events" or "synaptic_ops". A row whose field
    is None (a layer the chip does not run) gets no bar.
    """
    rows = getattr(statistics, "layers", None)
    if not rows:
        raise SimValueError("layer_statistics: the statistics have no per-layer rows (map the model on a "
                            "device and run forward first)")
    if not hasattr(rows[0], field):
        numeric = [k for k, v in vars(rows[0]).items() if isinstance(v, (int, float))]
        raise SimValueError(f"layer_statistics: argument 'field' must be a per-layer field, one of {numeric}, "
                            f"got {field!r}")
    ax = _axes(ax)
    values = [getattr(r, field) for r in rows]
    ax.barh([r.name for r in rows], [np.nan if v is None else v for v in values])
    ax.invert_yaxis()
    ax.set_xlabel(label(field) if field in LABELS else f"{label(field)} per frame")
    if all(isinstance(v, (int, np.integer)) for v in values if v is not None):
        _integer_ticks(ax.xaxis)
    return ax


def sweep(frame, x, y, hue=None, ax=None, logx=False, logy=False, marker="o", xlabel=None, ylabel=None):
    """Column ``y`` of a sweep table against column ``x``, one series per value of ``hue``.

    frame: the DataFrame of ``akida_sim.sweeps.run``; rows whose ``error``
    is set are left out. A numeric ``x`` gives lines (a series that
    coincides with an earlier one is drawn in another style and its legend
    entry says so: "HwPr (= AllNps)"); a categorical one (model names, modes) gives grouped bars.
    xlabel, ylabel: the axis labels (None: ``label`` of the column, with its unit).
    When the table has a ``software_layers`` column
    (``akida_sim.sweeps.software_columns``), the points of configurations
    with layers in software are ringed (legend: "layers in software").
    """
    for name in (x, y) + ((hue,) if hue is not None else ()):
        if name not in frame.columns:
            raise SimValueError(f"sweep: no column '{name}' in the table (columns: {list(frame.columns)})")
    if not isinstance(logx, bool) or not isinstance(logy, bool):
        raise SimTypeError("sweep: arguments 'logx' and 'logy' must be bools")
    if "error" in frame.columns:
        frame = frame[frame["error"].isna()]
    ax = _axes(ax)
    groups = [(None, frame)] if hue is None else list(frame.groupby(hue, sort=True))
    categorical = frame[x].dtype.kind not in "iuf"
    if categorical:
        if logx:
            raise SimValueError(f"sweep: column '{x}' is categorical; it cannot have a log axis (logx=True)")
        _bars(ax, frame, groups, x, y, hue)
    else:
        _lines(ax, groups, x, y, hue, marker)
    ax.set_xlabel(label(x) if xlabel is None else xlabel)
    ax.set_ylabel(label(y) if ylabel is None else ylabel)
    if logx:  # ticks at swept values, not at powers of ten
        ax.set_xscale("log")
        ticks = _log_ticks(frame[x])
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
    elif not categorical and _is_count(frame[x]):
        _integer_ticks(ax.xaxis)
    if logy:
        ax.set_yscale("log")
        _plain_log_ticks(ax.yaxis)
    else:
        _fit_constant(ax, frame[y])
        if _is_count(frame[y]):
            _integer_ticks(ax.yaxis)
    marked = _mark_software(ax, frame, x, y, categorical)
    if hue is not None or marked:
        legend_beside(ax, title=None if hue is None else label(hue))
    return ax


def _mark_software(ax, frame, x, y, categorical):
    """Ring the points of rows with layers in software (column ``software_layers`` > 0), with a
    legend entry (a categorical ``x`` at its category's position); whether any point was marked."""
    if SOFTWARE_LAYERS not in frame.columns:
        return False
    rows = frame[frame[SOFTWARE_LAYERS].fillna(0) > 0]
    if rows.empty:
        return False
    xs = rows[x]
    if categorical:
        categories = list(dict.fromkeys(frame[x]))
        xs = [categories.index(v) for v in xs]
    ax.scatter(xs, _floats(rows[y]), s=140, facecolors="none", edgecolors="black", linewidths=1.5, zorder=3,
               label="layers in software")
    return True


def _log_ticks(values):
    """Swept values (> 0) for a log axis' ticks: the first, the last, and between them values at least
    1/MAX_TICKS of the axis' decades apart, so that no two labels overlap."""
    values = sorted(float(v) for v in set(values) if v > 0)
    if not values:
        return []
    gap = (np.log10(values[-1]) - np.log10(values[0])) / MAX_TICKS
    ticks = [values[0]]
    for value in values[1:]:
        if np.log10(value) - np.log10(ticks[-1]) >= gap:
            ticks.append(value)
    if ticks[-1] != values[-1]:
        if len(ticks) > 1 and np.log10(values[-1]) - np.log10(ticks[-1]) < gap:
            ticks.pop()  # too close to the last value, which takes its place
        ticks.append(values[-1])
    return ticks


def _lines(ax, groups, x, y, hue, marker):
    """One line per group; one that repeats an earlier group's points is restyled and labelled as such."""
    drawn = []
    for i, (value, group) in enumerate(groups):
        group = group.sort_values(x)
        points = (list(group[x]), list(_floats(group[y])))
        name = None if hue is None else str(value)
        same = next((other for other, other_points in drawn if other_points == points), None)
        style = {} if hue is None else dict(marker=MARKERS[(MARKERS.index(marker) + i) % len(MARKERS)]
                                            if marker in MARKERS else marker,
                                            linestyle=LINESTYLES[i % len(LINESTYLES)])
        if same is not None:
            name += f" (= {same})"
            style.update(markersize=4, markerfacecolor="none")
        ax.plot(*points, **({"marker": marker} | style), label=name)
        drawn.append((str(value), points))


def _bars(ax, frame, groups, x, y, hue):
    """Grouped bars: the categories of ``x`` in the order they first appear, one bar per group in each."""
    categories = list(dict.fromkeys(frame[x]))
    width = 0.8 / len(groups)
    for i, (value, group) in enumerate(groups):
        heights = dict(zip(group[x], _floats(group[y])))
        positions = np.arange(len(categories)) + (i - (len(groups) - 1) / 2) * width
        ax.bar(positions, [heights.get(c, np.nan) for c in categories], width=width,
               label=None if hue is None else str(value))
    ax.set_xticks(np.arange(len(categories)), [str(c) for c in categories])


def _floats(column):
    """A table column as float64, missing values (None, NaN, pandas' <NA>) as NaN: what matplotlib draws."""
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _fit_constant(ax, values):
    """A y axis around a constant column: +-1 for counts, +-10 % otherwise (not matplotlib's +-4 %)."""
    values = values.dropna()
    if len(values) and values.nunique() == 1:
        value = float(values.iloc[0])
        margin = 1.0 if _is_count(values) or value == 0 else abs(value) * 0.1
        ax.set_ylim(value - margin, value + margin)


def confusion_matrix(true, predicted, ax=None, classes=None):
    """The confusion matrix of ``predicted`` against ``true`` class labels: counts in the cells, a colour bar.

    true, predicted: int arrays of the same length (N,); classes: the number of
    classes (None: one more than the largest label). Rows are true classes,
    columns predicted ones.
    """
    true, predicted = np.asarray(true), np.asarray(predicted)
    if true.shape != predicted.shape or true.ndim != 1 or true.dtype.kind not in "iu" \
            or predicted.dtype.kind not in "iu":
        raise SimValueError(f"confusion_matrix: expected two int arrays of one shape (N,), got "
                            f"{true.dtype} {true.shape} and {predicted.dtype} {predicted.shape}")
    if true.size and min(true.min(), predicted.min()) < 0:
        raise SimValueError("confusion_matrix: class labels must be >= 0")
    top = int(max(true.max(), predicted.max())) + 1 if true.size else 0
    classes = top if classes is None else classes
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < max(top, 1):
        raise SimValueError(f"confusion_matrix: argument 'classes' must be an int >= {max(top, 1)} "
                            f"(the labels go up to {top - 1}), got {classes!r}")
    counts = np.zeros((classes, classes), np.int64)
    np.add.at(counts, (true, predicted), 1)
    ax = _axes(ax)
    image = ax.imshow(counts, cmap="Blues")
    ax.figure.colorbar(image, ax=ax, label="samples")
    _integer_ticks(image.colorbar.ax.yaxis)
    for (row, column), count in np.ndenumerate(counts):
        ax.text(column, row, str(count), ha="center", va="center", fontsize="small",
                color="white" if count > counts.max() / 2 else "black")
    ax.set_xticks(range(classes))
    ax.set_yticks(range(classes))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return ax


__all__ = ["LABELS", "LINESTYLES", "MARKERS", "MAX_TICKS", "UNIT_SUFFIXES", "confusion_matrix", "label",
           "layer_statistics", "legend_beside", "learning_histogram", "sweep"]
