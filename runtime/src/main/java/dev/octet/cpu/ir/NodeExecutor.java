package dev.octet.cpu.ir;

import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.cuda.optim.AdamWScalarSlot;
import dev.octet.cpu.exec.NonFiniteTensorException;
import dev.octet.cpu.ops.AdamW;
import dev.octet.cpu.ops.Attention;
import dev.octet.cpu.ops.CachedAttention;
import dev.octet.cpu.ops.Embedding;
import dev.octet.cpu.ops.Gelu;
import dev.octet.cpu.ops.GradientClipping;
import dev.octet.cpu.ops.LayerNorm;
import dev.octet.cpu.ops.Linear;
import dev.octet.cpu.ops.PositionEmbedding;
import dev.octet.cpu.ops.RmsNorm;
import dev.octet.cpu.ops.Rope;
import dev.octet.cpu.ops.Rounding;
import dev.octet.cpu.ops.SwiGlu;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.Axis;
import dev.octet.numerics.DelayedScaling;
import dev.octet.numerics.Fp8Gemm;
import dev.octet.numerics.QuantizedMatrix;
import dev.octet.numerics.Quantizer;
import dev.octet.numerics.ScaleGrid;
import java.util.ArrayList;
import java.util.List;

/**
 * Executes one IR node on the CPU with the reference ops: reads its inputs from {@link Buffers}, computes,
 * writes its outputs back. Each operator computes what its javadoc states, in the arithmetic of the CPU
 * oracle ({@code GraphInterpreter} with {@link Rounding#GPU}), so the IR and the oracle differ only where
 * the IR stores a value in a narrower type than the oracle keeps it (FP32 rstd, lse, gradients and losses;
 * BF16 sums of two gradient contributions). An output that is also written by the host (the clip slot of the
 * step scalars) is read first, so the node changes only its own part of it.
 *
 * <p>Every operator first computes fresh output contents; an output the node
 * {@linkplain Node#accumulatesInto accumulates into} is then added to what the buffer holds, and the sum
 * is stored (rounded once, to the output's type).
 */
public final class NodeExecutor {
    private static final Rounding GPU = Rounding.GPU;

    public void execute(Node node, Buffers buffers) {
        double[][] in = new double[node.inputs().size()][];
        for (int i = 0; i < in.length; i++) {
            in[i] = buffers.get(node.inputs().get(i));
        }
        List<double[]> out = compute(node, in, buffers);
        if (out.size() != node.outputs().size()) {
            throw new IllegalStateException(node.op().mnemonic() + " computed " + out.size() + " outputs for "
                    + node.render());
        }
        for (int i = 0; i < out.size(); i++) {
            Value v = node.outputs().get(i);
            double[] contents = out.get(i);
            if (node.accumulatesInto(v)) {
                double[] previous = buffers.get(v);
                for (int j = 0; j < contents.length; j++) {
                    contents[j] += previous[j];
                }
            }
            buffers.put(v, contents);
        }
    }

