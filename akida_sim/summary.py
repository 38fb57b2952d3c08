"""Text of ``Model.summary()``, laid out as the vendor's Akida 1.0 summary."""

from .enums import LayerType


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


def summary_text(model, sequences):
    """The summary of ``model`` as a string.

    sequences: list of (title, [layers]) pairs, e.g. ``[("SW/conv-fc (Software)", layers)]``.
    """
    def shape(value):
        return "N/A" if value is None else str(value)

    head = [["Input shape", "Output shape", "Sequences", "Layers"],
            [shape(model.input_shape), shape(model.output_shape), str(len(sequences)),
             str(len(model.layers))]]
    w1 = _widths(head)
    t1 = _table_width(w1)
    lines = ["Model Summary".center(t1), "_" * t1, _row(head[0], w1), "=" * t1,
             _row(head[1], w1), "_" * t1]
    if not sequences:
        return "\n".join(lines) + "\n"
    lines.append("")

    header = ["Layer (type)", "Output shape", "Kernel shape"]
    body = []
    for title, layers in sequences:
        block = []
        for layer in layers:
            shapes = _kernel_shapes(layer)
            block.append([f"{layer.name} ({layer.summary_type})", str(layer.output_dims), str(shapes[0])])
            block.extend(["", "", str(s)] for s in shapes[1:])
        body.append((title, block))
    w2 = _widths([header] + [r for _, block in body for r in block])
    t2 = _table_width(w2)
    lines += ["_" * t2, _row(header, w2)]
    for title, block in body:
        lines += ["", _banner(title, t2), ""]
        for row in block:
            lines += [_row(row, w2), "_" * t2]
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
