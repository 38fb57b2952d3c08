"""Forward pass of one layer: kernel registry, pooling and activation.

One registry (``POTENTIAL_FUNCTIONS``) maps each layer type to the function
that computes its int32 potentials with the kernels of ``kernels/``; pooling
and the step activation are shared. Arrays reaching the kernels have been
validated by the layer and model (dtype, shape, value range).

Every kernel is a pure function of NumPy arrays that writes a caller-given
output array and picks its own exact form (event or dense) from the data;
another backend (a GPU one) would supply functions of the same signatures
for the same entries. The model streams a batch through the layers in
chunks of ``stream_samples`` samples.
"""
import numpy as np

from kernels.activation import step_activation
from kernels.convolution import conv2d_potentials, dense_packing
from kernels.dense import dense_potentials, fully_connected_packing
from kernels.pooling import global_sum_pool, max_pool
from kernels.separable import pointwise_packing, separable_potentials

from .enums import LayerType, PoolType
from .geometry import pad_before, window_output_size
from .variables import step_sixteenths

#: Bytes the potentials of one layer may take for one chunk of a streamed
#: batch: a forward pass runs the batch through the layers in chunks of
#: samples whose largest per-layer potentials stay near this size, so that
#: they stay in the CPU's outer cache and the memory a forward pass holds is
#: bounded whatever the batch size.
STREAM_BYTES = 16 * 2 ** 20


def _potential_bytes(layer):
    """Bytes of one sample's int32 potentials in ``layer`` (before pooling)."""
    if layer.layer_type == LayerType.FullyConnected:
        return 4 * int(np.prod(layer.output_dims))
    ox, oy = layer.conv_output_dims(layer.input_dims[:2])
    return 4 * ox * oy * max(layer._args["filters"], layer.input_dims[2])


