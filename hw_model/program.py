"""Program size model: what a hardware sequence's program must hold, in bytes.

Fitted to program lengths observed with the vendor's public API (akida 2.19.3,
``len(seq.program)``; the bytes themselves were never decoded).  Program size
does not depend on weight values, input bits or the spatial extent of a layer
(only on how many NPs it uses), so it is modelled as

    program = SEQ_HEADER + sum(LAYER_HEADER per HW layer) + sum(bytes per NP)
              + LEARNING_BYTES for the NP of a FullyConnected compiled for learning
              + CHUNK_HEADER * (number of 256 KiB chunks each layer's NP items need - 1)
              + PASS_HEADER * (passes - 1) + the IP version's header bytes (VERSION_HEADERS)

with NP bytes = per-NP header + per-filter record + packed weights.
All constants are calibrations: program lengths of layers swept one factor at a time.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple, Sequence

from .layer_spec import LayerSpec

SEQ_HEADER = 408            # bytes per HW sequence (calibration: 1-, 2-, 3-layer conv models)
PASS_HEADER = 64            # bytes per pass after the first of a multi-pass sequence (calibration:
                            # AkidaNet-0.5/96 and /224 on the 2-node IP, 3 passes)
LAYER_HEADER = 56           # bytes per HW layer (calibration)
CNP_HEADER = 224            # bytes per conv NP (calibration: 1,2,4,7 NP spatial splits)
SEP_HEADER = 232            # bytes per separable NP (calibration)
FNP_HEADER = 216            # bytes per FC NP (calibration)
CHUNK_BYTES = 262144       # NP items are packed greedily into chunks of at most 256 KiB (calibration, see np_chunk_items)
CHUNK_HEADER = 24          # bytes per chunk after the first (calibration)
FNP2_EXTRA = 48             # extra bytes for an FC on FNP2 (calibration: single FC layers on FNP2)
FNP2_NEXT_EXTRA = 24        # ... but only 24 B for each further FNP2 in the same sequence (calibration:
                            # sequences with two FCs on FNP2 in the random multi-layer sweeps)
FILTER_RECORD = 8           # bytes per filter per NP (threshold + step; calibration)
FC_UNIT_RECORD = 16         # bytes per FC unit (calibration)
FC_INPUT_BLOCK = 32         # FC inputs are padded to multiples of 32 (calibration)
FC_BLOCK_BYTES = {1: 4, 2: 8, 4: 24}   # bytes per unit per 32-input block, by weight bits (calibration)
# A FullyConnected compiled for learning adds a fixed block of learning state to its NP, by NP
# type (calibration: learning FCs of 16..2000 units, 64..10000 inputs, num_weights 8..64,
# num_classes 1..16, with and without activation, first or after an input conv / conv /
# separable / FC layer, every mode, both devices: the block depends only on the NP).
LEARNING_BYTES = {"FNP3": 344, "FNP2": 312}

# Conv weight packing: per input channel, ceil(ceil(F/8) * r) units of `unit` bytes (calibration:
# program-length steps in sweeps of F; the same units set the CNP filter caps, see mesh.MapLimits).
CONV_PACKING: dict[tuple[int, int], tuple[int, Fraction]] = {
    (1, 1): (64, Fraction(1, 24)), (1, 2): (64, Fraction(1, 24)), (1, 4): (128, Fraction(1, 24)),
    (3, 1): (64, Fraction(1, 5)), (3, 2): (64, Fraction(2, 5)), (3, 4): (128, Fraction(3, 8)),
    (5, 1): (64, Fraction(1, 2)), (5, 2): (64, Fraction(1)), (5, 4): (128, Fraction(1)),
    (7, 1): (64, Fraction(1)), (7, 2): (128, Fraction(1)), (7, 4): (128, Fraction(21, 8)),
}
# Separable: 64-bit words holding 48 payload bits.  Depthwise words per input channel (calibration:
# one-NP separable filter caps over k and weight bits); pointwise words per channel from pw_words().
SEP_WORD_BYTES = 8
SEP_WORD_PAYLOAD_BITS = 48
SEP_DW_WORDS: dict[tuple[int, int], Fraction] = {
    (3, 2): Fraction(1, 2), (3, 4): Fraction(1), (5, 2): Fraction(1), (5, 4): Fraction(3),
    (7, 2): Fraction(3), (7, 4): Fraction(7),
}


def _packing(spec: LayerSpec) -> tuple[int, Fraction]:
    key = (spec.k, spec.weights_bits)
    if key not in CONV_PACKING:
        raise KeyError(f"layer {spec.name!r}: no conv weight packing known for kernel {spec.k} and "
                       f"weights_bits {spec.weights_bits}")
    return CONV_PACKING[key]


def conv_units(spec: LayerSpec, filters: int) -> int:
    """Weight units per input channel for ``filters`` filters on one NP."""
    _, r = _packing(spec)
    return -(-(-(-filters // 8)) * r.numerator // r.denominator)


def conv_weight_bytes(spec: LayerSpec, filters: int) -> int:
    unit, _ = _packing(spec)
    return spec.in_channels * conv_units(spec, filters) * unit


def pw_words(filters: int, weights_bits: int) -> int:
    """Pointwise 64-bit words per input channel: full groups of 8 filters packed, a partial group adds one."""
    full = filters // 8
    return math.ceil(full * 8 * weights_bits / SEP_WORD_PAYLOAD_BITS) + (1 if filters % 8 else 0)


def sep_words(spec: LayerSpec, filters: int) -> int:
    key = (spec.k, spec.weights_bits)
    if key not in SEP_DW_WORDS:
        raise KeyError(f"layer {spec.name!r}: no separable packing known for kernel {spec.k} and "
                       f"weights_bits {spec.weights_bits}")
    c = spec.in_channels
    d = SEP_DW_WORDS[key]
    return -(-c * d.numerator // d.denominator) + c * pw_words(filters, spec.weights_bits)


def fc_weight_bytes(spec: LayerSpec) -> int:
    """FC payload of one NP: per unit a 16-byte record plus weights (inputs padded to 32), in bytes."""
    x, y, c = spec.input_shape
    nb = math.ceil(x * y * c / FC_INPUT_BLOCK)
    return spec.filters * (FC_UNIT_RECORD + nb * FC_BLOCK_BYTES[spec.weights_bits])


def np_chunk_items(spec: LayerSpec, filters: int, np_type: str = "CNP1", first_tile: bool = True) -> list[int]:
    """An NP's program bytes as the items packed into 256 KiB chunks (see chunk_overhead): an item
    that does not fit in the current chunk opens a new one.

    conv: [header, filter records, weights]; separable: [header, filter records, depthwise words,
    pointwise words]; FC: one item.  Calibration (vendor API, Minimal program lengths): sequences
    with a chunked layer in the random multi-layer sweeps, and single conv/separable layers split
    over several 256 KiB chunks, chosen so that the item
    splits compared (whole block per NP, header merged with records, depthwise or pointwise
    words, weights halved) give different program lengths."""
    b = np_bytes(spec, filters, np_type, first_tile)
    if spec.kind == "conv":
        w = conv_weight_bytes(spec, filters)
        return [CNP_HEADER, b - CNP_HEADER - w, w]
    if spec.kind != "separable":
        return [b]
    c = spec.in_channels
    d = SEP_DW_WORDS[(spec.k, spec.weights_bits)]
    dw = SEP_WORD_BYTES * (-(-c * d.numerator // d.denominator))
    pw = SEP_WORD_BYTES * c * pw_words(filters, spec.weights_bits)
    return [SEP_HEADER, b - SEP_HEADER - dw - pw, dw, pw]


def np_bytes(spec: LayerSpec, filters: int, np_type: str = "CNP1", first_tile: bool = True) -> int:
    """Program bytes for one NP running ``filters`` filters of ``spec`` (``first_tile``: the NP
    belongs to the first spatial tile of the layer)."""
    # A layer without activation holds one more record per filter (calibration: +8 B per
    # filter for conv, separable and FC layers of 8 and 32 filters), once per filter of the
    # layer: NPs of further spatial tiles do not repeat it (calibration: spatially split conv and
    # separable layers without activation on 4..6 NPs, random multi-layer sweeps).
    raw_output = 0 if spec.activation or not first_tile else FILTER_RECORD * filters
    if spec.kind == "conv":
        return CNP_HEADER + FILTER_RECORD * filters + conv_weight_bytes(spec, filters) + raw_output
    if spec.kind == "separable":
        return SEP_HEADER + FILTER_RECORD * filters + SEP_WORD_BYTES * sep_words(spec, filters) + raw_output
    if spec.kind == "fully_connected":
        x, y, c = spec.input_shape
        nb = math.ceil(x * y * c / FC_INPUT_BLOCK)
        b = FNP_HEADER + spec.filters * (FC_UNIT_RECORD + nb * FC_BLOCK_BYTES[spec.weights_bits])
        b += (FNP2_EXTRA if np_type == "FNP2" else 0) + FILTER_RECORD * spec.filters * (not spec.activation)
        return b + (LEARNING_BYTES[np_type] if spec.learns else 0)
    raise KeyError(f"layer {spec.name!r}: no NP program model for kind {spec.kind!r}")


EXT_MEM_ALIGN_ABOVE = 65536    # FNP2 weight records beyond 64 KiB take external memory in ...
EXT_MEM_ALIGN = 64             # ... 64-byte units (calibration: FCs of 2 to 40 units on 8x8x128,
                               # 16x16x64 and 16x16x128 inputs, on both devices)


def external_memory_bytes(spec: LayerSpec, np_type: str) -> int:
    """Bytes an NP keeps in external memory: an FNP2 holds its FC weight records there (beyond
    64 KiB rounded up to 64-byte units), other NPs nothing (calibration:
    ``model.external_memory_size`` of FC layers on FNP2 and FNP3)."""
    if spec.kind != "fully_connected" or np_type != "FNP2":
        return 0
    size = fc_weight_bytes(spec)
    return size if size <= EXT_MEM_ALIGN_ABOVE else -(-size // EXT_MEM_ALIGN) * EXT_MEM_ALIGN


HRC_HEADER = 136              # bytes for the HRC (calibration: 600 B single-IC base = 408 + 56 + 136)
HRC_HEADER_C1_K3 = 88         # 1-channel 3x3 input conv has a smaller header (calibration, 552 B base)
HRC_CHAIN_EXTRA = 56          # extra bytes when the HRC feeds NPs in the same sequence (calibration)
HRC_RAW_OUTPUT_SAVING = 4     # ... 4 bytes fewer when the sequence ends without activation
                              # (calibration: input conv + FC/Conv/Sep models and the zoo models)
HRC_WEIGHT_BYTES = {3: 12, 5: 36, 7: 72}   # weight bytes per filter per input channel by kernel (calibration)
HRC_FILTER_BLOCK = 192        # the HRC's filters are held in blocks of 192; each block after the first
                              # adds a CHUNK_HEADER (calibration: 1-channel 3x3 input convs of 8..512
                              # filters alone and chained, all modes: +24 B from 193, +48 B from 385)


class VersionHeader(NamedTuple):
    """Sequence-header bytes an IP version adds to the AKD1000's (see ``version_header_bytes``)."""

    on_np: int            # the sequence starts on an NP
    on_hrc: int           # it starts on the HRC and feeds NPs (an HRC alone adds nothing)
    cnp_raw_output: int   # it ends on a conv/separable layer without activation
    hrc_raw_output: int   # it starts on the HRC and ends without activation


