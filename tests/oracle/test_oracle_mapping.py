"""hw_model's mapper against the live vendor mapper (akida==2.19.3, ``akida.AKD1000()``).

Random single-layer and multi-layer models are built with the vendor's public API (weights set to
ones: an all-zero separable or input-conv layer goes to software), mapped in each mode, and compared with
``hw_model.map_layers`` fed the same layers as ``LayerSpec``s.  Only what the public API returns is
compared: sequence names, NPs per layer (count, types, filters per NP), ``len(seq.program)`` and
the hw_only error text.  The model is not exact everywhere (AllNps sequence partition of a few
large models, some hw_only texts), so the test asserts agreement rates with a margin.
"""
from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

akida = pytest.importorskip("akida")

from hw_model import MappingError, make_spec, map_layers  # noqa: E402

pytestmark = pytest.mark.oracle
MODES = ("AllNps", "HwPr", "Minimal")
_POOL = {"none": "NoPooling", "max": "Max", "average": "Average"}


def _pair(v):
    """An int for both axes, or an (axis 1, axis 2) pair."""
    return (v, v) if isinstance(v, int) else tuple(v)


def build_vendor(desc: dict):
    m = akida.Model()
    if desc["layers"][0]["kind"] != "input_conv":
        m.add(akida.InputData(input_shape=tuple(desc["input"]), input_bits=desc["input_bits"], name="input"))
    for d in desc["layers"]:
        pool = getattr(akida.PoolType, _POOL[d.get("pool", "none")])
        ps = d.get("ps", -1)
        kw = dict(filters=d["filters"], kernel_size=_pair(d["k"]), kernel_stride=_pair(d.get("s", 1)),
                  padding=akida.Padding.Same if d.get("padding", "same") == "same" else akida.Padding.Valid,
                  pool_type=pool, pool_size=_pair(ps), weights_bits=d.get("wb", 4), act_bits=d.get("ab", 4),
                  name=d["name"], activation=d.get("act", True))
        if "pst" in d:
            kw["pool_stride"] = _pair(d["pst"])
        if d["kind"] == "input_conv":
            layer = akida.InputConvolutional(input_shape=tuple(desc["input"]), **kw)
        elif d["kind"] == "conv":
            layer = akida.Convolutional(**kw)
        elif d["kind"] == "separable":
            layer = akida.SeparableConvolutional(**kw)
        else:
            layer = akida.FullyConnected(units=d["filters"], weights_bits=d.get("wb", 4), act_bits=d.get("ab", 4),
                                         name=d["name"], activation=d.get("act", True))
        m.add(layer)
    for layer in m.layers:
        for var in ("weights", "weights_pw"):
            try:
                w = layer.get_variable(var)
            except Exception:  # layer has no such variable
                continue
            layer.set_variable(var, np.ones(w.shape, np.int8))
    return m


def vendor_map(desc: dict, mode: str, hw_only: bool = False, device=None):
    m = build_vendor(desc)
    try:
        m.map(device or akida.AKD1000(), hw_only=hw_only, mode=getattr(akida.MapMode, mode))
    except RuntimeError as e:
        return str(e)
    out = []
    for s in m.sequences:
        layers = {}
        for p in s.passes:
            for L in p.layers:
                nps = list(L.mapping.nps) if L.mapping is not None else []
                layers[L.name] = (len(nps), Counter(str(n.type).split(".")[-1] for n in nps),
                                  Counter(n.filters for n in nps))
        out.append((s.name, None if s.program is None else len(s.program), layers))
    return out


def specs_of(desc: dict):
    specs, shape, bits = [], tuple(desc["input"]), desc["input_bits"]
    for L in desc["layers"]:
        sp = make_spec(L["kind"], L["name"], shape, L["filters"], kernel=L["k"], stride=L.get("s", 1),
                       padding=L.get("padding", "same"), pool_type=L.get("pool", "none"), pool_size=L.get("ps", -1),
                       pool_stride=L.get("pst", -1),
                       weights_bits=L.get("wb", 4), input_bits=8 if L["kind"] == "input_conv" else bits,
                       act_bits=L.get("ab", 4), activation=L.get("act", True))
        specs.append(sp)
        shape, bits = sp.output_shape, L.get("ab", 4)
    return specs


