package dev.octet.tune;

import java.util.List;

/**
 * Every candidate's fidelity on one operand over the calibration steps, and the operand's shape as its GEMM reads
 * it, {@code [rows, K]}, which decides which group and block sizes the GPU kernels can run on it.
 */
public record OperandMeasurements(OperandId id, int rows, int k, List<TuneCandidate> candidates, List<Fidelity> fidelity) {
    public OperandMeasurements {
        candidates = List.copyOf(candidates);
        fidelity = List.copyOf(fidelity);
        if (candidates.size() != fidelity.size()) {
            throw new IllegalArgumentException(candidates.size() + " candidates, " + fidelity.size() + " measurements");
        }
    }

    public Fidelity of(TuneCandidate candidate) {
        int i = candidates.indexOf(candidate);
        if (i < 0) {
            throw new IllegalArgumentException(candidate.describe() + " was not measured on " + id.describe());
        }
        return fidelity.get(i);
    }

    /**
     * Whether Octet's FP8 kernels run this candidate on this operand: groups and blocks must divide K, and blocks
     * the rows too (the kernels have no tail handling; the same rule as the recipe checker's).
     */
    public boolean fits(TuneCandidate candidate) {
        int size = candidate.tileSize();
        if (size == 0) {
            return true;
        }
        return k % size == 0 && (!(candidate.granularity() instanceof dev.octet.numerics.Granularity.Block) || rows % size == 0);
    }
}
