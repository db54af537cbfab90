package dev.octet.cpu.ops;

/**
 * Causal grouped-query attention of new tokens against a key/value cache, for generation. A cache holds the
 * keys (after RoPE) and values of one sequence, {@code [position, kvHeads, headDim]} from {@code base}, as the
 * full forward pass lays out its k and v rows.
 *
 * <p>{@link #attendRow} repeats {@link Attention#forward}'s arithmetic for one query row in the same order —
 * scores in key order, max-subtracted exponentials, their sum, then the weighted values, rounded once — so
 * decoding token by token gives the full pass's output bit for bit.
 */
public final class CachedAttention {
    private CachedAttention() {}

    /**
     * One decoding step of {@code sequences} sequences, one new token each: row s's k and v go to
     * {@code positions[s]} of sequence s's cache, then its q attends to positions {@code 0..positions[s]}.
     * q and out {@code [sequences, heads·headDim]}, k and v {@code [sequences, kvHeads·headDim]}, caches
     * {@code [sequences, maxSeq, kvHeads·headDim]} (updated in place).
     */
    public static void step(double[] out, double[] q, double[] k, double[] v, int[] positions, double[] keyCache,
                            double[] valueCache, int sequences, int maxSeq, int heads, int kvHeads, int headDim,
                            Rounding rounding) {
        int kvRow = kvHeads * headDim;
        Shapes.require(q, (long) sequences * heads * headDim, "q");
        Shapes.require(out, (long) sequences * heads * headDim, "out");
        Shapes.require(k, (long) sequences * kvRow, "k");
        Shapes.require(v, (long) sequences * kvRow, "v");
        Shapes.require(keyCache, (long) sequences * maxSeq * kvRow, "key cache");
        Shapes.require(valueCache, (long) sequences * maxSeq * kvRow, "value cache");
        double[] p = new double[maxSeq];
        for (int s = 0; s < sequences; s++) {
            int position = positions[s];
            if (position < 0 || position >= maxSeq) {
                throw new IllegalArgumentException("sequence " + s + " is at position " + position + ", outside [0, "
                        + maxSeq + ")");
            }
            int base = s * maxSeq * kvRow;
            System.arraycopy(k, s * kvRow, keyCache, base + position * kvRow, kvRow);
            System.arraycopy(v, s * kvRow, valueCache, base + position * kvRow, kvRow);
            attendRow(out, q, s, keyCache, valueCache, base, position, heads, kvHeads, headDim, p, rounding);
        }
    }

    /**
     * Query row {@code row} of q (every head) against cache positions {@code 0..position} starting at
     * {@code base}; writes that row of {@code out}. {@code p} is scratch of at least {@code position + 1}.
     */
    public static void attendRow(double[] out, double[] q, int row, double[] keys, double[] values, int base,
                                 int position, int heads, int kvHeads, int headDim, double[] p, Rounding rounding) {
        int group = heads / kvHeads;
        double scale = 1.0 / Math.sqrt(headDim);
        for (int h = 0; h < heads; h++) {
            int kh = h / group;
            int qo = (row * heads + h) * headDim;
            double max = Double.NEGATIVE_INFINITY;
            for (int s = 0; s <= position; s++) {
                int ko = base + (s * kvHeads + kh) * headDim;
                double dot = 0;
                for (int d = 0; d < headDim; d++) dot += q[qo + d] * keys[ko + d];
                p[s] = dot * scale;
                max = Math.max(max, p[s]);
            }
            double sum = 0;
            for (int s = 0; s <= position; s++) {
                p[s] = Math.exp(p[s] - max);
                sum += p[s];
            }
            java.util.Arrays.fill(out, qo, qo + headDim, 0.0);
            for (int s = 0; s <= position; s++) {
                int vo = base + (s * kvHeads + kh) * headDim;
                double w = p[s] / sum;
                for (int d = 0; d < headDim; d++) out[qo + d] += w * values[vo + d];
            }
            rounding.apply(out, qo, qo + headDim);
        }
    }
}