def model_map(desc: dict, mode: str, mesh=None):
    m = map_layers(specs_of(desc), mesh, mode=mode)
    return [(s.name, s.program_bytes,
             {L.name: (len(L.nps), Counter(n.type.value for n in L.nps), Counter(n.filters for n in L.nps))
              for L in s.layers}) for s in m.sequences]


def _conv_layer(r, name, kind):
    k = r.choice([1, 3, 5, 7]) if kind == "conv" else r.choice([3, 5, 7])
    d = dict(kind=kind, name=name, filters=r.choice([1, 8, 16, 32, 64, 100, 128, 256, 384, 512]), k=k,
             s=2 if (k == 3 and r.random() < 0.2) else 1, wb=r.choice([1, 2, 4, 4]) if kind == "conv" else r.choice([2, 4]),
             ab=r.choice([1, 2, 4]))
    if r.random() < 0.1:
        d["padding"] = "valid"
    return d


def random_model(r: random.Random) -> dict:
    if r.random() < 0.6:   # single layer
        kind = r.choice(["conv", "separable", "fully_connected", "input_conv"])
        if kind == "fully_connected":
            return {"input": [1, 1, r.choice([16, 64, 256, 1024, 4096])], "input_bits": r.choice([1, 2, 4]),
                    "layers": [dict(kind=kind, name="L0", filters=r.choice([10, 64, 256, 1000]), k=1,
                                    wb=r.choice([1, 2, 4]))]}
        if kind == "input_conv":
            d = _conv_layer(r, "L0", "conv")
            d.update(kind=kind, k=r.choice([3, 5, 7]), filters=r.choice([8, 16, 32, 64]), wb=4)
            return {"input": [r.choice([32, 64, 128]), r.choice([16, 64, 128]), r.choice([1, 3])], "input_bits": 8,
                    "layers": [d]}
        return {"input": [r.choice([4, 8, 16, 32, 33, 64, 100]), r.choice([4, 8, 16, 32, 49, 64]),
                          r.choice([2, 8, 32, 64, 128, 256])],
                "input_bits": r.choice([1, 2, 4]), "layers": [_conv_layer(r, "L0", kind)]}
    layers = [_conv_layer(r, f"l{i}", r.choice(["conv", "separable"])) for i in range(r.randint(2, 4))]
    for d in layers:
        d["padding"] = "same"
        d["filters"] = min(d["filters"], 256)   # keeps the vendor's AllNps search fast
    if r.random() < 0.5:
        layers[-1]["pool"] = "average"
        layers.append(dict(kind="fully_connected", name="fc", filters=r.choice([10, 64, 256]), k=1, wb=4))
    return {"input": [r.choice([8, 16, 32]), r.choice([8, 16, 32]), r.choice([8, 16, 64])],
            "input_bits": r.choice([2, 4]), "layers": layers}


def _models(seed: int, n: int):
    r = random.Random(seed)
    out = []
    while len(out) < n:
        desc = random_model(r)
        try:
            build_vendor(desc)
        except (ValueError, RuntimeError):   # illegal parameters, rejected at construction
            continue
        out.append(desc)
    return out


MODELS = _models(2024, 48)


def _two_nodes():
    import akida_sim

    return akida.TwoNodesIPv1(), akida_sim.TwoNodesIPv1().hw_mesh


#: (device name, models, modes): the AKD1000 and the 2-node IP (multi-pass, its own hardware
#: version), in every mode.
SWEEPS = [("AKD1000", MODELS, MODES), ("TwoNodesIPv1", _models(7, 24), MODES)]


