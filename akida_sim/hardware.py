"""Glue between the model API and ``hw_model``: layer specs, mapping views,
program images and per-layer event counts.

``hw_model`` knows nothing of akida_sim layers; this module describes each
layer as a ``hw_model.LayerSpec``, wraps the mapper's result in objects shaped
like the vendor's (``Sequence``, ``Pass``, ``layer.mapping.nps``), and turns
the events a forward pass counted into ``hw_model.costs.LayerCounts``.
"""
import json
import struct
from dataclasses import dataclass

import numpy as np

from hw_model import LayerSpec, MappingError, map_layers
from hw_model.costs import LayerCounts, layer_work
from hw_model.program import external_memory_bytes

from .enums import BackendType, LayerType, NPType, Padding, PoolType
from .errors import SimRuntimeError

_KINDS = {
    LayerType.InputData: "input_data",
    LayerType.InputConvolutional: "input_conv",
    LayerType.Convolutional: "conv",
    LayerType.SeparableConvolutional: "separable",
    LayerType.FullyConnected: "fully_connected",
}
_POOLS = {PoolType.NoPooling: "none", PoolType.Max: "max", PoolType.Average: "average"}


def layer_spec(layer):
    """The ``hw_model.LayerSpec`` of a layer that is part of a model."""
    kind = _KINDS[layer.layer_type]
    common = dict(kind=kind, name=layer.name, input_shape=tuple(layer.input_dims),
                  output_shape=tuple(layer.output_dims), input_bits=layer.input_bits)
    if kind == "input_data":
        return LayerSpec(**common)
    a = layer._args
    registers = {name: tuple(layer._variables[var].ravel().tolist())
                 for name, var in (("thresholds", "threshold"), ("act_steps", "act_step")) if var in layer._variables}
    common.update(weights_bits=a["weights_bits"], activation=a["activation"], act_bits=a["act_bits"], **registers)
    if kind == "fully_connected":
        return LayerSpec(filters=a["units"], learns=layer._learning is not None, **common)
    weights_all_zero = any(not layer._variables[name].any()
                           for name in ("weights", "weights_pw") if name in layer._variables)
    return LayerSpec(filters=a["filters"], kernel=a["kernel_size"], stride=a["kernel_stride"],
                     padding="same" if a["padding"] == Padding.Same else "valid",
                     pool_type=_POOLS[a["pool_type"]], pool_size=a["pool_size"], pool_stride=a["pool_stride"],
                     weights_all_zero=weights_all_zero, **common)


@dataclass(frozen=True)
class NPComponent:
    """One NP (or the HRC) running part of a layer: ident (col, row, id), type, filters.

    ``single_buffer``: the component holds one input buffer (observed on the vendor's
    mapper: HRC and FNPs do, CNPs do not)."""

    ident: tuple
    type: NPType
    filters: int

    @property
    def single_buffer(self):
        return self.type != NPType.CNP1

    def __repr__(self):
        return (f"<akida_sim.NP.Component, ident={self.ident}, type=Type.{self.type.name}, "
                f"filters={self.filters}, single_buffer={self.single_buffer}>")


@dataclass(frozen=True)
class SoftwareReason:
    """Why ``map()`` left a layer in software: the mapper's rules it breaks (``rules``, names
    from ``hw_model.rules`` or ``layer_fits_mesh``/``maxpool_not_last``, first reported first)
    and their text as the vendor's hw_only error gives it (``message``)."""

    rules: tuple
    message: str

    @property
    def rule(self):
        """The first rule broken."""
        return self.rules[0]

    def __str__(self):
        return f"{', '.join(self.rules)}: {self.message}"


@dataclass(frozen=True)
class LayerMappingView:
    """``layer.mapping`` of a layer mapped on hardware: its NP components."""

    nps: tuple

    @property
    def np_count(self):
        """NPs the layer runs on: its components other than the HRC (an
        InputConvolutional on the HRC has none)."""
        return sum(1 for component in self.nps if component.type != NPType.HRC)


def _layer_repr(layer):
    """A layer's repr, followed by its NP components when it is mapped (the vendor's layout)."""
    text = repr(layer)
    if layer.mapping is None or ",nps=" in text:
        return text
    return f"{text[:-1]},nps=[{', '.join(map(repr, layer.mapping.nps))}]>"


class Pass:
    """The layers a sequence runs in one pass."""

    def __init__(self, layers):
        self.layers = list(layers)

    def __repr__(self):
        return f"<akida_sim.Pass, layers=[{', '.join(_layer_repr(l) for l in self.layers)}]>"


class Sequence:
    """Consecutive layers run on one backend; a hardware sequence has a program."""

    def __init__(self, name, backend, layers, program=None, pass_sizes=None, pass_program_bytes=None):
        """pass_sizes: layers per pass (None: one pass); pass_program_bytes: the program bytes each
        pass takes (hardware), used to price reprogramming between passes."""
        layers = list(layers)
        sizes = pass_sizes or [len(layers)]
        starts = [sum(sizes[:k]) for k in range(len(sizes))]
        self.name = name
        self.backend = backend
        self.passes = [Pass(layers[a:a + n]) for a, n in zip(starts, sizes)]
        self.program = program
        self.pass_program_bytes = list(pass_program_bytes) if pass_program_bytes is not None else (
            [len(program)] if program is not None else [])

    @property
    def layers(self):
        """The sequence's layers, in order (all passes)."""
        return [layer for p in self.passes for layer in p.layers]

    def __repr__(self):
        size = f", program_size={len(self.program)}" if self.program is not None else ""
        return (f"<akida_sim.Sequence, name={self.name}, backend={self.backend.name}, "
                f"passes=[{', '.join(map(repr, self.passes))}]{size}>")


