"""Text of ``Model.summary()``, laid out as the vendor's Akida 1.0 summary."""

from .enums import BackendType, LayerType, NPType
from .hardware import external_memory_size


def _table_width(widths):
    return sum(widths) + 2 * len(widths)


def _row(cells, widths):
    return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))


def _widths(rows):
    return [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]


def _banner(text, width):
    """``text`` framed by '=' to ``width``, the odd '=' going to the left."""
    text = f" {text} "
    margin = max(width - len(text), 0)
    left = (margin + 1) // 2
    return "=" * left + text + "=" * (margin - left)


def _kernel_shapes(layer):
    if layer.layer_type == LayerType.SeparableConvolutional:
        return [tuple(layer._variables["weights"].shape), tuple(layer._variables["weights_pw"].shape)]
    return [tuple(layer._variables["weights"].shape)]


def _top_table(model, n_sequences, extra=()):
    def shape(value):
        return "N/A" if value is None else str(value)

    head = [["Input shape", "Output shape", "Sequences", "Layers"] + [k for k, _ in extra],
            [shape(model.input_shape), shape(model.output_shape), str(n_sequences),
             str(len(model.layers))] + [str(v) for _, v in extra]]
    widths = _widths(head)
    width = _table_width(widths)
    return ["Model Summary".center(width), "_" * width, _row(head[0], widths), "=" * width,
            _row(head[1], widths), "_" * width]


def _layer_table(header, blocks):
    """blocks: list of (banner text, rows); rows of one sequence are separated
    by '_' lines, and a last '_' line closes the table. A row that is a string
    (e.g. "pass 2") is a banner in place of the separator."""
    widths = _widths([header] + [r for _, rows in blocks for r in rows if not isinstance(r, str)])
    width = _table_width(widths)
    lines = ["_" * width, _row(header, widths)]
    for title, rows in blocks:
        lines += ["", _banner(title, width), ""]
        for i, row in enumerate(rows):
            if isinstance(row, str):
                lines.append(_banner(row, width))
                continue
            if i and not isinstance(rows[i - 1], str):
                lines.append("_" * width)
            lines.append(_row(row, widths))
    lines.append("_" * width)
    return lines


def _layer_rows(layer, components=None):
    """Rows of one layer: name (type), output shape, kernel shape(s)[, components]."""
    shapes = _kernel_shapes(layer)
    first = [f"{layer.name} ({layer.summary_type})", str(layer.output_dims), str(shapes[0])]
    more = [["", "", str(s)] for s in shapes[1:]]
    if components is not None:
        first.append(components)
        for row in more:
            row.append("")
    return [first] + more


def summary_text(model, sequences):
    """The summary of an unmapped ``model`` as a string.

    sequences: list of (title, [layers]) pairs, e.g. ``[("SW/conv-fc (Software)", layers)]``.
    """
    lines = _top_table(model, len(sequences))
    if sequences:
        blocks = [(title, [r for l in layers for r in _layer_rows(l)]) for title, layers in sequences]
        lines += [""] + _layer_table(["Layer (type)", "Output shape", "Kernel shape"], blocks)
    return "\n".join(lines) + "\n"


def _components(layer):
    if layer.mapping is None:
        return "N/A"
    counts = {}
    for comp in layer.mapping.nps:
        counts[comp.type] = counts.get(comp.type, 0) + 1
    return ", ".join(f"{n} {t.name}" for t, n in sorted(counts.items()))


def mapped_summary_text(model, sequences):
    """The summary of a mapped ``model``: NPs, components per type, and each
    sequence with its backend and program size."""
    totals = {}
    for layer in model.layers:
        for comp in (layer.mapping.nps if layer.mapping is not None else ()):
            totals[comp.type] = totals.get(comp.type, 0) + 1
    nps = sum(n for t, n in totals.items() if t != NPType.HRC)
    lines = _top_table(model, len(sequences), [("NPs", nps), ("Skip DMAs", 0),
                                               ("External Memory (Bytes)", model.external_memory_size)])
    if totals:
        comp_rows = [["Component (type)", "Count"]] + [[t.name, str(n)] for t, n in sorted(totals.items())]
        widths = _widths(comp_rows)
        width = _table_width(widths)
        lines += ["", "_" * width, _row(comp_rows[0], widths), "=" * width]
        for row in comp_rows[1:]:
            lines += [_row(row, widths), "_" * width]
    external = [[f"{l.name} ({l.summary_type})", str(external_memory_size([l]))]
                for l in model.layers if external_memory_size([l])]
    if external:
        rows = [["Layer (type)", "External Memory (Bytes)"]] + external
        widths = _widths(rows)
        width = _table_width(widths)
        lines += ["", "External Memory Summary".center(width), "_" * width, _row(rows[0], widths), "=" * width]
        for row in rows[1:]:
            lines += [_row(row, widths), "_" * width]
    blocks = []
    for seq in sequences:
        if seq.backend == BackendType.Hardware:
            title = f"{seq.name} (Hardware) - size: {len(seq.program)} bytes"
        else:
            title = f"{seq.name} (Software)"
        rows = []
        for k, p in enumerate(seq.passes):
            if k:
                rows.append(f"pass {k + 1}")   # the vendor's banner between the passes of a sequence
            rows += [r for l in p.layers for r in _layer_rows(l, _components(l))]
        blocks.append((title, rows))
    lines += [""] + _layer_table(["Layer (type)", "Output shape", "Kernel shape", "Components"], blocks)
    return "\n".join(lines) + "\n"


def learning_summary_text(layer):
    """The "Learning Summary" table of a layer compiled for learning."""
    x, y, c = layer.input_dims
    rows = [["Learning Layer", "# Input Conn.", "# Weights"],
            [layer.name, str(x * y * c), str(layer._learning.optimizer._config["num_weights"])]]
    widths = _widths(rows)
    width = _table_width(widths)
    lines = ["Learning Summary".center(width), "_" * width, _row(rows[0], widths), "=" * width,
             _row(rows[1], widths), "_" * width]
    return "\n".join(lines) + "\n"


def software_note(model):
    """akida_sim's note below the vendor's tables: each layer ``map()`` left in software, with
    the rule that sent it there (``layer.software_reason``); empty when there is none."""
    rows = [(layer.name, layer.software_reason) for layer in model.layers if layer.software_reason is not None]
    if not rows:
        return ""
    return ("\nLayers in software (rule: reason):\n"
            + "".join(f"  {name}: {reason}\n" for name, reason in rows))
