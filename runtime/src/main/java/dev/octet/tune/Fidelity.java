package dev.octet.tune;

import dev.octet.numerics.QuantizationHealth;

/**
 * What one candidate cost one operand in fidelity, as sums that merge over micro-batches and calibration steps:
 * the quantization's health (SNR, saturated and flushed fractions) and the GEMM output's relative error against the
 * BF16 GEMM, with only this operand quantized and the other read in BF16. The error is taken per output row (a
 * token's output, or a weight row's) and combined as a root mean square, so that a few very large rows (massive
 * activations) cannot hide what the scaling they force does to every other row.
 */
public record Fidelity(QuantizationHealth health, double squaredRowErrors, long rows) {
    public Fidelity merge(Fidelity other) {
        return new Fidelity(health.merge(other.health), squaredRowErrors + other.squaredRowErrors, rows + other.rows);
    }

    /** √(mean over output rows of (‖y_fp8 − y_bf16‖ / ‖y_bf16‖)²); 0 when every output row was zero. */
    public double gemmRelativeError() {
        return rows == 0 ? 0 : Math.sqrt(squaredRowErrors / rows);
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
