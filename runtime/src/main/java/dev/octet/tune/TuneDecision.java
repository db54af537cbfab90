package dev.octet.tune;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Projection;
import dev.octet.dsl.spec.Role;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tuner's decision: one candidate per GEMM and role (the granularity the recipe language sets for all layers
 * alike), and the linear layers kept in BF16 because some operand of theirs met the bound with no candidate. The
 * language keeps whole linear layers in BF16, by projection or by layer index, so {@code bf16Projections} and
 * {@code bf16Layers} are how those layers are written; {@code unmet} holds, per layer that had to go, the
 * operand that could not be met.
 */
public record TuneDecision(double bound, Map<Gemm, Map<Role, OperandChoice>> choices, Set<Projection> bf16Projections,
                           Set<Integer> bf16Layers, Map<ParameterTable.Linear, OperandMeasurements> unmet, Pricing pricing) {
    public TuneDecision {
        choices = Map.copyOf(choices);
        bf16Projections = Set.copyOf(bf16Projections);
        bf16Layers = Set.copyOf(bf16Layers);
        unmet = Map.copyOf(unmet);
    }

    public OperandChoice choice(Gemm gemm, Role role) {
        return choices.get(gemm).get(role);
    }

    /** Whether the tuned recipe runs this linear layer in BF16 (it was tuned because the file's recipe ran it in FP8). */
    public boolean keptBf16(ParameterTable.Linear linear) {
        return bf16Projections.contains(linear.projection()) || (linear.layer() >= 0 && bf16Layers.contains(linear.layer()));
    }

    /** The linear layers (of those measured) in BF16 and in FP8 under the tuned recipe, in {@code measured} order. */
    public List<ParameterTable.Linear> bf16Of(List<ParameterTable.Linear> measured) {
        return measured.stream().filter(this::keptBf16).toList();
    }
}
