"""akida_sim.convert against the vendor's cnn2snn.convert, integer for integer.

Random tf_keras models are quantized with the vendor's legacy flow
(``cnn2snn.quantize``); both converters must give the same layers and the
same integers (weights, weights_pw, threshold, act_step, padding_value, bits,
pooling), and both models the same ``forward`` outputs. Float models whose
ReLUs are all bounded convert with akida_sim directly (``method="legacy"``)
to the integers of ``cnn2snn.quantize`` + ``cnn2snn.convert``.
"""
import os
import warnings

import numpy as np
import pytest

import akida_sim
from model_specs import STATS

akida = pytest.importorskip("akida")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
cnn2snn = pytest.importorskip("cnn2snn")
keras = pytest.importorskip("tf_keras")
pytestmark = pytest.mark.oracle

#: Random models per test.
MODELS = 40
#: The layer parameters both converters must set alike.
PARAMETERS = ("act_bits", "activation", "filters", "units", "kernel_width", "kernel_height", "padding",
              "pool_type", "pooling_width", "pooling_height", "pooling_stride_x", "pooling_stride_y",
              "stride_x", "stride_y", "weights_bits", "padding_value", "input_width", "input_height",
              "input_channels", "input_bits")


def _relu(rng, layers, choices, bounded):
    """A ReLU with a max_value from ``choices``, or (30 %, unless ``bounded``) unbounded."""
    return layers.ReLU(float(rng.choice(choices)) if bounded or rng.random() < 0.7 else None)


