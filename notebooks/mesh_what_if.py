# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # What-if meshes: NPs, program size, frame rate and energy without the chip
#
# `akida_sim.AKD1000()` describes the AKD1000 as data: 78 neural processors
# (NPs) in 20 nodes, the HRC front end and a cost table for clocks and power.
# Other devices are built from the same parts: a mesh with fewer nodes (as a
# smaller chip or an IP block would have), or the same mesh with another
# clock. This notebook maps the built-in DS-CNN keyword-spotting net on
# meshes of 2 to 20 nodes and reports, for each, the NPs used, the sequences
# (a model that does not fit is split), the program size and the estimated
# frame rate, power and energy per frame of a forward pass.
#
# The numbers come from the cost model fitted on BrainChip's published AKD1000
# runs (docs/cost_model.md); on a smaller mesh they are what-if estimates.
# All are estimates. `chip fps` and `dyn uJ` (dynamic energy per frame above the
# floor) are the chip's own figures, where the NP count shows: compare meshes on
# them. `fps` is the frame rate of the whole call with the default host profile
# (`pcie_pc`, the first call after `map()` paying a one-time cost), what the
# vendor prints; on a small net it is mostly host time.

# %%
import os

import numpy as np

import akida_sim as akida
from akida_sim import zoo
from hw_model import make_mesh
from hw_model.cost_table import AKD1000_COSTS

SCALE = float(os.environ.get("AKIDA_SIM_NOTEBOOK_SCALE", "1"))
FRAMES = max(2, int(32 * SCALE))
NODE_COUNTS = [2, 4, 8, 12, 16, 20]

# %% [markdown]
# The model and a batch of random input frames (the zoo calibrates its
# thresholds so that about half of the neurons fire).

# %%
model = zoo.build("dscnn_kws", seed=0)
frames = zoo.random_inputs(model, FRAMES, np.random.default_rng(1))
reference = model.forward(frames)

# %% [markdown]
# A mesh of the first *n* nodes of the AKD1000 (same NP types per slot,
# same memories), at the AKD1000 clock.

# %%
full = akida.AKD1000().hw_mesh


def first_nodes(n):
    nodes = list(dict.fromkeys((s.col, s.row) for s in full.slots))[:n]
    slots = [s for s in full.slots if (s.col, s.row) in nodes]
    return make_mesh(f"AKD1000, first {n} nodes", slots, sram=full.sram, dma_event=full.dma_event,
                     dma_conf=full.dma_conf, hrc=full.hrc)


SWEEP = []
for n in NODE_COUNTS:
    model.map(akida.Device(first_nodes(n), AKD1000_COSTS))
    outputs = model.forward(frames)
    assert np.array_equal(outputs, reference)  # mapping never changes the integers
    stats = model.statistics
    hw = [s for s in model.sequences if s.backend == akida.BackendType.Hardware]
    SWEEP.append(dict(
        nodes=n,
        nps=model.np_count,
        sequences=len(model.sequences),
        software=len(model.sequences) - len(hw),
        program_kb=sum(len(s.program) for s in hw) / 1024,
        fps=stats.fps,
        chip_fps=stats.chip_fps,
        dyn_uj=stats.chip.dynamic_mj_per_frame * 1e3,
        mj=stats.energy,
    ))

print(f"{'nodes':>5} {'NPs':>4} {'sequences':>9} {'in SW':>5} {'program kB':>10} {'chip fps':>9} {'dyn uJ':>7} "
      f"{'fps':>8} {'mJ/frame':>8}")
for r in SWEEP:
    print(f"{r['nodes']:>5} {r['nps']:>4} {r['sequences']:>9} {r['software']:>5} {r['program_kb']:>10.1f} "
          f"{r['chip_fps']:>9.0f} {r['dyn_uj']:>7.2f} {r['fps']:>8.1f} {r['mj']:>8.3f}")

# %% [markdown]
# The clock is one entry of the cost table: a what-if table at half the
# clock halves the chip's frame rate of the same mapping (the host's share of
# the call does not change). The board's own clock modes are a device
# setting, with their published slowdowns and floor powers.

# %%
half = AKD1000_COSTS.what_if("half clock", clock_hz=AKD1000_COSTS.clock_hz.value / 2)
for table in (AKD1000_COSTS, half):
    model.map(akida.Device(full, table))
    model.forward(frames)
    s = model.statistics
    print(f"{table.name:>12}: {s.fps:8.1f} fps, chip {s.chip_fps:7.0f} fps, {s.powers['average']:7.1f} mW, "
          f"{s.energy:.3f} mJ/frame")

device = akida.AKD1000()
model.map(device)
for mode in akida.soc.ClockMode:
    device.soc.clock_mode = mode
    model.forward(frames)
    s = model.statistics
    print(f"{mode.name:>12}: {s.fps:8.1f} fps, chip {s.chip_fps:7.0f} fps, floor {s.powers['floor']:6.1f} mW, "
          f"{s.energy:.3f} mJ/frame")
