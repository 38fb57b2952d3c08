"""Random small Keras models (conv / separable / dense, BatchNormalization, ReLU(max), max pool, GAP,
flatten, strides, both paddings, 1/2/4-bit activations), layer by layer: akida_sim's integer activations equal a float64
reference (the Keras layers with the dequantized weights, fed the dequantized activations, then
the documented activation rule ``s * clip(ceil((x - s/2) / s), 0, 2**b - 1)``).

The models are drawn where that arithmetic is exact: weights are integers times a power of two
with each channel's largest magnitude at kmax (so the scale factor is that power of two), steps
are powers of two and biases are multiples of the input and weight quanta; thresholds and steps are
then exact integers and multiples of 1/16, and the equality must hold bit for bit.
"""
import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import akida_sim


def _dyadic_kernel(rng, shape, bits, exponents, per_axis):
    """Integers in [-kmax, kmax] with each channel's (or the tensor's) max |.| = kmax, times 2**-e."""
    kmax = 2 ** (bits - 1) - 1
    ints = rng.integers(-kmax, kmax + 1, shape)
    flat = ints.reshape(-1, shape[-1])
    if per_axis:
        flat[rng.integers(len(flat), size=shape[-1]), np.arange(shape[-1])] = kmax * rng.choice([-1, 1], shape[-1])
    else:
        flat.flat[rng.integers(flat.size)] = kmax
    return (flat.reshape(shape) * 2.0 ** -np.asarray(exponents, np.float64)).astype(np.float64)


@st.composite
def exact_models(draw):
    """(spec dict) of a small model whose conversion arithmetic is exact."""
    image = draw(st.booleans())
    spatial = draw(st.integers(5, 9))
    channels = draw(st.sampled_from([1, 3] if image else [2, 4]))
    blocks = []
    count = draw(st.integers(1, 3))
    gap_done = False
    for k in range(count):
        last = k == count - 1
        if gap_done or (k > 0 and draw(st.integers(0, 3)) == 0) or (k == count - 1 and k > 0 and draw(st.booleans())):
            role = "dense"
        elif image and k == 0:
            role = "conv"
        else:
            role = draw(st.sampled_from(["conv", "separable"]))
        if blocks and blocks[-1]["role"] == "dense":
            role = "dense"
        block = {"role": role}
        if role != "dense":
            kernel = draw(st.sampled_from([1, 3]))
            block.update(kernel=kernel, padding=draw(st.sampled_from(["same", "valid"])),
                         stride=draw(st.integers(1, 2 if (kernel == 3 or (image and k == 0)) else 1)),
                         pool=draw(st.sampled_from(["none", "none", "max", "gap"])),
                         pool_size=2, pool_stride=draw(st.integers(1, 2)))
            gap_done = block["pool"] == "gap"
        block["bn"] = draw(st.sampled_from(["none", "none", "before_pool", "after_pool"]))
        block["filters"] = draw(st.integers(1, 4))
        block["activation"] = not last or draw(st.booleans())
        block["act_bits"] = draw(st.sampled_from([1, 2, 4]))
        block["step_exponent"] = draw(st.integers(0, 3))
        blocks.append(block)
    return dict(image=image, spatial=spatial, channels=channels, blocks=blocks,
                input_exponent=draw(st.integers(0, 1)), offset=draw(st.sampled_from([0, 3, 128])) if image else 0,
                weights_bits=draw(st.sampled_from([2, 4])),
                input_weights_bits=draw(st.sampled_from([4, 8] if image else [2, 4])),
                seed=draw(st.integers(0, 2 ** 31)))


