"""``Model.map`` through akida_sim's public API against the vendor's mapper.

The built-in models (DS-CNN, AkidaNet-0.5 at two sizes, the MNIST net) are
copied into the vendor's package and mapped on both AKD1000s in every mode:
sequences, backends, program sizes, every layer's NP components (ident,
type, filters) and the mapped summary text must be identical. Software
splits and hw_only refusals are compared on small models.
"""
import contextlib
import io

import numpy as np
import pytest

akida = pytest.importorskip("akida")

import akida_sim  # noqa: E402
from akida_sim import zoo  # noqa: E402

pytestmark = pytest.mark.oracle
MODES = ("AllNps", "HwPr", "Minimal")


def vendor_ident(ident):
    return (ident.col, ident.row, ident.id)


def mapping_of(model, ident):
    seqs = [(s.name, s.backend.name, None if s.program is None else len(s.program)) for s in model.sequences]
    layers = [(l.name, None if l.mapping is None else
               [(ident(n.ident), n.type.name, n.filters) for n in l.mapping.nps]) for l in model.layers]
    return seqs, layers


def summary_of(model):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.summary()
    return out.getvalue()


def map_both(sim, mode, hw_only=False):
    vendor = zoo.copy_into(sim, akida)
    vendor.map(akida.AKD1000(), hw_only=hw_only, mode=getattr(akida.MapMode, mode))
    sim.map(akida_sim.AKD1000(), hw_only=hw_only, mode=getattr(akida_sim.MapMode, mode))
    return vendor


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["dscnn_kws", "mnist", "akidanet_05_96", "akidanet_05_224"])
def test_zoo_models_map_identically(name, mode):
    sim = zoo.build(name)
    vendor = map_both(sim, mode)
    assert mapping_of(sim, tuple) == mapping_of(vendor, vendor_ident)
    assert summary_of(sim) == summary_of(vendor)


def chain(*layers):
    model = akida_sim.Model()
    for layer in layers:
        model.add(layer)
    for layer in model.layers:  # non-zero weights: an all-zero layer goes to software
        for var in layer.get_variable_names():
            if var.startswith("weights"):
                layer.set_variable(var, np.ones_like(layer.get_variable(var)))
    return model


def inp(shape=(16, 16, 8), bits=4):
    return akida_sim.InputData(input_shape=shape, input_bits=bits)


def conv(name, filters=16, **kw):
    kw.setdefault("weights_bits", 4)
    kw.setdefault("act_bits", 4)
    return akida_sim.Convolutional(kernel_size=(3, 3), filters=filters, name=name, **kw)


SPLIT_MODELS = {
    "8-bit conv in the middle": lambda: chain(inp(), conv("a"), conv("b8", weights_bits=8), conv("c"),
                                              akida_sim.FullyConnected(units=4, weights_bits=2, name="fc")),
    "valid padding": lambda: chain(inp(), conv("a", padding=akida_sim.Padding.Valid), conv("b")),
    "max pool at the end": lambda: chain(inp(), conv("a"), conv("b", pool_type=akida_sim.PoolType.Max,
                                                              pool_size=(2, 2))),
    "input conv without activation": lambda: chain(akida_sim.InputConvolutional(
        input_shape=(16, 16, 3), kernel_size=(3, 3), filters=8, weights_bits=8, activation=False, name="ic")),
    "raw conv output": lambda: chain(inp(), conv("a"), conv("b", activation=False)),
    "wide fc": lambda: chain(inp((8, 8, 64)), akida_sim.FullyConnected(units=300, weights_bits=4, name="fc")),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(SPLIT_MODELS))
def test_software_splits_and_programs(case, mode):
    sim = SPLIT_MODELS[case]()
    vendor = map_both(sim, mode)
    assert mapping_of(sim, tuple) == mapping_of(vendor, vendor_ident)
    assert summary_of(sim) == summary_of(vendor)


@pytest.mark.parametrize("case", ["8-bit conv in the middle", "valid padding", "max pool at the end",
                                  "input conv without activation"])
def test_hw_only_refusals(case):
    sim = SPLIT_MODELS[case]()
    vendor = zoo.copy_into(sim, akida)
    with pytest.raises(RuntimeError) as vendor_error:
        vendor.map(akida.AKD1000(), hw_only=True)
    with pytest.raises(RuntimeError) as sim_error:
        sim.map(akida_sim.AKD1000(), hw_only=True)
    assert str(sim_error.value) == str(vendor_error.value)
