"""Slow, obviously-correct references of the Akida 1.0 datapath (float64 / int64 / Python ints).

Written from ../shared/reference/akida_v1_semantics.md, independently of ``kernels/`` and
``akida_sim/``: nothing here imports them. Tensors are NHWC; axis 1 is "x", axis 2 "y".
Every function favours clarity over speed: explicit windows, Python-int arithmetic where an
overflow could hide a bug.
"""
import math

import numpy as np

#: 20-bit signed saturation bounds.
SAT_MIN = -(2 ** 19)
SAT_MAX = 2 ** 19 - 1


# ----------------------------------------------------------------------------- integers
def wrap32(value):
    """Wrap integers (Python int or int64 array) to the int32 range, as a two's complement adder."""
    if isinstance(value, np.ndarray):
        v = value.astype(np.int64)
        return ((v + 2 ** 31) % 2 ** 32) - 2 ** 31
    return ((int(value) + 2 ** 31) % 2 ** 32) - 2 ** 31


def sat20(value):
    """Clip to the 20-bit signed range."""
    return np.clip(value, SAT_MIN, SAT_MAX)


# ----------------------------------------------------------------------------- geometry
def out_size(n, k, s, same):
    """Window positions along one axis: Same ceil(n/s), Valid floor((n-k)/s)+1."""
    if same:
        return math.ceil(n / s)
    return math.floor((n - k) / s) + 1


def tf_pads(n, k, s, same):
    """(before, after) padding of one axis, TensorFlow style (extra cell after)."""
    if not same:
        return 0, 0
    out = math.ceil(n / s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def pad_nhwc(x, kx, ky, sx, sy, same, value):
    """Pad axes 1 and 2 of an NHWC tensor with ``value`` (any float, -inf allowed), as float64."""
    (a0, a1), (b0, b1) = tf_pads(x.shape[1], kx, sx, same), tf_pads(x.shape[2], ky, sy, same)
    return np.pad(x.astype(np.float64), ((0, 0), (a0, a1), (b0, b1), (0, 0)), constant_values=value)


# ----------------------------------------------------------------------------- convolutions
def correlate(x, w, stride, same, pad_value=0):
    """Cross-correlation ``p[n,i,j,f] = sum_{u,v,c} xp[n, i*sx+u, j*sy+v, c] * w[u,v,c,f]``.

    x: (N,H,W,C) integers; w: (kx,ky,C,F) integers. Exact int64 result (no wrap).
    """
    kx, ky, _, filters = w.shape
    sx, sy = stride
    xp = pad_nhwc(x, kx, ky, sx, sy, same, pad_value).astype(np.int64)
    oh = out_size(x.shape[1], kx, sx, same)
    ow = out_size(x.shape[2], ky, sy, same)
    w64 = w.astype(np.int64)
    out = np.zeros((x.shape[0], oh, ow, filters), np.int64)
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sx:i * sx + kx, j * sy:j * sy + ky, :]  # (N,kx,ky,C)
            out[:, i, j, :] = np.einsum("nuvc,uvcf->nf", window, w64)
    return out


def convolve(x, w, stride, same):
    """True convolution (kernel flipped on both spatial axes), zero padding, exact int64."""
    return correlate(x, w[::-1, ::-1], stride, same, 0)


def separable(x, wd, wpw, stride, same):
    """Depthwise true convolution (wd: (kx,ky,C,1)) then pointwise (wpw: (1,1,C,F)); int32 wrap of the result."""
    kx, ky, channels, _ = wd.shape
    sx, sy = stride
    xp = pad_nhwc(x, kx, ky, sx, sy, same, 0).astype(np.int64)
    oh = out_size(x.shape[1], kx, sx, same)
    ow = out_size(x.shape[2], ky, sy, same)
    flipped = wd[::-1, ::-1, :, 0].astype(np.int64)
    dw = np.zeros((x.shape[0], oh, ow, channels), np.int64)
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sx:i * sx + kx, j * sy:j * sy + ky, :]
            dw[:, i, j, :] = (window * flipped[None]).sum(axis=(1, 2))
    return wrap32(np.einsum("nijc,cf->nijf", dw, wpw[0, 0].astype(np.int64)))


def fully_connected(x, w):
    """``clip(sum_j flat[j] * w[0,0,j,u])`` with the column-major flatten of each (H,W,C) sample."""
    n = x.shape[0]
    flat = np.stack([x[k].ravel(order="F") for k in range(n)]).astype(np.int64)
    total = flat @ w[0, 0].astype(np.int64)
    return sat20(wrap32(total)).reshape(n, 1, 1, -1)


# ----------------------------------------------------------------------------- pooling
def max_pool(pot, size, stride, same):
    """Max over windows of the 20-bit-clipped potentials; padded cells are -inf."""
    (px, py), (sx, sy) = size, stride
    clipped = sat20(pot.astype(np.int64))
    padded = pad_nhwc(clipped, px, py, sx, sy, same, -np.inf)
    oh = out_size(pot.shape[1], px, sx, same)
    ow = out_size(pot.shape[2], py, sy, same)
    out = np.empty((pot.shape[0], oh, ow, pot.shape[3]), np.float64)
    for i in range(oh):
        for j in range(ow):
            out[:, i, j, :] = padded[:, i * sx:i * sx + px, j * sy:j * sy + py, :].max(axis=(1, 2))
    assert np.isfinite(out).all(), "a pooling window holds only padding"
    return out.astype(np.int64)


