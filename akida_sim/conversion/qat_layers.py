"""Keras layers of ``akida_sim.quantize``: one layer per future Akida 1.0 layer, integer forward.

Each layer holds the float weights of one Akida block (BatchNormalization
folded) and computes in its forward exactly what the Akida layer will
compute from them, with straight-through gradients so that the model can be
fine-tuned (quantization-aware training):

1. inputs: the first layer turns the Keras input x into Akida inputs
   ``a = rint(sigma * x + offset)``; later layers take the integer activation
   levels of the layer before;
2. weights: ``w_int = clip(rint(w * sf), -kmax, kmax)``, ``sf = min(kmax /
   max(range, 1e-10), 1000)`` in float32 (``quantize.scale_of_range``) with
   ``range`` a trainable clipping range per output channel (``per_axis``) or
   per tensor (the depthwise kernel): the layer's ``kernel_range``, or
   ``depthwise_range`` and ``pointwise_range``. ``quantize`` sets them to the
   ranges of the post-training quantization it starts from (max|w| for the
   legacy one);
3. potentials: the integer convolution / separable / dense sum (padding with
   ``int(offset)`` on an InputConvolutional), the 20-bit saturation before a
   max pool and of a dense sum, the running 20-bit saturated sum of a global
   average pool (row-major);
4. threshold and step in the dtypes of the converter's ``neuron_variables``:
   ``T = floor(N * (sigma*sf * (s/2 - bias) + offset * sum(w_int)))`` (int),
   ``A = float32(N * sigma*sf * s * 2**b / 16)``; the threshold clipped to the
   hardware limit on every layer but the last;
5. activation levels ``clip(ceil((p - T) * 2**b / floor(16 A)), 0, 2**b - 1)``
   (exact integer division), or on a last layer without activation
   ``(float32(p) - float32(T)) / A``, what ``Model.predict`` returns.

Gradients: rint/floor/ceil pass the gradient through (straight-through
estimators); a weight passes it only inside its clipping range; the
clipping ranges take theirs through sf, the thresholds and the step, which
is the learned step size gradient (LSQ, Esser et al. 2020) written in
integers: the float output does not depend on sf but through the rounding
and clipping; the saturations pass it only inside their range, and the
activation takes the gradient of
``clip(u + 1/2, 0, 2**b - 1)``, ``u = (p - T) * 2**b / floor(16 A)``: the
line through the middles of the ceil's steps, so that a neuron half a step
below its first level still learns (this doubles what 1-bit activations
recover in fine-tuning). Layers are
built for Keras 3 and for tf_keras (``layer_classes(flavour)``) and
registered as serializable under the package ``akida_sim``: importing this
module registers them, so ``keras.models.load_model`` needs no
``custom_objects``. Needs TensorFlow (the ``keras`` extra).
Sources: ../shared/reference/keras_conversion.md §3, akida_v1_semantics.md §3-7.
"""
import functools

from ..tensorflow_logs import quiet_import
from .emit import HRC_LIMITS, NP_LIMITS
from .quantize import MAX_SCALE_FACTOR, MIN_WEIGHT_RANGE

tf = quiet_import("tensorflow")

#: 20-bit signed saturation of max-pooled, global-pooled and dense potentials.
SATURATION = (-(1 << 19), (1 << 19) - 1)


def _ste(value, exact):
    """``exact`` in the forward (bit for bit), the gradient of ``value`` in the backward."""
    return tf.stop_gradient(exact) + (value - tf.stop_gradient(value))


def fake_quantize(kernel, bits, weight_range):
    """(integer-valued float32 kernel with straight-through gradient, float32 sf with gradient).

    ``sf = min(kmax / max(range, 1e-10), 1000)`` (``quantize.scale_of_range``);
    the gradient reaches the range through sf, the thresholds and the step
    (a learned step size, LSQ), scaled by LSQ's ``1 / sqrt(n * kmax)`` (n
    weights share the range) so that plain SGD moves ranges no faster than
    weights, and the kernel inside the range only.
    """
    kmax = tf.constant(2.0 ** (bits - 1) - 1, tf.float32)
    shared = kernel.shape.num_elements() // max(weight_range.shape.num_elements(), 1)  # weights per range
    weight_range = _ste(weight_range * (shared * (2.0 ** (bits - 1) - 1)) ** -0.5, weight_range)
    scale = tf.minimum(kmax / tf.maximum(weight_range, tf.constant(MIN_WEIGHT_RANGE)), float(MAX_SCALE_FACTOR))
    scaled = kernel * scale
    return _ste(tf.clip_by_value(scaled, -kmax, kmax), tf.clip_by_value(tf.round(scaled), -kmax, kmax)), scale


