package dev.octet.cpu.ops;

/**
 * Softmax cross-entropy over logits {@code [M, V]} with a per-token loss mask:
 * {@code loss = Σ_r mask[r]·(−log softmax(logits[r])[targets[r]]) / Σ_r mask[r]}.
 * The mask is 0/1 for the usual "which tokens count" (prompt masking, padding), but any non-negative weights work.
 * Rows with mask 0 are never read (their target may be an ignore index such as −100). With no masked-in token
 * the loss is 0 and the gradient is zero, never NaN. Max-subtracted, so stable for any logits.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    /** A boolean loss mask as the 0/1 weights the other methods take. */
    public static double[] mask(boolean[] counts) {
        double[] m = new double[counts.length];
        for (int i = 0; i < m.length; i++) m[i] = counts[i] ? 1 : 0;
        return m;
    }

    /** Every token counts. */
    public static double forward(double[] logits, int[] targets, int rows, int vocab) {
        return forward(logits, targets, ones(rows), rows, vocab);
    }

    public static double forward(double[] logits, int[] targets, double[] mask, int rows, int vocab) {
        checkShapes(logits, targets, mask, rows, vocab);
        double count = count(mask, rows);
        if (count == 0) return 0;
        double[] rowLoss = new double[rows];
        Parallel.forEach(rows, r -> {
            if (mask[r] == 0) return;
            int o = r * vocab, target = targets[r];
            Shapes.check(target >= 0 && target < vocab, "target " + target + " at row " + r + " outside vocab");
            rowLoss[r] = mask[r] * (logSumExp(logits, o, vocab) - logits[o + target]);
        });
        double sum = 0; // summed in row order so the loss does not depend on the thread split
        for (int r = 0; r < rows; r++) sum += rowLoss[r];
        return sum / count;
    }

    /** Every token counts. */
    public static void backward(double[] dlogits, double[] logits, int[] targets, int rows, int vocab, double dloss,
                                Rounding rounding) {
        backward(dlogits, logits, targets, ones(rows), rows, vocab, dloss, rounding);
    }

    /** {@code dlogits = (softmax − onehot(target))·mask/Σmask·dloss}, written (zero rows where mask is 0). */
    public static void backward(double[] dlogits, double[] logits, int[] targets, double[] mask, int rows, int vocab,
                                double dloss, Rounding rounding) {
        checkShapes(logits, targets, mask, rows, vocab);
        Shapes.require(dlogits, (long) rows * vocab, "dlogits");
        double count = count(mask, rows);
        Parallel.forEach(rows, r -> {
            int o = r * vocab;
            if (count == 0 || mask[r] == 0) {
                java.util.Arrays.fill(dlogits, o, o + vocab, 0.0);
                return;
            }
            double lse = logSumExp(logits, o, vocab), c = mask[r] / count * dloss;
            for (int j = 0; j < vocab; j++) dlogits[o + j] = Math.exp(logits[o + j] - lse) * c;
            dlogits[o + targets[r]] -= c;
            rounding.apply(dlogits, o, o + vocab);
        });
    }

    private static double logSumExp(double[] a, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) max = Math.max(max, a[from + j]);
        double sum = 0;
        for (int j = 0; j < n; j++) sum += Math.exp(a[from + j] - max);
        return max + Math.log(sum);
    }

    private static double count(double[] mask, int rows) {
        double c = 0;
        for (int r = 0; r < rows; r++) {
            Shapes.check(mask[r] >= 0, "mask must be non-negative, row " + r + " has " + mask[r]);
            c += mask[r];
        }
        return c;
    }

    private static double[] ones(int rows) {
        double[] m = new double[rows];
        java.util.Arrays.fill(m, 1.0);
        return m;
    }

    private static void checkShapes(double[] logits, int[] targets, double[] mask, int rows, int vocab) {
        Shapes.require(logits, (long) rows * vocab, "logits");
        Shapes.require(targets, rows, "targets");
        Shapes.require(mask, rows, "mask");
    }
}
