"""The cost table's fit on the published AKD1000 runs, reproduced from akida_sim's counts.

Counts: the zoo reconstructions of the published networks (``akida_sim.zoo``; random weights
at activation density 0.50, inputs about 70 % non-zero), mapped on ``AKD1000()`` and run on
4 random frames; the FC 50->1 layer of the published tiny run and the course's mnistnet are
built here.  Figures: the
published runs of ``hw_model.published``.  ``fit()`` solves each sub-model of
``hw_model.calibration``; ``validation()`` refits without each run in turn (leave one out)
and returns prediction / measurement per run.
"""
import functools
from dataclasses import replace

import numpy as np

import akida_sim as ak
from akida_sim import zoo
from hw_model import published
from hw_model.calibration import (Observation, clock_table, error_factor, first_frame_features, fit_linear,
                                  fnp_features, leave_one_out, leave_source_out, predict, steady_features)
from hw_model.cost_table import AKD1000_COSTS, Price
from hw_model.costs import batch_clocks, statistics
from hw_model.host import PCIE_PC

FRAMES = 4


def mapped(model, mode="AllNps", frames=FRAMES, seed=1):
    model.map(ak.AKD1000(), mode=getattr(ak.MapMode, mode))
    model.forward(zoo.random_inputs(model, frames, np.random.default_rng(seed)))
    return model


@functools.lru_cache(maxsize=None)
def counts(network, mode="AllNps", seed=0):
    """SequenceCounts per frame of a published network ('dscnn_kws', 'akidanet_05_224', 'fc50',
    'mnistnet'; the last with random weights and thresholds calibrated like the zoo's)."""
    if network == "mnistnet":
        model = ak.Model()
        kinds = {"input_conv": ak.InputConvolutional, "conv": ak.Convolutional, "fully_connected": ak.FullyConnected}
        for i, (kind, filters, k, pool) in enumerate(published.MNISTNET):
            if kind == "fully_connected":
                model.add(ak.FullyConnected(units=filters, weights_bits=4, activation=False, name=f"l{i}"))
                continue
            extra = dict(input_shape=(28, 28, 1), weights_bits=8) if kind == "input_conv" else dict(weights_bits=4)
            pool_kw = dict(pool_type=ak.PoolType.Max, pool_size=(2, 2)) if pool == "max" else {}
            model.add(kinds[kind](kernel_size=(k, k), filters=filters, act_bits=4, name=f"l{i}", **pool_kw, **extra))
        zoo.randomize(model, np.random.default_rng(seed))
    elif network == "fc50":
        model = ak.Model()
        model.add(ak.InputData(input_shape=(1, 1, 50), input_bits=4))
        model.add(ak.FullyConnected(units=1, weights_bits=4, activation=False, name="fc"))
        model.layers[1].set_variable("weights", np.ones((1, 1, 50, 1), np.int8))
    else:
        model = zoo.build(network, seed=seed)
    return mapped(model, mode, seed=seed + 1).statistics.counts


def _hw(network):
    (seq,) = [s for s in counts(network) if s.hardware]
    return seq


def _steady_target():
    ten = [r.inference_clk for r in published.RUNS if r.key.startswith("akidanet_10f")]
    return (np.mean(ten) - published.run("akidanet_1f").inference_clk) / 9


def clock_observations(table):
    """First-frame and steady clocks of the published runs, features under ``table``."""
    obs = []
    for key, network in (("dscnn_1f", "dscnn_kws"), ("akidanet_1f", "akidanet_05_224"), ("fc50_1f", "fc50")):
        f, fixed = first_frame_features(_hw(network), table)
        obs.append(Observation(key, f, fixed, published.run(key).inference_clk))
    f, fixed = steady_features(_hw("akidanet_05_224"), table)
    obs.append(Observation("akidanet_steady", f, fixed, _steady_target()))
    return obs


def fit_clocks(table=AKD1000_COSTS, rounds=3):
    """(clk_per_event, 1/ops_per_clk, clk_per_layer), refitting as the slowest stage settles."""
    for _ in range(rounds):
        prices = fit_linear(clock_observations(table))
        table = clock_table(table, prices)
    return prices, table


#: Widths of the published FC chains whose latency is mostly compute (SOURCES['fc_width']).
FC_COMPUTE_WIDTHS = (1024, 2048, 4096)


