package dev.octet.train;

import java.util.List;
import java.util.Optional;

/** Measurements as StepBenchmark would return them, with round figures to check the arithmetic against. */
public final class FakeBench {
    private FakeBench() {}

    /**
     * The tiny example's shape (4 x 128 tokens in one micro-batch), five steps of 2.0, 2.5, 2.2, 2.1 and 3.0 ms
     * (median 2.2), 1.1e10 FLOPs per step (5 TFLOP/s at the median), a 26.6 MiB arena, 500 MiB in use before
     * loading and 800 MiB at the peak; kernels compiled cold in 3400 ms, loaded warm in 45 ms.
     */
    public static BenchMeasurement measurement(String recipe, GemmPeak peak) {
        return new BenchMeasurement("tiny", "tiny_pretrain", recipe, peak, "NVIDIA H200", 4, 1, 128, 1.1e10, 3,
                List.of(2.0, 2.5, 2.2, 2.1, 3.0), (long) (26.6 * (1 << 20)), 500L << 20, 800L << 20, 143_771L << 20, 210,
                Optional.of(new BenchMeasurement.KernelCompile(31, 0, 31, 3400)),
                new BenchMeasurement.KernelCompile(31, 31, 0, 45), 8.3f);
    }

    /** {@link #measurement} without the cold compile: the step loaded through the user's cache, 29 of 31 from it. */
    public static BenchMeasurement withoutColdCompile(String recipe, GemmPeak peak) {
        BenchMeasurement m = measurement(recipe, peak);
        return new BenchMeasurement(m.model(), m.training(), m.recipe(), m.peak(), m.device(), m.microBatch(),
                m.accumulation(), m.seqLen(), m.flopsPerStep(), m.warmup(), m.stepMillis(), m.arenaBytes(),
                m.usedBeforeBytes(), m.usedPeakBytes(), m.totalBytes(), m.planMillis(), Optional.empty(),
                new BenchMeasurement.KernelCompile(31, 29, 2, 900), m.lastLoss());
    }
}