    private List<double[]> compute(Node node, double[][] in, Buffers buffers) {
        return switch (node.op()) {
            case Operator.EmbeddingLookup e -> {
                int rows = in[0].length;
                double[] y = new double[rows * e.dim()];
                Embedding.forward(y, ints(in[0]), in[1], rows, e.vocab(), e.dim(), GPU);
                yield List.of(y);
            }
            case Operator.PositionLookup p -> {
                // in: positions, table. The position embedding alone; the add to the token stream is an Add node.
                int rows = in[0].length;
                double[] y = new double[rows * p.dim()];
                PositionEmbedding.forward(y, new double[y.length], in[1], ints(in[0]), rows, p.seq(), p.dim(), GPU);
                yield List.of(y);
            }
            case Operator.RmsNorm n -> {
                int rows = in[0].length / n.dim();
                double[] y = new double[in[0].length];
                double[] rstd = new double[rows];
                RmsNorm.forward(y, rstd, in[0], in[1], rows, n.dim(), n.eps(), GPU);
                yield List.of(y, rstd);
            }
            case Operator.LayerNorm n -> {
                int rows = in[0].length / n.dim();
                double[] y = new double[in[0].length];
                double[] mean = new double[rows];
                double[] rstd = new double[rows];
                LayerNorm.forward(y, mean, rstd, in[0], in[1], in[2], rows, n.dim(), n.eps(), GPU);
                yield List.of(y, mean, rstd);
            }
            case Operator.MatMul mm -> List.of(matMul(mm, in));
            case Operator.Rope r -> {
                int rows = in[0].length / (r.heads() * r.headDim());
                double[] y = new double[in[0].length];
                if (r.backward()) {
                    Rope.backward(y, in[0], ints(in[1]), rows, r.heads(), r.headDim(), r.inverseFrequencies(), GPU);
                } else {
                    Rope.forward(y, in[0], ints(in[1]), rows, r.heads(), r.headDim(), r.inverseFrequencies(), GPU);
                }
                yield List.of(y);
            }
            case Operator.Attention a -> {
                int rows = a.batch() * a.seq();
                double[] o = new double[rows * a.heads() * a.headDim()];
                double[] lse = new double[rows * a.heads()];
                Attention.forward(o, lse, in[0], in[1], in[2], documents(a.documentMask(), in, 3, rows), a.batch(),
                        a.seq(), a.heads(), a.kvHeads(), a.headDim(), GPU);
                yield List.of(o, lseBatchHeadSeq(lse, a.batch(), a.seq(), a.heads()));
            }
            case Operator.CachedAttention a -> {
                // in: q, k, v, positions, k cache, v cache · out: o and the caches, updated.
                double[] o = new double[in[0].length];
                double[] keys = in[4].clone();
                double[] values = in[5].clone();
                CachedAttention.step(o, in[0], in[1], in[2], ints(in[3]), keys, values, a.sequences(), a.maxSeq(),
                        a.heads(), a.kvHeads(), a.headDim(), GPU);
                yield List.of(o, keys, values);
            }
            case Operator.AttentionBackward a -> {
                // in: q, k, v, o, lse, do, [doc ids]
                int rows = a.batch() * a.seq();
                double[] dq = new double[in[0].length];
                double[] dk = new double[in[1].length];
                double[] dv = new double[in[2].length];
                double[] lse = lseRowHead(in[4], a.batch(), a.seq(), a.heads());
                Attention.backward(dq, dk, dv, in[5], in[0], in[1], in[2], in[3], lse,
                        documents(a.documentMask(), in, 6, rows), a.batch(), a.seq(), a.heads(), a.kvHeads(),
                        a.headDim(), GPU);
                yield List.of(dq, dk, dv);
            }
            case Operator.SwiGlu s -> {
                double[] h = new double[in[0].length];
                SwiGlu.forward(h, in[0], in[1], h.length, GPU);
                yield List.of(h);
            }
            case Operator.Gelu g -> {
                double[] h = new double[in[0].length];
                Gelu.forward(h, in[0], h.length, GPU);
                yield List.of(h);
            }
            case Operator.Add add -> {
                // One rounding, to the output's type, when the buffer stores the exact sum.
                double[] c = new double[in[0].length];
                for (int i = 0; i < c.length; i++) {
                    c[i] = in[0][i] + in[1][i];
                }
                yield List.of(c);
            }
            case Operator.CrossEntropy ce -> crossEntropy(ce.vocab(), in);
            case Operator.LmHeadCrossEntropy h -> ChunkedLmHeadLoss.compute(h, in);
            case Operator.LossSum s -> {
                double sum = 0; // in token order, like the oracle's sum over rows
                for (double l : in[0]) {
                    sum += l;
                }
                yield List.of(new double[] {sum});
            }
            case Operator.EmbeddingBackward e -> {
                int rows = in[0].length;
                double[] dTable = new double[e.vocab() * e.dim()];
                Embedding.backward(dTable, in[1], ints(in[0]), rows, e.vocab(), e.dim());
                yield List.of(dTable);
            }
            case Operator.PositionBackward p -> {
                // in: positions, dy (the graph passes the positions first, as the forward lookup reads them).
                int rows = in[0].length;
                double[] dTable = new double[p.seq() * p.dim()];
                PositionEmbedding.backward(new double[in[1].length], dTable, in[1], ints(in[0]), rows, p.seq(), p.dim());
                yield List.of(dTable);
            }
            case Operator.RmsNormBackward b -> {
                // in: x, w, rstd, dy
                int rows = in[0].length / b.dim();
                double[] dx = new double[in[0].length];
                double[] dw = new double[b.dim()];
                RmsNorm.backward(dx, dw, in[3], in[0], in[1], in[2], rows, b.dim(), GPU);
                yield List.of(dx, dw);
            }
            case Operator.LayerNormBackward b -> {
                // in: x, w, mean, rstd, dy
                int rows = in[0].length / b.dim();
                double[] dx = new double[in[0].length];
                double[] dw = new double[b.dim()];
                double[] db = new double[b.dim()];
                LayerNorm.backward(dx, dw, db, in[4], in[0], in[1], in[2], in[3], rows, b.dim(), GPU);
                yield List.of(dx, dw, db);
            }
            case Operator.SwiGluBackward s -> {
                double[] dGate = new double[in[0].length];
                double[] dUp = new double[in[0].length];
                SwiGlu.backward(dGate, dUp, in[2], in[0], in[1], dGate.length, GPU);
                yield List.of(dGate, dUp);
            }
            case Operator.GeluBackward g -> {
                double[] du = new double[in[0].length];
                Gelu.backward(du, in[1], in[0], du.length, GPU);
                yield List.of(du);
            }
            case Operator.CrossEntropyBackward ce -> List.of(crossEntropyBackward(ce.vocab(), in));
            case Operator.BiasGradient b -> {
                double[] db = new double[b.width()];
                Linear.backwardBias(db, in[0], b.tokens(), b.width());
                yield List.of(db);
            }
            case Operator.Quantize q -> quantize(q, in, node);
            case Operator.GradientNorm g -> {
                double ss = 0; // in parameter order, as GradientClipping sums
                for (int t = 0; t < g.tensors(); t++) {
                    for (double x : in[t]) {
                        ss += x * x;
                    }
                }
                double norm = Math.sqrt(ss);
                double loss = in[g.tensors()][0];
                // No clipping configured (max norm 0) leaves the gradients alone, as the trainer does.
                double clip = g.maxNorm() > 0 ? GradientClipping.scale(g.maxNorm(), norm) : 1;
                double[] scalars = buffers.get(node.outputs().get(1));
                scalars[AdamWScalarSlot.CLIP_FACTOR.index()] = clip;
                scalars[AdamWScalarSlot.SKIP.index()] = Double.isFinite(norm) && Double.isFinite(loss) ? 0 : 1;
                yield List.of(new double[] {norm}, scalars);
            }
            // The working copy (a fifth output) only where the parameter keeps one.
            case Operator.AdamWUpdate a -> adamw(a, in).subList(0, node.outputs().size());
        };
    }

