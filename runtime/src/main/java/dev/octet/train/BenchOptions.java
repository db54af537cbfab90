package dev.octet.train;

/**
 * How {@link StepBenchmark} measures a step: {@code steps} timed steps after {@code warmup} untimed ones,
 * whether the kernels are first compiled cold into an empty cache (timing NVRTC) before the step loads them warm,
 * and whether one more step is timed launch by launch ({@link StepProfile}).
 */
public record BenchOptions(int steps, int warmup, boolean coldCompile, boolean profile) {
    public BenchOptions {
        if (steps < 1 || warmup < 0) {
            throw new IllegalArgumentException("steps must be at least 1 and warmup 0 or more, not " + steps + " and " + warmup);
        }
    }

    /** Without a profile. */
    public BenchOptions(int steps, int warmup, boolean coldCompile) {
        this(steps, warmup, coldCompile, false);
    }
}
