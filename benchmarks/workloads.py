"""Benchmark workloads: models, calibrations, inputs, MAC counts and TensorFlow twins.

Two calibrations of the same random-weight models:

* ``zoo``: the zoo's own (``akida_sim.zoo.build``: half of each layer's
  potentials at or below the threshold, inputs 30 % zero);
* ``realistic``: like a trained network, each activation-bearing layer's
  threshold is recalibrated so that ``REALISTIC_ZERO_FRACTION`` of its output
  activations are zero, layer after layer on the calibrated activations of
  the previous one; 8-bit image inputs are dense (as a photo or an MFCC
  frame is), 4-bit inputs follow the stated density.

The measured per-layer input densities are reported with the timings.
"""
import numpy as np

import akida_sim
from akida_sim import zoo
from akida_sim.enums import LayerType, PoolType
from akida_sim.inference import layer_potentials, run_layer

#: Fraction of each layer's output activations that are zero in a trained network.
REALISTIC_ZERO_FRACTION = 0.6
#: Input densities of the single-convolution workload.
CONV56_DENSITIES = (0.01, 0.10, 0.50, 1.00)

NETS = {
    "dscnn_kws": zoo.dscnn_kws,
    "akidanet_05_112": lambda: zoo.akidanet_05(112),
    "akidanet_05_224": lambda: zoo.akidanet_05(224),
    "mnist": zoo.mnist_net,
}


def conv56():
    """One 3x3 64->64 convolution (Same, 4-bit weights and activations) on 56x56x64."""
    return [akida_sim.InputData(input_shape=(56, 56, 64), input_bits=4, name="input"),
            akida_sim.Convolutional(kernel_size=(3, 3), filters=64, name="conv", weights_bits=4, act_bits=4)]


def _model(layers):
    model = akida_sim.Model()
    for layer in layers:
        model.add(layer)
    return model


def inputs(model, n, rng, density):
    """n uint8 inputs within the model's input bit width, ``density`` of them non-zero.

    Drawn one sample at a time, so that a large batch costs only its own bytes.
    """
    top = (1 << min(model.layers[0].input_bits, 8)) - 1
    shape = tuple(model.input_shape)
    x = np.empty((n, *shape), np.uint8)
    for i in range(n):
        x[i] = rng.integers(1, top + 1, size=shape, dtype=np.uint8)
        x[i][rng.random(shape) >= density] = 0
    return x


def _recalibrate(model, x, zero_fraction):
    """Thresholds set so that ``zero_fraction`` of each layer's activations are 0
    (the zoo's steps are kept)."""
    for layer in model.layers:
        if layer.layer_type == LayerType.InputData:
            continue
        if layer._args["activation"]:
            pot = layer_potentials(layer, x, {})
            flat = pot.reshape(-1, pot.shape[-1]).astype(np.float64)
            layer.set_variable("threshold", np.floor(np.quantile(flat, zero_fraction, axis=0)).astype(np.int32))
        x = run_layer(layer, x, {})


def build(name, calibration, density=None, seed=0):
    """(model, input density) of workload ``name`` ('conv56' or a NETS key)."""
    layers = conv56() if name == "conv56" else NETS[name]()
    model = zoo.randomize(_model(layers), np.random.default_rng(seed))
    bits = model.layers[0].input_bits
    if density is None:
        density = 1.0 if bits >= 8 and calibration == "realistic" else 0.7
    if calibration == "realistic" or name == "conv56":
        x = inputs(model, 8, np.random.default_rng(seed + 1), density)
        _recalibrate(model, x, REALISTIC_ZERO_FRACTION)
    return model, density


def layer_densities(model, x):
    """Fraction of non-zero input values of each neural layer."""
    out = []
    for layer in model.layers:
        if layer.layer_type == LayerType.InputData:
            continue
        out.append(np.count_nonzero(x) / x.size)
        x = run_layer(layer, x, {})
    return out


def macs_per_sample(model):
    """Multiply-accumulates of one sample, counted on the dense shapes."""
    total = 0
    for layer in model.layers:
        t = layer.layer_type
        if t == LayerType.InputData:
            continue
        ix, iy, c = layer.input_dims
        if t == LayerType.FullyConnected:
            total += ix * iy * c * layer._args["units"]
            continue
        (kx, ky) = layer._args["kernel_size"]
        ox, oy = layer.conv_output_dims((ix, iy))
        f = layer._args["filters"]
        if t == LayerType.SeparableConvolutional:
            total += ox * oy * c * (kx * ky + f)
        else:
            total += ox * oy * f * kx * ky * c
    return total


def tf_twin(model, batch):
    """A float32 TensorFlow function of the same shapes (graph mode) and its input.

    Convolutions, depthwise + pointwise, max/global-average pooling, ReLU and
    a final matmul, with the model's integer weights as float32. Only timed;
    its outputs are not the chip's.
    """
    import tensorflow as tf

    ops = []
    for layer in model.layers:
        t = layer.layer_type
        if t == LayerType.InputData:
            continue
        act = layer._args["activation"]
        if t == LayerType.FullyConnected:
            w = tf.constant(layer.get_variable("weights")[0, 0].astype(np.float32))
            ops.append(("fc", w, act))
            continue
        pad = "SAME" if layer.same else "VALID"
        stride = tuple(layer._args["kernel_stride"])
        pool = layer._args.get("pool_type", PoolType.NoPooling)
        pool_args = (pool, tuple(layer._args.get("pool_size", (-1, -1))), tuple(layer._args.get("pool_stride", (-1, -1))))
        if t == LayerType.SeparableConvolutional:
            wd = tf.constant(layer.get_variable("weights").astype(np.float32))
            wp = tf.constant(layer.get_variable("weights_pw").astype(np.float32))
            ops.append(("sep", (wd, wp), stride, pad, pool_args, act))
        else:
            w = tf.constant(layer.get_variable("weights").astype(np.float32))
            ops.append(("conv", w, stride, pad, pool_args, act))

    def pool_op(h, pool_args, pad):
        pool, size, stride = pool_args
        if pool == PoolType.Max:
            stride = size if stride[0] <= 0 else stride
            return tf.nn.max_pool2d(h, size, stride, pad)
        if pool == PoolType.Average:
            return tf.reduce_mean(h, axis=(1, 2), keepdims=True)
        return h

    @tf.function
    def forward(h):
        for op in ops:
            if op[0] == "fc":
                h = tf.matmul(tf.reshape(h, (h.shape[0], -1)), op[1])
                if op[2]:
                    h = tf.nn.relu(h)
                continue
            kind, w, stride, pad, pool_args, act = op
            if kind == "sep":
                h = tf.nn.depthwise_conv2d(h, w[0], (1, *stride, 1), pad)
                h = tf.nn.conv2d(h, w[1], 1, "VALID")
            else:
                h = tf.nn.conv2d(h, w, stride, pad)
            h = pool_op(h, pool_args, pad)
            if act:
                h = tf.nn.relu(h)
        return h

    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((batch, *model.input_shape), dtype=np.float32))
    return forward, x