@functools.lru_cache(maxsize=None)
def fc_chain(width, seed=0):
    """Hardware SequenceCounts of FC(width->width) -> FC(width->1), 4-bit, random weights calibrated
    like the zoo's (the published chain's first layer runs on the host: its output is the input here)."""
    model = ak.Model()
    model.add(ak.InputData(input_shape=(1, 1, width), input_bits=4))
    model.add(ak.FullyConnected(units=width, weights_bits=4, act_bits=4, name="fc1"))
    model.add(ak.FullyConnected(units=1, weights_bits=4, activation=False, name="out"))
    zoo.randomize(model, np.random.default_rng(seed))
    (seq,) = [s for s in mapped(model, seed=seed + 1).statistics.counts if s.hardware]
    return seq


def fnp_observations(table=AKD1000_COSTS):
    """Compute clocks of the wide FC chains: (latency - host round trip) x clock_hz."""
    round_trip = sum(published.FC_ROUND_TRIP_S) / 2
    obs = []
    for width in FC_COMPUTE_WIDTHS:
        f, fixed = fnp_features(fc_chain(width), table)
        target = (published.FC_WIDTH_LATENCY_S[width] - round_trip) * table.clock_hz.value
        obs.append(Observation(f"fc_{width}", f, fixed, target))
    return obs


def program_observations():
    an = [r.program_clk for r in published.RUNS if r.network.startswith("AkidaNet") and r.program_clk]
    return [Observation("dscnn", (88_748.0, 1.0), 0.0, published.run("dscnn_1f").program_clk),
            Observation("akidanet", (1_361_244.0, 1.0), 0.0, float(np.mean(an))),
            Observation("fc50", (752.0, 0.0), 0.0, published.run("fc50_1f").program_clk)]


@functools.lru_cache(maxsize=None)
def batch_sweep_chain(seed=0):
    """Hardware SequenceCounts of the batch sweep's InputData(50) -> FC 256 -> FC 256 -> FC 256 -> FC 1, 4-bit."""
    model = ak.Model()
    model.add(ak.InputData(input_shape=(1, 1, 50), input_bits=4))
    for i in range(3):
        model.add(ak.FullyConnected(units=256, weights_bits=4, act_bits=4, name=f"fc{i}"))
    model.add(ak.FullyConnected(units=1, weights_bits=4, activation=False, name="out"))
    zoo.randomize(model, np.random.default_rng(seed))
    (seq,) = [s for s in mapped(model, seed=seed + 1).statistics.counts if s.hardware]
    return seq


def _chip_s(seq, frames, table):
    return batch_clocks(seq, table, frames) / table.clock_hz.value


def warm_observations(table=AKD1000_COSTS, host=PCIE_PC):
    """Seconds of warm calls = call_s + frames x frame_s + (input transfer and the model's chip time)."""
    obs = []
    chain = batch_sweep_chain()
    for b, seconds in published.BATCH_SWEEP_S.items():
        fixed = _chip_s(chain, b, table) + b * chain.input_bytes / host.bytes_per_s
        obs.append(Observation(f"batch_{b}", (1.0, float(b)), fixed, seconds))
    for width in published.FC_HOST_BOUND_WIDTHS:
        seq = fc_chain(width)
        fixed = _chip_s(seq, 1, table) + seq.input_bytes / host.bytes_per_s
        obs.append(Observation(f"fc_{width}", (1.0, 1.0), fixed, published.FC_WIDTH_LATENCY_S[width]))
    r = published.run("mnist_student_10000f")   # architecture not published: its chip time is in frame_s
    obs.append(Observation(r.key, (1.0, float(r.frames)), r.frames * 784 / host.bytes_per_s, r.frames / r.fps))
    return obs


def fit_warm_host(table=AKD1000_COSTS):
    """(call_s, frame_s) of the PCIe-PC host."""
    return fit_linear(warm_observations(table))


def _input_bytes(r):
    return 49 * 10 * 1 if r.network == "DS-CNN KWS" else 224 * 224 * 3


def time_observations(host=PCIE_PC):
    """Seconds of the printed-fps runs, cold first calls: call_s + frames x (frame_s + input transfer)
    + program bytes x first_call_s_per_byte [fixed] + first_call_s + clk / clock_hz [fitted]."""
    obs = []
    for r in published.RUNS:
        if r.fps is None or r.inference_clk is None:
            continue
        fixed = (host.call_s + r.frames * (host.frame_s + _input_bytes(r) / host.bytes_per_s)
                 + r.program_bytes * host.first_call_s_per_byte)
        obs.append(Observation(r.key, (1.0, float(r.inference_clk)), fixed, r.frames / r.fps))
    return obs


