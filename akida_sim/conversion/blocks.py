"""The accepted Keras block patterns, and the refusals of everything else.

After ``fold.prepare`` every Akida 1.0 layer comes from one block
``neural > [MaxPool | GAP] > ReLU(max)`` (BatchNormalization folded, a
Flatten only directly before a Dense). ``BLOCK_PATTERNS`` lists the patterns
with the Akida layer each one becomes and the handler giving that layer's
arguments; ``group_blocks`` cuts the description list into blocks and raises
a ConversionError naming the Keras layer, the rule it breaks and the
accepted order for anything Akida 1.0 cannot express.
Sources: ../shared/reference/keras_conversion.md §2, akida_v1_semantics.md §1-2.
"""
import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from ..enums import Padding, PoolType
from ..layers import Convolutional, FullyConnected, InputConvolutional, SeparableConvolutional
from .errors import ACCEPTED_ORDER, ConversionError
from .kinds import (ACTIVATION_KINDS, BATCH_NORM, FINAL_ACTIVATION_KINDS, GLOBAL_AVERAGE_POOL, MAX_POOL,
                    NEURAL_KINDS, POOL_KINDS, RESCALING, SHAPE_KINDS)

#: Most pixels a global average pooling may sum (the 20-bit sum of the chip).
MAX_GAP_PIXELS = 256
#: Input channel counts an InputConvolutional (8-bit image input) takes.
IMAGE_CHANNELS = (1, 3)

#: Why a DepthwiseConv2D (float or legacy-quantized) is refused.
DEPTHWISE_ALONE = "a DepthwiseConv2D alone is not an Akida 1.0 layer (use SeparableConv2D: depthwise then pointwise)"
#: Why some Keras layers can never be part of an Akida 1.0 model.
REFUSED_KINDS = {
    "DepthwiseConv2D": DEPTHWISE_ALONE,
    "QuantizedDepthwiseConv2D": DEPTHWISE_ALONE,
    "AveragePooling2D": "Akida 1.0 has no local average pooling (only MaxPooling2D, or a "
                        "GlobalAveragePooling2D before the activation); the vendor's converter "
                        "silently drops everything after it",
    "GlobalMaxPooling2D": "Akida 1.0 has no global max pooling (use MaxPooling2D or "
                          "GlobalAveragePooling2D)",
    "LeakyReLU": "Akida 1.0 activations are quantized ReLUs (no negative slope)",
    "PReLU": "Akida 1.0 activations are quantized ReLUs (no negative slope)",
    "ELU": "Akida 1.0 activations are quantized ReLUs",
    "Add": "Akida 1.0 models are a single chain (no skip connections)",
    "Concatenate": "Akida 1.0 models are a single chain (no Concatenate)",
    "Conv2DTranspose": "a transposed convolution is not an Akida 1.0 layer (Akida 1.0 convolutions never upsample)",
    "DepthwiseConv2DTranspose": "a transposed depthwise convolution is not an Akida 1.0 layer (Akida 1.0 "
                                "convolutions never upsample)",
}


@dataclass(frozen=True)
class Block:
    """One future Akida layer: its Keras layers and what the layer will be.

    ``position`` is the FloatChain step whose float output equals the
    block's output (a Dense after a Flatten of (H, W, C) sees the previous
    Akida layer's (H, W, C) output, flattened column-major by Akida).
    """

    pattern: "BlockPattern"
    neural: object
    pool: object
    activation: object
    position: int
    first: bool
    image_input: bool

    @property
    def keras_names(self):
        names = list(self.neural.members)
        for layer in (self.pool, self.activation):
            if layer is not None:
                names += [n for n in layer.members if n not in names]
        return tuple(names)

    @property
    def akida_class(self):
        if self.first and self.image_input:
            return InputConvolutional
        return self.pattern.akida_class

    @property
    def gap_pixels(self):
        """N = H * W the GlobalAveragePooling2D sums (1 without one)."""
        if self.pool is None or self.pool.kind != GLOBAL_AVERAGE_POOL:
            return 1
        return self.pool.input_shape[0] * self.pool.input_shape[1]