def _pads(size, kernel, stride):
    """(before, after) 'same' padding of one axis (Keras/TensorFlow: the smaller half before)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _padded(a, kernel_size, strides, padding, value):
    """``a`` padded as a 'same' convolution pads it, with ``value`` (Akida's padding_value)."""
    if padding != "same":
        return a
    (top, bottom), (left, right) = (_pads(int(a.shape[i + 1]), kernel_size[i], strides[i]) for i in (0, 1))
    return tf.pad(a, [[0, 0], [top, bottom], [left, right], [0, 0]], constant_values=value)


def _saturated(p):
    return tf.clip_by_value(p, *(float(v) for v in SATURATION))


def running_saturated_sum(p):
    """Akida's global 'average' pool: the row-major running sum of (N, H, W, C), saturated at every step."""
    pixels = tf.reshape(p, (-1, p.shape[1] * p.shape[2], p.shape[3]))
    steps = tf.transpose(pixels, (1, 0, 2))
    total = tf.foldl(lambda acc, x: _saturated(acc + x), steps, initializer=tf.zeros_like(steps[0]))
    return total[:, tf.newaxis, tf.newaxis, :]


def conv_output_size(size, kernel, stride, padding):
    """Output length of a Keras convolution or pooling along one axis."""
    return -(-size // stride) if padding == "same" else (size - kernel) // stride + 1


class BlockMixin:
    """What the three block layers share: configuration, weights, threshold/step and activation."""

    role = None

    def _init_block(self, weights_bits, act_bits, act_step, input_scale, input_offset, first, input_conv, last,
                    input_bits, pool, pool_size, pool_strides, per_axis):
        self.weights_bits = int(weights_bits)
        self.act_bits = None if act_bits is None else int(act_bits)
        self.act_step = None if act_step is None else float(act_step)
        self.input_scale, self.input_offset = float(input_scale), float(input_offset)
        self.first, self.input_conv, self.last = bool(first), bool(input_conv), bool(last)
        self.input_bits = int(input_bits)
        self.pool = pool
        self.pool_size = None if pool_size is None else tuple(pool_size)
        self.pool_strides = None if pool_strides is None else tuple(pool_strides)
        self.per_axis = bool(per_axis)

    def _block_config(self):
        return dict(weights_bits=self.weights_bits, act_bits=self.act_bits, act_step=self.act_step,
                    input_scale=self.input_scale, input_offset=self.input_offset, first=self.first,
                    input_conv=self.input_conv, last=self.last, input_bits=self.input_bits, pool=self.pool,
                    pool_size=self.pool_size, pool_strides=self.pool_strides, per_axis=self.per_axis)

    def _add(self, name, shape):
        return self.add_weight(name=name, shape=tuple(shape), initializer="zeros", trainable=True)

    def _channels(self, filters):
        """Shape of a kernel's clipping range: one per output channel (``per_axis``) or one."""
        return (filters,) if self.per_axis else ()

    def _akida_inputs(self, x):
        """Integer Akida inputs (float32): ``rint(sigma * x + offset)`` for the first layer, else x."""
        if not self.first:
            return x
        values = tf.cast(x, tf.float64) * self.input_scale + self.input_offset
        return tf.cast(tf.round(values), tf.float32)

    def _pooled(self, p, padding):
        if self.pool == "max":
            return tf.nn.max_pool2d(_saturated(p), self.pool_size, self.pool_strides, padding.upper())
        if self.pool == "global":
            return running_saturated_sum(p)
        return p

    def _threshold_and_step(self, scale, weights_sum, pixels):
        """(float64 threshold T with straight-through gradient, float32 act_step A), as the converter's."""
        sigma_sf = tf.constant(self.input_scale, tf.float32) * scale
        bias = tf.cast(self.bias, tf.float64)
        if self.act_bits is None:
            half, step = tf.constant(0.0, tf.float64), tf.constant(1.0, tf.float64)
        else:
            s = tf.constant(self.act_step, tf.float32)
            half = tf.cast(s * 0.5, tf.float64)
            step = tf.cast(s * 2.0 ** self.act_bits / 16, tf.float64)
        sigma_sf = tf.broadcast_to(tf.cast(sigma_sf, tf.float64), tf.shape(bias))
        threshold = sigma_sf * (half - bias)
        act_step = tf.cast(sigma_sf * step, tf.float32)
        if self.input_conv:
            threshold += tf.cast(weights_sum, tf.float64) * self.input_offset
        if pixels != 1:
            threshold *= pixels
            act_step = tf.cast(tf.cast(act_step, tf.float64) * pixels, tf.float32)
        exact = tf.floor(threshold)
        if not self.last:
            exact = tf.minimum(exact, float((HRC_LIMITS if self.input_conv else NP_LIMITS)[1]))
        return _ste(threshold, exact), act_step

    def _activated(self, p, threshold, act_step):
        """Activation levels (float32) of integer potentials p, or the predict value without activation."""
        if self.act_bits is None:
            return (p - tf.cast(threshold, tf.float32)) / act_step
        levels = 2.0 ** self.act_bits - 1
        step_q = _ste(act_step * 16, tf.maximum(tf.floor(act_step * 16), 1.0))
        d = tf.cast(p, tf.float64) - threshold
        scaled = d * 2.0 ** self.act_bits
        exact = -tf.math.floordiv(-tf.cast(tf.round(scaled), tf.int64), tf.cast(step_q, tf.int64))
        surrogate = tf.clip_by_value(scaled / tf.cast(step_q, tf.float64) + 0.5, 0.0, levels)
        exact = tf.clip_by_value(tf.cast(exact, tf.float64), 0.0, levels)
        return tf.cast(_ste(surrogate, exact), tf.float32)

    def integer_forward(self, x):
        """(potentials after pooling/saturation, threshold, act_step) of the Keras input x."""
        a = self._akida_inputs(x)
        p, scale, weights_sum, pixels = self._potentials(a)
        p = _ste(p, tf.round(p))
        threshold, act_step = self._threshold_and_step(scale, weights_sum, pixels)
        return p, threshold, act_step

    def call(self, inputs):
        return self._activated(*self.integer_forward(inputs))


class ConvMixin(BlockMixin):
    """Conv2D / SeparableConv2D geometry: kernel_size, strides, padding and the pooling after them."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", weights_bits=4, act_bits=4,
                 act_step=None, input_scale=1.0, input_offset=0.0, first=False, input_conv=False, last=False,
                 input_bits=4, pool=None, pool_size=None, pool_strides=None, per_axis=True, **kwargs):
        super().__init__(**kwargs)  # the Keras Layer's, next in the block classes' MRO
        self.filters, self.kernel_size = int(filters), tuple(kernel_size)
        self.strides, self.padding = tuple(strides), padding
        self._init_block(weights_bits, act_bits, act_step, input_scale, input_offset, first, input_conv, last,
                         input_bits, pool, pool_size, pool_strides, per_axis)

    def get_config(self):
        return dict(super().get_config(), filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                    padding=self.padding, **self._block_config())

    def conv_output_shape(self, input_shape):
        """Per-sample (H, W, F) of the convolution, before pooling."""
        h, w = (conv_output_size(input_shape[i], self.kernel_size[i], self.strides[i], self.padding) for i in (0, 1))
        return (h, w, self.filters)

    def compute_output_shape(self, input_shape):
        h, w, f = self.conv_output_shape(tuple(input_shape)[1:])
        if self.pool == "global":
            h = w = 1
        elif self.pool == "max":
            h, w = (conv_output_size(n, self.pool_size[i], self.pool_strides[i], self.padding)
                    for i, n in enumerate((h, w)))
        return (input_shape[0], h, w, f)

    def _convolved(self, a, kernel, depthwise=False):
        padded = _padded(a, self.kernel_size, self.strides, self.padding, float(int(self.input_offset)))
        strides = (1,) + self.strides + (1,)
        if depthwise:
            return tf.nn.depthwise_conv2d(padded, kernel, strides, "VALID")
        return tf.nn.conv2d(padded, kernel, strides, "VALID")

    def _pixels(self, p):
        return int(p.shape[1] * p.shape[2]) if self.pool == "global" else 1


def _conv_potentials(self, a):
    kernel, scale = fake_quantize(self.kernel, self.weights_bits, self.kernel_range)
    p = self._convolved(a, kernel)
    pixels = self._pixels(p)
    return self._pooled(p, self.padding), scale, tf.reduce_sum(kernel, axis=(0, 1, 2)), pixels


def _separable_potentials(self, a):
    depthwise, dw_scale = fake_quantize(self.depthwise_kernel, self.weights_bits, self.depthwise_range)
    pointwise, pw_scale = fake_quantize(self.pointwise_kernel, self.weights_bits, self.pointwise_range)
    d = self._convolved(a, depthwise, depthwise=True)
    p = tf.nn.conv2d(_ste(d, tf.round(d)), pointwise, 1, "VALID")
    pixels = self._pixels(p)
    return self._pooled(p, self.padding), dw_scale * pw_scale, 0.0, pixels


def _dense_potentials(self, a):
    kernel, scale = fake_quantize(self.kernel, self.weights_bits, self.kernel_range)
    p = tf.tensordot(a, kernel, axes=1)
    return _saturated(p), scale, 0.0, 1


@functools.lru_cache(maxsize=None)
def layer_classes(flavour):
    """{role: class} of the block layers for ``flavour`` ("keras" or "tf_keras"), registered on first call."""
    if flavour == "tf_keras":
        import tf_keras as keras_module
        register = keras_module.utils.register_keras_serializable
    else:
        import keras as keras_module
        register = keras_module.saving.register_keras_serializable
    base = keras_module.layers.Layer

    class AkidaConv2D(ConvMixin, base):
        """A Conv2D > [MaxPool | GAP] > step-activation block with Akida 1.0's integer forward."""

        role = "conv"

        def build(self, input_shape):
            self.kernel = self._add("kernel", self.kernel_size + (input_shape[-1], self.filters))
            self.bias = self._add("bias", (self.filters,))
            self.kernel_range = self._add("kernel_range", self._channels(self.filters))
            self.built = True

        _potentials = _conv_potentials

    class AkidaSeparableConv2D(ConvMixin, base):
        """A SeparableConv2D > [MaxPool | GAP] > step-activation block with Akida 1.0's integer forward."""

        role = "separable"

        def build(self, input_shape):
            self.depthwise_kernel = self._add("depthwise_kernel", self.kernel_size + (input_shape[-1], 1))
            self.pointwise_kernel = self._add("pointwise_kernel", (1, 1, input_shape[-1], self.filters))
            self.bias = self._add("bias", (self.filters,))
            self.depthwise_range = self._add("depthwise_range", ())
            self.pointwise_range = self._add("pointwise_range", self._channels(self.filters))
            self.built = True

        _potentials = _separable_potentials

    class AkidaDense(BlockMixin, base):
        """A Dense > step-activation block (20-bit saturated sum) with Akida 1.0's integer forward."""

        role = "dense"

        def __init__(self, units, weights_bits=4, act_bits=4, act_step=None, input_scale=1.0, input_offset=0.0,
                     first=False, input_conv=False, last=False, input_bits=4, pool=None, pool_size=None,
                     pool_strides=None, per_axis=True, **kwargs):
            super().__init__(**kwargs)
            self.units = int(units)
            self._init_block(weights_bits, act_bits, act_step, input_scale, input_offset, first, input_conv, last,
                             input_bits, pool, pool_size, pool_strides, per_axis)

        def get_config(self):
            return dict(super().get_config(), units=self.units, **self._block_config())

        def build(self, input_shape):
            self.kernel = self._add("kernel", (input_shape[-1], self.units))
            self.bias = self._add("bias", (self.units,))
            self.kernel_range = self._add("kernel_range", self._channels(self.units))
            self.built = True

        def compute_output_shape(self, input_shape):
            return tuple(input_shape)[:-1] + (self.units,)

        _potentials = _dense_potentials

    classes = (AkidaConv2D, AkidaSeparableConv2D, AkidaDense)
    return {cls.role: register(package="akida_sim")(cls) for cls in classes}


def _register_installed():
    """Register the classes of every installed Keras flavour (so that saved models load without custom_objects)."""
    for flavour in ("keras", "tf_keras"):
        try:
            layer_classes(flavour)
        except ImportError:
            continue


_register_installed()
