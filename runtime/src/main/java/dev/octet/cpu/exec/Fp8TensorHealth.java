package dev.octet.cpu.exec;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.Role;
import dev.octet.numerics.QuantizationHealth;

/** The health of one FP8 operand quantization of one step: which layer, which GEMM, which operand. */
public record Fp8TensorHealth(String layer, Gemm gemm, Role operand, QuantizationHealth health) {
    /** A stable name for charts and logs, e.g. {@code layers.0.attention.q fprop activations}. */
    public String tensor() {
        return layer + " " + gemm.lowerName() + " " + operand.lowerName();
    }
}
