package dev.octet.tune;

import java.util.List;
import java.util.Optional;

/**
 * What the tuned recipe sets for one GEMM operand role (e.g. wgrad gradients) across the layers it runs in FP8:
 * the chosen candidate, the operands it was measured on, and the next cheaper candidate that missed the bound
 * (the reason the choice is not cheaper). Empty operands: every layer of this role was left in BF16.
 */
public record OperandChoice(TuneCandidate candidate, List<OperandMeasurements> operands, Optional<TuneCandidate> cheaperMiss) {
    public OperandChoice {
        operands = List.copyOf(operands);
    }

    /** The operand where the chosen candidate's GEMM error is largest. */
    public Optional<OperandMeasurements> worst() {
        return worstFor(candidate);
    }

    public Optional<OperandMeasurements> worstFor(TuneCandidate c) {
        OperandMeasurements worst = null;
        for (OperandMeasurements m : operands) {
            if (worst == null || m.of(c).gemmRelativeError() > worst.of(c).gemmRelativeError()) {
                worst = m;
            }
        }
        return Optional.ofNullable(worst);
    }
}
