"""Published on-chip measurements of the AKD1000 reference board: the data the cost model is
fitted on and validated against (see ``docs/cost_model.md``).

Every figure is copied from a public document (sources in ``SOURCES``; gathered in
``../shared/reference/akd1000_mapping.md`` sections 3 and 5 and
``../shared/reference/akida_cli_and_learning_study.md``).  Nothing here was produced by the
vendor's software engine, which has no clocks or power without the chip.
"""
from __future__ import annotations

from dataclasses import dataclass

#: Where the figures come from.
SOURCES = {
    "user_guide": "BrainChip Akida user guide, 'Command-line interface for model evaluation' "
                  "(Brainchip-Inc/akida_examples doc/user_guide/akida.rst)",
    "power_page": "BrainChip akida_examples: doc power_number.rst and the AkidaNet/ImageNet "
                  "tutorial pages (repeated on-chip runs of AkidaNet-0.5/224)",
    "fc_notebook": "third-party AKD1000 notebooks: FullyConnected 50->1 (4-bit, no activation) "
                   "alone on one FNP3, and host round trips of small FC chains",
    "clock_modes": "two independent AKD1000 boards measured in the three clock modes "
                   "(reference section 5, 'Clock modes')",
    "np_count": "older akida_examples tutorial pages: AkidaNet-0.5/224 on its 32-NP Minimal "
                "mapping at roughly half the fps of the 68-NP AllNps mapping",
    "fc_width": "github.com/syntheticChemistry/hotSpring metalForge/npu/akida/BEYOND_SDK.md, 'FC Width Scales "
                "to 8192+': wall-clock latency of one 1-sample forward on an AKD1000 PCIe board (SDK 2.19.1) of "
                "InputConv(8->N, on the host) -> FC(N->N) -> FC(N->1), widths 64 to 4096; below width 512 the ~650 us "
                "PCIe round trip dominates",
    "batch_sweep": "github.com/syntheticChemistry/hotSpring metalForge/npu/akida/BEYOND_SDK.md, 'Discovery 3: "
                   "Batch Inference Amortizes PCIe': wall-clock time of one call of b samples (b = 1 to 64) of "
                   "InputData(50) -> FC 256 -> FC 256 -> FC 256 -> FC 1 on an AKD1000 PCIe board in a PC (SDK "
                   "2.19.1), repeated calls on a mapped model (warm)",
    "dma_rate": "github.com/syntheticChemistry/rustChip, AKD1000 NPU characterization (PCIe 2.0 x1 board): DMA "
                "throughput 37 MB/s sustained, read + write (164 KB of reservoir weights loaded in 4.5 ms)",
    "kws_long_run": "github.com/syntheticChemistry/rustChip baseCamp/models/edge/ds_cnn_kws.md, 'NeuroBench "
                    "Parity Target': BrainChip's ds_cnn_kws through the Python SDK on an AKD1000, about 1,400 "
                    "inferences/s and 700 uJ per inference (approximate; frame count and mapping not stated)",
    "mnist_course": "github.com/ThomasRen2077/ECE6790_Assignment3 README: MNIST CNNs run on an AKD1000 "
                    "over the 10,000 test images, statistics as printed (the course's reference "
                    "'mnistnet' and a student's design whose architecture is not published)",
}


@dataclass(frozen=True)
class PublishedRun:
    """One published run: a network mapped in ``mode``, ``frames`` frames in one call.

    ``inference_clk`` and ``program_clk``: clocks printed by the vendor's statistics;
    ``fps``: the printed "Average framerate" (host and PCIe included, 1 ms timer; every run
    here is the first call after ``map()``: a cold call);
    ``average_mw``/``floor_mw``: board power (mW); ``energy_mj``: printed mJ/frame
    (average power / fps).  ``None``: not published for that run.
    """

    key: str
    network: str
    mode: str
    frames: int
    inference_clk: float | None
    program_clk: float | None
    program_bytes: int | None
    fps: float | None
    average_mw: float | None
    floor_mw: float | None
    energy_mj: float | None
    source: str


