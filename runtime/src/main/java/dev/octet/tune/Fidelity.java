package dev.octet.tune;

import dev.octet.numerics.QuantizationHealth;

/**
 * What one candidate cost one operand in fidelity, as sums that merge over micro-batches and calibration steps:
 * the quantization's health (SNR, saturated and flushed fractions) and the energies behind the GEMM's relative
 * error, {@code ‖Y_fp8 − Y_bf16‖ / ‖Y_bf16‖}, where only this operand is quantized and the other is read in BF16.
 */
public record Fidelity(QuantizationHealth health, double errorEnergy, double referenceEnergy) {
    public Fidelity merge(Fidelity other) {
        return new Fidelity(health.merge(other.health), errorEnergy + other.errorEnergy, referenceEnergy + other.referenceEnergy);
    }

    /** The GEMM output's relative (Frobenius) error against the BF16 GEMM; 0 when the output is all zeros. */
    public double gemmRelativeError() {
        return referenceEnergy == 0 ? 0 : Math.sqrt(errorEnergy / referenceEnergy);
    }

    public double snrDb() {
        return health.snrDb();
    }

    public double saturatedFraction() {
        return health.saturatedFraction();
    }

    public double flushedFraction() {
        return health.flushedFraction();
    }
}
