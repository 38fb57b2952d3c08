"""Models moving between akida_sim and the vendor's package: ``Model.from_akida``,
``model.to_akida(akida)``, the vendor's JSON read by ``Model.from_json``, and
the error for a vendor file given to ``Model(path)``."""
import numpy as np
import pytest
from hypothesis import given

import akida_sim
from model_specs import STATS, assert_identical, build_case, model_cases, oracle_settings

akida = pytest.importorskip("akida")
pytestmark = pytest.mark.oracle


def assert_same_models(sim, vendor, x):
    assert [l.name for l in sim.layers] == [l.name for l in vendor.layers]
    for s, v in zip(sim.layers, vendor.layers):
        assert s.get_variable_names() == v.get_variable_names()
        for name in v.get_variable_names():
            assert_identical(s.get_variable(name), v.get_variable(name), f"{v.name}.{name}")
        for key in (k for k in dir(v.parameters) if not k.startswith("_")):
            assert int(getattr(s.parameters, key)) == int(getattr(v.parameters, key)), f"{v.name}.{key}"
    assert_identical(sim.forward(x), vendor.forward(x))


@oracle_settings(40)
@given(case=model_cases())
def test_from_akida_then_to_akida_round_trip(case):
    vendor = build_case(akida, case)
    sim = akida_sim.Model.from_akida(vendor)
    assert_same_models(sim, vendor, case.inputs)
    back = sim.to_akida(akida)
    assert_same_models(sim, back, case.inputs)
    assert_identical(back.forward(case.inputs), vendor.forward(case.inputs))
    STATS["interchange: round trips compared"] += 1


@oracle_settings(30)
@given(case=model_cases())
def test_vendor_json_read_by_from_json(case):
    vendor = build_case(akida, case)
    sim = akida_sim.Model.from_json(vendor.to_json())
    assert_same_models(sim, vendor, case.inputs)
    assert_same_models(akida_sim.Model.from_dict(vendor.to_dict()), vendor, case.inputs)


@oracle_settings(30)
@given(case=model_cases())
def test_to_dict_keys_in_vendor_order_and_both_from_dicts_load_them(case):
    """Our ``to_dict`` has the vendor's top-level keys in its order (ours last, which the
    vendor's ``from_dict`` ignores); each package loads the other's dict."""
    vendor = build_case(akida, case)
    sim = build_case(akida_sim, case)
    ours, theirs = sim.to_dict(), vendor.to_dict()
    assert list(ours) == list(theirs) + ["akida_sim version"]
    assert ours["akida_sim version"] == akida_sim.__version__
    assert_same_models(sim, akida.Model.from_dict(ours), case.inputs)
    assert_same_models(akida_sim.Model.from_dict(theirs), vendor, case.inputs)
    assert akida.Model.from_dict(ours).to_dict()["layers"] == theirs["layers"]
    STATS["interchange: to_dict loaded both ways"] += 1


def _learner(ak, seed):
    model = ak.Model()
    model.add(ak.InputData(input_shape=(1, 1, 64), input_bits=1))
    model.add(ak.FullyConnected(units=12, weights_bits=1, activation=False, name="fc"))
    model.compile(ak.AkidaUnsupervised(num_weights=10, num_classes=3, learning_competition=0.1))
    return model


@pytest.mark.parametrize("seed", range(4))
def test_learning_state_moves_both_ways(seed, tmp_path):
    """A compiled vendor model continues learning in akida_sim as it does in the
    vendor's package after a save and reload (both restart the hidden counter)."""
    rng = np.random.default_rng(seed)
    x = (rng.random((60, 1, 1, 64)) < 0.3).astype(np.uint8)
    labels = rng.integers(0, 3, 60).astype(np.int32)
    vendor = _learner(akida, seed)
    vendor.fit(x[:30], labels[:30])
    from_json = akida_sim.Model.from_json(vendor.to_json())
    sim = akida_sim.Model.from_akida(vendor)
    assert float(sim.learning.num_weights) == float(vendor.learning.num_weights)
    path = tmp_path / "vendor.fbz"
    vendor.save(str(path))
    reloaded = akida.Model(str(path))
    expected = reloaded.fit(x[30:], labels[30:])
    assert_identical(sim.fit(x[30:], labels[30:]), expected, "fit")
    assert_identical(from_json.fit(x[30:], labels[30:]), expected, "fit from the vendor's JSON")
    assert_same_models(sim, reloaded, x)
    assert_same_models(from_json, reloaded, x)
    back = sim.to_akida(akida)
    assert back.learning is not None
    assert_same_models(sim, back, x)


def test_vendor_file_is_refused_with_a_pointer_to_from_akida(tmp_path):
    vendor = akida.Model()
    vendor.add(akida.InputData(input_shape=(4, 4, 1), input_bits=4))
    vendor.add(akida.FullyConnected(units=2, weights_bits=2))
    path = tmp_path / "vendor.fbz"
    vendor.save(str(path))
    with pytest.raises(akida_sim.ModelFileError, match="from_akida"):
        akida_sim.Model(str(path))