# Programs for the hardware version of the vendor's 2-node Akida 1.0 IP hold a longer sequence
# header than the AKD1000's, whatever the mesh (calibration: IC/conv/separable/FC first and last
# layers, with and without activation, mapped on the AKD1000 mesh under both version strings,
# and the zoo models on the 2-node mesh); the AKD1000's 4 B HRC_RAW_OUTPUT_SAVING does not apply
# (hrc_raw_output states it relative to the AKD1000's program, where the saving is counted).
VERSION_HEADERS = {"BC.A1.003.006": VersionHeader(on_np=20, on_hrc=8, cnp_raw_output=-12, hrc_raw_output=4)}


def version_header_bytes(hw_version: str, layers: Sequence[LayerSpec], starts_on_hrc: bool) -> int:
    """Sequence-header bytes the IP version ``hw_version`` adds to the AKD1000's for a hardware
    sequence of ``layers`` (the first on the HRC when ``starts_on_hrc``)."""
    h = VERSION_HEADERS.get(hw_version)
    if h is None or (starts_on_hrc and len(layers) == 1):
        return 0
    last = layers[-1]
    raw = not last.activation
    return ((h.on_hrc if starts_on_hrc else h.on_np)
            + (h.cnp_raw_output if raw and last.kind in ("conv", "separable") else 0)
            + (h.hrc_raw_output if raw and starts_on_hrc else 0))


def chunk_overhead(np_blocks: list[int]) -> int:
    """Extra bytes for splitting one layer's NP items (in allocation order, see np_chunk_items)
    into 256 KiB chunks."""
    n, cur = 1, 0
    for b in np_blocks:
        if cur + b > CHUNK_BYTES and cur > 0:
            n += 1
            cur = 0
        cur += b
    return CHUNK_HEADER * (n - 1)


def hrc_bytes(spec: LayerSpec) -> int:
    """Program bytes for an InputConvolutional layer on the HRC (independent of weights_bits and x, y)."""
    c = spec.in_channels
    k = spec.k
    if k not in HRC_WEIGHT_BYTES:
        raise KeyError(f"layer {spec.name!r}: no HRC packing known for kernel {k}")
    head = HRC_HEADER_C1_K3 if (c, k) == (1, 3) else HRC_HEADER
    blocks = -(-spec.filters // HRC_FILTER_BLOCK)
    return head + spec.filters * (FILTER_RECORD + c * HRC_WEIGHT_BYTES[k]) + CHUNK_HEADER * (blocks - 1)
