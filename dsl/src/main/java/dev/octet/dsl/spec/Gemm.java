package dev.octet.dsl.spec;

import java.util.List;

/**
 * The three GEMMs of a linear layer Y = X·Wᵀ and the operand roles each one reads:
 * fprop Y = X·Wᵀ, dgrad dX = dY·W, wgrad dW = dYᵀ·X (reduces over tokens).
 */
public enum Gemm {
    FPROP(List.of(Role.ACTIVATIONS, Role.WEIGHTS)),
    DGRAD(List.of(Role.GRADIENTS, Role.WEIGHTS)),
    WGRAD(List.of(Role.GRADIENTS, Role.ACTIVATIONS));

    private final List<Role> operands;

    Gemm(List<Role> operands) {
        this.operands = operands;
    }

    public List<Role> operands() {
        return operands;
    }

    public String lowerName() {
        return name().toLowerCase();
    }
}
