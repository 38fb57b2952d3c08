"""A neutral description of one layer for mapping (no dependency on any layer API).

Shapes are in Akida order ``(x, y, c)``: axis 1 = x, axis 2 = y (the vendor calls
axis 1 "width" in ``cnp_max_width`` and "height" in its average-pooling message).
"""
from __future__ import annotations

from dataclasses import dataclass

KINDS = ("input_data", "input_conv", "conv", "separable", "fully_connected")
POOLS = ("none", "max", "average")


@dataclass(frozen=True)
class LayerSpec:
    """What the mapper needs to know about a layer.

    Units: shapes in pixels/channels, bits in bits.  ``filters`` is the number of
    output channels (``units`` for fully_connected).  ``input_bits`` is the bit
    width of the layer's input activations (8 for input_conv).
    ``weights_all_zero``: one of the layer's weight tensors is all zero (never set, or
    set to zeros); a SeparableConvolutional or InputConvolutional layer then goes to
    software (observed; see ``hw_model.rules.weights_not_all_zero``).
    ``thresholds``, ``act_steps``: the layer's variables, flattened (empty: not known); the
    hardware holds them in fixed-width registers (see ``hw_model.mapping.check_register_values``).
    ``learns``: the layer is compiled for edge learning (its NP program then holds the learning
    state, see ``hw_model.program.LEARNING_BYTES``).
    """

    kind: str
    name: str
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    filters: int = 0
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: str = "same"
    pool_type: str = "none"
    pool_size: tuple[int, int] = (-1, -1)
    pool_stride: tuple[int, int] = (-1, -1)
    weights_bits: int = 4
    input_bits: int = 4
    activation: bool = True
    act_bits: int = 4
    weights_all_zero: bool = False
    thresholds: tuple[int, ...] = ()
    act_steps: tuple[float, ...] = ()
    learns: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"LayerSpec {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.pool_type not in POOLS:
            raise ValueError(f"LayerSpec {self.name!r}: pool_type must be one of {POOLS}, got {self.pool_type!r}")
        if self.padding not in ("same", "valid"):
            raise ValueError(f"LayerSpec {self.name!r}: padding must be 'same' or 'valid', got {self.padding!r}")

    @property
    def k(self) -> int:
        """Kernel size along axis 1 (kernels are square in every model seen)."""
        return self.kernel[0]

    @property
    def in_channels(self) -> int:
        return self.input_shape[2]

    @property
    def conv_output_shape(self) -> tuple[int, int, int]:
        """Output of the convolution before pooling (Same: ceil(in/s); Valid: floor((in-k)/s)+1)."""
        x, y, _ = self.input_shape
        out = []
        for n, k, s in ((x, self.kernel[0], self.stride[0]), (y, self.kernel[1], self.stride[1])):
            out.append(-(-n // s) if self.padding == "same" else (n - k) // s + 1)
        return (out[0], out[1], self.filters)


def conv_output(n: int, k: int, s: int, padding: str) -> int:
    """Output length along one axis (reference semantics section 1)."""
    return -(-n // s) if padding == "same" else (n - k) // s + 1


def pooled_output(n: int, p: int, ps: int, padding: str) -> int:
    """Max-pool output length along one axis (reference semantics section 4)."""
    ps = p if ps in (-1, 0) else ps
    return -(-n // ps) if padding == "same" else (n - p) // ps + 1


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def make_spec(kind: str, name: str, input_shape, filters: int, *, kernel=1, stride=1, padding="same",
              pool_type="none", pool_size=-1, pool_stride=-1, weights_bits=4, input_bits=4,
              activation=True, act_bits=4, weights_all_zero=False, thresholds=(), act_steps=(),
              learns=False) -> LayerSpec:
    """Build a LayerSpec, computing the output shape (kernels, strides and pools given as an int
    for both axes or as an (axis 1, axis 2) pair)."""
    x, y, c = (int(v) for v in input_shape)
    kernel, stride = _pair(1 if kind == "fully_connected" else kernel), _pair(stride)
    pool_size, pool_stride = _pair(pool_size), _pair(pool_stride)
    if kind == "fully_connected":
        out = (1, 1, filters)
    elif kind == "input_data":
        out = (x, y, c)
    else:
        ox, oy = (conv_output(n, k, s, padding) for n, k, s in zip((x, y), kernel, stride))
        if pool_type == "max":
            ox, oy = (pooled_output(n, p, ps, padding) for n, p, ps in zip((ox, oy), pool_size, pool_stride))
        elif pool_type == "average":
            ox = oy = 1
        out = (ox, oy, filters)
    return LayerSpec(kind=kind, name=name, input_shape=(x, y, c), output_shape=out, filters=filters,
                     kernel=kernel, stride=stride, padding=padding, pool_type=pool_type,
                     pool_size=pool_size, pool_stride=pool_stride,
                     weights_bits=weights_bits, input_bits=input_bits, activation=activation,
                     act_bits=act_bits, weights_all_zero=weights_all_zero, thresholds=tuple(thresholds),
                     act_steps=tuple(act_steps), learns=learns)
