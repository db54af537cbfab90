package dev.octet.cpu.ops;

/**
 * Learned absolute position embedding added to the token stream (GPT-2's wpe):
 * {@code out[r, :] = x[r, :] + table[positions[r], :]}, table {@code [maxSeq, dim]}.
 * The add is fused here, as llm.c's encoder does, so the op has a reason to exist apart from {@link Embedding}.
 */
public final class PositionEmbedding {
    private PositionEmbedding() {}

    /** Positions {@code 0..T-1} repeated for each of the {@code batch} sequences: the index within the sequence. */
    public static int[] sequentialPositions(int batch, int seqLen) {
        int[] p = new int[batch * seqLen];
        for (int i = 0; i < p.length; i++) p[i] = i % seqLen;
        return p;
    }

    /** Positions that restart at 0 at every document boundary of a packed sequence (documentIds per token). */
    public static int[] documentPositions(int[] documentIds, int batch, int seqLen) {
        int[] p = new int[batch * seqLen];
        for (int i = 0; i < p.length; i++) {
            boolean start = i % seqLen == 0 || documentIds[i] != documentIds[i - 1];
            p[i] = start ? 0 : p[i - 1] + 1;
        }
        return p;
    }

    public static void forward(double[] out, double[] x, double[] table, int[] positions, int rows, int maxSeq, int dim,
                               Rounding rounding) {
        Shapes.require(positions, rows, "positions");
        Shapes.require(table, (long) maxSeq * dim, "table");
        Shapes.require(x, (long) rows * dim, "x");
        Shapes.require(out, (long) rows * dim, "out");
        for (int r = 0; r < rows; r++) {
            int p = positions[r];
            Shapes.check(p >= 0 && p < maxSeq, "position " + p + " at row " + r + " outside [0, " + maxSeq + ")");
            int t = p * dim, o = r * dim;
            for (int d = 0; d < dim; d++) out[o + d] = x[o + d] + table[t + d];
        }
        rounding.apply(out, 0, rows * dim);
    }

    /** {@code x} positions are {@code r % seqLen}; rows = batch * seqLen. */
    public static void forward(double[] out, double[] x, double[] table, int batch, int seqLen, int maxSeq, int dim,
                               Rounding rounding) {
        forward(out, x, table, sequentialPositions(batch, seqLen), batch * seqLen, maxSeq, dim, rounding);
    }

    /** {@code dx = dout} (written); {@code dtable[positions[r]] += dout[r]} (accumulated). */
    public static void backward(double[] dx, double[] dtable, double[] dout, int[] positions, int rows, int maxSeq,
                                int dim) {
        Shapes.require(dtable, (long) maxSeq * dim, "dtable");
        Shapes.require(dout, (long) rows * dim, "dout");
        System.arraycopy(dout, 0, dx, 0, rows * dim);
        for (int r = 0; r < rows; r++) {
            int t = positions[r] * dim, o = r * dim;
            for (int d = 0; d < dim; d++) dtable[t + d] += dout[o + d];
        }
    }
}
