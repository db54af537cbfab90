package dev.octet.cpu.decode;

import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.LinearKernel;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.ops.CachedAttention;
import dev.octet.cpu.ops.Embedding;
import dev.octet.cpu.ops.Gelu;
import dev.octet.cpu.ops.LayerNorm;
import dev.octet.cpu.ops.PositionEmbedding;
import dev.octet.cpu.ops.Residual;
import dev.octet.cpu.ops.RmsNorm;
import dev.octet.cpu.ops.Rope;
import dev.octet.cpu.ops.Rounding;
import dev.octet.cpu.ops.SwiGlu;
import dev.octet.dsl.spec.GraphStmt;
import dev.octet.dsl.spec.ModelConfig;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Op;
import dev.octet.dsl.spec.ParameterTable;
import java.util.HashMap;
import java.util.Map;

/**
 * A model's forward graph run a few tokens at a time over one growing sequence, for generation: each call
 * feeds the next tokens at the next positions, keeps every attention op's keys (after RoPE) and values in a
 * {@link KvCache}, and attends from the new tokens to all cached positions. It returns the last token's logits.
 *
 * <p>Every op but attention works row by row, and attention here repeats the full pass's arithmetic in the same
 * order for each query row, so the logits equal, bit for bit, those of the full forward pass
 * ({@link GraphInterpreter#logits}) over the whole sequence — under any recipe whose activation scales are per
 * token (InfiR2's 1×128 groups, BF16). A per-tensor or delayed activation scale would see only the new rows here.
 */
public final class IncrementalForward {
    private final ModelConfig c;
    private final ModelSpec model;
    private final ParameterTable table;
    private final ParameterStore params;
    private final Rounding rounding;
    private final Map<String, ParameterTable.Linear> linears = new HashMap<>();
    private final Map<String, LinearKernel> kernels = new HashMap<>();
    private final Map<String, KvCache> caches = new HashMap<>();
    private int length;

    // State of one call.
    private int[] tokens;
    private int[] positions;

    /** Reads the working weights of {@code params} as they are: refresh them from the master weights first. */
    public IncrementalForward(ModelSpec model, ParameterStore params, GraphInterpreter.LinearPolicy policy, Rounding rounding) {
        this.model = model;
        this.c = model.config();
        this.table = ParameterTable.of(model);
        this.params = params;
        this.rounding = rounding;
        for (ParameterTable.Linear l : table.linears()) {
            linears.put(l.name(), l);
            kernels.put(l.name(), policy.kernelFor(l));
        }
    }

    /** Positions fed so far. */
    public int length() {
        return length;
    }

    /** Forgets the sequence, to start another. */
    public void reset() {
        caches.values().forEach(KvCache::clear);
        length = 0;
    }

    /** Feeds {@code next} at positions {@code length() ..}; returns the logits {@code [vocab]} of its last token. */
    public double[] append(int... next) {
        if (next.length == 0) {
            throw new IllegalArgumentException("no tokens to feed");
        }
        if (length + next.length > c.maxSeq()) {
            throw new IllegalArgumentException("the sequence would grow to " + (length + next.length)
                    + " tokens, beyond max_seq = " + c.maxSeq());
        }
        for (int t : next) {
            if (t < 0 || t >= c.vocab()) {
                throw new IllegalArgumentException("token " + t + " outside the vocabulary of " + c.vocab());
            }
        }
        tokens = next.clone();
        positions = new int[next.length];
        for (int i = 0; i < next.length; i++) {
            positions[i] = length + i;
        }
        Map<String, double[]> env = new HashMap<>();
        double[] logits = new double[0];
        for (GraphStmt s : model.forward()) {
            switch (s) {
                case GraphStmt.Let let -> logits = bind(env, let, -1, logits);
                case GraphStmt.Repeat rep -> {
                    for (int layer = 0; layer < rep.count(); layer++) {
                        for (GraphStmt inner : rep.body()) {
                            logits = bind(env, (GraphStmt.Let) inner, layer, logits);
                        }
                    }
                }
            }
        }
        length += next.length;
        return java.util.Arrays.copyOfRange(logits, (next.length - 1) * c.vocab(), next.length * c.vocab());
    }

    /** Binds one statement; the loss statement yields the logits it would score, which become the result. */
    private double[] bind(Map<String, double[]> env, GraphStmt.Let let, int layer, double[] logits) {
        if (let.value() instanceof Op.CrossEntropy ce) {
            return eval(ce.logits(), env, layer);
        }
        env.put(let.name(), eval(let.value(), env, layer));
        return logits;
    }

    private String prefix(int layer) {
        return layer < 0 ? "" : "layers." + layer + ".";
    }