def _pack(values, bits):
    """Two's-complement ``bits``-bit packing of int values (big-endian bit order)."""
    v = np.asarray(values, np.int64).ravel() & ((1 << bits) - 1)
    shifts = np.arange(bits - 1, -1, -1, dtype=np.int64)
    return np.packbits(((v[:, None] >> shifts) & 1).astype(np.uint8).ravel()).tobytes()


def _np_payloads(layer, components):
    """Per-component bytes: a record (ident, type, filter range) then the packed
    weights that component needs."""
    a = layer._args
    bits = min(max(a["weights_bits"], 1), 8)
    filters = a.get("filters", a.get("units"))
    start = 0
    for comp in components:
        count = comp.filters or filters
        end = min(start + count, filters)
        if layer.layer_type == LayerType.SeparableConvolutional:
            payload = (_pack(layer._variables["weights"], bits)
                       + _pack(layer._variables["weights_pw"][..., start:end], bits))
        else:
            payload = _pack(layer._variables["weights"][..., start:end], bits)
        head = struct.pack("<3BBII", *comp.ident, int(comp.type), start, end)
        yield head + payload
        start = end % filters


def program_image(name, layers, size):
    """The program of a hardware sequence: a header, each layer's configuration
    and each NP's packed weights, zero-padded to ``size`` bytes (the program
    size of the hardware model)."""
    parts = [b"AKSIMPRG", struct.pack("<HH", 1, len(layers)), name.encode()]
    for layer in layers:
        config = json.dumps(layer.get_config(), sort_keys=True, default=int).encode()
        parts.append(struct.pack("<I", len(config)) + config)
        parts.extend(_np_payloads(layer, layer.mapping.nps))
    body = b"".join(parts)
    if len(body) > size:
        raise SimRuntimeError(f"program of sequence '{name}': configuration and weights take {len(body)} bytes, "
                              f"more than the {size} bytes of the program size model")
    return body + bytes(size - len(body))


def external_memory_size(layers):
    """Bytes of external memory the mapped ``layers`` use (FNP2 weights)."""
    return sum(external_memory_bytes(layer_spec(l), c.type.name)
               for l in layers if l.mapping is not None for c in l.mapping.nps)


def map_model(layers, device, mode, hw_only):
    """Map ``layers`` on ``device``; returns (mapping, sequences).

    Attaches ``layer.mapping`` to every layer (None for software layers) and
    ``layer.software_reason`` (a ``SoftwareReason`` for software layers, else None).
    Raises SimRuntimeError with the mapper's reason when ``hw_only`` and a
    layer cannot run on hardware.
    """
    specs = [layer_spec(l) for l in layers]
    try:
        mapping = map_layers(specs, device.hw_mesh, mode=mode.name, hw_only=hw_only)
    except MappingError as exc:
        raise SimRuntimeError(str(exc)) from None
    by_name = {l.name: l for l in layers}
    for layer in layers:
        layer.mapping = None
        reasons = mapping.software_reasons(layer.name)
        layer.software_reason = SoftwareReason(tuple(v.rule for v in reasons),
                                               " ".join(v.message for v in reasons)) if reasons else None
    sequences = []
    for seq in mapping.sequences:
        seq_layers = [by_name[m.name] for m in seq.layers]
        if seq.backend == "Hardware":
            for m, layer in zip(seq.layers, seq_layers):
                layer.mapping = LayerMappingView(tuple(
                    NPComponent(tuple(n.ident), NPType[n.type.value], n.filters) for n in m.nps))
            program = program_image(seq.name, seq_layers, seq.program_bytes)
            sequences.append(Sequence(seq.name, BackendType.Hardware, seq_layers, program,
                                      [len(p.layers) for p in seq.passes], [p.program_bytes for p in seq.passes]))
        else:
            sequences.append(Sequence(seq.name, BackendType.Software, seq_layers))
    return mapping, sequences


def layer_counts(layer, input_events, output_events, frames, learn_ops=0.0):
    """``hw_model.costs.LayerCounts`` per frame of a layer from event totals over ``frames``;
    ``learn_ops``: edge-learning ops per frame (a learning layer during ``fit``).

    A layer with ``mapping`` None runs on the host (software sequence)."""
    spec = layer_spec(layer)
    per_in = input_events / frames
    x, y, c = spec.input_shape
    nps = [n for n in layer.mapping.nps if n.type != NPType.HRC] if layer.mapping is not None else []
    np_filters = max((n.filters for n in nps), default=spec.filters)
    tiles = max(1, len(nps) // -(-spec.filters // np_filters)) if nps and spec.kind != "fully_connected" else 1
    ox, oy, _ = spec.conv_output_shape if spec.kind != "fully_connected" else (1, 1, spec.filters)
    np_events, np_ops, ops = layer_work(spec.kind, per_in, kernel=spec.k, stride=spec.stride[0],
                                        filters=spec.filters, in_channels=c, conv_positions=ox * oy,
                                        tiles=tiles, np_filters=np_filters)
    return LayerCounts(name=layer.name, kind=spec.kind, input_events=per_in, input_values=x * y * c,
                       output_events=output_events / frames, synaptic_ops=ops, nps=len(nps),
                       np_events=np_events, np_ops=np_ops, on_host=layer.mapping is None, learn_ops=learn_ops)
