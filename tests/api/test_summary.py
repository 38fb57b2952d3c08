"""Model.summary() layout against the verbatim vendor output (semantics §9, FINDINGS Q10)."""
import contextlib
import io


import akida_sim as ak


def captured_summary(model):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = model.summary()
    assert result is None
    return buf.getvalue()


# Copied verbatim; the TRAILING SPACES of some lines are part of the layout (keep them) from shared/reference/akida_v1_semantics.md §9.
EXAMPLE_1 = """\
                Model Summary                 
______________________________________________
Input shape  Output shape  Sequences  Layers
==============================================
[9, 9, 3]    [1, 1, 4]     1          4     
______________________________________________

_______________________________________________
Layer (type)     Output shape  Kernel shape  

============= SW/ic-fc (Software) =============

ic (InputConv.)  [5, 5, 8]     (3, 3, 3, 8)  
_______________________________________________
sep (Sep.Conv.)  [5, 5, 6]     (3, 3, 8, 1)  
_______________________________________________
                               (1, 1, 8, 6)  
_______________________________________________
conv (Conv.)     [5, 5, 5]     (1, 1, 6, 5)  
_______________________________________________
fc (Fully.)      [1, 1, 4]     (1, 1, 125, 4)
_______________________________________________
"""

EXAMPLE_2 = """\
                Model Summary                 
______________________________________________
Input shape  Output shape  Sequences  Layers
==============================================
[8, 8, 2]    [1, 1, 4]     1          2     
______________________________________________

__________________________________________
Layer (type)  Output shape  Kernel shape

============= SW/c (Software) ============

c (Conv.)     [1, 1, 4]     (3, 3, 2, 4)
__________________________________________
"""

# FINDINGS Q10 a, c, d.
EXAMPLE_DEFAULT_NAMES = """\
                Model Summary                 
______________________________________________
Input shape  Output shape  Sequences  Layers
==============================================
[8, 8, 2]    [1, 1, 3]     1          3     
______________________________________________

________________________________________________
Layer (type)      Output shape  Kernel shape  

========= SW/Conv_2-Fully_3 (Software) =========

Conv_2 (Conv.)    [8, 8, 4]     (3, 3, 2, 4)  
________________________________________________
Fully_3 (Fully.)  [1, 1, 3]     (1, 1, 256, 3)
________________________________________________
"""

EXAMPLE_LONG_NAME = """\
                Model Summary                 
______________________________________________
Input shape  Output shape  Sequences  Layers
==============================================
[8, 8, 2]    [8, 8, 4]     1          2     
______________________________________________

_____________________________________________________________________
Layer (type)                             Output shape  Kernel shape

============= SW/a_very_long_layer_name_here (Software) =============

a_very_long_layer_name_here (Sep.Conv.)  [8, 8, 4]     (3, 3, 2, 1)
_____________________________________________________________________
                                                       (1, 1, 2, 4)
_____________________________________________________________________
"""

EXAMPLE_IC_ONLY = """\
                Model Summary                 
______________________________________________
Input shape  Output shape  Sequences  Layers
==============================================
[8, 8, 3]    [8, 8, 4]     1          1     
______________________________________________

______________________________________________________
Layer (type)              Output shape  Kernel shape

============== SW/InputConv_1 (Software) =============

InputConv_1 (InputConv.)  [8, 8, 4]     (3, 3, 3, 4)
______________________________________________________
"""

EXAMPLE_EMPTY = """\
                Model Summary                 
______________________________________________
Input shape  Output shape  Sequences  Layers
==============================================
N/A          N/A           0          0     
______________________________________________
"""

EXAMPLE_INPUT_ONLY = """\
                Model Summary                 
______________________________________________
Input shape  Output shape  Sequences  Layers
==============================================
[8, 8, 2]    [8, 8, 2]     0          1     
______________________________________________
"""


def test_summary_example_1():
    m = ak.Model()
    m.add(ak.InputConvolutional(input_shape=(9, 9, 3), kernel_size=(3, 3), filters=8, name="ic",
                                pool_type=ak.PoolType.Max, pool_size=(2, 2)))
    m.add(ak.SeparableConvolutional(kernel_size=(3, 3), filters=6, name="sep"))
    m.add(ak.Convolutional(kernel_size=(1, 1), filters=5, name="conv"))
    m.add(ak.FullyConnected(units=4, name="fc"))
    assert captured_summary(m) == EXAMPLE_1


def test_summary_example_2():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(8, 8, 2)))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=4, name="c", pool_type=ak.PoolType.Average))
    assert captured_summary(m) == EXAMPLE_2


def test_summary_default_names_and_max_pool():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(8, 8, 2)))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=4))
    m.add(ak.FullyConnected(units=3))
    assert captured_summary(m) == EXAMPLE_DEFAULT_NAMES
    # Q10 c: max pooling 2x2, last layer without activation
    c = ak.Model()
    c.add(ak.InputData(input_shape=(8, 8, 2)))
    c.add(ak.Convolutional(kernel_size=(3, 3), filters=4, pool_type=ak.PoolType.Max, pool_size=(2, 2)))
    c.add(ak.FullyConnected(units=3, activation=False))
    text = captured_summary(c)
    assert "Conv_2 (Conv.)    [4, 4, 4]     (3, 3, 2, 4) " in text
    assert "Fully_3 (Fully.)  [1, 1, 3]     (1, 1, 64, 3)" in text


def test_summary_long_name_and_input_conv_only():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(8, 8, 2)))
    m.add(ak.SeparableConvolutional(kernel_size=(3, 3), filters=4, name="a_very_long_layer_name_here"))
    assert captured_summary(m) == EXAMPLE_LONG_NAME
    ic = ak.Model()
    ic.add(ak.InputConvolutional(input_shape=(8, 8, 3), kernel_size=(3, 3), filters=4))
    assert captured_summary(ic) == EXAMPLE_IC_ONLY



def test_summary_empty_model():
    assert captured_summary(ak.Model()) == EXAMPLE_EMPTY


def test_summary_input_data_only():
    m = ak.Model()
    m.add(ak.InputData(input_shape=(8, 8, 2)))
    assert captured_summary(m) == EXAMPLE_INPUT_ONLY
