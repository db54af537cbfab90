package dev.octet.train;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * How {@link StepBenchmark} measures a step: {@code steps} timed steps after {@code warmup} untimed ones,
 * whether the kernels are first compiled cold into an empty cache (timing NVRTC) before the step loads them warm,
 * whether one more step is timed launch by launch ({@link StepProfile}), and the LM head's loss workspace when
 * not the compiler's default ({@code CompileTarget.withLossWorkspace}).
 */
public record BenchOptions(int steps, int warmup, boolean coldCompile, boolean profile, OptionalLong lossWorkspaceBytes) {
    public BenchOptions {
        if (steps < 1 || warmup < 0) {
            throw new IllegalArgumentException("steps must be at least 1 and warmup 0 or more, not " + steps + " and " + warmup);
        }
        Objects.requireNonNull(lossWorkspaceBytes, "lossWorkspaceBytes");
    }

    /** With the default loss workspace. */
    public BenchOptions(int steps, int warmup, boolean coldCompile, boolean profile) {
        this(steps, warmup, coldCompile, profile, OptionalLong.empty());
    }

    /** Without a profile. */
    public BenchOptions(int steps, int warmup, boolean coldCompile) {
        this(steps, warmup, coldCompile, false);
    }
}
