package dev.octet.tune;

import dev.octet.numerics.Axis;
import dev.octet.numerics.Bf16;
import dev.octet.numerics.QuantizationHealth;
import dev.octet.numerics.QuantizedMatrix;
import dev.octet.numerics.Quantizer;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Measures every candidate on one captured GEMM operand {@code [rows, K]}, read as its GEMM reduces it, against the
 * GEMM's other operand {@code [otherRows, K]}. The output is formed against {@value #SAMPLED_ROWS} evenly spaced rows
 * of the other operand (all of them when it has fewer): every row of the measured operand, and so every one of its
 * scales, still enters each sampled output, and sampling keeps twenty-eight candidates per operand affordable on
 * a CPU.
 */
final class OperandMeasurer {
    static final int SAMPLED_ROWS = 16;

    private OperandMeasurer() {}

    /** One {@link Fidelity} per candidate, in the candidates' order. A non-finite operand is the caller's to reject. */
    static Fidelity[] measure(float[] operand, int rows, int k, float[] other, int otherRows, List<TuneCandidate> candidates) {
        float[] reference = roundToBf16(operand);
        int sampled = Math.min(SAMPLED_ROWS, otherRows);
        float[] against = new float[sampled * k];
        for (int s = 0; s < sampled; s++) {
            int row = (int) ((long) s * otherRows / sampled);
            for (int c = 0; c < k; c++) {
                against[s * k + c] = Bf16.round(other[row * k + c]);
            }
        }
        double[] referenceEnergy = rowEnergies(reference, rows, k, against, sampled);
        Fidelity[] out = new Fidelity[candidates.size()];
        IntStream.range(0, candidates.size()).parallel().forEach(i -> {
            TuneCandidate c = candidates.get(i);
            QuantizedMatrix q = Quantizer.quantize(operand, rows, k, c.granularity(), Axis.COLS, c.format(), c.scale());
            float[] error = q.dequantize();
            for (int j = 0; j < error.length; j++) {
                error[j] -= reference[j];
            }
            double[] errorEnergy = rowEnergies(error, rows, k, against, sampled);
            double squared = 0;
            long counted = 0;
            for (int r = 0; r < rows; r++) {
                if (referenceEnergy[r] > 0) {
                    squared += errorEnergy[r] / referenceEnergy[r];
                    counted++;
                }
            }
            out[i] = new Fidelity(QuantizationHealth.measure(operand, q), squared, counted);
        });
        return out;
    }

    /** Per row r of the output [rows, sampled] = a·bᵀ: Σ_s (a·bᵀ)[r, s]², accumulated in double. */
    private static double[] rowEnergies(float[] a, int rows, int k, float[] b, int sampled) {
        double[] energy = new double[rows];
        for (int r = 0; r < rows; r++) {
            int aRow = r * k;
            double sum = 0;
            for (int s = 0; s < sampled; s++) {
                int bRow = s * k;
                double dot = 0;
                for (int c = 0; c < k; c++) {
                    dot += (double) a[aRow + c] * b[bRow + c];
                }
                sum += dot * dot;
            }
            energy[r] = sum;
        }
        return energy;
    }

    private static float[] roundToBf16(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = Bf16.round(x[i]);
        }
        return out;
    }
}