def _padding(layer):
    return Padding.Same if layer.config["padding"] == "same" else Padding.Valid


def _pool_arguments(block):
    if block.pool is None:
        return {}
    if block.pool.kind == GLOBAL_AVERAGE_POOL:
        return {"pool_type": PoolType.Average}
    config = block.pool.config
    strides = config.get("strides") or config["pool_size"]
    return {"pool_type": PoolType.Max, "pool_size": tuple(config["pool_size"]), "pool_stride": tuple(strides)}


def conv_arguments(block):
    """Constructor arguments (geometry) of a Convolutional/SeparableConvolutional/InputConvolutional."""
    config = block.neural.config
    filters = block.neural.output_shape[-1]
    arguments = dict(kernel_size=tuple(config["kernel_size"]), filters=int(filters),
                     padding=_padding(block.neural), kernel_stride=tuple(config["strides"]),
                     name=block.neural.name, **_pool_arguments(block))
    if block.akida_class is InputConvolutional:
        arguments["input_shape"] = tuple(block.neural.input_shape)
    return arguments


def dense_arguments(block):
    """Constructor arguments of a FullyConnected."""
    return dict(units=int(block.neural.output_shape[-1]), name=block.neural.name)


@dataclass(frozen=True)
class BlockPattern:
    """An accepted Keras block, the Akida layer it becomes and its argument handler."""

    keras: str
    role: str
    akida_class: type
    pools: tuple
    arguments: object


#: The table of accepted blocks (the first Conv2D block on a uint8 image with 1 or 3
#: channels becomes an InputConvolutional).
BLOCK_PATTERNS = (
    BlockPattern("Conv2D > [MaxPooling2D | GlobalAveragePooling2D] > [BatchNormalization] > [ReLU]",
                 "conv", Convolutional, POOL_KINDS, conv_arguments),
    BlockPattern("SeparableConv2D > [MaxPooling2D | GlobalAveragePooling2D] > [BatchNormalization] > [ReLU]",
                 "separable", SeparableConvolutional, POOL_KINDS, conv_arguments),
    BlockPattern("[Flatten] > Dense > [BatchNormalization] > [ReLU]", "dense", FullyConnected, (), dense_arguments),
)
_PATTERN_BY_ROLE = {pattern.role: pattern for pattern in BLOCK_PATTERNS}


def _refuse(layer, rule):
    return ConversionError(f"Keras layer '{layer.name}' ({layer.kind}): {rule}; accepted order: {ACCEPTED_ORDER}")


def _check_conv(neural, input_conv):
    config = neural.config
    if config["padding"] not in ("same", "valid"):
        raise _refuse(neural, f"padding must be 'same' or 'valid', got {config['padding']!r}")
    if config.get("data_format", "channels_last") != "channels_last":
        raise _refuse(neural, "data_format must be 'channels_last' (NHWC)")
    if tuple(config.get("dilation_rate", (1, 1))) != (1, 1):
        raise _refuse(neural, f"dilation_rate must be (1, 1), got {tuple(config['dilation_rate'])}")
    if config.get("groups", 1) != 1:
        raise _refuse(neural, f"groups must be 1, got {config['groups']}")
    if config.get("depth_multiplier", 1) != 1:
        raise _refuse(neural, f"depth_multiplier must be 1, got {config['depth_multiplier']}")
    kernel, strides = tuple(config["kernel_size"]), tuple(config["strides"])
    if any(k % 2 == 0 for k in kernel):
        raise _refuse(neural, f"Akida kernels have odd sizes, got kernel_size={kernel}")
    if not input_conv and any(s > k for s, k in zip(strides, kernel)):
        raise _refuse(neural, f"strides {strides} larger than the kernel {kernel} are only legal in the "
                              f"first (InputConvolutional) layer")


