"""Figures where a researcher would rather look than read (matplotlib, imported lazily).

Each helper draws on ``ax`` (a new figure's axes when None) and returns the
axes. matplotlib comes with the ``plot`` extra (``pip install akida-sim[plot]``).
"""
import numpy as np

from .errors import SimTypeError, SimValueError
from .sweeps import SOFTWARE_LAYERS

#: Most tick labels a log x axis of swept values gets.
MAX_TICKS = 8


def _axes(ax):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("akida_sim.plotting needs matplotlib: pip install akida-sim[plot]") from None
    return plt.subplots()[1]


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
    ax.set_xlabel(f"{field} per frame")
    return ax


def sweep(frame, x, y, hue=None, ax=None, logx=False, logy=False, marker="o"):
    """Lines of column ``y`` against column ``x`` of a sweep table, one per value of ``hue``.

    frame: the DataFrame of ``akida_sim.sweeps.run``; rows whose ``error``
    is set are left out. When the table has a ``software_layers`` column
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
    for value, group in groups:
        group = group.sort_values(x)
        ax.plot(group[x], group[y], marker=marker, label=None if hue is None else f"{hue}={value}")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if logx:  # ticks at (at most MAX_TICKS of) the swept values, not at powers of ten
        ax.set_xscale("log")
        ticks = sorted(set(frame[x]))
        ticks = sorted(set(ticks[::-(-len(ticks) // MAX_TICKS)]) | {ticks[-1]})
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
    if logy:
        ax.set_yscale("log")
    marked = _mark_software(ax, frame, x, y)
    if hue is not None or marked:
        ax.legend()
    return ax


def _mark_software(ax, frame, x, y):
    """Ring the points of rows with layers in software (column ``software_layers`` > 0), with a
    legend entry; whether any point was marked."""
    if SOFTWARE_LAYERS not in frame.columns:
        return False
    rows = frame[frame[SOFTWARE_LAYERS].fillna(0) > 0]
    if rows.empty:
        return False
    ax.scatter(rows[x], rows[y], s=140, facecolors="none", edgecolors="black", linewidths=1.5, zorder=3,
               label="layers in software")
    return True


__all__ = ["MAX_TICKS", "layer_statistics", "learning_histogram", "sweep"]
