"""Fitting the cost table on published runs, and leave-one-out validation (pure functions).

The counts of the published networks come from whoever runs them (akida_sim's zoo models in
``tests/api/test_published_figures.py``); this module only solves for prices and reports
how far each published run is from the prices fitted without it.  Every sub-model is linear
in its prices and is fitted by least squares on *relative* errors, so that a run of 668
clocks weighs as much as one of 43 million, with every price >= 0 (a cost cannot be negative).

Sub-models (see ``docs/cost_model.md``):
- clocks: ``clk_per_event``, ``1/ops_per_clk`` and ``clk_per_layer`` from the first-frame clocks
  of the DS-CNN, AkidaNet and FC 50->1 runs and AkidaNet's steady-state clocks;
  ``1/fnp_ops_per_clk`` from the compute time of wide FC chains;
- programming: ``program_clk_per_byte`` and ``hrc_program_clk`` from the three programs;
- the host (:mod:`hw_model.host`): warm ``call_s`` and ``frame_s`` from warm calls (a batch
  sweep, 1-sample FC calls, a 10,000-frame MNIST run); the cold first call's ``first_call_s``
  and ``first_call_s_per_byte`` jointly with ``1/clock_hz`` from the printed fps of five cold
  runs (their published clocks as input);
- energy: ``pj_per_synaptic_op`` from the AkidaNet runs' average power above the floor.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from .cost_table import CostTable, Price
from .costs import SequenceCounts, first_frame_clocks, stage_clocks


@dataclass(frozen=True)
class Observation:
    """One measured value ``target`` and the features that multiply the fitted prices.

    ``fixed``: the part of the prediction that does not depend on the fitted prices.
    """

    key: str
    features: tuple[float, ...]
    fixed: float
    target: float


def fit_linear(obs: Sequence[Observation]) -> np.ndarray:
    """Prices minimising the sum of squared relative errors of ``obs``, every price >= 0.

    A price is a cost (clocks per event, seconds per call, ...): a negative one is not physical
    and a :class:`~hw_model.cost_table.Price` refuses it.  The constrained least squares is
    solved exactly by trying every set of prices held at 0 (a few prices per sub-model): the
    unconstrained solution when it is non-negative, else the best non-negative one with some
    prices at 0 (a price the remaining observations cannot tell from 0 is then 0)."""
    a = np.array([[f / o.target for f in o.features] for o in obs], dtype=np.float64)
    b = np.array([1.0 - o.fixed / o.target for o in obs], dtype=np.float64)
    n = a.shape[1]
    best, best_r = np.zeros(n), float(np.sum(b ** 2))
    for free in itertools.chain.from_iterable(itertools.combinations(range(n), r) for r in range(n, 0, -1)):
        sol, *_ = np.linalg.lstsq(a[:, free], b, rcond=None)
        if (sol < 0).any():
            continue
        x = np.zeros(n)
        x[list(free)] = sol
        r = float(np.sum((a @ x - b) ** 2))
        if r < best_r * (1 - 1e-12) - 1e-300:
            best, best_r = x, r
    return best


def predict(o: Observation, prices: np.ndarray) -> float:
    """The value ``prices`` give for observation ``o``."""
    return o.fixed + float(np.dot(o.features, prices))


def leave_one_out(obs: Sequence[Observation], keys: Sequence[str] | None = None,
                  refit: Callable[[Sequence[Observation]], np.ndarray] = fit_linear) -> dict[str, float]:
    """For each observation in ``keys`` (default all): prediction / measurement when the
    prices are fitted on the other observations."""
    out = {}
    for o in obs:
        if keys is not None and o.key not in keys:
            continue
        prices = refit([p for p in obs if p is not o])
        out[o.key] = predict(o, prices) / o.target
    return out


def leave_source_out(obs: Sequence[Observation], source_of: Callable[[str], str],
                     refit: Callable[[Sequence[Observation]], np.ndarray] = fit_linear) -> dict[str, float]:
    """For each observation: prediction / measurement when the prices are fitted without every
    observation of its source (``source_of(key)``); observations whose source leaves fewer
    observations than prices are not predicted (not identifiable without that source)."""
    out = {}
    n_prices = len(obs[0].features) if obs else 0
    for source in sorted({source_of(o.key) for o in obs}):
        kept = [p for p in obs if source_of(p.key) != source]
        if len(kept) < n_prices:
            continue
        prices = refit(kept)
        out.update({o.key: predict(o, prices) / o.target for o in obs if source_of(o.key) == source})
    return out


def error_factor(ratios: dict[str, float]) -> float:
    """The validation error as a factor >= 1: max over runs of max(ratio, 1/ratio)."""
    return max(max(r, 1.0 / r) for r in ratios.values())


# ----------------------------------------------------------------------------- clocks

def _cnp_features(c, table: CostTable) -> tuple[tuple[float, float, float], float]:
    """Features (np_events, np_ops on a CNP, 1 per layer) of one stage, and its clocks fixed by other
    prices (the HRC's, and the operations of an FNP at ``fnp_ops_per_clk``)."""
    if c.kind == "input_conv":
        return (0.0, 0.0, 0.0), c.input_values * table.hrc_clk_per_value.value
    if c.kind == "fully_connected":
        return (c.np_events, 0.0, 1.0), c.np_ops / table.fnp_ops_per_clk.value
    return (c.np_events, c.np_ops, 1.0), 0.0


def first_frame_features(seq: SequenceCounts, table: CostTable) -> tuple[tuple[float, ...], float]:
    """Features (sum of np_events, sum of CNP np_ops, layers) and the fixed clocks of a first frame."""
    parts = [_cnp_features(c, table) for c in seq.layers]
    return tuple(float(sum(f[i] for f, _ in parts)) for i in range(3)), sum(x for _, x in parts)


def steady_features(seq: SequenceCounts, table: CostTable) -> tuple[tuple[float, ...], float]:
    """Features of the clocks of further frames under ``table``: the slowest stage, or the
    first frame over ``pipeline_depth`` when that bound paces (see ``costs.steady_frame_clocks``)."""
    slowest = max(seq.layers, key=lambda c: stage_clocks(c, table))
    depth = table.pipeline_depth.value
    if first_frame_clocks(seq, table) / depth > stage_clocks(slowest, table):
        f, fixed = first_frame_features(seq, table)
        return tuple(v / depth for v in f), fixed / depth
    return _cnp_features(slowest, table)


def fnp_features(seq: SequenceCounts, table: CostTable) -> tuple[tuple[float, ...], float]:
    """Feature (sum of FNP np_ops) and the clocks the other prices fix, of a first frame."""
    ops = sum(c.np_ops for c in seq.layers if c.kind == "fully_connected")
    return (float(ops),), first_frame_clocks(seq, table) - ops / table.fnp_ops_per_clk.value


def clock_table(table: CostTable, prices: np.ndarray) -> CostTable:
    """``table`` with the CNP clock prices (clk_per_event, 1/ops_per_clk, clk_per_layer) replaced."""
    return replace(table,
                   clk_per_event=Price(float(prices[0]), table.clk_per_event.unit, table.clk_per_event.source),
                   ops_per_clk=Price(float(1.0 / prices[1]), table.ops_per_clk.unit, table.ops_per_clk.source),
                   clk_per_layer=Price(float(prices[2]), table.clk_per_layer.unit, table.clk_per_layer.source))


__all__ = ["Observation", "fit_linear", "predict", "leave_one_out", "leave_source_out", "error_factor", "first_frame_features",
           "steady_features", "fnp_features", "clock_table"]