    /**
     * Canonical C[M,N] = A[M,K]·B[N,K]ᵀ (+ bias), rounded when stored (to BF16, or to FP32 when added
     * into a weight gradient). BF16 operands accumulate exactly (the oracle's BF16 linear kernel); FP8
     * operands multiply with {@link Fp8Gemm}'s per-chunk promotion.
     */
    private static double[] matMul(Operator.MatMul mm, double[][] in) {
        int m = mm.m(), n = mm.n(), k = mm.k();
        double[] c = new double[m * n];
        int next;
        if (mm.fp8().isPresent()) {
            Operator.Fp8Operands q = mm.fp8().get();
            QuantizedMatrix a = operand(q.a(), q.aTransposed(), m, k, in[0], in[1]);
            QuantizedMatrix b = operand(q.b(), q.bTransposed(), n, k, in[2], in[3]);
            float[] product = Fp8Gemm.multiply(a, b);
            for (int i = 0; i < c.length; i++) {
                c[i] = product[i];
            }
            next = 4;
        } else {
            double[] a = mm.transposeA() ? transpose(in[0], k, m) : in[0];
            double[] b = mm.transposeB() ? transpose(in[1], k, n) : in[1];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int kk = 0; kk < k; kk++) {
                        acc += a[i * k + kk] * b[j * k + kk];
                    }
                    c[i * n + j] = acc;
                }
            }
            next = 2;
        }
        if (mm.bias()) {
            double[] bias = in[next++];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    c[i * n + j] += bias[j];
                }
            }
        }
        if (mm.residual()) {
            // The epilogue adds the residual to the BF16 product, so a fused GEMM+add gives the bits of the
            // GEMM and the add run apart.
            double[] residual = in[next];
            GPU.apply(c);
            for (int i = 0; i < c.length; i++) {
                c[i] += residual[i];
            }
        }
        // Stored rounds once to the output's type; a weight gradient adds the FP32 product itself.
        return c;
    }

    /** An FP8 GEMM operand from its codes and its scales as stored (ScaleGrid.ofOperand's order). */
    private static QuantizedMatrix operand(dev.octet.dsl.spec.OperandQuant q, boolean transposed, int rows, int cols,
                                           double[] codes, double[] scales) {
        byte[] b = new byte[codes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (int) codes[i];
        }
        float[] s = new float[scales.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) scales[i];
        }
        return new QuantizedMatrix(q.format(), q.granularity(), Axis.COLS, rows, cols, b,
                ScaleGrid.ofOperand(q.granularity(), rows, cols, transposed).rowMajor(s));
    }

    /**
     * Per-token loss {@code weight·(lse − logit[target])} and lse; a negative target is not counted. With
     * weight = 1 / (counted tokens of the step) the summed token losses are the step's mean loss.
     */
    private static List<double[]> crossEntropy(int vocab, double[][] in) {
        // in: logits, targets, loss weight
        double[] logits = in[0], targets = in[1];
        double weight = in[2][0];
        int rows = logits.length / vocab;
        double[] loss = new double[rows];
        double[] lse = new double[rows];
        for (int r = 0; r < rows; r++) {
            lse[r] = logSumExp(logits, r * vocab, vocab);
            if (targets[r] >= 0) {
                loss[r] = weight * (lse[r] - logits[r * vocab + target(targets[r], vocab, r)]);
            }
        }
        return List.of(loss, lse);
    }

    /** {@code weight·(softmax − onehot(target))}, rounded as the GPU stores it; zero rows where not counted. */
    private static double[] crossEntropyBackward(int vocab, double[][] in) {
        // in: logits, targets, lse, loss weight
        double[] logits = in[0], targets = in[1], lse = in[2];
        double weight = in[3][0];
        int rows = logits.length / vocab;
        double[] d = new double[logits.length];
        for (int r = 0; r < rows; r++) {
            if (targets[r] < 0) {
                continue;
            }
            int o = r * vocab;
            for (int j = 0; j < vocab; j++) {
                d[o + j] = Math.exp(logits[o + j] - lse[r]) * weight;
            }
            d[o + target(targets[r], vocab, r)] -= weight;
            GPU.apply(d, o, o + vocab);
        }
        return d;
    }

    static double logSumExp(double[] a, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, a[from + j]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            sum += Math.exp(a[from + j] - max);
        }
        return max + Math.log(sum);
    }

    static int target(double t, int vocab, int row) {
        int id = (int) t;
        if (id < 0 || id >= vocab) {
            throw new IllegalArgumentException("target " + id + " at row " + row + " outside vocab " + vocab);
        }
        return id;
    }

    /** The tensor a quantization reads: its first input, or recomputed from its producer's inputs and statistics. */
    private static double[] quantized(Operator.Quantize q, double[][] in) {
        if (q.source() == QuantizedSource.STORED) {
            return in[0];
        }
        // The stored tensor is [tokens, width]: the output matrix itself, or its transpose.
        int width = q.transpose() ? q.rows() : q.cols();
        return Recomputation.of(q.source(), in, q.rows() * q.cols() / width, width);
    }

    /**
     * Quantizes the [rows, cols] matrix (read from its transpose when {@code transpose}) along its rows, as the
     * recipe's current or delayed scaling says. A delayed history here is the last amaxes, newest first; the
     * scale is their maximum, or the current amax while all are zero (nothing recorded yet).
     */
    private static List<double[]> quantize(Operator.Quantize q, double[][] in, Node node) {
        double[] source = quantized(q, in);
        float[] x = new float[source.length];
        if (q.transpose()) {
            for (int r = 0; r < q.cols(); r++) {
                for (int c = 0; c < q.rows(); c++) {
                    x[c * q.cols() + r] = (float) source[r * q.rows() + c];
                }
            }
        } else {
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) source[i];
            }
        }
        try {
            QuantizedMatrix qm;
            List<double[]> history = new ArrayList<>();
            switch (q.scaling()) {
                case Scaling.Current c -> qm = Quantizer.quantize(x, q.rows(), q.cols(), q.granularity(), Axis.COLS,
                        q.format(), q.scaleType());
                case Scaling.Delayed d -> {
                    float[] h = floats(in[1]);
                    boolean recorded = false;
                    for (float amax : h) {
                        recorded |= amax != 0;
                    }
                    DelayedScaling.Step step = new DelayedScaling(q.format(), h.length, d.margin(), h,
                            recorded ? h.length : 0).quantize(x, q.rows(), q.cols());
                    qm = step.quantized();
                    double[] next = new double[h.length];
                    next[0] = step.amax();
                    System.arraycopy(in[1], 0, next, 1, h.length - 1);
                    history.add(next);
                }
            }
            byte[] codes = qm.codes();
            double[] c = new double[codes.length];
            for (int i = 0; i < c.length; i++) {
                c[i] = codes[i] & 0xff;
            }
            float[] scales = ScaleGrid.ofOperand(q.granularity(), q.rows(), q.cols(), q.transpose()).stored(qm.scales());
            List<double[]> out = new ArrayList<>(List.of(c, doubles(scales)));
            out.addAll(history);
            return out;
        } catch (IllegalArgumentException e) {
            throw new NonFiniteTensorException(node.inputs().getFirst().name(), e);
        }
    }

    /**
     * AdamW on one parameter with the float arithmetic of {@link AdamW}: the gradient scaled by the clip
     * factor, the learning rate and bias corrections read from the step scalars. Writes the new master, the
     * moments, a zeroed gradient and the BF16 working copy; with the skip slot set, writes them back unchanged.
     */
    private static List<double[]> adamw(Operator.AdamWUpdate a, double[][] in) {
        // in: param, grad, m, v, step scalars (the clip factor among them, written by the gradient norm)
        float[] p = floats(in[0]);
        float[] g = floats(in[1]);
        float[] m = floats(in[2]);
        float[] v = floats(in[3]);
        double[] scalars = in[4];
        if (scalars[AdamWScalarSlot.SKIP.index()] != 0) {
            // A non-finite gradient norm: nothing changes; the working copy is still the master rounded.
            return List.of(in[0], in[2], in[3], in[1], in[0].clone());
        }
        float clip = (float) scalars[AdamWScalarSlot.CLIP_FACTOR.index()];
        if (clip != 1) {
            for (int i = 0; i < g.length; i++) {
                g[i] *= clip;
            }
        }
        AdamW.step(p, g, m, v, (float) scalars[AdamWScalarSlot.LEARNING_RATE.index()],
                (float) scalars[AdamWScalarSlot.BIAS_CORRECTION1.index()],
                (float) scalars[AdamWScalarSlot.BIAS_CORRECTION2.index()],
                a.beta1(), a.beta2(), a.eps(), a.decays() ? a.weightDecay() : 0);
        double[] master = doubles(p);
        // The working copy is the master rounded to BF16: storing it as BF16 does the rounding.
        return List.of(master, doubles(m), doubles(v), new double[g.length], master.clone());
    }

    /** The ops keep lse as [B·S, H]; the IR value is [B, H, S], the layout the attention kernels write. */
    private static double[] lseBatchHeadSeq(double[] rowHead, int batch, int seq, int heads) {
        double[] out = new double[rowHead.length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                for (int h = 0; h < heads; h++) {
                    out[(b * heads + h) * seq + t] = rowHead[(b * seq + t) * heads + h];
                }
            }
        }
        return out;
    }

    private static double[] lseRowHead(double[] batchHeadSeq, int batch, int seq, int heads) {
        double[] out = new double[batchHeadSeq.length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                for (int h = 0; h < heads; h++) {
                    out[(b * seq + t) * heads + h] = batchHeadSeq[(b * heads + h) * seq + t];
                }
            }
        }
        return out;
    }

    private static int[] documents(boolean documentMask, double[][] in, int index, int rows) {
        return documentMask && in.length > index ? ints(in[index]) : new int[rows];
    }

    private static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }

    private static int[] ints(double[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (int) a[i];
        }
        return out;
    }

    private static float[] floats(double[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (float) a[i];
        }
        return out;
    }

    private static double[] doubles(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }
}