def fit_host_speed(table=AKD1000_COSTS, host=PCIE_PC):
    """Synaptic ops per second of the host, from the time mnistnet's software layer leaves."""
    r = published.run("mnistnet_10000f")
    seqs = counts("mnistnet")
    s = statistics(seqs, table, frames=r.frames, host=host, cold=True, host_ops_per_s=1e30)
    ops = sum(c.synaptic_ops for q in seqs if not q.hardware for c in q.layers)
    return r.frames * ops / (r.frames / r.fps - s.time_s)


def energy_ratios(table=AKD1000_COSTS):
    """pJ per synaptic op implied by each AkidaNet 10-frame run (floor as published, else the table's)."""
    ops = sum(c.synaptic_ops for c in _hw("akidanet_05_224").layers)
    out = {}
    for r in published.RUNS:
        if r.average_mw is None or not r.network.startswith("AkidaNet"):
            continue
        floor = r.floor_mw if r.floor_mw is not None else table.performance_floor_mw.value
        out[r.key] = (r.average_mw - floor) / r.fps / ops * 1e9
    return out


def fit():
    """Every fitted price of the table and of the PCIe-PC host profile, by name."""
    (ce, inv_ops, cl), _ = fit_clocks()
    per_byte, hrc = fit_linear(program_observations())
    call_s, frame_s = fit_warm_host()
    first, inv_hz = fit_linear(time_observations())
    (inv_fnp,) = fit_linear(fnp_observations())
    return {"clk_per_event": ce, "ops_per_clk": 1 / inv_ops, "clk_per_layer": cl, "fnp_ops_per_clk": 1 / inv_fnp,
            "program_clk_per_byte": per_byte, "hrc_program_clk": hrc, "clock_hz": 1 / inv_hz,
            "pj_per_synaptic_op": float(np.mean(list(energy_ratios().values()))),
            "host.call_s": call_s, "host.frame_s": frame_s, "host.first_call_s": first,
            "host.ops_per_s": fit_host_speed()}


#: Which published source each observation comes from (for leave-one-source-out).
_SOURCE_OF_KEY = {"akidanet_steady": "power_page", **{f"batch_{b}": "batch_sweep" for b in published.BATCH_SWEEP_S},
                  **{f"fc_{w}": "fc_width" for w in published.FC_WIDTH_LATENCY_S}}


def source_of(key):
    """The published source of an observation key."""
    if key in _SOURCE_OF_KEY:
        return _SOURCE_OF_KEY[key]
    return published.run(key).source


def validation():
    """Ratios (prediction / measurement) of each sub-model: by run left out (``<name>``) and by
    whole source left out (``<name>_by_source``; runs not identifiable without their source omitted)."""
    # The clock prices are exactly determined by the three first frames once the steady state
    # has fixed pipeline_depth; for a leave-one-out the steady state is used as a fourth clock
    # figure instead (a pipeline paced by its slowest stage alone).
    table = replace(AKD1000_COSTS, pipeline_depth=Price(1e9, "stages in flight", "validation: unbounded"))
    _, table = fit_clocks(table)
    clock_obs = clock_observations(table)
    pj = energy_ratios()
    pj_loo = {k: np.mean([v for j, v in pj.items() if j != k]) / pj[k] for k in pj}
    out = {"clocks": leave_one_out(clock_obs), "fnp": leave_one_out(fnp_observations()),
           "program": leave_one_out(program_observations()), "time": leave_one_out(time_observations()),
           "warm": leave_one_out(warm_observations()), "pj": pj_loo}
    out["clocks_by_source"] = leave_source_out(clock_obs, source_of)
    out["time_by_source"] = leave_source_out(time_observations(), source_of)
    out["warm_by_source"] = leave_source_out(warm_observations(), source_of)
    return out


def chained_fps_ratios(table=AKD1000_COSTS):
    """Modelled fps (the model's own clocks) / printed fps, for each published run of a known network."""
    names = {"DS-CNN KWS": "dscnn_kws", "AkidaNet-0.5/224": "akidanet_05_224", "mnistnet": "mnistnet"}
    out = {}
    for r in published.RUNS:
        if r.fps is None or r.network not in names:
            continue
        network = names[r.network]
        s = statistics(counts(network), table, frames=r.frames, host=PCIE_PC, cold=True)
        out[r.key] = s.fps / r.fps
    return out


__all__ = ["counts", "fit", "validation", "chained_fps_ratios", "error_factor", "predict"]
