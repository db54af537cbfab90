package dev.octet.train;

import dev.octet.gpu.CompileReport;
import java.util.List;
import java.util.Optional;

/**
 * What {@link StepBenchmark} measured of one training step on the GPU, with the figures derived from it.
 *
 * @param stepMillis        wall time of each timed step, host to host: inputs copied, graphs replayed, the host wait at its end
 * @param arenaBytes        the memory plan's arena, allocated once
 * @param usedBeforeBytes   cuMemGetInfo's total − free with the context open, before the step was loaded
 * @param usedPeakBytes     the largest total − free seen while the step was loaded and run (every process's use)
 * @param planMillis        Lowering.compile: the compiler's passes down to the plan
 * @param coldKernels       the kernels compiled by NVRTC into an empty cache, when measured
 * @param loadKernels       how the step's kernels were obtained when it loaded: warm after a cold compile, else
 *                          through the user's kernel cache, hits and misses as they came
 * @param lastLoss          the loss of the last timed step, to show the step computed something finite
 * @param profile           with {@code --profile}: one more step timed launch by launch, by kernel family
 */
public record BenchMeasurement(String model, String training, String recipe, GemmPeak peak, String device,
                               int microBatch, int accumulation, int seqLen, double flopsPerStep, int warmup,
                               List<Double> stepMillis, long arenaBytes, long usedBeforeBytes, long usedPeakBytes,
                               long totalBytes, long planMillis, Optional<KernelCompile> coldKernels,
                               KernelCompile loadKernels, float lastLoss, Optional<StepProfile> profile) {
    public BenchMeasurement {
        stepMillis = List.copyOf(stepMillis);
        if (stepMillis.isEmpty()) {
            throw new IllegalArgumentException("no timed step");
        }
    }

    /** Without a profile. */
    public BenchMeasurement(String model, String training, String recipe, GemmPeak peak, String device, int microBatch,
                            int accumulation, int seqLen, double flopsPerStep, int warmup, List<Double> stepMillis,
                            long arenaBytes, long usedBeforeBytes, long usedPeakBytes, long totalBytes, long planMillis,
                            Optional<KernelCompile> coldKernels, KernelCompile loadKernels, float lastLoss) {
        this(model, training, recipe, peak, device, microBatch, accumulation, seqLen, flopsPerStep, warmup, stepMillis,
                arenaBytes, usedBeforeBytes, usedPeakBytes, totalBytes, planMillis, coldKernels, loadKernels, lastLoss,
                Optional.empty());
    }

    /** One compile of the step's distinct kernels through a cache. */
    public record KernelCompile(int kernels, int hits, int misses, long wallMillis) {
        public static KernelCompile of(CompileReport report) {
            return new KernelCompile(report.hits() + report.misses(), report.hits(), report.misses(), report.wallMillis());
        }

        public boolean warm() {
            return misses == 0;
        }
    }

    /** Tokens of one optimizer step: micro-batch × sequence length × micro-batches per step. */
    public long tokensPerStep() {
        return (long) microBatch * seqLen * accumulation;
    }

    public double medianMillis() {
        double[] sorted = stepMillis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    public double minMillis() {
        return stepMillis.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    public double maxMillis() {
        return stepMillis.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }

    /** (max − min) / median: the spread of the timed steps as a fraction of the median. */
    public double relativeSpread() {
        return (maxMillis() - minMillis()) / medianMillis();
    }

    /** Tokens per step over the median step time. */
    public double tokensPerSecond() {
        return tokensPerStep() / (medianMillis() / 1e3);
    }

    /** The compiler's FLOPs per step (6 per weight per token plus attention) over the median step time. */
    public double modelTeraFlops() {
        return flopsPerStep / (medianMillis() / 1e3) / 1e12;
    }

    /** Model FLOPs utilisation against {@link #peak}. */
    public double mfu() {
        return peak.utilisation(modelTeraFlops());
    }
}
