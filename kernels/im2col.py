"""The operands of a block of output rows: input patches (im2col) and depthwise sums."""
import numpy as np

from .config import serial_jit


@serial_jit
def gather_patches(x, kx, ky, stride, pad_before, pad_value, out_h, out_w, first_task, last_task, patch):
    """Write the patches of output rows ``first_task <= task < last_task`` into ``patch``.

    x: (N, H, W, C) uint8 activations. task = n * OH + i, one output row.
    patch: (>= (last_task - first_task) * OW, >= KX*KY*C), any integer
    dtype holding 0..255; row ``(task - first_task) * OW + j`` receives the
    patch of output pixel (n, i, j) in (u, v, c) order, padded cells holding
    ``pad_value``. Columns past KX*KY*C are left as they are. A kernel row
    that lies inside the input is copied as one contiguous run of KY*C cells.
    """
    n_batch, height, width, channels = x.shape
    sx, sy = stride[0], stride[1]
    px, py = pad_before[0], pad_before[1]
    rows = x.reshape(n_batch, height, width * channels)
    span = ky * channels
    for task in range(first_task, last_task):
        n = task // out_h
        i = task % out_h
        base = (task - first_task) * out_w
        for j in range(out_w):
            b0 = j * sy - py
            inside = b0 >= 0 and b0 + ky <= width
            for u in range(kx):
                a = i * sx + u - px
                k = u * span
                if inside and 0 <= a < height:
                    # Slices first: indices from 0 let the copy vectorize.
                    src = rows[n, a, b0 * channels:b0 * channels + span]
                    dst = patch[base + j, k:k + span]
                    for t in range(span):
                        dst[t] = src[t]
                    continue
                for v in range(ky):
                    b = b0 + v
                    if 0 <= a < height and 0 <= b < width:
                        for c in range(channels):
                            patch[base + j, k + c] = x[n, a, b, c]
                    else:
                        for c in range(channels):
                            patch[base + j, k + c] = pad_value
                    k += channels


@serial_jit
def depthwise_block(x, depthwise, stride, pad_before, out_h, out_w, first_task, last_task, dw):
    """Add the depthwise sums of output rows ``first_task <= task < last_task`` into ``dw``.

    x: (N, H, W, C) uint8, padded cells 0. depthwise: (KX, KY, C) int32.
    dw: (>= (last_task - first_task) * OW, >= C), zero on entry in the rows
    and channels written: row ``(task - first_task) * OW + j``, column c
    receives ``sum_{u,v} x[n, i*sx+u-px, j*sy+v-py, c] * depthwise[u, v, c]``.
    The caller guarantees that every partial sum fits dw's dtype.
    """
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    kx, ky = depthwise.shape[0], depthwise.shape[1]
    sx, sy = stride[0], stride[1]
    px, py = pad_before[0], pad_before[1]
    for task in range(first_task, last_task):
        n = task // out_h
        i = task % out_h
        base = (task - first_task) * out_w
        for j in range(out_w):
            for u in range(kx):
                a = i * sx + u - px
                if a < 0 or a >= height:
                    continue
                for v in range(ky):
                    b = j * sy + v - py
                    if b < 0 or b >= width:
                        continue
                    # Slices first: indices from 0 let the loop vectorize.
                    sums = dw[base + j, :channels]
                    inputs = x[n, a, b]
                    weights = depthwise[u, v]
                    for c in range(channels):
                        sums[c] += np.int32(np.int32(inputs[c]) * weights[c])