def _check_pool(pool, neural):
    if NEURAL_KINDS[neural.kind] == "dense":
        raise _refuse(pool, f"pooling follows the Dense '{neural.name}'; Akida pools only after "
                            f"Conv2D or SeparableConv2D")
    if pool.kind == MAX_POOL:
        if pool.config["padding"] != neural.config["padding"]:
            raise _refuse(pool, f"a MaxPooling2D must have the padding of its neural layer "
                                f"'{neural.name}' (padding: {neural.config['padding']}), got "
                                f"padding: {pool.config['padding']}")
        size = tuple(pool.config["pool_size"])
        strides = tuple(pool.config.get("strides") or size)
        if any(s > p for s, p in zip(strides, size)):
            raise _refuse(pool, f"pool strides {strides} larger than pool_size {size} are not supported")
    else:
        pixels = pool.input_shape[0] * pool.input_shape[1]
        if pixels > MAX_GAP_PIXELS:
            raise _refuse(pool, f"a GlobalAveragePooling2D sums at most {MAX_GAP_PIXELS} pixels on Akida, "
                                f"this one {pool.input_shape[0]}x{pool.input_shape[1]} = {pixels} (use "
                                f"MaxPooling2D first)")


def _check_reshape(layer, first):
    """Refuse a Reshape other than (N,) <-> (1, 1, N); ``first``: it reshapes the model input."""
    src, dst = tuple(layer.input_shape), tuple(layer.output_shape)
    flat_to_map = len(src) == 1 and dst == (1, 1, src[0])
    map_to_flat = len(dst) == 1 and src == (1, 1, dst[0])
    if not (flat_to_map or map_to_flat or src == dst):
        hint = f" (give the model the input shape {dst} instead)" if first else ""
        raise _refuse(layer, f"a Reshape may only turn (N,) into (1, 1, N) or back, got {src} -> {dst}{hint}")


def _unexpected(layer, after):
    """The refusal for ``layer`` met where a block (or its end) was expected."""
    if layer.kind in REFUSED_KINDS:
        return _refuse(layer, REFUSED_KINDS[layer.kind])
    if layer.kind == GLOBAL_AVERAGE_POOL and after is not None and after.kind in ACTIVATION_KINDS:
        return _refuse(layer, f"the GlobalAveragePooling2D comes after the activation '{after.name}': Akida "
                              f"sums potentials before its activation, so the GAP must come before the ReLU")
    if layer.kind in POOL_KINDS:
        return _refuse(layer, f"a pooling layer must directly follow a Conv2D or SeparableConv2D "
                              f"(one pooling per block); it follows '{after.name if after else 'the input'}'")
    if layer.kind == BATCH_NORM:
        return _refuse(layer, f"a BatchNormalization must come between the neural layer (or its pool) and "
                              f"the activation to be folded; it follows '{after.name if after else 'the input'}'")
    if layer.kind in ACTIVATION_KINDS:
        return _refuse(layer, f"an activation must end a block started by a neural layer; it follows "
                              f"'{after.name if after else 'the input'}'")
    if layer.kind in FINAL_ACTIVATION_KINDS:
        return _refuse(layer, "an Activation/Softmax other than ReLU is only accepted as the model's last "
                              "layer (it is then dropped)")
    if layer.kind == RESCALING:
        return _refuse(layer, "a Rescaling is only accepted as the first layer")
    return _refuse(layer, "this layer type has no Akida 1.0 equivalent")


def _check_relu(layer):
    if layer.kind != "ReLU":
        return
    slope = float(layer.config.get("negative_slope") or 0.0)
    threshold = float(layer.config.get("threshold") or 0.0)
    if slope != 0.0:
        raise _refuse(layer, f"a ReLU with negative_slope={slope} is a leaky ReLU; Akida 1.0 activations are "
                             f"quantized ReLUs")
    if threshold != 0.0:
        raise _refuse(layer, f"a ReLU with threshold={threshold} is not supported (threshold must be 0)")


def strip_final_activations(layers):
    """``layers`` without trailing Activation/Softmax (warned) and trailing shape layers."""
    layers = list(layers)
    while layers and (layers[-1].kind in FINAL_ACTIVATION_KINDS or layers[-1].kind in SHAPE_KINDS):
        layer = layers.pop()
        if layer.kind in FINAL_ACTIVATION_KINDS:
            warnings.warn(f"convert: the final Keras layer '{layer.name}' ({layer.kind}) is dropped: the "
                          f"converted model outputs the values before it", stacklevel=3)
    return layers


