"""Every refused argument, variable and input raises the vendor's exception type (our classes
subclass it) with a message naming the layer and the argument (FINDINGS.md, semantics §8)."""
import numpy as np
import pytest

import akida_sim as ak
from akida_sim.errors import AkidaSimError


def raises(exc_type, *fragments):
    """Context manager: ``exc_type`` (and an AkidaSimError) whose message holds every fragment."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(exc_type)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            suppressed = self.ctx.__exit__(*exc)
            assert isinstance(self.info.value, AkidaSimError), type(self.info.value)
            text = str(self.info.value)
            for fragment in fragments:
                assert fragment in text, f"{fragment!r} not in {text!r}"
            return suppressed
    return _Check()


def base_model(bits=4, activation=True, shape=(4, 4, 2)):
    m = ak.Model()
    m.add(ak.InputData(input_shape=shape, input_bits=bits))
    m.add(ak.Convolutional(kernel_size=(3, 3), filters=3, name="c", activation=activation))
    return m


# ----------------------------------------------------------------------------- constructors
CONV_CLASSES = [ak.Convolutional, ak.SeparableConvolutional]


def ic(**kwargs):
    args = dict(input_shape=(8, 8, 3), kernel_size=(3, 3), filters=4)
    args.update(kwargs)
    return ak.InputConvolutional(**args)


@pytest.mark.parametrize("make", [
    lambda **k: ak.Convolutional(**{"kernel_size": (3, 3), "filters": 4, **k}),
    lambda **k: ak.SeparableConvolutional(**{"kernel_size": (3, 3), "filters": 4, **k}),
    ic,
], ids=["conv", "sep", "ic"])
def test_conv_argument_errors(make):
    kind = type(make()).__name__
    with raises(ValueError, kind, "kernel_width must be strictly positive and odd", "kernel_size"):
        make(kernel_size=(2, 3))
    with raises(ValueError, "kernel_height must be strictly positive and odd"):
        make(kernel_size=(3, 0))
    with raises(ValueError, "kernel_width"):
        make(kernel_size=(-3, 3))
    with raises(TypeError, kind, "kernel_size"):
        make(kernel_size=3)
    with raises(IndexError, "kernel_size"):
        make(kernel_size=(3,))
    with raises(TypeError, "kernel_stride"):
        make(kernel_stride=2)
    with raises(TypeError, "pool_size"):
        make(pool_size=2, pool_type=ak.PoolType.Max)
    with raises(ValueError, "stride_x must be strictly positive", "kernel_stride"):
        make(kernel_stride=(0, 1))
    with raises(ValueError, "stride_y must be strictly positive"):
        make(kernel_stride=(1, -2))
    incoherent = "Incoherent pooling parameters"
    with raises(ValueError, incoherent, "pool_size"):
        make(pool_type=ak.PoolType.Max)
    with raises(ValueError, incoherent):
        make(pool_type=ak.PoolType.Max, pool_size=(2, 0))
    with raises(ValueError, incoherent):
        make(pool_type=ak.PoolType.Max, pool_size=(-1, 2))
    with raises(ValueError, incoherent):
        make(pool_size=(2, 2))
    with raises(ValueError, incoherent):
        make(pool_type=ak.PoolType.Average, pool_size=(2, 2))
    with raises(ValueError, incoherent):
        make(pool_size=(-3, -3))
    with raises(ValueError, "pool_stride cannot be higher than pool_size"):
        make(pool_type=ak.PoolType.Max, pool_size=(2, 2), pool_stride=(3, 3))
    with raises(ValueError, "pool_stride cannot be higher than pool_size"):
        make(pool_type=ak.PoolType.Max, pool_size=(2, 2), pool_stride=(1, 3))
    with raises(ValueError, "pool_stride cannot be higher than pool_size"):
        make(pool_stride=(2, 2))
    with raises(ValueError, "pool_stride cannot be higher than pool_size"):
        make(pool_type=ak.PoolType.Average, pool_stride=(0, 0))
    make(pool_stride=(-5, -5))  # accepted with NoPooling
    with raises(TypeError, kind, "name"):
        make(name=5)
    with raises(TypeError, "name"):
        make(name=None)
    with raises(ValueError, "pool_type"):
        make(pool_type=7)
    with raises(ValueError, "padding"):
        make(padding=5)


@pytest.mark.parametrize("cls", CONV_CLASSES)
def test_conv_sep_specific_errors(cls):
    kind = cls.__name__
    with raises(ValueError, kind, "Strides > kernel size are not supported"):
        cls(kernel_size=(1, 1), filters=4, kernel_stride=(2, 2))
    with raises(ValueError, kind, "Parameter num_neurons cannot be 0", "filters"):
        cls(kernel_size=(3, 3), filters=0)
    with raises(ValueError, "filters"):
        cls(kernel_size=(3, 3), filters=-1)
    with raises(TypeError, "filters"):
        cls(kernel_size=(3, 3), filters=4.0)
    for bits in (-1, 0, 3, 16):
        with raises(ValueError, kind, f"The weight bitwidth must be 1, 2, 4 or 8. Receives weights_bits={bits}."):
            cls(kernel_size=(3, 3), filters=4, weights_bits=bits)
    for bits in (0, 3, 8, -1):
        with raises(ValueError, kind, f"act_bits must be 1, 2 or 4. Receives act_bits={bits}."):
            cls(kernel_size=(3, 3), filters=4, act_bits=bits)
        with raises(ValueError, "act_bits"):
            cls(kernel_size=(3, 3), filters=4, act_bits=bits, activation=False)


def test_input_conv_specific_errors():
    ic(kernel_size=(1, 1), kernel_stride=(2, 2))  # stride > kernel is legal for IC
    with raises(RuntimeError, "InputConvolutional", "Cannot have a shape with dimension 2 set to 0", "filters"):
        ic(filters=0)
    for bits in (0, 5, 8, -1):
        with raises(ValueError, "InputConvolutional", "The act_bits parameter must be between 1 and 4."):
            ic(act_bits=bits)
    for value in (-1, 256, 300):
        with raises(ValueError, "InputConvolutional", f"padding_value must be an uint8 value. Receives padding_value={value}."):
            ic(padding_value=value)
    with raises(ValueError, "Parameter input_channels cannot be 0", "input_shape"):
        ic(input_shape=(8, 8, 0))
    with raises(IndexError, "input_shape"):
        ic(input_shape=(8, 8))
    with raises(RuntimeError, "Computed output size would not be strictly positive"):
        ic(input_shape=(2, 2, 1), padding=ak.Padding.Valid)


def test_fully_connected_errors():
    with raises(ValueError, "FullyConnected", "Parameter num_neurons cannot be 0", "units"):
        ak.FullyConnected(units=0)
    with raises(TypeError, "units"):
        ak.FullyConnected(units=4.5)
    with raises(ValueError, "FullyConnected", "The weight bitwidth must be 1, 2, 4 or 8. Receives weights_bits=3."):
        ak.FullyConnected(units=4, weights_bits=3)
    with raises(ValueError, "act_bits must be 1, 2 or 4. Receives act_bits=3."):
        ak.FullyConnected(units=4, act_bits=3)
    with raises(TypeError, "name"):
        ak.FullyConnected(units=4, name=5)


def test_input_data_errors():
    with raises(ValueError, "InputData", "Parameter input_bits cannot be 0", "input_bits"):
        ak.InputData(input_shape=(8, 8, 2), input_bits=0)
    with raises(ValueError, "input_bits"):
        ak.InputData(input_shape=(8, 8, 2), input_bits=-1)
    with raises(ValueError, "InputData", "Parameter input_width cannot be 0", "input_shape"):
        ak.InputData(input_shape=(0, 8, 2))
    with raises(ValueError, "Parameter input_height cannot be 0"):
        ak.InputData(input_shape=(8, 0, 2))
    with raises(IndexError, "InputData", "input_shape"):
        ak.InputData(input_shape=(8, 8))
    with raises(TypeError, "input_shape"):
        ak.InputData(input_shape=8)


# ----------------------------------------------------------------------------- chaining
def _after(previous_kwargs=None, bits=4, previous=None):
    m = ak.Model()
    m.add(ak.InputData(input_shape=(4, 4, 2), input_bits=bits))
    if previous is not None:
        m.add(previous)
    return m


@pytest.mark.parametrize("previous", [
    lambda: ak.Convolutional(kernel_size=(3, 3), filters=3, name="p", activation=False),
    lambda: ak.FullyConnected(units=3, name="p", activation=False),
])
def test_layers_after_activation_false(previous):
    m = _after(previous=previous())
    with raises(ValueError, "Convolutional 'Conv_3'", "Convolutional layer only accepts unsigned inputs", "'p'"):
        m.add(ak.Convolutional(kernel_size=(1, 1), filters=2))
    with raises(RuntimeError, "FullyConnected cannot be added if previous layer's output requires more than 4 bits"):
        m.add(ak.FullyConnected(units=2))
    with raises(RuntimeError, "SeparableConvolutional cannot be added if previous layer's output requires more than 4 bits"):
        m.add(ak.SeparableConvolutional(kernel_size=(1, 1), filters=2))
    assert m.layer_count == 2


def test_layers_after_input_conv_without_activation():
    m = ak.Model()
    m.add(ak.InputConvolutional(input_shape=(4, 4, 1), kernel_size=(3, 3), filters=2, activation=False))
    with raises(ValueError, "Convolutional layer only accepts unsigned inputs"):
        m.add(ak.Convolutional(kernel_size=(1, 1), filters=2))
    with raises(RuntimeError, "FullyConnected cannot be added"):
        m.add(ak.FullyConnected(units=2))


@pytest.mark.parametrize("bits", [5, 8, 16])
def test_layers_after_wide_input_data(bits):
    m = _after(bits=bits)
    with raises(ValueError, "Convolutional layer only accepts unsigned inputs", "InputData_1"):
        m.add(ak.Convolutional(kernel_size=(1, 1), filters=2))
    with raises(RuntimeError, "FullyConnected cannot be added if previous layer's output requires more than 4 bits"):
        m.add(ak.FullyConnected(units=2))
    with raises(RuntimeError, "SeparableConvolutional cannot be added"):
        m.add(ak.SeparableConvolutional(kernel_size=(1, 1), filters=2))


def test_input_layers_must_be_first():
    m = base_model()
    with raises(RuntimeError, "The layer preceding InputConvolutional must output unsigned 8-bit values"):
        m.add(ic(input_shape=(4, 4, 3)))
    with raises(RuntimeError, "InputData", "Input layers cannot have inbound layers other than a Quantizer"):
        m.add(ak.InputData(input_shape=(4, 4, 3)))
    only = ak.Model()
    only.add(ak.InputData(input_shape=(4, 4, 3), input_bits=8))
    with raises(RuntimeError, "The layer preceding InputConvolutional must output unsigned 8-bit values"):
        only.add(ic(input_shape=(4, 4, 3)))
    assert only.layer_count == 1


@pytest.mark.parametrize("make, name", [
    (lambda: ak.Convolutional(kernel_size=(3, 3), filters=3), "Conv_1"),
    (lambda: ak.SeparableConvolutional(kernel_size=(3, 3), filters=3), "SepConv_1"),
    (lambda: ak.FullyConnected(units=3), "Fully_1"),
    (lambda: ak.FullyConnected(units=3, name="fc"), "fc"),
])
def test_neural_layer_cannot_be_first(make, name):
    m = ak.Model()
    with raises(ValueError, f"{name} must have exactly 1 inbound layer"):
        m.add(make())
    assert m.layer_count == 0


def test_duplicate_names_and_bad_add_arguments():
    m = base_model()
    with raises(ValueError, "Cannot have multiple layers with the same name: c."):
        m.add(ak.Convolutional(kernel_size=(3, 3), filters=3, name="c"))
    with raises(ValueError, "Cannot have multiple layers with the same name: InputData_1."):
        m.add(ak.Convolutional(kernel_size=(3, 3), filters=3, name="InputData_1"))
    m.add(ak.FullyConnected(units=2, name="f"))
    with raises(ValueError, "Cannot have multiple layers with the same name: f."):
        m.add(m.get_layer("f"))
    with raises(TypeError, "layer"):
        m.add(5)
    with raises(ValueError, "inbound_layers"):
        m.add(ak.FullyConnected(units=2), inbound_layers=[m.layers[0]])
    with raises(RuntimeError, "Computed output size would not be strictly positive"):
        base_model().add(ak.Convolutional(kernel_size=(5, 5), filters=1, padding=ak.Padding.Valid))


# ----------------------------------------------------------------------------- variables
def test_variable_errors():
    m = base_model()
    c = m.get_layer("c")
    with raises(ValueError, "'c'", "Unsupported variable type for weights expected int8 received float32"):
        c.set_variable("weights", np.zeros((3, 3, 2, 3), np.float32))
    for dtype in (np.uint8, np.int16, np.int32, np.int64, np.float64, bool):
        with raises(ValueError, f"Unsupported variable type for weights expected int8 received {np.dtype(dtype).name}"):
            c.set_variable("weights", np.zeros((3, 3, 2, 3), dtype))
    with raises(ValueError, "Unsupported variable type for threshold expected int32 received int64"):
        c.set_variable("threshold", np.zeros(3, np.int64))
    with raises(ValueError, "Unsupported variable type for act_step expected float32 received float64"):
        c.set_variable("act_step", np.ones(3, np.float64))
    # dtype is checked before shape
    with raises(ValueError, "Unsupported variable type"):
        c.set_variable("weights", np.zeros((5, 5), np.float32))
    with raises(ValueError, "'c'", "Unexpected tensor shape for variable 'weights': expected (3, 3, 2, 3), "
                "got (3, 2, 2, 3)"):
        c.set_variable("weights", np.zeros((3, 2, 2, 3), np.int8))
    with raises(ValueError, "Unexpected tensor shape", "threshold"):
        c.set_variable("threshold", np.zeros((3, 1), np.int32))
    with raises(ValueError, "Unexpected tensor shape", "act_step"):
        c.set_variable("act_step", np.ones(2, np.float32))
    with raises(ValueError, "Unexpected tensor shape"):
        c.set_variable("weights", np.zeros((1, 3, 3, 2, 3), np.int8))
    with raises(ValueError, "Unexpected tensor shape"):
        c.set_variable("weights", np.zeros((), np.int8))
    with raises(ValueError, "weights"):
        c.set_variable("weights", np.int8(0))  # a numpy scalar
    # shape is checked before values
    with raises(ValueError, "Unexpected tensor shape"):
        c.set_variable("weights", np.full((5, 3, 3, 2), 100, np.int8))
    with raises(ValueError, "'c'", "Invalid value 2. Maximum authorized value is 1", "weights"):
        c.set_variable("weights", np.full((3, 3, 2, 3), 2, np.int8))
    with raises(ValueError, "Invalid value -1. Minimum authorized value is 0"):
        c.set_variable("weights", np.full((3, 3, 2, 3), -1, np.int8))
    with raises(ValueError, "'c'", "No such variable 'bias'"):
        c.set_variable("bias", np.zeros(3, np.int32))
    with raises(ValueError, "No such variable 'bias'"):
        c.get_variable("bias")
    with raises(TypeError, "variable name"):
        c.get_variable(0)
    with raises(ValueError, "weights"):
        c.set_variable("weights", [[1]])


def test_refused_set_variable_keeps_previous_value():
    """akida_sim stores nothing on a refused value (the vendor keeps the refused array)."""
    c = base_model().get_layer("c")
    with pytest.raises(ValueError):
        c.set_variable("weights", np.full((3, 3, 2, 3), 5, np.int8))
    assert not c.get_variable("weights").any()
    with pytest.raises(ValueError):
        c.set_variable("act_step", np.array([2, 0.01, 1], np.float32))
    assert (c.get_variable("act_step") == 1).all()


@pytest.mark.parametrize("step", [0.0, -0.0, 0.05, float(np.nextafter(np.float32(0.0625), 0)), 1e-40, -1.0, -np.inf])
def test_act_step_below_one_sixteenth(step):
    c = base_model().get_layer("c")
    with raises(ValueError, "'c'", "Unsupported act_step", "1/16"):
        c.set_variable("act_step", np.array([1.0, step, 1.0], np.float32))


@pytest.mark.parametrize("step", [np.nan, -np.nan, np.inf, 1e30, float(np.finfo(np.float32).max), 2.0 ** 27,
                                  2.0 ** 24, 3 * 2.0 ** 24, 2.0 ** 28])
def test_act_step_that_would_crash_the_chip_is_refused(step):
    """NaN, inf, >= 2**27 and floor(16 s) multiples of 2**28: the vendor's forward dies (SIGFPE); refused here."""
    c = base_model().get_layer("c")
    with raises(ValueError, "'c'", "act_step"):
        c.set_variable("act_step", np.array([1.0, 1.0, step], np.float32))


