package dev.octet.tune;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Projection;
import dev.octet.dsl.spec.Role;
import java.util.List;
import java.util.Random;

/** Operands built to a purpose (benign, with outlier tokens, with a dynamic range no FP8 tile holds), measured as the tuner measures. */
final class SyntheticOperands {
    static final int TOKENS = 64;
    static final int K = 128;
    static final int OTHER_ROWS = 32;

    private SyntheticOperands() {}

    static ParameterTable.Linear linear(Projection projection, int layer) {
        String name = "layers." + layer + "." + projection.lowerName();
        return new ParameterTable.Linear(name, projection, layer, K, K, false, name + ".weight");
    }

    /** Standard normal values, [rows, cols]. */
    static float[] gaussian(int rows, int cols, long seed) {
        Random random = new Random(seed);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    /**
     * Gaussian tokens, four of which are 10⁹ times larger (massive activations): one tensor-wide scale flushes the
     * other tokens below even E5M2's smallest subnormal.
     */
    static float[] outlierTokens(long seed) {
        float[] x = gaussian(TOKENS, K, seed);
        for (int row : new int[] {5, 20, 41, 63}) {
            for (int c = 0; c < K; c++) {
                x[row * K + c] *= 1e9f;
            }
        }
        return x;
    }

    /**
     * Every other element 10¹² times larger, in every row: every tile, down to group(32), holds both, and no FP8
     * format spans that range, so the small elements flush to zero whatever the scale. {@link #zeroAtEvenColumns} makes them all the output has.
     */
    static float[] unscalable(long seed) {
        float[] x = gaussian(TOKENS, K, seed);
        for (int i = 0; i < x.length; i += 2) {
            x[i] = x[i] < 0 ? -1e12f : 1e12f;
        }
        return x;
    }

    static float[] zeroAtEvenColumns(float[] x) {
        float[] out = x.clone();
        for (int i = 0; i < out.length; i += 2) {
            out[i] = 0;
        }
        return out;
    }

    /** {@code operand} [TOKENS, K] as {@code role} of {@code gemm} in {@code linear}, against {@code other} [OTHER_ROWS, K]. */
    static OperandMeasurements measured(ParameterTable.Linear linear, Gemm gemm, Role role, float[] operand, float[] other) {
        List<TuneCandidate> candidates = TuneCandidate.forOperand(gemm, role);
        Fidelity[] f = OperandMeasurer.measure(operand, TOKENS, K, other, OTHER_ROWS, candidates);
        return new OperandMeasurements(new OperandId(linear, gemm, role), TOKENS, K, candidates, List.of(f));
    }

    /** All six operands of a linear layer, benign (Gaussian), each from its own seed. */
    static List<OperandMeasurements> benignLayer(ParameterTable.Linear linear, long seed) {
        return allOperands(linear, gaussian(TOKENS, K, seed), gaussian(OTHER_ROWS, K, seed + 1), seed);
    }

    /** All six operands of a linear layer, its fprop activations {@code activations} read against {@code weights}. */
    static List<OperandMeasurements> allOperands(ParameterTable.Linear linear, float[] activations, float[] weights, long seed) {
        List<OperandMeasurements> out = new java.util.ArrayList<>();
        long s = seed + 10;
        for (Gemm gemm : Gemm.values()) {
            for (Role role : gemm.operands()) {
                out.add(gemm == Gemm.FPROP && role == Role.ACTIVATIONS ? measured(linear, gemm, role, activations, weights)
                        : measured(linear, gemm, role, gaussian(TOKENS, K, s++), gaussian(OTHER_ROWS, K, s++)));
            }
        }
        return out;
    }
}