RUNS: tuple[PublishedRun, ...] = (
    PublishedRun("dscnn_1f", "DS-CNN KWS", "AllNps", 1, 93_965, 152_396, 88_748, 62.50, None, 914.03, None,
                 "user_guide"),
    PublishedRun("akidanet_10f_a", "AkidaNet-0.5/224", "AllNps", 10, 43_000_636, 998_079, 1_361_244, 43.48,
                 1021.0, 912.23, 23.48, "user_guide"),
    PublishedRun("akidanet_10f_b", "AkidaNet-0.5/224", "AllNps", 10, 43_001_443, 1_000_756, 1_361_244, 51.28,
                 981.0, 905.21, 19.13, "power_page"),
    PublishedRun("akidanet_10f_c", "AkidaNet-0.5/224", "AllNps", 10, 43_007_313, None, 1_361_244, 53.76,
                 1047.5, None, None, "power_page"),
    PublishedRun("akidanet_1f", "AkidaNet-0.5/224", "AllNps", 1, 13_733_572, 999_868, 1_361_244, 10.99,
                 None, 907.01, None, "power_page"),
    PublishedRun("fc50_1f", "FullyConnected 50->1", "AllNps", 1, 668, 457, 752, None, None, None, None,
                 "fc_notebook"),
    PublishedRun("mnistnet_10000f", "mnistnet", "AllNps", 10_000, None, None, None, 770.00, 936.80, 894.26, 1.22,
                 "mnist_course"),
    PublishedRun("mnist_student_10000f", "MNIST CNN (architecture not published)", "AllNps", 10_000, None, None,
                 None, 1677.85, 895.27, 894.26, 0.53, "mnist_course"),
)

#: The course's reference "mnistnet" (28x28x1 8-bit input): Conv2D 16 3x3 + max pool 2, Conv2D 16 3x3
#: + max pool 2, Dense 10.  Converted for Akida 1.0 its second convolution ends with max pooling
#: before a dense layer, so it runs on the host: HW / SW / HW.
MNISTNET = (("input_conv", 16, 3, "max"), ("conv", 16, 3, "max"), ("fully_connected", 10, 1, "none"))

#: Host round trip of one call on small FC chains, seconds (low, high).
FC_ROUND_TRIP_S = (650e-6, 700e-6)

#: Wall-clock latency of one 1-sample call (s) by width N of InputConv(8->N, host) -> FC(N->N) -> FC(N->1)
#: (SOURCES['fc_width']; weight and activation bits and input density not published).
FC_WIDTH_LATENCY_S = {64: 779e-6, 128: 700e-6, 256: 812e-6, 512: 1106e-6, 1024: 1986e-6, 2048: 4969e-6,
                      4096: 16141e-6}

#: Wall-clock seconds of one warm call of ``b`` samples of 50 -> 256 -> 256 -> 256 -> 1 (SOURCES['batch_sweep']).
BATCH_SWEEP_S = {1: 0.95e-3, 2: 1.14e-3, 4: 1.70e-3, 8: 3.12e-3, 16: 7.70e-3, 32: 18.57e-3, 64: 29.28e-3}

#: Sustained DMA rate between the host and the board, bytes per second (SOURCES['dma_rate']).
DMA_BYTES_PER_S = 37e6

#: Widths of the FC chains of SOURCES['fc_width'] whose 1-sample latency is mostly host time (warm calls).
FC_HOST_BOUND_WIDTHS = (64, 128, 256)

#: DS-CNN KWS over a long run (SOURCES['kws_long_run']): (inferences per s, mJ per inference), approximate.
DSCNN_LONG_RUN = (1400.0, 0.7)

#: Floor power per clock mode, mW (low, high over the two boards), and how many times slower
#: the same model ran than in Performance.
CLOCK_MODE_FLOORS_MW = {"Performance": (900.0, 918.0), "Economy": (736.0, 743.0), "LowPower": (653.0, 662.0)}
CLOCK_MODE_SLOWDOWN = {"Performance": 1.0, "Economy": 3.0, "LowPower": 60.0}

#: AkidaNet-0.5/224: fps of the 32-NP Minimal mapping over the 68-NP AllNps mapping ("roughly half").
MINIMAL_OVER_ALLNPS_FPS = 0.5

#: The printed fps is a whole number of milliseconds per call (62.50 fps = 16 ms, 43.48 = 230 ms).
TIMER_RESOLUTION_S = 1e-3


def run(key: str) -> PublishedRun:
    """The published run named ``key`` (see ``RUNS``)."""
    for r in RUNS:
        if r.key == key:
            return r
    raise KeyError(f"no published run {key!r}; known: {[r.key for r in RUNS]}")


__all__ = ["SOURCES", "PublishedRun", "RUNS", "FC_ROUND_TRIP_S", "FC_WIDTH_LATENCY_S", "BATCH_SWEEP_S",
           "FC_HOST_BOUND_WIDTHS", "DMA_BYTES_PER_S", "DSCNN_LONG_RUN", "CLOCK_MODE_FLOORS_MW", "CLOCK_MODE_SLOWDOWN",
           "MINIMAL_OVER_ALLNPS_FPS", "TIMER_RESOLUTION_S", "MNISTNET", "run"]