    private double[] eval(Op op, Map<String, double[]> env, int layer) {
        int rows = tokens.length;
        return switch (op) {
            case Op.Ref ref -> env.get(ref.name());
            case Op.Input in -> throw new IllegalStateException("token ids are read by embeddings, not as values");
            case Op.Embedding e -> {
                double[] out = new double[rows * c.dim()];
                Embedding.forward(out, tokens, weight(layer, op), rows, c.vocab(), c.dim(), rounding);
                yield out;
            }
            case Op.PositionEmbedding e -> {
                double[] out = new double[rows * c.dim()];
                PositionEmbedding.forward(out, new double[out.length], weight(layer, op), positions, rows, c.maxSeq(),
                        c.dim(), rounding);
                yield out;
            }
            case Op.RmsNorm n -> {
                double[] x = eval(n.x(), env, layer);
                double[] out = new double[x.length];
                RmsNorm.forward(out, new double[rows], x, weight(layer, op), rows, c.dim(), c.normEps(), rounding);
                yield out;
            }
            case Op.LayerNorm n -> {
                double[] x = eval(n.x(), env, layer);
                String base = prefix(layer) + table.opName(op);
                double[] out = new double[x.length];
                LayerNorm.forward(out, new double[rows], new double[rows], x, params.get(base + ".weight").working(),
                        params.get(base + ".bias").working(), rows, c.dim(), c.normEps(), rounding);
                yield out;
            }
            case Op.Attention a -> attention(eval(a.x(), env, layer), a, layer);
            case Op.SwiGlu m -> {
                double[] x = eval(m.x(), env, layer);
                String base = prefix(layer) + table.opName(op);
                double[] gate = linear(x, base + ".gate");
                double[] up = linear(x, base + ".up");
                double[] h = new double[rows * c.ffn()];
                SwiGlu.forward(h, gate, up, h.length, rounding);
                yield linear(h, base + ".down");
            }
            case Op.GeluMlp m -> {
                double[] x = eval(m.x(), env, layer);
                String base = prefix(layer) + table.opName(op);
                double[] up = linear(x, base + ".up");
                double[] h = new double[rows * c.ffn()];
                Gelu.forward(h, up, h.length, rounding);
                yield linear(h, base + ".down");
            }
            case Op.Add add -> {
                double[] l = eval(add.left(), env, layer);
                double[] r = eval(add.right(), env, layer);
                double[] out = new double[l.length];
                Residual.forward(out, l, r, out.length, rounding);
                yield out;
            }
            case Op.LmHead h -> linear(eval(h.x(), env, layer), prefix(layer) + table.opName(op));
            case Op.CrossEntropy ce -> throw new IllegalStateException("cross_entropy is bound to loss by the checker");
        };
    }

    private double[] weight(int layer, Op op) {
        return params.get(prefix(layer) + table.opName(op) + ".weight").working();
    }

    /** The new rows' queries against every cached key, one row at a time ({@link CachedAttention#attendRow}). */
    private double[] attention(double[] x, Op.Attention a, int layer) {
        int rows = tokens.length;
        int heads = c.heads();
        int kvHeads = c.kvHeads();
        int hd = c.headDim();
        String base = prefix(layer) + table.opName(a);
        double[] q = linear(x, base + ".q");
        double[] k = linear(x, base + ".k");
        double[] v = linear(x, base + ".v");
        if (a.rope()) {
            double[] qr = new double[q.length];
            double[] kr = new double[k.length];
            double[] frequencies = ModelConfig.ropeInverseFrequencies(c.ropeTheta(), hd, c.ropeScaling());
            Rope.forward(qr, q, positions, rows, heads, hd, frequencies, rounding);
            Rope.forward(kr, k, positions, rows, kvHeads, hd, frequencies, rounding);
            q = qr;
            k = kr;
        }
        KvCache cache = caches.computeIfAbsent(base, name -> new KvCache(c.maxSeq(), kvHeads, hd));
        cache.append(k, v, rows);
        double[] out = new double[rows * heads * hd];
        double[] p = new double[cache.length()];
        for (int r = 0; r < rows; r++) {
            CachedAttention.attendRow(out, q, r, cache.keys, cache.values, 0, positions[r], heads, kvHeads, hd, p, rounding);
        }
        return linear(out, base + ".o");
    }

    /** y = x·Wᵀ + b through the layer's kernel, the bias added before the one rounding, as in training. */
    private double[] linear(double[] x, String name) {
        ParameterTable.Linear l = linears.get(name);
        LinearKernel kernel = kernels.get(name);
        double[] w = params.get(l.weight()).working();
        int k = l.in();
        int n = l.out();
        int m = x.length / k;
        double[] bias = l.bias() ? params.get(name + ".bias").working() : new double[n];
        double[] y = new double[m * n];
        kernel.forward(y, x, w, m, k, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                y[i * n + j] = rounding.apply(y[i * n + j] + bias[j]);
            }
        }
        return y;
    }
}
