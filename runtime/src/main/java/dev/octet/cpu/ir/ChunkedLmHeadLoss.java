package dev.octet.cpu.ir;

import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Operator;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link Operator.LmHeadCrossEntropy} on the CPU, one chunk of tokens at a time as the GPU runs it: per chunk,
 * the head's logits rounded to BF16, lse kept in FP32, the weighted per-token loss, dlogits rounded to BF16,
 * dx rounded to BF16, and the chunk's share of the weight (and bias) gradient. Each of those is what the
 * unchunked nodes (fprop GEMM, cross-entropy, its backward, dgrad, wgrad, bias gradient) store, row for row;
 * only the gradient's sum over tokens is taken chunk by chunk (in double here; the GPU adds each chunk's FP32
 * partial sum into the FP32 gradient).
 */
final class ChunkedLmHeadLoss {
    private ChunkedLmHeadLoss() {}

    /** in: x, w, [bias], targets, loss weight · out: per-token losses, dx, w gradient, [bias gradient] (fresh sums). */
    static List<double[]> compute(Operator.LmHeadCrossEntropy op, double[][] in) {
        int t = op.tokens(), v = op.vocab(), d = op.dim();
        double[] x = in[0], w = in[1];
        int next = op.bias() ? 3 : 2;
        double[] bias = op.bias() ? in[2] : null;
        double[] targets = in[next];
        double weight = in[next + 1][0];
        double[] losses = new double[t];
        double[] dx = new double[t * d];
        double[] dw = new double[v * d];
        double[] db = new double[v];
        double[] logits = new double[op.chunk() * v];
        for (int c = 0; c < op.chunks(); c++) {
            int first = c * op.chunk();
            int rows = op.rows(c);
            for (int r = 0; r < rows; r++) {
                int xo = (first + r) * d;
                for (int j = 0; j < v; j++) {
                    double acc = 0;
                    for (int k = 0; k < d; k++) {
                        acc += x[xo + k] * w[j * d + k];
                    }
                    logits[r * v + j] = ElementCodec.stored(DType.BF16, bias == null ? acc : acc + bias[j]);
                }
            }
            for (int r = 0; r < rows; r++) {
                int o = r * v;
                int token = first + r;
                if (targets[token] < 0) {
                    java.util.Arrays.fill(logits, o, o + v, 0.0);
                    continue;
                }
                int target = NodeExecutor.target(targets[token], v, token);
                // The loss reads lse as computed, the backward as stored (FP32), as the unchunked nodes did.
                double exact = NodeExecutor.logSumExp(logits, o, v);
                double lse = ElementCodec.stored(DType.F32, exact);
                losses[token] = weight * (exact - logits[o + target]);
                for (int j = 0; j < v; j++) {
                    logits[o + j] = Math.exp(logits[o + j] - lse) * weight;
                }
                logits[o + target] -= weight;
                for (int j = 0; j < v; j++) {
                    logits[o + j] = ElementCodec.stored(DType.BF16, logits[o + j]);
                }
            }
            // The chunk's logits now hold its dlogits, as the fused kernel leaves them.
            for (int r = 0; r < rows; r++) {
                int xo = (first + r) * d;
                for (int k = 0; k < d; k++) {
                    double acc = 0;
                    for (int j = 0; j < v; j++) {
                        acc += logits[r * v + j] * w[j * d + k];
                    }
                    dx[xo + k] = acc;
                }
            }
            for (int j = 0; j < v; j++) {
                for (int k = 0; k < d; k++) {
                    double acc = 0;
                    for (int r = 0; r < rows; r++) {
                        acc += logits[r * v + j] * x[(first + r) * d + k];
                    }
                    dw[j * d + k] += acc;
                }
                for (int r = 0; r < rows; r++) {
                    db[j] += logits[r * v + j];
                }
            }
        }
        List<double[]> out = new ArrayList<>(List.of(losses, dx, dw));
        if (op.bias()) {
            out.add(db);
        }
        return out;
    }
}