def test_act_step_just_legal():
    c = base_model().get_layer("c")
    c.set_variable("act_step", np.array([0.0625, 2.0 ** 24 + 2, float(np.nextafter(np.float32(2 ** 27), 0))],
                                        np.float32))
    out = base_model().forward(np.ones((1, 4, 4, 2), np.uint8))
    assert out.dtype == np.uint8


def test_out_of_range_weight_reported_in_c_order():
    c = base_model().get_layer("c")
    w = np.zeros((3, 3, 2, 3), np.int8)
    w[0, 0, 0, 0] = -5   # first in C order
    w[2, 2, 1, 2] = 100
    with raises(ValueError, "Invalid value -5. Minimum authorized value is 0"):
        c.set_variable("weights", w)


# ----------------------------------------------------------------------------- forward / predict
def test_forward_input_errors():
    m = base_model()
    x = np.zeros((1, 4, 4, 2), np.uint8)
    # one message whatever the dtype
    for dtype in (np.float32, np.int8, np.int16, np.int32, np.int64, np.uint16, np.uint32, np.float64, np.float16,
                  bool):
        with raises(ValueError, f"Unsupported input type {np.dtype(dtype).name}. Input type should be uint8. "
                    f"(argument 'inputs': expected uint8 (N, 4, 4, 2))"):
            m.forward(x.astype(dtype))
    with raises(TypeError, "forward()"):
        m.forward(x.tolist())
    with raises(ValueError, "Input shape must be (N, 4, 4, 2) but got (4, 4, 2)."):
        m.forward(x[0])
    with raises(ValueError, "Input shape must be (N, 4, 4, 2) but got (4, 2)."):
        m.forward(x[0, 0])
    with raises(RuntimeError, "Shape number of dimensions"):
        m.forward(x[0, 0, 0])
    with raises(ValueError, "Input shape must be (N, 4, 4, 2) but got (1, 5, 4, 2)."):
        m.forward(np.zeros((1, 5, 4, 2), np.uint8))
    with raises(ValueError, "Input shape must be (N, 4, 4, 2) but got (1, 4, 4, 3)."):
        m.forward(np.zeros((1, 4, 4, 3), np.uint8))
    with raises(ValueError, "Input shape"):
        m.forward(np.zeros((1, 1, 4, 4, 2), np.uint8))
    with raises(RuntimeError, "Cannot have a shape with dimension 0 set to 0"):
        m.forward(np.zeros((0, 4, 4, 2), np.uint8))
    y = np.zeros((3, 4, 4, 2), np.uint8)
    y[2, 1, 3, 1] = 200
    y[0, 0, 0, 1] = 17
    with raises(RuntimeError, "Input values must be in the range (0, 15). Got 17."):
        m.forward(y)
    for bits, top in ((1, 1), (3, 7)):
        mb = base_model(bits=bits)
        with raises(RuntimeError, f"Input values must be in the range (0, {top}). Got {top + 1}."):
            mb.forward(np.full((1, 4, 4, 2), top + 1, np.uint8))
    for bad in (-1, 2.0, None, "2"):
        with raises(TypeError, "batch_size"):
            m.forward(x, batch_size=bad)
        with raises(TypeError, "batch_size"):
            base_model(activation=False).predict(x, batch_size=bad)


