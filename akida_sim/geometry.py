"""Output sizes and padding of convolution and pooling windows (one axis).

Same padding follows TensorFlow: ``out = ceil(n / s)``, the total padding is
``max((out - 1) * s + k - n, 0)``, ``floor(total / 2)`` of it before and the
rest after. Valid: ``out = floor((n - k) / s) + 1``.
Source: ../shared/reference/akida_v1_semantics.md §1 and §4 (observed).
"""


def window_output_size(size, kernel, stride, same):
    """Number of window positions along one axis (may be < 1 for Valid)."""
    if same:
        return -(-size // stride)
    return (size - kernel) // stride + 1


def pad_before(size, kernel, stride, same):
    """Cells of padding before the first input cell along one axis."""
    if not same:
        return 0
    out = window_output_size(size, kernel, stride, True)
    return max((out - 1) * stride + kernel - size, 0) // 2
