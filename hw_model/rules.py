"""Design rules: small named checks, each returning the vendor's reason text or ``None``.

The vendor reports every failing check of the first phase that has any (``PHASE1_RULES`` ...
``PHASE3_RULES``), joined with a space; ``map_layers(hw_only=True)`` raises them.
"""
from __future__ import annotations

import math
from typing import Callable

from .allocation import one_channel_split_ok
from .capacity import LayerNeed, layer_need
from .layer_spec import LayerSpec
from .mapped import Violation
from .mesh import Mesh, NPType, akd1000

Rule = Callable[[LayerNeed, Mesh], "str | None"]
CNP_KINDS = ("conv", "separable")


def cnp_square_kernel(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.kernel[0] != sp.kernel[1]:
        return "Kernel width and height must be equal."
    return None


def cnp_equal_strides(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.stride[0] != sp.stride[1]:
        return "Horizontal and vertical strides must be equal."
    return None


def cnp_stride_values(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.stride[0] == sp.stride[1] and sp.stride[0] not in (1, 2):
        return "Convolution stride must be 1 or 2."
    return None


def conv_stride_needs_3x3(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.stride == (2, 2) and sp.k != 3:
        return "Convolution stride 2 is only supported for 3x3 kernels."
    return None


def _pool_strides(sp: LayerSpec) -> tuple[int, int]:
    return tuple(p if s in (-1, 0) else s for p, s in zip(sp.pool_size, sp.pool_stride))


def cnp_max_pool_size(n: LayerNeed, mesh: Mesh) -> str | None:
    """The vendor checks the first pool dimension (observed: (4, 2) and (3, 2) refused on it,
    (2, 4) only as unequal)."""
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.pool_type == "max":
        if sp.pool_size[0] > 3:
            return "Pooling size must be 1, 2 or 3."
        if sp.pool_size[0] == 3 and not mesh.version_rules.max_pool_3:
            return f"Pooling size 3 is not supported on {mesh.version_rules.name}."
    return None


def cnp_square_max_pool(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.pool_type == "max" and sp.pool_size[0] != sp.pool_size[1]:
        return "Pooling width and height must be equal."
    return None


def cnp_equal_pool_strides(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.pool_type == "max":
        sx, sy = _pool_strides(sp)
        if sx != sy:
            return "Pooling stride x and y must be equal."
    return None


CNP_KERNELS = {"conv": (1, 3, 5, 7), "separable": (3, 5, 7)}   # observed: other odd kernels go to software


def cnp_kernel_size(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.k not in CNP_KERNELS[sp.kind]:
        return f"Kernel size must be {', '.join(map(str, CNP_KERNELS[sp.kind][:-1]))} or {CNP_KERNELS[sp.kind][-1]}."
    return None


def cnp_weight_bits(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "conv" and sp.weights_bits not in (1, 2, 4):
        return "Standard CNP weights bitwidth must be 1, 2 or 4."
    if sp.kind == "separable" and sp.weights_bits not in (2, 4):
        return "Separable CNP weights bitwidth must be 2 or 4."
    return None


def padding_same_only(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind in CNP_KINDS and n.spec.padding != "same":
        return "Only padding same is supported."
    return None


def gap_max_width(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.pool_type == "average" and sp.input_shape[0] > mesh.limits.gap_max_width:
        return f"With average pooling, input height cannot exceed {mesh.limits.gap_max_width}."
    return None


def gap_min_rows(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.pool_type == "average":
        rows = sp.conv_output_shape[1]
        if rows < 3:
            return ("When using Global Average Pooling, the output of the convolution must have at "
                    f"least 3 rows (currently {rows}).")
    return None


def maxpool_fits_output(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.pool_type == "max":
        ox, oy, _ = sp.conv_output_shape
        if sp.pool_size[0] > ox or sp.pool_size[1] > oy:
            return "Pooling size cannot be greater than input dimensions."
    return None


def filter_fits_cnp(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind in CNP_KINDS and cnp_weight_bits(n, mesh) is None and n.cap == 0:
        return "Filter size is too big to fit in a CNP: try decreasing the input channels or the bitwidth."
    return None


def one_channel_neuron_groups(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "conv" and sp.in_channels == 1 and n.min_groups and mesh.one_channel_parity:
        per_np = math.ceil(sp.filters / n.min_groups)
        if per_np > 8 and math.ceil(per_np / 8) % 2:
            # the vendor repeats the message once per spatial tile (calibration: hw_only texts of
            # the random multi-layer sweeps for layers split over 1, 2, 4 and 7 tiles)
            return " ".join(["With one input channel, the number of neurons per NP / 8 must be even."]
                            * max(1, n.spatial))
    return None


def stride_maxpool_single_np(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if (sp.kind in CNP_KINDS and sp.pool_type == "max" and max(sp.stride) > 1 and n.min_groups
            and n.min_cnps > 1):
        return "Cannot have convolution stride > 1 and max pooling if the layer is mapped on multiple NPs."
    return None


def fc_weight_bits(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "fully_connected" and not 1 <= n.spec.weights_bits <= 4:
        return "Weight bits should be between 1 and 4 inclusive."
    return None


def fc_max_inputs(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "fully_connected":
        x, y, c = sp.input_shape
        if x * y * c > mesh.limits.fnp_max_inputs:
            return ("Input dimensions are too large to fit in a FNP. The maximum value is "
                    f"{mesh.limits.fnp_max_inputs}.")
    return None


def hrc_symmetric_kernel(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "input_conv" and n.spec.kernel[0] != n.spec.kernel[1]:
        return "Kernel size should be symmetric."
    return None


def hrc_act_bits(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "input_conv" and n.spec.act_bits not in (1, 2, 4):
        return "The parameter act_bits should be 1, 2 or 4."
    return None


def fc_input_bits(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "fully_connected" and n.spec.input_bits not in (1, 2, 4):
        return "Input bitwidth should be 1, 2 or 4."
    return None


def hrc_strides(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind != "input_conv":
        return None
    bad = [f"The parameter stride_{axis} should be 1, 2 or 3."
           for axis, s in zip("xy", n.spec.stride) if s not in (1, 2, 3)]
    return " ".join(bad) or None


def hrc_max_pool_size(n: LayerNeed, mesh: Mesh) -> str | None:
    """y is reported before x (observed)."""
    sp = n.spec
    if sp.kind != "input_conv" or sp.pool_type != "max":
        return None
    bad = [f"The parameter pooling_{axis} should be 1 or 2."
           for axis, p in (("y", sp.pool_size[1]), ("x", sp.pool_size[0])) if p not in (1, 2)]
    return " ".join(bad) or None


HRC_KERNELS = (3, 5, 7)        # kernel sizes the HRC runs (observed: odd kernels 1..11 go to software)
HRC_CHANNELS = (1, 3)          # input channels the HRC reads (observed: 2 and 4 go to software)


def hrc_kernel_size(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "input_conv" and n.spec.k not in HRC_KERNELS:
        return "Kernel size should be 3, 5 or 7."
    return None


def hrc_input_channels(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "input_conv" and n.spec.in_channels not in HRC_CHANNELS:
        return "The parameter input_channels must be 1 or 3."
    return None


HRC_MAX_ACT_STEP = 1048575    # observed: larger act_steps send an InputConvolutional to software


def hrc_act_step_range(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "input_conv" and sp.activation:
        bad = next((v for v in sp.act_steps if not 0 <= v <= HRC_MAX_ACT_STEP), None)
        if bad is not None:
            return f"The parameter act_step should be between 0 and {HRC_MAX_ACT_STEP}. Receives act_step {int(bad)}."
    return None


# Max filters of InputConvolutional by (input channels, kernel): vendor doc table, observed messages.
HRC_MAX_FILTERS = {(1, 3): 512, (1, 5): 192, (1, 7): 96, (3, 3): 192, (3, 5): 64, (3, 7): 32}


def hrc_max_filters(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "input_conv":
        lim = HRC_MAX_FILTERS.get((sp.in_channels, sp.k))
        if lim is not None and sp.filters > lim:
            return f"The parameter num_neurons should be set between 1 and {lim}."
    return None


def hrc_min_rows(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "input_conv" and n.spec.input_shape[1] < 5:
        return "Input second dimension size cannot be smaller than 5."
    return None


def hrc_no_average_pool(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "input_conv" and n.spec.pool_type == "average":
        return "The parameter pool_type cannot be Average."
    return None


def hrc_needs_activation(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind == "input_conv" and not n.spec.activation:
        return "The first convolutional layer of a model can only be mapped if its activations are enabled."
    return None


def hrc_maxpool_rows(n: LayerNeed, mesh: Mesh) -> str | None:
    sp = n.spec
    if sp.kind == "input_conv" and sp.pool_type == "max" and sp.output_shape[1] < 2:
        return "With max pooling, output second dimension size must be at least 2."
    return None


# Vendor texts for a layer whose whole weight tensor is zero (observed: never-set and all-zero
# layers of every type swept in all modes; a separable layer with either its depthwise or its
# pointwise tensor all zero goes to software; Convolutional and FullyConnected layers map as usual).
ZERO_WEIGHTS_MSG = {"separable": "All weights in a separable CNP layer cannot be zeroes.",
                    "input_conv": "All weights in a hrc layer cannot be zeroes."}


def weights_not_all_zero(n: LayerNeed, mesh: Mesh) -> str | None:
    if n.spec.kind in ZERO_WEIGHTS_MSG and n.spec.weights_all_zero:
        return ZERO_WEIGHTS_MSG[n.spec.kind]
    return None


def gap_no_spatial_split(n: LayerNeed, mesh: Mesh) -> str | None:
    """GAP needs all input rows of the full width in one NP's input SRAM (observed: hw_only texts)."""
    sp = n.spec
    if sp.kind in CNP_KINDS and sp.pool_type == "average":
        x, y, c = sp.input_shape
        w = x + x % 2
        rows = min(mesh.limits.cnp_max_height, (mesh.sram.input_bytes * 8) // (w * c * sp.input_bits))
        if y > rows:
            return "With average pooling, spatial split is impossible."
    return None


# The vendor reports all failing checks of the first phase that has any, joined with a space, in
# this order (observed on the sweeps' hw_only failures): parameters, then weight bits, then capacity,
# then the sequence rule for max pooling.
PHASE1_RULES: tuple[Rule, ...] = (
    hrc_symmetric_kernel, hrc_kernel_size, hrc_act_bits, hrc_input_channels, hrc_strides, hrc_max_filters, hrc_min_rows,
    hrc_no_average_pool, hrc_max_pool_size, hrc_maxpool_rows, hrc_needs_activation, hrc_act_step_range,
    cnp_square_kernel, cnp_equal_strides, cnp_stride_values, conv_stride_needs_3x3, padding_same_only,
    cnp_max_pool_size, cnp_square_max_pool, cnp_equal_pool_strides, gap_max_width, gap_no_spatial_split,
    gap_min_rows, fc_input_bits, fc_weight_bits, fc_max_inputs,
)
PHASE2_RULES: tuple[Rule, ...] = (cnp_kernel_size, cnp_weight_bits)
PHASE3_RULES: tuple[Rule, ...] = (
    maxpool_fits_output, filter_fits_cnp, one_channel_neuron_groups, stride_maxpool_single_np,
    weights_not_all_zero,
)
RULES: tuple[Rule, ...] = PHASE1_RULES + PHASE2_RULES + PHASE3_RULES
MAXPOOL_LAST_MSG = ("A convolutional or separable convolutional layer with max pooling cannot be the last "
                    "layer of a sequence.")


def check_layer(spec: LayerSpec, mesh: Mesh | None = None, next_spec: LayerSpec | None = None) -> list[Violation]:
    """Rule violations of one layer as the vendor reports them (``next_spec``: the following layer)."""
    mesh = mesh or akd1000()
    return layer_violations(layer_need(spec, mesh), mesh, next_spec)


def one_channel_splittable(n: LayerNeed, mesh: Mesh) -> bool:
    """AllNps/HwPr: a 1-input-channel conv failing the per-NP parity on its Minimal split is still
    mapped when some split over more NPs satisfies it (observed: conv200 on one channel is
    software in Minimal, 8 NPs x 25 filters in AllNps/HwPr; source: random multi-layer sweeps)."""
    top = mesh.count(NPType.CNP1) // max(1, n.spatial)
    return any(one_channel_split_ok(n.spec, g) and math.ceil(n.spec.filters / g) <= n.cap
               for g in range(max(1, n.min_groups), min(top, n.spec.filters) + 1))


def layer_violations(n: LayerNeed, mesh: Mesh, next_spec: LayerSpec | None = None,
                mode: str = "Minimal", revoked: frozenset = frozenset()) -> list[Violation]:
    if n.spec.kind == "input_data":
        return []
    for rules in (PHASE1_RULES, PHASE2_RULES, PHASE3_RULES):
        out = [Violation(r.__name__, n.spec.name, m) for r in rules if (m := r(n, mesh))]
        if (mode != "Minimal" and rules is PHASE3_RULES and n.min_groups and n.spec.name not in revoked
                and one_channel_splittable(n, mesh)):
            out = [v for v in out if v.rule != "one_channel_neuron_groups"]
        if out:
            return out
    if (n.spec.kind in CNP_KINDS and n.spec.pool_type == "max"
            and (next_spec is None or next_spec.kind not in CNP_KINDS)):
        return [Violation("maxpool_not_last", n.spec.name, MAXPOOL_LAST_MSG)]
    return []

