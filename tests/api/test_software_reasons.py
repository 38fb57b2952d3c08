"""Why a layer is in software: ``map()`` records the mapper's rule per layer
(``layer.software_reason``), ``summary()`` shows it below the vendor's tables, and sweeps get
it as columns (``akida_sim.sweeps.software_columns``)."""
import contextlib
import io

import numpy as np
import pytest

import akida_sim as ak
from akida_sim.sweeps import software_columns


def chain(*layers):
    model = ak.Model()
    model.add(ak.InputData(input_shape=(16, 16, 8), input_bits=4))
    for layer in layers:
        model.add(layer)
    for layer in model.layers[1:]:   # non-zero weights: an all-zero layer goes to software
        for name in layer.get_variable_names():
            if name.startswith("weights"):
                layer.set_variable(name, np.ones_like(layer.get_variable(name)))
    return model


def conv(name, **kw):
    kw.setdefault("weights_bits", 4)
    return ak.Convolutional(kernel_size=(3, 3), filters=16, act_bits=4, name=name, **kw)


def summary_text(model):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.summary()
    return out.getvalue()


@pytest.mark.parametrize("layers, software, rule, text", [
    (lambda: [conv("a"), conv("b8", weights_bits=8), conv("c")], "b8", "cnp_weight_bits", "weights bitwidth"),
    (lambda: [conv("a", padding=ak.Padding.Valid), conv("b")], "a", "padding_same_only", "padding same"),
    (lambda: [conv("a"), conv("b", pool_type=ak.PoolType.Max, pool_size=(2, 2))], "b", "maxpool_not_last",
     "cannot be the last layer of a sequence"),
])
def test_each_software_layer_records_its_rule(layers, software, rule, text):
    model = chain(*layers())
    model.map(ak.AKD1000())
    reasons = {l.name: l.software_reason for l in model.layers if l.software_reason is not None}
    assert list(reasons) == [software]
    assert reasons[software].rule == rule and reasons[software].rules == (rule,) and text in reasons[software].message
    assert all(l.mapping is not None for l in model.layers[1:] if l.name != software)
    assert model.get_layer(software).mapping is None
    assert f"  {software}: {rule}: " in summary_text(model)
    assert software_columns(model) == {"software_layers": 1, "software_reasons": f"{software}: {rule}"}


def test_the_reason_is_cleared_by_unmap_and_absent_on_hardware():
    model = chain(conv("a"), conv("b", weights_bits=8))
    model.map(ak.AKD1000())
    assert model.get_layer("b").software_reason.rule == "cnp_weight_bits"
    model.map(None)
    assert model.get_layer("b").software_reason is None
    assert "Layers in software" not in summary_text(model)
    model = chain(conv("a"), conv("b"))
    model.map(ak.AKD1000())
    assert all(l.software_reason is None for l in model.layers)
    assert "Layers in software" not in summary_text(model)
    assert software_columns(model) == {"software_layers": 0, "software_reasons": ""}


def test_several_rules_of_one_layer_are_all_recorded():
    model = chain(ak.Convolutional(kernel_size=(3, 5), filters=16, weights_bits=4, act_bits=4,
                                   kernel_stride=(1, 2), name="odd"))
    model.map(ak.AKD1000())
    reason = model.get_layer("odd").software_reason
    assert reason.rules[:2] == ("cnp_square_kernel", "cnp_equal_strides")
    assert str(reason).startswith("cnp_square_kernel, cnp_equal_strides: Kernel width and height must be equal. "
                                  "Horizontal and vertical strides must be equal.")


def test_an_unmapped_model_has_no_reasons_and_a_plain_summary():
    model = chain(conv("a", weights_bits=8))
    assert model.get_layer("a").software_reason is None
    assert "Layers in software" not in summary_text(model)