def global_sum(pot):
    """Running 20-bit saturated sum over positions, axis 1 outer, axis 2 inner -> (N,1,1,F)."""
    n, h, w, f = pot.shape
    out = np.zeros((n, 1, 1, f), np.int64)
    for k in range(n):
        for c in range(f):
            acc = 0
            for a in range(h):
                for b in range(w):
                    acc = min(max(acc + int(pot[k, a, b, c]), SAT_MIN), SAT_MAX)
            out[k, 0, 0, c] = acc
    return out


# ----------------------------------------------------------------------------- activation
def step_q(s):
    """floor(16 * float32(s)) as a Python int (exact: float32 * 16 is exact in float64)."""
    return math.floor(float(np.float32(s)) * 16)


def activation_value(p, threshold, s, bits):
    """One activation with Python ints (the 28-bit numerator rule).

    d = wrap32(p - T); q = floor(16 s) mod 2**28;
    a = 0 if d <= 0 else min(((d * 2**b - 1) mod 2**28) // q + 1, 2**b - 1).
    """
    d = wrap32(int(p) - int(threshold))
    q = step_q(s) % 2 ** 28
    if d <= 0:
        return 0
    return min(((d * 2 ** bits - 1) % 2 ** 28) // q + 1, 2 ** bits - 1)


def activation_ceil(p, threshold, s, bits):
    """The textbook form, valid while d * 2**b <= 2**28: clip(ceil(d * 2**b / q), 0, 2**b - 1)."""
    d = wrap32(int(p) - int(threshold))
    q = step_q(s)
    return min(max(-((-d * 2 ** bits) // q), 0), 2 ** bits - 1)


def activate(pot, threshold, act_step, bits):
    """Activations (uint8) of potentials (..., F) element by element."""
    pot = np.asarray(pot)
    out = np.zeros(pot.shape, np.uint8)
    for idx in np.ndindex(*pot.shape):
        f = idx[-1]
        out[idx] = activation_value(pot[idx], threshold[f], act_step[f], bits)
    return out


def predict_values(pot, threshold, act_step):
    """float32 ``float32(wrap32(p - T)) / float32(s)``, element by element (raw, untruncated step).

    The difference is exact in integers, wrapped like int32, then rounded once to float32. For
    |p|, |T| < 2**24 this equals ``(float32(p) - float32(T)) / s`` (semantics §3).
    """
    pot = np.asarray(pot)
    out = np.zeros(pot.shape, np.float32)
    for idx in np.ndindex(*pot.shape):
        f = idx[-1]
        num = np.float32(wrap32(int(pot[idx]) - int(threshold[f])))
        out[idx] = np.float32(num / np.float32(act_step[f]))
    return out


# ----------------------------------------------------------------------------- whole model
def _pool_stride(size, stride):
    return tuple(z if t <= 0 else t for z, t in zip(size, stride))


def layer_potentials(layer, x):
    """Final int64 potentials of one neural layer of an akida_sim model (public API only)."""
    p = layer.parameters
    kind = type(layer).__name__
    if kind == "FullyConnected":
        return fully_connected(x, layer.get_variable("weights"))
    same = int(p.padding) == 1
    stride = (p.stride_x, p.stride_y)
    if kind == "InputConvolutional":
        pot = wrap32(correlate(x, layer.get_variable("weights"), stride, same, p.padding_value))
    elif kind == "Convolutional":
        pot = wrap32(convolve(x, layer.get_variable("weights"), stride, same))
    elif kind == "SeparableConvolutional":
        pot = separable(x, layer.get_variable("weights"), layer.get_variable("weights_pw"), stride, same)
    else:
        raise AssertionError(kind)
    pool_type = int(p.pool_type)
    if pool_type == 1:
        size = (p.pooling_width, p.pooling_height)
        pot = max_pool(pot, size, _pool_stride(size, (p.pooling_stride_x, p.pooling_stride_y)), same)
    elif pool_type == 2:
        pot = global_sum(pot)
    return pot


def forward(model, x, last_raw=False):
    """Naive forward of an akida_sim model: uint8 activations, or int64 potentials when the last
    layer has no activation (or ``last_raw``)."""
    layers = [l for l in model.layers if type(l).__name__ != "InputData"]
    for k, layer in enumerate(layers):
        pot = layer_potentials(layer, x)
        last = k == len(layers) - 1
        if (last and last_raw) or not layer.parameters.activation:
            x = pot
        else:
            x = activate(pot, layer.get_variable("threshold"), layer.get_variable("act_step"),
                         layer.parameters.act_bits)
    return x


def predict(model, x):
    """Naive predict: float32 dequantized potentials of the last layer."""
    last = model.layers[-1]
    pot = forward(model, x, last_raw=True)
    return predict_values(pot, last.get_variable("threshold"), last.get_variable("act_step"))
