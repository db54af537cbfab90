package dev.octet.cpu.ops;

/**
 * Causal scaled-dot-product attention with grouped-query attention and document masking.
 *
 * <p>Layouts: q and out {@code [B*T, H, hd]}, k and v {@code [B*T, KvH, hd]}; query head h reads kv head
 * {@code h / (H/KvH)}. Query t attends to key s iff {@code s ≤ t} and {@code documentIds[s] == documentIds[t]}
 * (same sequence b), so packed documents do not see each other. Scale {@code 1/sqrt(hd)}.
 *
 * <p>Flash-attention style, forward saves only the logsumexp of each score row, {@code lse [B*T, H]}
 * (FP32 on the GPU, unrounded here); backward recomputes the probabilities {@code p = exp(s − lse)} from q, k
 * and uses {@code D_t = Σ dout_t·out_t} (the saved output), as FlashAttention-2's backward does.
 * Every query sees at least itself, so lse is always finite.
 */
public final class Attention {
    private Attention() {}

    /** Attention without document boundaries (every sequence is one document). */
    public static void forward(double[] out, double[] lse, double[] q, double[] k, double[] v, int batch, int seqLen,
                               int heads, int kvHeads, int headDim, Rounding rounding) {
        forward(out, lse, q, k, v, new int[batch * seqLen], batch, seqLen, heads, kvHeads, headDim, rounding);
    }

    public static void forward(double[] out, double[] lse, double[] q, double[] k, double[] v, int[] documentIds,
                               int batch, int seqLen, int heads, int kvHeads, int headDim, Rounding rounding) {
        checkShapes(q, k, v, documentIds, batch, seqLen, heads, kvHeads, headDim);
        Shapes.require(out, (long) batch * seqLen * heads * headDim, "out");
        Shapes.require(lse, (long) batch * seqLen * heads, "lse");
        int group = heads / kvHeads, T = seqLen, H = heads, hd = headDim;
        double scale = 1.0 / Math.sqrt(hd);
        Parallel.forEach(batch * heads, task -> {
            int b = task / H, h = task % H, kh = h / group;
            double[] p = new double[T];
            for (int t = 0; t < T; t++) {
                int row = b * T + t, qo = (row * H + h) * hd;
                double max = Double.NEGATIVE_INFINITY;
                for (int s = 0; s <= t; s++) {
                    if (!visible(documentIds, b * T + s, row)) continue;
                    int ko = ((b * T + s) * kvHeads + kh) * hd;
                    double dot = 0;
                    for (int d = 0; d < hd; d++) dot += q[qo + d] * k[ko + d];
                    p[s] = dot * scale;
                    max = Math.max(max, p[s]);
                }
                double sum = 0;
                for (int s = 0; s <= t; s++) {
                    if (!visible(documentIds, b * T + s, row)) continue;
                    p[s] = Math.exp(p[s] - max);
                    sum += p[s];
                }
                lse[row * H + h] = max + Math.log(sum);
                for (int d = 0; d < hd; d++) out[qo + d] = 0;
                for (int s = 0; s <= t; s++) {
                    if (!visible(documentIds, b * T + s, row)) continue;
                    int vo = ((b * T + s) * kvHeads + kh) * hd;
                    double w = p[s] / sum;
                    for (int d = 0; d < hd; d++) out[qo + d] += w * v[vo + d];
                }
                rounding.apply(out, qo, qo + hd);
            }
        });
    }

    /** Backward without document boundaries. */
    public static void backward(double[] dq, double[] dk, double[] dv, double[] dout, double[] q, double[] k,
                                double[] v, double[] out, double[] lse, int batch, int seqLen, int heads, int kvHeads,
                                int headDim, Rounding rounding) {
        backward(dq, dk, dv, dout, q, k, v, out, lse, new int[batch * seqLen], batch, seqLen, heads, kvHeads, headDim,
                rounding);
    }

    /**
     * Writes {@code dq}, {@code dk}, {@code dv} (all three are inputs, so written, not accumulated). Runs in parallel
     * over (batch, kv head): the query heads of one group all add into the same dk, dv rows, so a group is one task.
     */
    public static void backward(double[] dq, double[] dk, double[] dv, double[] dout, double[] q, double[] k,
                                double[] v, double[] out, double[] lse, int[] documentIds, int batch, int seqLen,
                                int heads, int kvHeads, int headDim, Rounding rounding) {
        checkShapes(q, k, v, documentIds, batch, seqLen, heads, kvHeads, headDim);
        Shapes.require(dq, (long) batch * seqLen * heads * headDim, "dq");
        Shapes.require(dk, (long) batch * seqLen * kvHeads * headDim, "dk");
        Shapes.require(dv, (long) batch * seqLen * kvHeads * headDim, "dv");
        int group = heads / kvHeads, T = seqLen, H = heads, hd = headDim;
        double scale = 1.0 / Math.sqrt(hd);
        Parallel.forEach(batch * kvHeads, task -> {
            int b = task / kvHeads, kh = task % kvHeads;
            for (int s = 0; s < T; s++) {
                int ko = ((b * T + s) * kvHeads + kh) * hd;
                for (int d = 0; d < hd; d++) dk[ko + d] = dv[ko + d] = 0;
            }
            for (int h = kh * group; h < (kh + 1) * group; h++) {
                for (int t = 0; t < T; t++) {
                    int row = b * T + t, qo = (row * H + h) * hd;
                    double rowLse = lse[row * H + h];
                    double dSum = 0;
                    for (int d = 0; d < hd; d++) dSum += dout[qo + d] * out[qo + d];
                    for (int d = 0; d < hd; d++) dq[qo + d] = 0;
                    for (int s = 0; s <= t; s++) {
                        if (!visible(documentIds, b * T + s, row)) continue;
                        int ko = ((b * T + s) * kvHeads + kh) * hd;
                        double dot = 0, dp = 0;
                        for (int d = 0; d < hd; d++) {
                            dot += q[qo + d] * k[ko + d];
                            dp += dout[qo + d] * v[ko + d];
                        }
                        double p = Math.exp(dot * scale - rowLse);
                        double ds = p * (dp - dSum) * scale;
                        for (int d = 0; d < hd; d++) {
                            dq[qo + d] += ds * k[ko + d];
                            dk[ko + d] += ds * q[qo + d];
                            dv[ko + d] += p * dout[qo + d];
                        }
                    }
                    rounding.apply(dq, qo, qo + hd);
                }
            }
            for (int s = 0; s < T; s++) {
                int ko = ((b * T + s) * kvHeads + kh) * hd;
                rounding.apply(dk, ko, ko + hd);
                rounding.apply(dv, ko, ko + hd);
            }
        });
    }

    private static boolean visible(int[] documentIds, int keyRow, int queryRow) {
        return documentIds[keyRow] == documentIds[queryRow];
    }

    private static void checkShapes(double[] q, double[] k, double[] v, int[] documentIds, int batch, int seqLen,
                                    int heads, int kvHeads, int headDim) {
        Shapes.check(kvHeads > 0 && heads % kvHeads == 0,
                "heads " + heads + " must be a multiple of kvHeads " + kvHeads);
        long rows = (long) batch * seqLen;
        Shapes.require(q, rows * heads * headDim, "q");
        Shapes.require(k, rows * kvHeads * headDim, "k");
        Shapes.require(v, rows * kvHeads * headDim, "v");
        Shapes.require(documentIds, rows, "documentIds");
    }
}
