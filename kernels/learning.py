"""Akida 1.0 edge learning (AkidaUnsupervised) as an integer Numba kernel.

The rule is the one stated in ``shared/reference/akida_learning.md`` (established black-box
on akida 2.19.3): for each sample, the eligible neuron with the highest potential swaps up
to ``thswap`` of its connections from inactive inputs to active unconnected inputs, picked
by a deterministic "chunked" selection driven by ONE hidden counter ``t`` per layer.

Everything here is pure integer work on binary (0/1) inputs and weights; nothing depends on
any model API. The slow, obviously-correct reference lives in ``tests/naive_learning.py``.

Vocabulary (units):
    K      num_weights: connections per neuron (count).
    th0    initial thswap: maximum swaps per learning event (count).
    D      decrement of thswap per learning event (count).
    M      floor of thswap (count).
    CAP    cap on threshold_learning (potential units, i.e. a count of active connected inputs).
    t      hidden selection counter (int64, >= 0), shared by all neurons of the layer.
"""

import math

import numpy as np

from .config import serial_jit

__all__ = [
    "learning_constants",
    "draw_initial_weights",
    "fit_kernel",
    "fit_batch",
    "learning_histogram",
]


def _check_unit_interval(value, what):
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"The {what} must be between 0 and 1. Got {value!r}.")


def learning_constants(num_weights, initial_plasticity, learning_competition,
                       min_plasticity, plasticity_decay):
    """Integer constants of the learning rule, computed in Python float64.

    Args:
        num_weights: K, connections per neuron (int > 0).
        initial_plasticity: p0 in [0, 1].
        learning_competition: lc in [0, 1].
        min_plasticity: pmin in [0, 1]. The vendor default is float32(0.1), i.e.
            0.10000000149011612 as a double (gives M=5 for K=40); a Python 0.1 gives M=4.
            Whatever value is given is converted to a Python float (double) first, so a
            numpy float32 argument behaves like the vendor default.
        plasticity_decay: d in [0, 1].

    Returns:
        (th0, decrement, floor, cap) as Python ints:
        th0 = floor(K*p0 + 0.5), decrement = ceil(th0*d), floor = ceil(K*pmin),
        cap = floor(K*(1 - lc) + 0.5).
    """
    k = int(num_weights)
    if k != num_weights or k <= 0:
        raise ValueError("The number of weights must be strictly positive for the Layer "
                         f"to be trained. Got {num_weights!r}.")
    # float() first: K * np.float32(x) would otherwise be evaluated in float32.
    p0 = float(initial_plasticity)
    lc = float(learning_competition)
    pmin = float(min_plasticity)
    d = float(plasticity_decay)
    _check_unit_interval(p0, "initial plasticity")
    _check_unit_interval(lc, "learning competition")
    _check_unit_interval(pmin, "minimum plasticity")
    _check_unit_interval(d, "plasticity decay")
    th0 = math.floor(k * p0 + 0.5)
    decrement = math.ceil(th0 * d)
    floor = math.ceil(k * pmin)
    cap = math.floor(k * (1.0 - lc) + 0.5)
    return int(th0), int(decrement), int(floor), int(cap)


def draw_initial_weights(n_inputs, units, num_weights, rng):
    """Initial binary weights: exactly ``num_weights`` distinct ones per neuron.

    Each neuron (column) draws its connected inputs uniformly without replacement,
    independently of the other neurons, from ``rng`` (a ``numpy.random.Generator``).
    Akida 1.0 does not specify its sampler; code that must reproduce another run sets
    the weights explicitly after compile instead.

    Returns:
        uint8 array of shape (n_inputs, units), values 0/1, column sums == num_weights.
    """
    if num_weights <= 0:
        raise ValueError("The number of weights must be strictly positive for the Layer "
                         f"to be trained. Got {num_weights!r}.")
    if num_weights > n_inputs:
        raise IndexError(f"Cannot set {num_weights} values for a tensor of size {n_inputs}")
    weights = np.zeros((n_inputs, units), dtype=np.uint8)
    for j in range(units):
        rows = rng.choice(n_inputs, size=num_weights, replace=False)
        weights[rows, j] = 1
    return weights