def test_input_conv_accepts_full_uint8():
    m = ak.Model()
    m.add(ic(input_shape=(4, 4, 3)))
    assert m.forward(np.full((1, 4, 4, 3), 255, np.uint8)).shape == (1, 4, 4, 4)
    with raises(ValueError, "Unsupported input type int8. Input type should be uint8."):
        m.forward(np.zeros((1, 4, 4, 3), np.int8))
    with raises(ValueError, "Input shape must be (N, 4, 4, 3) but got (1, 4, 4, 1)."):
        m.forward(np.zeros((1, 4, 4, 1), np.uint8))


def test_model_state_errors():
    x = np.zeros((1, 4, 4, 2), np.uint8)
    with raises(ValueError, "Cannot perform an inference on a model with no layers"):
        ak.Model().forward(x)
    only = ak.Model()
    only.add(ak.InputData(input_shape=(4, 4, 2)))
    with raises(RuntimeError, "A model without any neural layers cannot process inputs."):
        only.forward(x)
    with raises(RuntimeError, "A model without any neural layers cannot process inputs."):
        only.forward(x.astype(np.float32))  # checked before the dtype
    with raises(RuntimeError, "Expected a Dequantizer as last layer"):
        only.predict(x)
    with raises(RuntimeError, "Only models whose last layer has no activation can be evaluated", "'c'"):
        base_model().predict(x)


def test_error_classes_subclass_builtins():
    assert issubclass(ak.SimValueError, ValueError)
    assert issubclass(ak.SimTypeError, TypeError)
    assert issubclass(ak.SimRuntimeError, RuntimeError)
    assert issubclass(ak.ModelFileError, ValueError)
    for cls in (ak.SimValueError, ak.SimTypeError, ak.SimRuntimeError, ak.ModelFileError):
        assert issubclass(cls, ak.AkidaSimError)
