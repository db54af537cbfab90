package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.ir.DType;
import java.util.Objects;

/**
 * What a GEMM does with each FP32 result {@code acc[m, n]} before it leaves the kernel, in this order and in
 * FP32 with one rounding per step (no fused multiply-add, so a CPU oracle can follow it exactly):
 * <pre>
 *   v = acc
 *   v = v + bias[n]                      (bias: bf16[N], the working copy)
 *   v = v + residual[m, n]               (residual: bf16[M, N], widened exactly)
 *   v = c[m, n] + v                      (accumulate: c is f32, read then written)
 *   c[m, n] = round(v)                   (to BF16 round-to-nearest-even, or kept as FP32)
 * </pre>
 * Accumulation needs an FP32 output: it exists for gradients summed across micro-batches, and a BF16
 * running sum would lose them.
 */
public record GemmEpilogue(DType output, boolean accumulate, boolean bias, boolean residual) {
    public GemmEpilogue {
        Objects.requireNonNull(output, "output");
        if (output != DType.BF16 && output != DType.F32) {
            throw new IllegalArgumentException("GEMM output must be bf16 or f32, not " + output.irName());
        }
        if (accumulate && output != DType.F32) {
            throw new IllegalArgumentException("accumulating into C needs an f32 output (a bf16 running sum loses gradients)");
        }
    }

    /** {@code c = round(acc)}. */
    public static GemmEpilogue store(DType output) {
        return new GemmEpilogue(output, false, false, false);
    }

    /** {@code c += acc} in FP32. */
    public static GemmEpilogue accumulateF32() {
        return new GemmEpilogue(DType.F32, true, false, false);
    }

    public GemmEpilogue withBias() {
        return new GemmEpilogue(output, accumulate, true, residual);
    }

    public GemmEpilogue withResidual() {
        return new GemmEpilogue(output, accumulate, bias, true);
    }

    /** Name fragment: bf16, f32_acc, bf16_bias_res. */
    String tag() {
        return output.irName() + (accumulate ? "_acc" : "") + (bias ? "_bias" : "") + (residual ? "_res" : "");
    }
}