@serial_jit
def _select_and_set(indices, n, k, t, weights, column, value):
    """Chunked selection of k of the n sorted ``indices``; sets weights[idx, column] = value.

    The n ranks are cut into k consecutive chunks, the first n % k of them one longer;
    in each chunk the counter picks rank ``t % size`` and then advances by one.
    Returns the updated counter.
    """
    q = n // k
    r = n - q * k
    start = 0
    for c in range(k):
        size = q + 1 if c < r else q
        t = t % size
        weights[indices[start + t], column] = value
        t += 1
        start += size
    return t


@serial_jit
def fit_kernel(inputs, labels, weights, threshold_learning, thswap, counter,
               num_classes, decrement, floor, cap, out_potentials):
    """Learn a batch of samples in order, updating the layer state in place.

    Args:
        inputs: uint8 (S, N), binary 0/1 (any non-zero counts as 1), one flattened sample per row.
        labels: int32 (S,), class of each sample, -1 (any negative) = unlabelled. Ignored when
            num_classes <= 1. Must be < num_classes otherwise (raises ValueError).
        weights: uint8 or int8 (N, U), binary 0/1; column j holds neuron j's connections.
            Modified in place; each column's count of ones never changes.
        threshold_learning: int32 (U,), modified in place (potential units).
        thswap: int32 (U,), max swaps per learning event, modified in place.
        counter: int64 (1,), the layer's hidden selection counter t, read and written back.
        num_classes: C; when C > 1 a labelled sample lets only neurons
            [label*U/C, (label+1)*U/C) compete (U must be a multiple of C).
        decrement, floor, cap: D, M, CAP from ``learning_constants``.
        out_potentials: int32 (S, U), receives each sample's potentials x @ W computed
            BEFORE that sample's update (what the vendor's fit() returns).

    One learning event per sample at most: the winner is the eligible neuron
    (potential > threshold_learning, strict) with the highest potential, ties to the lowest
    index. It swaps k = min(thswap, #connected-inactive, #active-unconnected) connections
    (removals selected first, then additions, both with the shared counter); when k > 0,
    threshold_learning = min(potential, cap); thswap = max(thswap - decrement, floor) always.
    A sample with no eligible neuron changes nothing (counter included).
    """
    n_samples = inputs.shape[0]
    n_inputs = inputs.shape[1]
    units = weights.shape[1]
    if num_classes > 1:
        block = units // num_classes
    else:
        block = units
    pot = np.zeros(units, dtype=np.int32)
    active = np.empty(n_inputs, dtype=np.int64)
    inactive_connected = np.empty(n_inputs, dtype=np.int64)
    active_unconnected = np.empty(n_inputs, dtype=np.int64)
    t = np.int64(counter[0])
    for s in range(n_samples):
        x = inputs[s]
        # Sparse potentials: add the weight row of every active input.
        n_active = 0
        for i in range(n_inputs):
            if x[i] != 0:
                active[n_active] = i
                n_active += 1
        pot[:] = 0
        for a in range(n_active):
            row = weights[active[a]]
            for j in range(units):
                pot[j] += row[j]
        for j in range(units):
            out_potentials[s, j] = pot[j]

        # Competing block.
        lo = 0
        hi = units
        label = labels[s]
        if num_classes > 1 and label >= 0:
            if label >= num_classes:
                counter[0] = t
                raise ValueError("Input label is larger than allowed for the configured "
                                 "number of classes.")
            lo = label * block
            hi = lo + block

        # Single winner: highest potential among eligible neurons, ties -> lowest index.
        winner = -1
        best = np.int32(0)
        for j in range(lo, hi):
            p = pot[j]
            if p > threshold_learning[j] and (winner < 0 or p > best):
                winner = j
                best = p
        if winner < 0:
            continue

        # Sorted swap candidates of the winner.
        n_inact = 0
        n_cand = 0
        for i in range(n_inputs):
            connected = weights[i, winner] != 0
            if x[i] != 0:
                if not connected:
                    active_unconnected[n_cand] = i
                    n_cand += 1
            elif connected:
                inactive_connected[n_inact] = i
                n_inact += 1
        k = np.int64(thswap[winner])
        if n_inact < k:
            k = n_inact
        if n_cand < k:
            k = n_cand
        if k > 0:
            t = _select_and_set(inactive_connected, n_inact, k, t, weights, winner, 0)
            t = _select_and_set(active_unconnected, n_cand, k, t, weights, winner, 1)
            threshold_learning[winner] = min(best, cap)
        thswap[winner] = max(thswap[winner] - decrement, floor)
    counter[0] = t