def build(keras, spec):
    """(Keras float64 model, [(block spec, [its Keras layers])]) of a spec; None if a size collapses."""
    layers = keras.layers
    rng = np.random.default_rng(spec["seed"])
    size, shape = spec["spatial"], (spec["spatial"], spec["spatial"], spec["channels"])
    model_layers, handles = [keras.Input(shape, dtype="float64")], []
    input_exponent = spec["input_exponent"]
    flattened = False
    for k, block in enumerate(spec["blocks"]):
        first = k == 0
        bits = spec["input_weights_bits"] if first else spec["weights_bits"]
        own = []
        if block["role"] == "dense":
            if not flattened:
                own.append(layers.Flatten(dtype="float64"))
                flattened = True
            own.append(layers.Dense(block["filters"], dtype="float64"))
            if block["bn"] != "none":
                own.append(layers.BatchNormalization(epsilon=BN_EPSILON, dtype="float64"))
        else:
            kernel, stride, padding = block["kernel"], block["stride"], block["padding"]
            size = -(-size // stride) if padding == "same" else (size - kernel) // stride + 1
            if size < 1:
                return None
            cls = layers.SeparableConv2D if block["role"] == "separable" else layers.Conv2D
            own.append(cls(block["filters"], kernel, strides=stride, padding=padding, dtype="float64"))
            if block["bn"] == "before_pool" or (block["bn"] == "after_pool" and block["pool"] != "max"):
                own.append(layers.BatchNormalization(epsilon=BN_EPSILON, dtype="float64"))
            if block["pool"] == "max":
                pooled = (-(-size // block["pool_stride"]) if padding == "same"
                          else (size - 2) // block["pool_stride"] + 1)
                if pooled < 1:
                    return None
                own.append(layers.MaxPooling2D(2, block["pool_stride"], padding=padding, dtype="float64"))
                if block["bn"] == "after_pool":
                    own.append(layers.BatchNormalization(epsilon=BN_EPSILON, dtype="float64"))
                size = pooled
            elif block["pool"] == "gap":
                own.append(layers.GlobalAveragePooling2D(dtype="float64"))
        step_exponent = block["step_exponent"]
        levels = 2 ** block["act_bits"] - 1
        if block["activation"]:
            own.append(layers.ReLU(max_value=levels * 2.0 ** -step_exponent, dtype="float64"))
        model_layers += own
        handles.append((block, own, bits, input_exponent))
        input_exponent = step_exponent
    model = keras.Sequential(model_layers)
    for block, own, bits, in_exponent in handles:
        neural = next(l for l in own if type(l).__name__ in ("Conv2D", "SeparableConv2D", "Dense"))
        bn = next((l for l in own if type(l).__name__ == "BatchNormalization"), None)
        _set_exact_weights(neural, bn, block, bits, in_exponent, rng)
    return model, handles


#: BatchNormalization epsilon; the variances are 4 - epsilon, so that sqrt(var + eps) = 2 exactly.
BN_EPSILON = 2.0 ** -10


def _set_exact_weights(neural, bn, block, bits, in_exponent, rng):
    """Weights whose BN-folded values lie on the quantization grid (and BN parameters if any)."""
    weights = neural.get_weights()
    filters = block["filters"]
    low = max(0, block["step_exponent"] + 1 - in_exponent)
    exponents = rng.integers(low, low + 3, filters)
    if block["role"] == "separable":
        depthwise_exponent = int(rng.integers(0, 2))
        depthwise = _dyadic_kernel(rng, weights[0].shape, bits, depthwise_exponent, per_axis=False)
        pointwise = _dyadic_kernel(rng, weights[1].shape, bits, exponents - depthwise_exponent, per_axis=True)
        kernels = [depthwise, pointwise]
    else:
        kernels = [_dyadic_kernel(rng, weights[0].shape, bits, exponents, per_axis=True)]
    bias = rng.integers(-8, 9, filters) * 2.0 ** -(in_exponent + exponents)
    if bn is None:
        neural.set_weights(kernels + [bias])
        return
    # Folded: kernel * gamma / 2 and beta + (0 - mean) * gamma / 2 (the neural bias is 0).
    signs = np.ones(filters) if block["bn"] == "after_pool" else rng.choice([-1.0, 1.0], filters)
    gamma = signs * 2.0 ** rng.integers(-1, 2, filters)
    scale = gamma / 2
    mean = rng.integers(-4, 5, filters) * 2.0 ** -int(rng.integers(0, 3))
    kernels[-1] = kernels[-1] / scale
    neural.set_weights(kernels + [np.zeros(filters)])
    bn.set_weights([gamma, bias + mean * scale, mean, np.full(filters, 4 - BN_EPSILON)])


def _activate(z, block):
    s = 2.0 ** -block["step_exponent"]
    return np.clip(np.ceil((z - s / 2) / s), 0, 2 ** block["act_bits"] - 1)


def reference_outputs(handles, keras_inputs):
    """Per block: integer activation levels, or float64 outputs of a last block without activation."""
    x, results = keras_inputs, []
    for block, own, _, _ in handles:
        z = x
        gap = None
        for layer in own:
            kind = type(layer).__name__
            if kind == "ReLU":
                continue
            if kind == "GlobalAveragePooling2D":
                gap = z.shape[1] * z.shape[2]
                z = np.sum(z, axis=(1, 2))  # the exact sum; the mean is sum / N
                continue
            z = np.asarray(layer(z), np.float64)
        if block["activation"]:
            s = 2.0 ** -block["step_exponent"]
            if gap is not None:
                levels = np.clip(np.ceil((z - gap * s / 2) / (gap * s)), 0, 2 ** block["act_bits"] - 1)
            else:
                levels = _activate(z, block)
            results.append(levels)
            x = levels * s
        else:
            results.append(z / gap if gap is not None else z)
    return results


#: Potentials a pooling layer saturates beyond (20-bit signed): the reference does not model it.
SATURATION = 2 ** 19


def _largest_potential(layer, input_max):
    """An upper bound on |potential| (summed over a GAP) of an Akida layer for inputs <= input_max."""
    weights = np.abs(layer.get_variable("weights").astype(np.int64))
    if "weights_pw" in layer.get_variable_names():
        per_filter = np.abs(layer.get_variable("weights_pw")[0, 0].astype(np.int64)).T @ weights.sum(axis=(0, 1))[:, 0]
    else:
        per_filter = weights.sum(axis=(0, 1, 2))
    bound = int(per_filter.max()) * input_max
    if layer.parameters.layer_type == akida_sim.LayerType.FullyConnected:
        return bound
    if layer.parameters.pool_type == akida_sim.PoolType.Average:
        return bound * layer.input_dims[0] * layer.input_dims[1]
    return bound


@settings(max_examples=max(5, settings.default.max_examples // 4))
@given(spec=exact_models())
def test_layer_by_layer_equal_to_the_float64_reference(keras, spec):
    built = build(keras, spec)
    if built is None:
        return
    model, handles = built
    rng = np.random.default_rng(spec["seed"] + 1)
    shape = (8, spec["spatial"], spec["spatial"], spec["channels"])
    sigma = 2.0 ** spec["input_exponent"]
    if spec["image"]:
        akida_inputs = rng.integers(0, 256, shape).astype(np.uint8)
    else:
        akida_inputs = rng.integers(0, 16, shape).astype(np.uint8)
    keras_inputs = (akida_inputs.astype(np.float64) - spec["offset"]) / sigma
    act_bits = {own[-1].name: block["act_bits"] for block, own, _, _ in handles if block["activation"]}
    converted = akida_sim.convert(model, input_scaling=(sigma, spec["offset"]), weights_bits=spec["weights_bits"],
                                  act_bits=act_bits, input_weights_bits=spec["input_weights_bits"])
    input_max = 255 if spec["image"] else 15
    for layer in converted.layers[len(converted.layers) - len(handles):]:
        assume(_largest_potential(layer, input_max) < SATURATION)
        input_max = 2 ** layer.parameters.act_bits - 1
    expected = reference_outputs(handles, keras_inputs)
    offset = len(converted.layers) - len(handles)
    for k, (block, reference) in enumerate(zip(spec["blocks"], expected)):
        partial = akida_sim.Model(layers=converted.layers[:offset + k + 1])
        if block["activation"]:
            got = partial.forward(akida_inputs)
            np.testing.assert_array_equal(got.reshape(reference.shape), reference, err_msg=f"block {k}")
        else:
            got = partial.predict(akida_inputs)
            np.testing.assert_allclose(got.reshape(reference.shape), reference, rtol=1e-6, atol=1e-6,
                                       err_msg=f"block {k}")