def stream_samples(layers):
    """Samples per chunk when a batch streams through the neural ``layers``."""
    return max(1, STREAM_BYTES // max(_potential_bytes(layer) for layer in layers))


def _conv_geometry(layer, input_dims):
    (kx, ky), (sx, sy) = layer._args["kernel_size"], layer._args["kernel_stride"]
    stride = np.array([sx, sy], np.int64)
    pads = np.array([pad_before(input_dims[0], kx, sx, layer.same),
                     pad_before(input_dims[1], ky, sy, layer.same)], np.int64)
    return stride, pads


def _conv_output(layer, x):
    ox, oy = layer.conv_output_dims(x.shape[1:3])
    return np.empty((x.shape[0], ox, oy, layer._args["filters"]), np.int32)


def _cache_conv_weights(cache, weights):
    """Keep (KX, KY, C, F) cross-correlation weights as int32 and packed for the dense form."""
    w = cache["w"] = np.ascontiguousarray(weights.astype(np.int32))
    cache["packed"] = dense_packing(w.reshape(-1, w.shape[3]))


def input_conv_potentials(layer, x, cache):
    """InputConvolutional: cross-correlation, padded cells hold padding_value."""
    if "w" not in cache:
        _cache_conv_weights(cache, layer._variables["weights"])
    stride, pads = _conv_geometry(layer, x.shape[1:3])
    out = _conv_output(layer, x)
    conv2d_potentials(x, cache["w"], stride, pads, layer._args["padding_value"], out, packed=cache["packed"])
    return out


def conv_potentials(layer, x, cache):
    """Convolutional: true convolution (kernel flipped on both axes), 0 padding."""
    if "w" not in cache:
        _cache_conv_weights(cache, layer._variables["weights"][::-1, ::-1])
    stride, pads = _conv_geometry(layer, x.shape[1:3])
    out = _conv_output(layer, x)
    conv2d_potentials(x, cache["w"], stride, pads, 0, out, packed=cache["packed"])
    return out


def separable_conv_potentials(layer, x, cache):
    """SeparableConvolutional: flipped depthwise, then pointwise."""
    if "dw" not in cache:
        cache["dw"] = np.ascontiguousarray(layer._variables["weights"][::-1, ::-1, :, 0].astype(np.int32))
        cache["pw"] = np.ascontiguousarray(layer._variables["weights_pw"][0, 0].astype(np.int32))
        cache["packed"] = pointwise_packing(cache["pw"])
    stride, pads = _conv_geometry(layer, x.shape[1:3])
    out = _conv_output(layer, x)
    separable_potentials(x, cache["dw"], cache["pw"], stride, pads, out, cache["packed"])
    return out


def fully_connected_potentials(layer, x, cache):
    """FullyConnected: column-major flatten of (x, y, c), 20-bit saturated sum."""
    n, h, w, c = x.shape
    if "w" not in cache:
        units = layer._args["units"]
        flat = layer._variables["weights"].reshape(c, w, h, units)
        # Reorder rows from column-major (a + H*b + H*W*c) to NHWC C-order.
        cache["w"] = np.ascontiguousarray(flat.transpose(2, 1, 0, 3).reshape(h * w * c, units).astype(np.int32))
        cache["packed"] = fully_connected_packing(cache["w"])
    out = np.empty((n, cache["w"].shape[1]), np.int32)
    dense_potentials(np.ascontiguousarray(x.reshape(n, h * w * c)), cache["w"], out, packed=cache["packed"])
    return out.reshape(n, 1, 1, -1)


POTENTIAL_FUNCTIONS = {
    LayerType.InputConvolutional: input_conv_potentials,
    LayerType.Convolutional: conv_potentials,
    LayerType.SeparableConvolutional: separable_conv_potentials,
    LayerType.FullyConnected: fully_connected_potentials,
}


def pool(layer, pot):
    """Apply the layer's pooling to int32 potentials (N, X, Y, F)."""
    pool_type = layer._args.get("pool_type", PoolType.NoPooling)
    if pool_type == PoolType.Max:
        (px, py), (sx, sy) = layer._args["pool_size"], layer._args["pool_stride"]
        _, h, w, f = pot.shape
        same = layer.same
        out = np.empty((pot.shape[0], window_output_size(h, px, sx, same),
                        window_output_size(w, py, sy, same), f), np.int32)
        pads = np.array([pad_before(h, px, sx, same), pad_before(w, py, sy, same)], np.int64)
        max_pool(pot, np.array([px, py], np.int64), np.array([sx, sy], np.int64), pads, out)
        return out
    if pool_type == PoolType.Average:
        out = np.empty((pot.shape[0], 1, 1, pot.shape[3]), np.int32)
        global_sum_pool(pot, out)
        return out
    return pot


def layer_potentials(layer, x, cache):
    """The final int32 potentials of a neural layer (after pooling)."""
    return pool(layer, POTENTIAL_FUNCTIONS[layer.layer_type](layer, x, cache))


def activate(layer, pot, cache):
    """uint8 activations of potentials (N, X, Y, F) with the layer's step rule."""
    if "step_q" not in cache:
        cache["step_q"] = step_sixteenths(layer._variables["act_step"])
    flat = pot.reshape(-1, pot.shape[-1])
    out = np.empty(flat.shape, np.uint8)
    step_activation(flat, layer._variables["threshold"], cache["step_q"], layer._args["act_bits"], out)
    return out.reshape(pot.shape)


def dequantize(layer, pot):
    """``float32(wrap_int32(p - threshold)) / act_step`` in float32, as the vendor's predict."""
    diff = pot.astype(np.int64) - layer._variables["threshold"].astype(np.int64)
    diff = ((diff + 2**31) % 2**32 - 2**31).astype(np.float32)
    return (diff / layer._variables["act_step"]).astype(np.float32)


def run_layer(layer, x, cache):
    """Forward one neural layer: uint8 activations, or int32 potentials when
    the layer has no activation."""
    pot = layer_potentials(layer, x, cache)
    if layer._args["activation"]:
        return activate(layer, pot, cache)
    return pot