@pytest.mark.parametrize("device, models, mode", [(d, m, mode) for d, m, modes in SWEEPS for mode in modes],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_np_counts_and_program_agree_with_vendor(device, models, mode):
    vendor_device, mesh = _two_nodes() if device == "TwoNodesIPv1" else (akida.AKD1000(), None)
    n = same_nps = same_prog = 0
    misses = []
    for desc in models:
        obs = vendor_map(desc, mode, device=vendor_device)
        if isinstance(obs, str):
            continue
        got = model_map(desc, mode, mesh)
        n += 1
        names_ok = [s[0] for s in obs] == [s[0] for s in got]
        nps_ok = names_ok and all(
            {k: (v[0], v[1], v[2]) for k, v in o[2].items()} == {k: (v[0], v[1], v[2]) for k, v in g[2].items()}
            for o, g in zip(obs, got))
        prog_ok = names_ok and all((o[1] is None and g[1] is None) or
                                   (o[1] is not None and g[1] is not None and abs(o[1] - g[1]) <= 0.01 * o[1])
                                   for o, g in zip(obs, got))
        same_nps += nps_ok
        same_prog += prog_ok
        if not (nps_ok and prog_ok):
            misses.append((desc, obs, got))
    assert n >= 0.8 * len(models)
    # the margin leaves room for about two models
    assert same_nps / n >= 0.95, misses[:3]
    assert same_prog / n >= 0.95, misses[:3]


def _risky_layer(r: random.Random) -> dict:
    """A single conv/sep/FC/input-conv layer likely to break a design rule."""
    kind = r.choice(["conv", "separable", "fully_connected", "input_conv"])
    if kind == "fully_connected":
        return {"input": [r.choice([1, 8]), r.choice([1, 8]), r.choice([64, 1024])], "input_bits": 4,
                "layers": [dict(kind=kind, name="L0", filters=64, k=1, wb=r.choice([4, 8]))]}
    d = dict(kind=kind, name="L0", filters=r.choice([8, 64, 256]), k=r.choice([3, 5, 7]), s=r.choice([1, 2]),
             padding=r.choice(["same", "same", "valid"]), wb=r.choice([1, 2, 4, 8]), ab=4)
    p = r.random()
    if p < 0.3:
        d["pool"] = "average"
    elif p < 0.6:
        d.update(pool="max", ps=2)
    if kind == "input_conv":
        d["filters"] = r.choice([16, 64, 200])
        return {"input": [r.choice([32, 64]), r.choice([2, 32]), r.choice([1, 3])], "input_bits": 8, "layers": [d]}
    return {"input": [r.choice([8, 32, 48]), r.choice([2, 8, 48]), r.choice([8, 64])], "input_bits": 4,
            "layers": [d]}


def _risky_models(seed: int, n: int):
    r = random.Random(seed)
    out = []
    while len(out) < n:
        desc = _risky_layer(r)
        try:
            build_vendor(desc)
        except (ValueError, RuntimeError):
            continue
        out.append(desc)
    return out


def test_hw_only_messages_agree_with_vendor():
    n = same = 0
    misses = []
    for desc in _risky_models(7, 40):
        obs = vendor_map(desc, "AllNps", hw_only=True)
        if not isinstance(obs, str):
            continue
        n += 1
        try:
            map_layers(specs_of(desc), hw_only=True)
            got = "OK"
        except MappingError as e:
            got = str(e)
        same += got == obs
        if got != obs:
            misses.append((desc, obs, got))
    assert n >= 15
    assert same / n >= 0.85, misses[:3]


# ---------------------------------------------------------------------------------------------
# One-factor sweeps, compared live: spatial tiles, 256 KiB program chunks, the HRC's filter blocks
# ---------------------------------------------------------------------------------------------
SPATIAL_SHAPES = [
    # (x, y, C, k, input_bits, kind, pool): row halo thresholds, 1-bit row alignment, odd C, pooled tiles
    (16, 82, 128, 3, 4, "conv", "none"), (16, 84, 128, 3, 4, "conv", "none"), (16, 122, 128, 3, 4, "conv", "none"),
    (128, 64, 64, 7, 4, "conv", "none"), (56, 64, 256, 3, 4, "conv", "none"), (100, 100, 43, 3, 4, "conv", "none"),
    (100, 100, 39, 3, 4, "conv", "none"), (25, 32, 384, 3, 1, "conv", "none"), (56, 56, 200, 3, 1, "conv", "none"),
    (90, 110, 275, 7, 1, "separable", "none"), (85, 90, 256, 7, 4, "separable", "max"),
    (258, 50, 128, 7, 4, "conv", "max"),
]


@pytest.mark.parametrize("x,y,c,k,ib,kind,pool", SPATIAL_SHAPES)
def test_spatial_tiles_agree_with_vendor(x, y, c, k, ib, kind, pool):
    layers = [dict(kind=kind, name="L0", filters=8, k=k, wb=2, ab=4)]
    if pool == "max":
        layers[0].update(pool="max", ps=2)
        layers.append(dict(kind="conv", name="L1", filters=8, k=3, wb=2, ab=4))
    desc = {"input": [x, y, c], "input_bits": ib, "layers": layers}
    assert model_map(desc, "Minimal") == vendor_map(desc, "Minimal")


@pytest.mark.parametrize("kind, shape, ib, filters, k, wb", [
    ("conv", (48, 128, 200), 4, 384, 3, 1), ("conv", (160, 128, 200), 1, 512, 3, 1),
    ("conv", (128, 32, 512), 4, 512, 1, 1), ("separable", (96, 64, 384), 4, 256, 3, 2),
    ("separable", (48, 128, 384), 4, 256, 7, 2),
])
def test_program_chunks_agree_with_vendor(kind, shape, ib, filters, k, wb):
    """Layers whose NP items straddle 256 KiB chunk boundaries (Minimal program lengths)."""
    desc = {"input": list(shape), "input_bits": ib, "layers": [dict(kind=kind, name="L0", filters=filters, k=k,
                                                                    wb=wb, ab=4)]}
    assert model_map(desc, "Minimal") == vendor_map(desc, "Minimal")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("filters", [8, 64, 192, 193, 256, 384, 385, 512])
@pytest.mark.parametrize("chained", [False, True])
def test_one_channel_input_conv_programs_agree_with_vendor(filters, chained, mode):
    """1-channel 3x3 InputConvolutional up to the documented 512 filters, alone or feeding a conv."""
    layers = [dict(kind="input_conv", name="ic", filters=filters, k=3, s=2, wb=8, ab=4)]
    if chained:
        layers.append(dict(kind="conv", name="c", filters=8, k=3, wb=4, ab=4))
    desc = {"input": [64, 48, 1], "input_bits": 8, "layers": layers}
    assert model_map(desc, mode) == vendor_map(desc, mode)


@pytest.mark.parametrize("kind, k, c", [("input_conv", k, c) for k in (1, 3, 9) for c in (1, 2, 3, 4)]
                         + [("conv", 9, 8), ("separable", 1, 8), ("separable", 9, 8)])
def test_kernel_sizes_and_channels_the_hardware_refuses_agree_with_vendor(kind, k, c):
    """Legal layers outside the HRC's kernels 3/5/7 and 1 or 3 channels, or the CNPs' kernels:
    software sequences in every mode and the same hw_only text."""
    layers = [dict(kind=kind, name="L0", filters=8, k=k, wb=4, ab=4), dict(kind="conv", name="L1", filters=8, k=3)]
    desc = {"input": [32, 32, c], "input_bits": 8 if kind == "input_conv" else 4, "layers": layers}
    for mode in MODES:
        assert model_map(desc, mode) == vendor_map(desc, mode), mode
    try:
        map_layers(specs_of(desc), hw_only=True)
        got = "mapped"
    except MappingError as e:
        got = str(e)
    vendor = vendor_map(desc, "AllNps", hw_only=True)
    assert got == (vendor if isinstance(vendor, str) else "mapped")


_FIRST = {"ic": dict(kind="input_conv", name="first", filters=8, k=3, wb=4),
          "conv": dict(kind="conv", name="first", filters=8, k=3), "sep": dict(kind="separable", name="first",
                                                                               filters=8, k=3)}


@pytest.mark.parametrize("first", ["ic", "conv", "sep"])
@pytest.mark.parametrize("last", [None, "conv", "separable", "fully_connected"])
@pytest.mark.parametrize("act", [True, False])
def test_two_nodes_ip_version_programs_agree_with_vendor(first, last, act):
    """The 2-node IP's hardware version lengthens the sequence header depending on the first
    layer and the activation of the last: programs on TwoNodesIPv1 as the vendor's."""
    import akida_sim

    if last is None and first == "ic" and not act:
        pytest.skip("an InputConvolutional needs its activation")
    layers = [dict(_FIRST[first], act=act if last is None else True)]
    if last == "fully_connected":
        layers.append(dict(kind="conv", name="gap", filters=8, k=3, pool="average"))
    if last is not None:
        layers.append(dict(kind=last, name="last", filters=8, k=3, act=act))
    desc = {"input": [16, 16, 1 if first == "ic" else 8], "input_bits": 8 if first == "ic" else 4, "layers": layers}
    for mode in MODES:
        assert model_map(desc, mode, akida_sim.TwoNodesIPv1().hw_mesh) == \
            vendor_map(desc, mode, device=akida.TwoNodesIPv1()), mode


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("filters", [24, 40, 200])
def test_one_channel_parity_is_the_akd1000_versions_rule(filters, mode):
    """A 1-input-channel conv with an odd number of 8-filter groups per NP: refused or spread on
    the AKD1000, mapped as is on the 2-node IP."""
    desc = {"input": [16, 16, 1], "input_bits": 4, "layers": [dict(kind="conv", name="L0", filters=filters, k=3)]}
    vendor_device, mesh = _two_nodes()
    assert model_map(desc, mode) == vendor_map(desc, mode)
    assert model_map(desc, mode, mesh) == vendor_map(desc, mode, device=vendor_device)


_GEOMETRY = [  # (kind, kernel, stride, pool size, pool stride): the vendor refuses each on hardware
    ("input_conv", (3, 5), 1, -1, -1), ("input_conv", (1, 3), 1, -1, -1), ("input_conv", 7, (7, 4), -1, -1),
    ("input_conv", 7, (1, 4), -1, -1), ("input_conv", 3, 1, (2, 4), -1), ("input_conv", 3, 1, 3, -1),
    ("input_conv", 3, 1, (2, 1), -1), ("conv", (3, 5), 1, -1, -1), ("separable", (5, 3), 1, -1, -1),
    ("conv", 3, (1, 2), -1, -1), ("conv", 3, 3, -1, -1), ("conv", 5, 3, -1, -1), ("separable", 5, (1, 2), -1, -1),
    ("conv", 3, 1, (2, 1), -1), ("conv", 3, 1, 3, -1), ("separable", 3, 1, (3, 2), -1), ("conv", 3, 1, 4, -1),
    ("conv", 3, 1, (4, 2), -1), ("conv", 3, 1, 2, (1, 2)), ("conv", 3, 1, 2, 1),
]


@pytest.mark.parametrize("device", ["AKD1000", "TwoNodesIPv1"])
@pytest.mark.parametrize("kind, k, s, ps, pst", _GEOMETRY)
def test_kernel_stride_and_pool_geometry_agree_with_vendor(kind, k, s, ps, pst, device):
    """Non-square kernels, unequal or large strides, pool sizes and strides: the same software
    split and hw_only text (max pooling of size 3 depends on the hardware version)."""
    layer = dict(kind=kind, name="L0", filters=8, k=k, s=s, wb=4)
    if ps != -1:
        layer.update(pool="max", ps=ps, pst=pst)
    desc = {"input": [26, 24, 1 if kind == "input_conv" else 8], "input_bits": 8 if kind == "input_conv" else 4,
            "layers": [layer, dict(kind="conv", name="L1", filters=8, k=3)]}
    vendor_device, mesh = _two_nodes() if device == "TwoNodesIPv1" else (akida.AKD1000(), None)
    for mode in MODES:
        assert model_map(desc, mode, mesh) == vendor_map(desc, mode, device=vendor_device), mode
    try:
        map_layers(specs_of(desc), mesh, hw_only=True)
        got = "mapped"
    except MappingError as e:
        got = str(e)
    vendor = vendor_map(desc, "AllNps", hw_only=True, device=vendor_device)
    assert got == (vendor if isinstance(vendor, str) else "mapped")


@pytest.mark.parametrize("units", [10, 700])
@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_fully_connected_chains_on_two_nodes_agree_with_vendor(n, units):
    """More FullyConnected layers than the 2-node IP's two FNPs: passes, and a new sequence where
    a layer would take the FNP2 an earlier pass used."""
    desc = {"input": [1, 1, 64], "input_bits": 4,
            "layers": [dict(kind="fully_connected", name=f"f{i}", filters=units if i % 2 else 10, k=1)
                       for i in range(n)]}
    vendor_device, mesh = _two_nodes()
    for mode in ("AllNps", "Minimal"):
        assert model_map(desc, mode, mesh) == vendor_map(desc, mode, device=vendor_device), mode