def _conv_block(rng, layers, first_image, spatial, last, bounded):
    """Keras layers of one conv/separable block and the spatial size after it (None when GAP)."""
    separable = not first_image and rng.random() < 0.4
    kernel = int(rng.choice([1, 3, 5] if spatial >= 5 else [1, 3]))
    stride = int(rng.choice([1, 2])) if (kernel > 1 or first_image) else 1
    padding = str(rng.choice(["same", "valid"]))
    out = -(-spatial // stride) if padding == "same" else (spatial - kernel) // stride + 1
    if out < 1:
        padding, out = "same", -(-spatial // stride)
    keras_layers = [(layers.SeparableConv2D if separable else layers.Conv2D)(
        int(rng.integers(2, 7)), kernel, strides=stride, padding=padding, use_bias=bool(rng.random() < 0.8))]
    pool = str(rng.choice(["none", "max", "gap"], p=[0.5, 0.3, 0.2]))
    bn = rng.random() < 0.5
    relu = None if last else _relu(rng, layers, [1.0, 2.0, 6.0, 3.5], bounded)
    if pool == "max" and out >= 2:
        size = int(rng.choice([2, 3])) if out >= 3 else 2
        pool_stride = int(rng.integers(1, size + 1))
        pooled = -(-out // pool_stride) if padding == "same" else (out - size) // pool_stride + 1
        if pooled >= 1:
            order = rng.integers(3)  # conv > BN > pool > ReLU, conv > pool > BN > ReLU, conv > BN > ReLU > pool
            pool_layer = layers.MaxPooling2D(size, pool_stride, padding=padding)
            if relu is not None and order == 2:
                keras_layers += ([layers.BatchNormalization()] if bn else []) + [relu, pool_layer]
            elif order == 1 and bn:
                keras_layers += [pool_layer, layers.BatchNormalization()] + ([relu] if relu else [])
            else:
                keras_layers += ([layers.BatchNormalization()] if bn else []) + [pool_layer] + ([relu] if relu else [])
            return keras_layers, pooled
    if pool == "gap" and out * out <= 256:
        keras_layers += [layers.GlobalAveragePooling2D()] + ([layers.BatchNormalization()] if bn else [])
        return keras_layers + ([relu] if relu else []), None
    return keras_layers + ([layers.BatchNormalization()] if bn else []) + ([relu] if relu else []), out


def set_random_weights(model, rng):
    """Normal weights (std 0.4); BatchNormalization gammas and variances in [0.3, 1.5]."""
    for layer in model.layers:
        weights = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, variance = weights
            layer.set_weights([rng.uniform(0.3, 1.5, gamma.shape), rng.normal(0, 0.3, beta.shape),
                               rng.normal(0, 0.3, mean.shape), rng.uniform(0.3, 1.5, variance.shape)])
        elif weights:
            layer.set_weights([rng.normal(0, 0.4, w.shape) for w in weights])


def random_model(seed, bounded=False):
    """(tf_keras float model, input_scaling, uint8 inputs, image input?) for ``seed``."""
    rng = np.random.default_rng(seed)
    layers = keras.layers
    image = rng.random() < 0.6
    spatial = int(rng.integers(5, 12))
    channels = int(rng.choice([1, 3])) if image else int(rng.choice([2, 4]))
    model_layers = [keras.Input((spatial, spatial, channels))]
    if image:
        scaling = [(1, 0), (255, 0), (127.5, 127.5), (128, 128), (100, 10)][int(rng.integers(5))]
        if rng.random() < 0.3:  # the same scaling given by a first Rescaling layer
            model_layers.append(layers.Rescaling(1 / scaling[0], -scaling[1] / scaling[0]))
            scaling = None
    else:
        scaling = [(1, 0), (2.5, 0), (15, 0)][int(rng.integers(3))]
    blocks = int(rng.integers(1, 5))
    conv_blocks = int(rng.integers(1 if image else 0, blocks + 1))
    size, flattened = spatial, False
    for k in range(blocks):
        last = k == blocks - 1
        if k < conv_blocks and size is not None:
            block, size = _conv_block(rng, layers, image and k == 0, size, last, bounded)
            model_layers += block
            continue
        if not flattened:
            model_layers.append(layers.Flatten())
            flattened, size = True, None
        model_layers.append(layers.Dense(int(rng.integers(2, 9)), use_bias=bool(rng.random() < 0.8)))
        if rng.random() < 0.4:
            model_layers.append(layers.BatchNormalization())
        if not last:
            model_layers.append(_relu(rng, layers, [1.0, 4.0], bounded))
    if rng.random() < 0.3:
        model_layers.append(layers.Softmax())
    model = keras.Sequential(model_layers)
    set_random_weights(model, rng)
    if image:
        inputs = rng.integers(0, 256, (6, spatial, spatial, channels)).astype(np.uint8)
    else:
        inputs = rng.integers(0, 16, (6, spatial, spatial, channels)).astype(np.uint8)
    return model, scaling, inputs, image


def quantized(model, image, rng_seed):
    rng = np.random.default_rng(rng_seed)
    weights = int(rng.choice([2, 4]))
    activations = int(rng.choice([1, 2, 4]))
    input_weights = int(rng.choice([2, 4, 8])) if image else int(rng.choice([2, 4]))
    return cnn2snn.quantize(model, weight_quantization=weights, activ_quantization=activations,
                            input_weight_quantization=input_weights), (weights, activations, input_weights)


def outcome(call):
    """(result, None) or (None, exception) of ``call()``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(), None
    except (ValueError, RuntimeError, TypeError) as exc:
        return None, exc


def assert_same_models(ours, theirs, inputs):
    assert [type(l).__name__ for l in ours.layers] == [l.parameters.layer_type.name for l in theirs.layers]
    for sim_layer, vendor_layer in zip(ours.layers, theirs.layers):
        vendor_parameters = vendor_layer.parameters
        for name in PARAMETERS:
            try:
                expected = getattr(vendor_parameters, name)
            except (AttributeError, ValueError):  # the vendor raises ValueError for a missing key
                continue
            assert int(getattr(sim_layer.parameters, name)) == int(expected), (vendor_layer.name, name)
        for name in vendor_layer.variables.names:
            expected = vendor_layer.variables[name]
            got = sim_layer.get_variable(name)
            assert got.dtype == expected.dtype, (vendor_layer.name, name)
            np.testing.assert_array_equal(got, expected, err_msg=f"{vendor_layer.name}.{name}")
            STATS["convert: variables compared (identical)"] += 1
    np.testing.assert_array_equal(ours.forward(inputs), theirs.forward(inputs))
    STATS["convert: models compared (forward identical)"] += 1


@pytest.mark.parametrize("seed", range(MODELS))
def test_legacy_quantized_model_converts_to_the_vendors_integers(seed):
    model, scaling, inputs, image = random_model(seed)
    qmodel, _ = quantized(model, image, seed)
    theirs, vendor_error = outcome(lambda: cnn2snn.convert(qmodel, input_scaling=scaling))
    ours, error = outcome(lambda: akida_sim.convert(qmodel, input_scaling=scaling))
    if vendor_error is not None:
        assert error is not None, f"the vendor refused ({vendor_error}), akida_sim converted"
        STATS["convert: models both refused"] += 1
        return
    assert error is None, error
    assert_same_models(ours, theirs, inputs)


@pytest.mark.parametrize("seed", range(MODELS, MODELS + MODELS // 2))
def test_float_model_with_bounded_relus_matches_vendor_quantize_then_convert(seed):
    model, scaling, inputs, image = random_model(seed, bounded=True)  # akida_sim calibrates unbounded ReLUs
    qmodel, (weights, activations, input_weights) = quantized(model, image, seed)
    theirs, vendor_error = outcome(lambda: cnn2snn.convert(qmodel, input_scaling=scaling))
    ours, error = outcome(lambda: akida_sim.convert(model, method="legacy", input_scaling=scaling,
                                                    weights_bits=weights, act_bits=activations,
                                                    input_weights_bits=input_weights))
    if vendor_error is not None:
        assert error is not None, f"the vendor refused ({vendor_error}), akida_sim converted"
        return
    assert error is None, error
    assert_same_models(ours, theirs, inputs)


def test_act_step_over_the_hardware_limit_is_fixed_up_as_the_vendors():
    """A hidden layer with a huge step: clamped, threshold moved, next weights divided."""
    layers = keras.layers
    model = keras.Sequential([keras.Input((6, 6, 2)), layers.Conv2D(4, 3, padding="same"), layers.ReLU(0.15),
                              layers.Conv2D(4, 3, padding="same"), layers.ReLU(1000.0),
                              layers.Conv2D(3, 3, padding="same")])
    rng = np.random.default_rng(7)
    for layer in model.layers:
        layer.set_weights([rng.normal(0, 0.004, w.shape) for w in layer.get_weights()])
    qmodel = cnn2snn.quantize(model, 4, 4, 4)
    theirs = cnn2snn.convert(qmodel)
    ours = akida_sim.convert(qmodel)
    assert np.max(theirs.layers[2].variables["act_step"]) == (1 << 16) - 1
    assert_same_models(ours, theirs, rng.integers(0, 16, (4, 6, 6, 2)).astype(np.uint8))


@pytest.mark.parametrize("seed", range(6))
def test_vendor_layers_built_by_hand_convert_to_the_vendors_integers(seed):
    """QuantizedConv2D with a per-tensor MaxQuantizer, ActivationDiscreteRelu, an unfolded BN (folded by
    the converter into a per-axis layer), QuantizedSeparableConv2D and QuantizedDense after Flatten."""
    rng = np.random.default_rng(seed)
    bits = int(rng.choice([2, 4]))
    act_bits = int(rng.choice([1, 2, 4]))
    per_axis = {"bitwidth": bits}
    model = keras.Sequential([
        keras.Input((7, 7, 3)),
        cnn2snn.QuantizedConv2D(4, 3, quantizer=cnn2snn.MaxQuantizer(bitwidth=8), padding="same"),
        cnn2snn.ActivationDiscreteRelu(bitwidth=act_bits),
        cnn2snn.QuantizedSeparableConv2D(5, 3, quantizer=cnn2snn.MaxPerAxisQuantizer(**per_axis),
                                         quantizer_dw=cnn2snn.MaxQuantizer(**per_axis), padding="same"),
        keras.layers.MaxPooling2D(padding="same"), keras.layers.BatchNormalization(),
        cnn2snn.QuantizedReLU(bitwidth=act_bits, max_value=float(rng.uniform(1, 6))),
        keras.layers.Flatten(),
        cnn2snn.QuantizedDense(3, quantizer=cnn2snn.MaxPerAxisQuantizer(**per_axis)),
    ])
    for layer in model.layers:
        weights = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":
            layer.set_weights([rng.uniform(0.3, 1.5, w.shape) if i in (0, 3) else rng.normal(0, 0.3, w.shape)
                               for i, w in enumerate(weights)])
        elif weights:
            layer.set_weights([rng.normal(0, 0.4, w.shape) for w in weights])
    scaling = (127.5, 127.5)
    assert_same_models(akida_sim.convert(model, input_scaling=scaling), cnn2snn.convert(model, input_scaling=scaling),
                       rng.integers(0, 256, (5, 7, 7, 3)).astype(np.uint8))


def _zoo_model(name):
    """Small versions of the vendor's public Akida 1.0 architectures (tf_keras float, random weights)."""
    layers = keras.layers
    if name == "ds_cnn_kws":  # 49x10 MFCC image, conv then separable blocks, GAP before the last ReLU, dense
        body = [keras.Input((49, 10, 1)), layers.Rescaling(1 / 255.0),
                layers.Conv2D(16, 5, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
                layers.ReLU(6.0)]
        for _ in range(2):
            body += [layers.SeparableConv2D(16, 3, padding="same", use_bias=False), layers.BatchNormalization(),
                     layers.ReLU(6.0)]
        body += [layers.SeparableConv2D(16, 3, padding="same", use_bias=False), layers.GlobalAveragePooling2D(),
                 layers.BatchNormalization(), layers.ReLU(6.0), layers.Flatten(), layers.Dense(12),
                 layers.Activation("softmax")]
    elif name == "akidanet":  # uint8 RGB, Rescaling(1/127.5, -1), separable blocks with max pool, GAP, 1x1 head
        body = [keras.Input((24, 24, 3)), layers.Rescaling(1 / 127.5, -1),
                layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
                layers.ReLU(6.0), layers.Conv2D(16, 3, padding="same", use_bias=False), layers.BatchNormalization(),
                layers.ReLU(6.0), layers.SeparableConv2D(16, 3, padding="same", use_bias=False),
                layers.MaxPooling2D(padding="same"), layers.BatchNormalization(), layers.ReLU(6.0),
                layers.SeparableConv2D(32, 3, padding="same", use_bias=False), layers.GlobalAveragePooling2D(),
                layers.BatchNormalization(), layers.ReLU(6.0), layers.Dropout(0.1), layers.Reshape((1, 1, 32)),
                layers.Conv2D(5, 1), layers.Reshape((5,)), layers.Activation("softmax")]
    elif name == "gxnor_mnist":  # conv > max pool > BN > ReLU(1) blocks, flatten, dense layers
        body = [keras.Input((28, 28, 1)), layers.Conv2D(8, 5, padding="same", use_bias=False),
                layers.MaxPooling2D(padding="same"), layers.BatchNormalization(), layers.ReLU(1.0),
                layers.Conv2D(8, 3, padding="same", use_bias=False), layers.MaxPooling2D(padding="same"),
                layers.BatchNormalization(), layers.ReLU(1.0), layers.Flatten(), layers.Dense(32, use_bias=False),
                layers.BatchNormalization(), layers.ReLU(1.0), layers.Dense(10)]
    else:  # vgg: pairs of convs, ReLU before the max pool, dropout, two dense
        body = [keras.Input((16, 16, 3)), layers.Rescaling(1 / 255.0)]
        for channels in (8, 16):
            body += [layers.Conv2D(channels, 3, padding="same"), layers.BatchNormalization(), layers.ReLU(4.0),
                     layers.Conv2D(channels, 3, padding="same"), layers.BatchNormalization(), layers.ReLU(4.0),
                     layers.MaxPooling2D(3, 2, padding="same")]
        body += [layers.Flatten(), layers.Dense(16), layers.ReLU(4.0), layers.Dropout(0.5), layers.Dense(4)]
    model = keras.Sequential(body)
    rng = np.random.default_rng(len(name))
    set_random_weights(model, rng)
    return model


@pytest.mark.parametrize("name", ["ds_cnn_kws", "akidanet", "gxnor_mnist", "vgg"])
@pytest.mark.parametrize("bits", [(4, 4, 8), (2, 2, 8), (4, 1, 4)])
def test_public_architectures_convert_to_the_vendors_integers(name, bits):
    """The block structure of the vendor's Akida 1.0 model zoo, legacy-quantized and from float."""
    model = _zoo_model(name)
    weights, activations, input_weights = bits
    scaling = None if type(model.layers[0]).__name__ == "Rescaling" else (255, 0)
    qmodel = cnn2snn.quantize(model, weight_quantization=weights, activ_quantization=activations,
                              input_weight_quantization=input_weights)
    theirs = cnn2snn.convert(qmodel, input_scaling=scaling)
    inputs = np.random.default_rng(1).integers(0, 256, (3,) + tuple(model.input_shape[1:])).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_models(akida_sim.convert(qmodel, input_scaling=scaling), theirs, inputs)
        assert_same_models(akida_sim.convert(model, method="legacy", input_scaling=scaling, weights_bits=weights,
                                             act_bits=activations, input_weights_bits=input_weights), theirs, inputs)


@pytest.mark.parametrize("scale, offset", [(np.float32(1 / 255), 0.0), (np.float32(1 / 127.5), np.float32(-1)),
                                           (np.array(1 / 127.5), -1.0)])
def test_rescaling_with_numpy_arguments_matches_the_vendor(scale, offset):
    layers = keras.layers
    model = keras.Sequential([keras.Input((8, 8, 3)), layers.Rescaling(scale, offset),
                              layers.Conv2D(4, 3, padding="same"), layers.ReLU(1.0), layers.Conv2D(4, 3),
                              layers.ReLU(2.0), layers.Flatten(), layers.Dense(2)])
    rng = np.random.default_rng(3)
    set_random_weights(model, rng)
    qmodel = cnn2snn.quantize(model, 4, 4, 8)
    inputs = rng.integers(0, 256, (4, 8, 8, 3)).astype(np.uint8)
    assert_same_models(akida_sim.convert(qmodel), cnn2snn.convert(qmodel), inputs)
    assert_same_models(akida_sim.convert(model, method="legacy"), cnn2snn.convert(qmodel), inputs)


@pytest.mark.parametrize("input_weights", [3, 5, 6, 7])
def test_input_convolutional_weight_widths_between_2_and_8_match_the_vendor(input_weights):
    layers = keras.layers
    model = keras.Sequential([keras.Input((8, 8, 3)), layers.Conv2D(6, 3, padding="same"), layers.ReLU(1.0),
                              layers.Conv2D(4, 3), layers.ReLU(2.0), layers.Flatten(), layers.Dense(2)])
    rng = np.random.default_rng(input_weights)
    set_random_weights(model, rng)
    qmodel = cnn2snn.quantize(model, 4, 4, input_weights)
    theirs = cnn2snn.convert(qmodel, input_scaling=(255, 0))
    inputs = rng.integers(0, 256, (4, 8, 8, 3)).astype(np.uint8)
    assert_same_models(akida_sim.convert(qmodel, input_scaling=(255, 0)), theirs, inputs)
    assert_same_models(akida_sim.convert(model, method="legacy", input_scaling=(255, 0),
                                         input_weights_bits=input_weights), theirs, inputs)


def test_a_legacy_quantized_depthwise_conv_alone_is_refused_as_by_the_vendor():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.ReLU(1.0),
                              cnn2snn.QuantizedDepthwiseConv2D(3, quantizer=cnn2snn.MaxQuantizer(bitwidth=4),
                                                               name="qdw"), cnn2snn.QuantizedReLU(bitwidth=4)])
    with pytest.raises((ValueError, RuntimeError)):
        cnn2snn.convert(cnn2snn.quantize(model, 4, 4, 8))
    with pytest.raises(ValueError, match="'qdw' .*DepthwiseConv2D alone"):
        akida_sim.convert(model)


@pytest.mark.parametrize("input_weights", [2, 4, 8])
def test_input_weights_bits_of_a_first_layer_after_input_data_match_the_vendor(input_weights):
    layers = keras.layers
    model = keras.Sequential([keras.Input((6, 6, 4)), layers.Conv2D(6, 3, padding="same"), layers.ReLU(1.0),
                              layers.Flatten(), layers.Dense(3)])
    rng = np.random.default_rng(input_weights)
    set_random_weights(model, rng)
    qmodel = cnn2snn.quantize(model, 2, 2, input_weights)
    theirs = cnn2snn.convert(qmodel)
    inputs = rng.integers(0, 16, (4, 6, 6, 4)).astype(np.uint8)
    assert_same_models(akida_sim.convert(qmodel), theirs, inputs)
    assert_same_models(akida_sim.convert(model, method="legacy", weights_bits=2, act_bits=2,
                                         input_weights_bits=input_weights), theirs, inputs)


def _special_model(name):
    """(tf_keras float model, input_scaling, input shape, input range) of structures the random models skip."""
    layers = keras.layers
    if name == "flat_dense":  # a (N,) input: InputData then FullyConnected layers
        body, scaling, shape, high = [keras.Input((20,)), layers.Dense(8), layers.ReLU(1.0), layers.Dense(4),
                                      layers.BatchNormalization(), layers.ReLU(2.0), layers.Dense(2)], (1, 0), (20,), 16
    elif name == "flat_reshape_conv":  # (N,) -> (1, 1, N) -> 1x1 conv
        body, scaling, shape, high = [keras.Input((20,)), layers.Reshape((1, 1, 20)), layers.Conv2D(8, 1),
                                      layers.ReLU(1.0), layers.Flatten(), layers.Dense(2)], (1, 0), (20,), 16
    elif name == "separable_first":  # InputData then a SeparableConvolutional
        body, scaling, shape, high = [keras.Input((8, 8, 6)), layers.SeparableConv2D(8, 3, padding="same"),
                                      layers.MaxPooling2D(padding="same"), layers.ReLU(1.0), layers.Flatten(),
                                      layers.Dense(2)], (2, 0), (8, 8, 6), 8
    elif name == "gap_of_256_pixels":
        body, scaling, shape, high = [keras.Input((16, 16, 3)), layers.Conv2D(4, 3, padding="same"),
                                      layers.ReLU(1.0), layers.Conv2D(8, 3, padding="same"),
                                      layers.GlobalAveragePooling2D(), layers.BatchNormalization(), layers.ReLU(1.0),
                                      layers.Dense(3)], (255, 0), (16, 16, 3), 256
    else:  # geometry: non-square kernels and strides, pool stride below its size, valid padding
        body, scaling, shape, high = [keras.Input((12, 10, 1)), layers.Conv2D(4, (3, 5), strides=(1, 2),
                                                                              padding="same"),
                                      layers.ReLU(1.0), layers.Conv2D(4, 3, strides=(2, 1), padding="valid"),
                                      layers.MaxPooling2D((3, 2), (2, 1), padding="valid"), layers.ReLU(1.0),
                                      layers.Flatten(), layers.Dense(2)], (128, 128), (12, 10, 1), 256
    model = keras.Sequential(body)
    set_random_weights(model, np.random.default_rng(len(name)))
    return model, scaling, shape, high


@pytest.mark.parametrize("name", ["flat_dense", "flat_reshape_conv", "separable_first", "gap_of_256_pixels",
                                  "geometry"])
@pytest.mark.parametrize("bits", [(4, 4, 4), (2, 1, 2), (4, 2, 8)])
def test_structures_outside_the_random_models_convert_to_the_vendors_integers(name, bits):
    model, scaling, shape, high = _special_model(name)
    weights, activations, input_weights = bits
    qmodel = cnn2snn.quantize(model, weights, activations, input_weights)
    theirs = cnn2snn.convert(qmodel, input_scaling=scaling)
    akida_shape = (1, 1) + shape if len(shape) == 1 else shape
    inputs = np.random.default_rng(0).integers(0, high, (4,) + akida_shape).astype(np.uint8)
    assert_same_models(akida_sim.convert(qmodel, input_scaling=scaling), theirs, inputs)
    assert_same_models(akida_sim.convert(model, method="legacy", input_scaling=scaling, weights_bits=weights,
                                         act_bits=activations, input_weights_bits=input_weights), theirs, inputs)


@pytest.mark.parametrize("seed", range(8))
def test_legacy_quantized_model_with_samples_keeps_the_vendors_integers_by_default(seed):
    """The default method (hardware-aware) leaves layers quantized by cnn2snn.quantize as the vendor converts them."""
    model, scaling, inputs, image = random_model(seed)
    qmodel, _ = quantized(model, image, seed)
    sigma, offset = scaling if scaling is not None else (1, 0)
    samples = ((inputs.astype(np.float64) - offset) / sigma).astype(np.float32)
    theirs, vendor_error = outcome(lambda: cnn2snn.convert(qmodel, input_scaling=scaling))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, error = outcome(lambda: akida_sim.convert(qmodel, input_scaling=scaling, samples=samples))
    assert (error is None) == (vendor_error is None), (error, vendor_error)
    if error is None:
        assert_same_models(ours, theirs, inputs)


def test_a_float_model_with_a_float_layer_class_of_quantizeml_is_refused_for_the_layer():
    quantizeml_layers = pytest.importorskip("quantizeml.layers")
    model = keras.Sequential([keras.Input((8, 8, 2)), keras.layers.Conv2D(2, 3, padding="same"),
                              keras.layers.ReLU(6.0),
                              quantizeml_layers.DepthwiseConv2DTranspose(3, strides=2, padding="same", name="dwt"),
                              keras.layers.ReLU(6.0)])
    with pytest.raises(ValueError, match="'dwt'.*transposed depthwise convolution is not an Akida 1.0 layer"):
        akida_sim.convert(model)
