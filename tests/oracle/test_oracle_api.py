"""Model/layer API of akida_sim against the vendor's: names, variables,
parameters, shapes, summary() text and save/load."""
import contextlib
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

import akida_sim
from model_specs import (
    STATS, LayerSpec, architectures, assert_identical, build, build_case, model_cases, oracle_settings,
)

akida = pytest.importorskip("akida")
pytestmark = pytest.mark.oracle


def both(layers):
    return build(akida, layers), build(akida_sim, layers)


def specs_of(arch):
    return [spec for spec, _ in arch]


def printed(call):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        returned = call()
    return returned, out.getvalue()


# ----------------------------------------------------------------------
# names, variables, parameters, shapes


@oracle_settings(100)
@given(arch=architectures())
def test_names_shapes_and_variables_alike(arch):
    vendor, sim = both(specs_of(arch))
    assert [layer.name for layer in sim.layers] == [layer.name for layer in vendor.layers]
    assert sim.input_shape == vendor.input_shape
    assert sim.output_shape == vendor.output_shape
    vendor_layers, sim_layers = vendor.layers, sim.layers
    for v, s in zip(vendor_layers, sim_layers):
        assert s.input_dims == v.input_dims, v.name
        assert s.output_dims == v.output_dims, v.name
        assert s.get_variable_names() == v.get_variable_names(), v.name
        for name in v.get_variable_names():
            # fresh variables: weights 0, thresholds 0, steps 1
            assert_identical(s.get_variable(name), v.get_variable(name), f"{v.name}.{name}")
    STATS["api: models compared"] += 1


@oracle_settings(100)
@given(arch=architectures())
def test_layer_parameters_alike(arch):
    vendor, sim = both(specs_of(arch))
    vendor_layers, sim_layers = vendor.layers, sim.layers
    for v, s in zip(vendor_layers, sim_layers):
        vp, sp = v.parameters, s.parameters
        vendor_keys = [k for k in dir(vp) if not k.startswith("_")]
        sim_keys = [k for k in dir(sp) if not k.startswith("_")]
        missing = set(vendor_keys) - set(sim_keys)
        assert not missing, f"{v.name}: parameters missing in akida_sim: {sorted(missing)}"
        for key in vendor_keys:
            if key.startswith("pooling_stride") and int(getattr(vp, key)) == 0:
                continue  # known divergence, see test_pool_stride_0_kept_in_parameters
            assert int(getattr(sp, key)) == int(getattr(vp, key)), f"{v.name}.parameters.{key}"


def test_pool_stride_0_kept_in_parameters():
    layers = [LayerSpec("inp", dict(input_shape=(8, 8, 1))),
              LayerSpec("conv", dict(kernel_size=(3, 3), filters=2, pool_type=1, pool_size=(2, 2), pool_stride=(0, 1)))]
    vendor, sim = both(layers)
    vendor_layers, sim_layers = vendor.layers, sim.layers
    assert sim.output_shape == vendor.output_shape
    vp, sp = vendor_layers[1].parameters, sim_layers[1].parameters
    assert (int(sp.pooling_stride_x), int(sp.pooling_stride_y)) == (int(vp.pooling_stride_x), int(vp.pooling_stride_y))


NAME_SEQUENCES = [
    ["Conv_5", None, None, None],
    ["Conv_4", None, None],
    ["Conv_3", None],
    ["Fully_3", None],
    ["x", "", None, "Conv_2"],
]


@pytest.mark.parametrize("names", NAME_SEQUENCES, ids=str)
def test_default_names_skip_taken_names(names):
    results = []
    for ak in (akida, akida_sim):
        model = ak.Model()
        model.add(ak.InputData(input_shape=(6, 6, 2)))
        for name in names:
            kwargs = {} if name is None else {"name": name}
            model.add(ak.Convolutional(kernel_size=(3, 3), filters=2, **kwargs))
        results.append([layer.name for layer in model.layers])
    assert results[1] == results[0]


def test_names_after_pop_layer():
    results = []
    for ak in (akida, akida_sim):
        model = ak.Model()
        model.add(ak.InputConvolutional(input_shape=(6, 6, 3), kernel_size=(3, 3), filters=2))
        model.add(ak.Convolutional(kernel_size=(3, 3), filters=2))
        model.add(ak.SeparableConvolutional(kernel_size=(3, 3), filters=2))
        model.add(ak.FullyConnected(units=3))
        model.pop_layer()
        model.add(ak.FullyConnected(units=3))
        model.pop_layer()
        model.pop_layer()
        model.add(ak.Convolutional(kernel_size=(3, 3), filters=2))
        results.append(([layer.name for layer in model.layers], model.output_shape))
    assert results[1] == results[0]


def test_model_from_layers_copies_and_names_input():
    layers = [LayerSpec("inp", dict(input_shape=(8, 8, 2), input_bits=2)),
              LayerSpec("conv", dict(kernel_size=(3, 3), filters=4, name="c", act_bits=2)),
              LayerSpec("fc", dict(units=3, name="f"))]
    results = []
    for ak in (akida, akida_sim):
        model = build(ak, layers)
        tail = ak.Model(layers=model.layers[1:])
        first = tail.layers[0]
        results.append(([layer.name for layer in tail.layers], first.input_dims, first.output_dims,
                        int(first.parameters.input_bits), tail.output_shape))
    assert results[1] == results[0]


# ----------------------------------------------------------------------
# summary()


@oracle_settings(60)
@given(arch=architectures(), name_len=st.sampled_from([None, 1, 12, 40]))
def test_summary_text_identical(arch, name_len):
    layers = specs_of(arch)
    if name_len is not None:
        layers = [LayerSpec(s.kind, dict(s.args, name=f"{s.kind}{i}_".ljust(name_len, "z")))
                  for i, s in enumerate(layers)]
    vendor, sim = both(layers)
    vendor_returned, vendor_text = printed(vendor.summary)
    sim_returned, sim_text = printed(sim.summary)
    assert sim_returned is vendor_returned is None
    assert sim_text == vendor_text


def test_summary_of_input_data_only_model():
    texts = [printed(build(ak, [LayerSpec("inp", dict(input_shape=(8, 8, 2)))]).summary)[1]
             for ak in (akida, akida_sim)]
    assert texts[1] == texts[0]


def test_summary_of_empty_model():
    texts = [printed(ak.Model().summary)[1] for ak in (akida, akida_sim)]
    assert texts[1] == texts[0]


# ----------------------------------------------------------------------
# save / load


@oracle_settings(40)
@given(case=model_cases())
def test_save_load_round_trip_matches_vendor(case, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.fbz"
    sim = build_case(akida_sim, case)
    sim.save(str(path))
    loaded = akida_sim.Model(str(path))
    vendor = build_case(akida, case)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in vendor.layers]
    for v, s in zip(vendor.layers, loaded.layers):
        for name in v.get_variable_names():
            assert_identical(s.get_variable(name), v.get_variable(name), f"{v.name}.{name}")
    assert_identical(loaded.forward(case.inputs), vendor.forward(case.inputs))
    STATS["save/load: round trips compared"] += 1
