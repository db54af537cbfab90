package dev.octet.dsl.spec;

import dev.octet.dsl.ast.SourcePos;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A checked FP8 recipe: for each GEMM and each of its two operands, how that operand is quantized;
 * what stays in BF16; and the precision of master weights and optimizer states.
 */
public record RecipeSpec(
        String name, SourcePos pos, Optional<String> forModel,
        Map<Gemm, Map<Role, OperandQuant>> operands, Bf16Scope bf16,
        Precision masterWeights, Precision optimizerStates, Set<Recompute> recompute) {
    public RecipeSpec {
        operands = Map.copyOf(operands);
        recompute = Set.copyOf(recompute);
    }

    /** The same recipe recomputing {@code activations} instead. */
    public RecipeSpec withRecompute(Set<Recompute> activations) {
        return new RecipeSpec(name, pos, forModel, operands, bf16, masterWeights, optimizerStates, activations);
    }

    public OperandQuant operand(Gemm gemm, Role role) {
        OperandQuant q = operands.get(gemm).get(role);
        if (q == null) {
            throw new IllegalArgumentException(gemm + " has no " + role + " operand");
        }
        return q;
    }

    /** True when no linear layer runs in FP8 (the {@code bf16} baseline). */
    public boolean allBf16() {
        return bf16.everything();
    }

    /** "weights block(128) e4m3, activations group(128) e4m3, ... ue8m0 current", or "bf16". */
    public String describe() {
        if (allBf16()) {
            return "bf16 (no fp8)";
        }
        StringBuilder sb = new StringBuilder();
        OperandQuant w = operand(Gemm.FPROP, Role.WEIGHTS);
        OperandQuant x = operand(Gemm.FPROP, Role.ACTIVATIONS);
        OperandQuant g = operand(Gemm.DGRAD, Role.GRADIENTS);
        sb.append("W ").append(w.describe()).append(", X ").append(x.describe()).append(", dY ").append(g.describe());
        for (Gemm gemm : Gemm.values()) {
            for (Role role : gemm.operands()) {
                // Each role's headline setting is where it first appears: fprop for W and X, dgrad for dY.
                OperandQuant base = operand(role == Role.GRADIENTS ? Gemm.DGRAD : Gemm.FPROP, role);
                OperandQuant here = operand(gemm, role);
                if (!here.equals(base)) {
                    sb.append(", ").append(gemm.lowerName()).append(' ').append(role.lowerName()).append(' ').append(here.describe());
                }
            }
        }
        sb.append("; scales ").append(x.scaleType().lowerName()).append(' ').append(x.scaling().describe());
        return sb.toString();
    }
}
