package dev.octet.tune;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Role;

/** One quantized operand of the model: a linear layer, one of its three GEMMs, and one of that GEMM's two roles. */
public record OperandId(ParameterTable.Linear linear, Gemm gemm, Role role) {
    /** e.g. {@code layers.0.attention.q fprop activations}. */
    public String describe() {
        return linear.name() + " " + gemm.lowerName() + " " + role.lowerName();
    }
}