def group_blocks(layers, image_input):
    """Cut the prepared descriptions (Rescaling removed) into a list of Block."""
    blocks, i, previous = [], 0, None
    while i < len(layers):
        layer = layers[i]
        if layer.kind in SHAPE_KINDS:
            following = layers[i + 1] if i + 1 < len(layers) else None
            if layer.kind == "Flatten":
                if following is None or NEURAL_KINDS.get(following.kind) != "dense":
                    raise _refuse(layer, "a Flatten is only accepted directly before a Dense")
            else:
                _check_reshape(layer, first=not blocks)
            previous, i = layer, i + 1
            continue
        if layer.kind not in NEURAL_KINDS:
            raise _unexpected(layer, previous)
        neural, first = layer, not blocks
        role = NEURAL_KINDS[neural.kind]
        if first and image_input and role != "conv":
            raise _refuse(neural, "the model input is an 8-bit image (H, W, 1 or 3), so the first neural layer "
                                  "must be a Conv2D (it becomes the InputConvolutional, the only Akida 1.0 layer "
                                  "taking 8-bit inputs); for a Dense first, give the model a flat (H*W*C,) input "
                                  "of input_bits-bit values, which becomes an InputData")
        if role == "dense":
            shape = tuple(neural.input_shape)
            if len(shape) != 1 and shape[:2] != (1, 1):
                raise _refuse(neural, f"a Dense on a spatial input {shape} needs a Flatten before it "
                                      f"(Akida's FullyConnected sees the whole flattened map)")
        else:
            _check_conv(neural, first and image_input)
        i += 1
        pool = activation = None
        if i < len(layers) and layers[i].kind in POOL_KINDS:
            pool = layers[i]
            _check_pool(pool, neural)
            i += 1
        if i < len(layers) and layers[i].kind in ACTIVATION_KINDS:
            activation = layers[i]
            _check_relu(activation)
            i += 1
        members = [m for m in (neural, pool, activation) if m is not None]
        blocks.append(Block(_PATTERN_BY_ROLE[role], neural, pool, activation,
                            max(m.position for m in members), first, image_input))
        previous = members[-1]
        if activation is None and i < len(layers):
            following = layers[i]
            if following.kind in NEURAL_KINDS or following.kind in SHAPE_KINDS:
                raise _refuse(following, f"an activation layer is required between the two neural layers "
                                         f"'{neural.name}' and the next one")
            raise _unexpected(following, previous)
    if not blocks:
        raise ConversionError("convert: the Keras model has no neural layer (Conv2D, SeparableConv2D or Dense)")
    return blocks


def split_rescaling(layers):
    """(rescaling description or None, the other descriptions); a Rescaling only first."""
    if layers and layers[0].kind == RESCALING:
        return layers[0], layers[1:]
    for layer in layers:
        if layer.kind == RESCALING:
            raise _unexpected(layer, None)
    return None, layers


def is_image_input(input_shape):
    """Whether the model input is an (H, W, C) image with 1 or 3 channels (InputConvolutional)."""
    return len(input_shape) == 3 and input_shape[-1] in IMAGE_CHANNELS


def _scalar(value):
    """A Rescaling argument as a number; a numpy value stays numpy (its dtype sets the arithmetic, as the vendor's)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        return value.reshape(())[()]
    return value


def rescaling_input_scaling(rescaling):
    """(sigma, offset) of akida_input = sigma * keras_input + offset, from Rescaling(scale, offset)."""
    scale, offset = (_scalar(rescaling.config.get(key, default)) for key, default in (("scale", 1.0), ("offset", 0.0)))
    if not all(isinstance(v, numbers.Real) for v in (scale, offset)) or scale == 0 or not math.isfinite(scale):
        raise _refuse(rescaling, f"a Rescaling must have one finite non-zero scale and one offset, got "
                                 f"scale={scale!r}, offset={offset!r}")
    return (1 / scale, -offset / scale)
