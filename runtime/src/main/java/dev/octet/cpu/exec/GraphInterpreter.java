package dev.octet.cpu.exec;

import dev.octet.cpu.ops.Attention;
import dev.octet.cpu.ops.CrossEntropy;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a model's forward graph on the CPU and differentiates it: reverse-mode automatic differentiation
 * over a tape. Each op evaluated appends its backward step to the tape; {@link #forwardBackward} then
 * replays the tape in reverse. Nothing here is specific to one model — the graph decides what runs.
 */
public final class GraphInterpreter {
    /** Chooses the GEMM implementation of each linear layer (the recipe decides BF16 or FP8). */
    public interface LinearPolicy {
        LinearKernel kernelFor(ParameterTable.Linear linear);
    }

    private final ModelSpec model;
    private final ModelConfig c;
    private final ParameterTable table;
    private final ParameterStore params;
    private final LinearPolicy policy;
    private final Rounding rounding;
    private final Map<String, ParameterTable.Linear> linears = new HashMap<>();
    private final Map<String, LinearKernel> kernels = new HashMap<>();

    // State of one forward pass.
    private final List<Runnable> tape = new ArrayList<>();
    private TokenBatch batch;
    private int[] positions;
    /** d(total loss)/d(this batch's loss): 1 / micro-batches under gradient accumulation. */
    private double lossSeed = 1;
    /** The logits of the last forward pass, [rows, vocab] row-major, until {@link #logits} hands them over. */
    private double[] lastLogits = new double[0];

    public GraphInterpreter(ModelSpec model, ParameterStore params, LinearPolicy policy, Rounding rounding) {
        this.model = model;
        this.c = model.config();
        this.table = ParameterTable.of(model);
        this.params = params;
        this.policy = policy;
        this.rounding = rounding;
        for (ParameterTable.Linear l : table.linears()) {
            linears.put(l.name(), l);
            kernels.put(l.name(), policy.kernelFor(l));
        }
    }

    /** The loss of one batch, without gradients. */
    public double loss(TokenBatch b) {
        double loss = forward(b);
        tape.clear();
        return loss;
    }

    /**
     * The logits {@code [rows, vocab]} row-major of one batch (the value cross_entropy reads), without gradients:
     * the reference that decoding and other implementations of the model are checked against.
     */
    public double[] logits(TokenBatch b) {
        loss(b);
        double[] out = lastLogits;
        lastLogits = new double[0];
        return out;
    }

    /**
     * Forward and backward on one batch: parameter gradients are ADDED into the store, scaled by
     * {@code lossScale} (1 / micro-batches when accumulating). Returns the unscaled loss.
     */
    public double forwardBackward(TokenBatch b, double lossScale) {
        lossSeed = lossScale;
        double loss = forward(b);
        for (int i = tape.size() - 1; i >= 0; i--) {
            tape.get(i).run();
        }
        tape.clear();
        return loss;
    }

    private double forward(TokenBatch b) {
        tape.clear();
        this.batch = b;
        this.positions = PositionEmbedding.documentPositions(b.documentIds(), b.batch(), b.seqLen());
        Map<String, Activation> env = new HashMap<>();
        double[] loss = {Double.NaN};
        for (GraphStmt s : model.forward()) {
            switch (s) {
                case GraphStmt.Let let -> bind(env, let, -1, loss);
                case GraphStmt.Repeat rep -> {
                    for (int layer = 0; layer < rep.count(); layer++) {
                        for (GraphStmt inner : rep.body()) {
                            bind(env, (GraphStmt.Let) inner, layer, loss);
                        }
                    }
                }
            }
        }
        return loss[0];
    }

    private void bind(Map<String, Activation> env, GraphStmt.Let let, int layer, double[] loss) {
        if (let.value() instanceof Op.CrossEntropy ce) {
            Activation logits = eval(ce.logits(), env, layer);
            lastLogits = logits.data;
            loss[0] = crossEntropy(logits);
            return;
        }
        env.put(let.name(), eval(let.value(), env, layer));
    }

    private String prefix(int layer) {
        return layer < 0 ? "" : "layers." + layer + ".";
    }

    private Activation eval(Op op, Map<String, Activation> env, int layer) {
        int rows = batch.rows();
        return switch (op) {
            case Op.Ref ref -> env.get(ref.name());
            case Op.Input in -> throw new IllegalStateException("token ids are read by embeddings, not as values");
            case Op.Embedding e -> {
                String name = prefix(layer) + table.opName(op) + ".weight";
                ParameterStore.Entry p = params.get(name);
                int[] ids = batch.inputs();
                Activation out = new Activation(rows, c.dim());
                Embedding.forward(out.data, ids, p.working(), rows, c.vocab(), c.dim(), rounding);
                tape.add(() -> {
                    if (out.grad != null) {
                        Embedding.backward(p.grad(), out.grad, ids, rows, c.vocab(), c.dim());
                    }
                });
                yield out;
            }
            case Op.PositionEmbedding e -> {
                ParameterStore.Entry p = params.get(prefix(layer) + table.opName(op) + ".weight");
                Activation out = new Activation(rows, c.dim());
                int[] pos = positions;
                PositionEmbedding.forward(out.data, new double[out.data.length], p.working(), pos, rows, c.maxSeq(), c.dim(), rounding);
                tape.add(() -> {
                    if (out.grad != null) {
                        PositionEmbedding.backward(new double[out.data.length], p.grad(), out.grad, pos, rows, c.maxSeq(), c.dim());
                    }
                });
                yield out;
            }
            case Op.RmsNorm n -> {
                Activation x = eval(n.x(), env, layer);
                ParameterStore.Entry w = params.get(prefix(layer) + table.opName(op) + ".weight");
                Activation out = new Activation(rows, c.dim());
                double[] rstd = new double[rows];
                RmsNorm.forward(out.data, rstd, x.data, w.working(), rows, c.dim(), c.normEps(), rounding);
                tape.add(() -> {
                    if (out.grad != null) {
                        double[] dx = new double[x.data.length];
                        RmsNorm.backward(dx, w.grad(), out.grad, x.data, w.working(), rstd, rows, c.dim(), rounding);
                        x.accumulate(dx);
                    }
                });
                yield out;
            }
            case Op.LayerNorm n -> {
                Activation x = eval(n.x(), env, layer);
                String base = prefix(layer) + table.opName(op);
                ParameterStore.Entry w = params.get(base + ".weight");
                ParameterStore.Entry bias = params.get(base + ".bias");
                Activation out = new Activation(rows, c.dim());
                double[] mean = new double[rows];
                double[] rstd = new double[rows];
                LayerNorm.forward(out.data, mean, rstd, x.data, w.working(), bias.working(), rows, c.dim(), c.normEps(), rounding);
                tape.add(() -> {
                    if (out.grad != null) {
                        double[] dx = new double[x.data.length];
                        LayerNorm.backward(dx, w.grad(), bias.grad(), out.grad, x.data, w.working(), mean, rstd, rows, c.dim(), rounding);
                        x.accumulate(dx);
                    }
                });
                yield out;
            }
            case Op.Attention a -> attention(eval(a.x(), env, layer), a, layer);
            case Op.SwiGlu m -> {
                Activation x = eval(m.x(), env, layer);
                String base = prefix(layer) + table.opName(op);
                Activation gate = linear(x, base + ".gate");
                Activation up = linear(x, base + ".up");
                Activation h = new Activation(rows, c.ffn());
                SwiGlu.forward(h.data, gate.data, up.data, h.data.length, rounding);
                tape.add(() -> {
                    if (h.grad != null) {
                        double[] dg = new double[h.data.length];
                        double[] du = new double[h.data.length];
                        SwiGlu.backward(dg, du, h.grad, gate.data, up.data, h.data.length, rounding);
                        gate.accumulate(dg);
                        up.accumulate(du);
                    }
                });
                yield linear(h, base + ".down");
            }
            case Op.GeluMlp m -> {
                Activation x = eval(m.x(), env, layer);
                String base = prefix(layer) + table.opName(op);
                Activation up = linear(x, base + ".up");
                Activation h = new Activation(rows, c.ffn());
                Gelu.forward(h.data, up.data, h.data.length, rounding);
                tape.add(() -> {
                    if (h.grad != null) {
                        double[] du = new double[h.data.length];
                        Gelu.backward(du, h.grad, up.data, h.data.length, rounding);
                        up.accumulate(du);
                    }
                });
                yield linear(h, base + ".down");
            }
            case Op.Add add -> {
                Activation l = eval(add.left(), env, layer);
                Activation r = eval(add.right(), env, layer);
                Activation out = new Activation(l.rows, l.cols);
                Residual.forward(out.data, l.data, r.data, out.data.length, rounding);
                tape.add(() -> {
                    if (out.grad != null) {
                        l.accumulate(out.grad);
                        r.accumulate(out.grad);
                    }
                });
                yield out;
            }
            case Op.LmHead h -> linear(eval(h.x(), env, layer), prefix(layer) + table.opName(op));
            case Op.CrossEntropy ce -> throw new IllegalStateException("cross_entropy is bound to loss by the checker");
        };
    }

    private Activation attention(Activation x, Op.Attention a, int layer) {
        int rows = batch.rows();
        String base = prefix(layer) + table.opName(a);
        Activation q = linear(x, base + ".q");
        Activation k = linear(x, base + ".k");
        Activation v = linear(x, base + ".v");
        Activation qr = a.rope() ? rope(q, c.heads()) : q;
        Activation kr = a.rope() ? rope(k, c.kvHeads()) : k;
        Activation att = new Activation(rows, c.qDim());
        double[] lse = new double[rows * c.heads()];
        int[] docs = batch.documentIds();
        int b = batch.batch();
        int t = batch.seqLen();
        Attention.forward(att.data, lse, qr.data, kr.data, v.data, docs, b, t, c.heads(), c.kvHeads(), c.headDim(), rounding);
        tape.add(() -> {
            if (att.grad != null) {
                double[] dq = new double[qr.data.length];
                double[] dk = new double[kr.data.length];
                double[] dv = new double[v.data.length];
                Attention.backward(dq, dk, dv, att.grad, qr.data, kr.data, v.data, att.data, lse, docs, b, t,
                        c.heads(), c.kvHeads(), c.headDim(), rounding);
                qr.accumulate(dq);
                kr.accumulate(dk);
                v.accumulate(dv);
            }
        });
        return linear(att, base + ".o");
    }

    private Activation rope(Activation x, int heads) {
        int rows = batch.rows();
        int[] pos = positions;
        Activation out = new Activation(rows, x.cols);
        double[] frequencies = ModelConfig.ropeInverseFrequencies(c.ropeTheta(), c.headDim(), c.ropeScaling());
        Rope.forward(out.data, x.data, pos, rows, heads, c.headDim(), frequencies, rounding);
        tape.add(() -> {
            if (out.grad != null) {
                double[] dx = new double[x.data.length];
                Rope.backward(dx, out.grad, pos, rows, heads, c.headDim(), frequencies, rounding);
                x.accumulate(dx);
            }
        });
        return out;
    }

    /** y = x·Wᵀ + b through the layer's kernel; a tied LM head reads (and trains) the token embedding. */
    private Activation linear(Activation x, String name) {
        ParameterTable.Linear l = linears.get(name);
        LinearKernel kernel = kernels.get(name);
        ParameterStore.Entry w = params.get(l.weight());
        ParameterStore.Entry bias = l.bias() ? params.get(name + ".bias") : null;
        int m = x.rows;
        int k = l.in();
        int n = l.out();
        Activation y = new Activation(m, n);
        kernel.forward(y.data, x.data, w.working(), m, k, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double v = y.data[i * n + j] + (bias == null ? 0 : bias.working()[j]);
                y.data[i * n + j] = rounding.apply(v);
            }
        }
        tape.add(() -> {
            if (y.grad == null) {
                return;
            }
            double[] dx = new double[x.data.length];
            kernel.backwardInput(dx, y.grad, w.working(), m, k, n, rounding);
            kernel.backwardWeight(w.grad(), y.grad, x.data, m, k, n);
            if (bias != null) {
                dev.octet.cpu.ops.Linear.backwardBias(bias.grad(), y.grad, m, n);
            }
            x.accumulate(dx);
        });
        return y;
    }

    private double crossEntropy(Activation logits) {
        int rows = batch.rows();
        int[] targets = batch.targets();
        double[] mask = batch.lossMask();
        double loss = CrossEntropy.forward(logits.data, targets, mask, rows, c.vocab());
        double seed = lossSeed;
        tape.add(() -> {
            double[] dl = new double[logits.data.length];
            CrossEntropy.backward(dl, logits.data, targets, mask, rows, c.vocab(), seed, rounding);
            logits.accumulate(dl);
        });
        return loss;
    }

    /** The kernel the recipe chose for a linear layer, by its parameter-table name. */
    public LinearKernel kernel(String linearName) {
        return kernels.get(linearName);
    }
}