def fit_batch(inputs, labels, weights, threshold_learning, thswap, counter,
              num_classes, decrement, floor, cap):
    """Validating wrapper around ``fit_kernel``; returns the potentials.

    Args:
        inputs: (S, N) or (S, ...) array of 0/1 values (flattened per sample, C order);
            converted to uint8.
        labels: None (all unlabelled), a scalar (applied to every sample) or (S,) ints;
            -1 = unlabelled.
        weights: uint8 or int8 (N, U), C-contiguous, 0/1; updated in place.
        threshold_learning, thswap: int32 (U,), updated in place.
        counter: int64 (1,), updated in place.
        num_classes, decrement, floor, cap: as in ``fit_kernel``.

    Returns:
        int32 (S, U) potentials before each sample's update.
    """
    inputs = np.asarray(inputs)
    n_samples = inputs.shape[0]
    x = np.ascontiguousarray(inputs.reshape(n_samples, -1))
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"Input values must be in the range (0, 1). Got {x.max()}.")
    x = x.astype(np.uint8, copy=False)
    if not (isinstance(weights, np.ndarray) and weights.dtype in (np.uint8, np.int8)
            and weights.ndim == 2 and weights.flags.c_contiguous):
        raise TypeError("weights must be a C-contiguous 2-D uint8 or int8 array.")
    n_inputs, units = weights.shape
    if x.shape[1] != n_inputs:
        raise ValueError(f"Input shape must have {n_inputs} values per sample, "
                         f"got {x.shape[1]}.")
    for name, arr, dtype, shape in (("threshold_learning", threshold_learning, np.int32, (units,)),
                                    ("thswap", thswap, np.int32, (units,)),
                                    ("counter", counter, np.int64, (1,))):
        if not (isinstance(arr, np.ndarray) and arr.dtype == dtype and arr.shape == shape):
            raise TypeError(f"{name} must be a {np.dtype(dtype).name} array of shape {shape}.")
    if num_classes > 1 and units % num_classes:
        raise ValueError("The number of neurons must be a multiple of the number of classes.")
    if labels is None:
        lab = np.full(n_samples, -1, dtype=np.int32)
    else:
        lab = np.asarray(labels)
        if lab.dtype.kind not in "iu":
            raise TypeError("fit expects integers as labels.")
        if lab.ndim == 0:
            lab = np.full(n_samples, int(lab), dtype=np.int32)
        elif lab.shape != (n_samples,):
            raise ValueError(f"Number of input labels must match number of inputs: {n_samples}.")
        lab = lab.astype(np.int32)
        if lab.size and lab.min() < -1:
            raise ValueError(f"Labels must be >= -1. Got {lab.min()}.")
        if num_classes >= 1 and lab.size and lab.max() >= num_classes:
            raise ValueError("Input label is larger than allowed for the configured number "
                             f"of classes: {lab.max()} >= {num_classes}.")
    out = np.empty((n_samples, units), dtype=np.int32)
    fit_kernel(x, lab, weights, threshold_learning, thswap, counter,
               int(num_classes), int(decrement), int(floor), int(cap), out)
    return out


def learning_histogram(threshold_learning, num_weights):
    """Histogram of learned neurons, as the vendor's ``layer.get_learning_histogram()``.

    Returns:
        int64 array (n, 2) of rows [floor(100*tl/K), count] over neurons with
        threshold_learning > 0, sorted by bucket; shape (0, 2) when none learned.
    """
    tl = np.asarray(threshold_learning).astype(np.int64)
    learned = tl[tl > 0]
    buckets = (100 * learned) // int(num_weights)
    values, counts = np.unique(buckets, return_counts=True)
    return np.stack([values, counts], axis=1).astype(np.int64).reshape(-1, 2)
