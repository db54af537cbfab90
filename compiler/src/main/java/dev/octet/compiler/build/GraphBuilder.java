package dev.octet.compiler.build;

import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.GraphWriter;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.StepShape;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.TensorType;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.StepBuffer;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.GraphStmt;
import dev.octet.dsl.spec.ModelConfig;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Op;
import dev.octet.dsl.spec.ParameterTable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds the forward graph of one micro-batch from a checked model: every op of the model's forward block
 * becomes nodes with shapes fixed by the step shape; linear layers become fprop {@link Operator.MatMul}s in
 * BF16 (quantization insertion decides which run in FP8). Names follow the parameter table:
 * {@code layers.0.attention.q} is the q projection's output.
 *
 * <p>{@link #decode} builds the forward of one decoding step instead: one new token for each of
 * {@code batch} sequences, attention over per-layer key/value caches, and the logits as the output.
 */
public final class GraphBuilder {
    private final ModelConfig c;
    private final ParameterTable table;
    private final StepShape shape;
    private final boolean decoding;
    /** Positions each sequence's key/value caches hold when decoding. */
    private final int context;
    private final int tokens;
    private final GraphWriter w = new GraphWriter(0, 0, List.of());
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, ParameterTable.Linear> linears = new HashMap<>();
    private final Value tokenIds;
    private final Value targets;
    private final Value positions;
    private final Value documentIds;
    private final Value lossWeight;
    private final List<Value> inputs = new ArrayList<>();

    private GraphBuilder(ModelSpec model, StepShape shape, boolean decoding, int context) {
        this.c = model.config();
        this.table = ParameterTable.of(model);
        this.shape = shape;
        this.decoding = decoding;
        this.context = context;
        this.tokens = shape.tokens();
        if (shape.seq() > c.maxSeq()) {
            throw new IllegalArgumentException("seq " + shape.seq() + " exceeds the model's max_seq " + c.maxSeq());
        }
        if (decoding && (shape.seq() != 1 || shape.accumulation() != 1)) {
            throw new IllegalArgumentException("a decoding step feeds one token per sequence, not " + shape);
        }
        if (decoding && (context < 1 || context > c.maxSeq())) {
            throw new IllegalArgumentException("a decoding context of " + context + " positions is outside [1, max_seq = "
                    + c.maxSeq() + "]");
        }
        tokenIds = input(StepBuffer.TOKENS.bufferName(), TensorType.of(DType.I32, tokens));
        // Decoding scores nothing and attends within each sequence's cache: no targets, documents or loss weight.
        targets = decoding ? null : input(StepBuffer.TARGETS.bufferName(), TensorType.of(DType.I32, tokens));
        positions = input(StepBuffer.POSITIONS.bufferName(), TensorType.of(DType.I32, tokens));
        documentIds = decoding ? null : input(StepBuffer.DOCUMENT_IDS.bufferName(), TensorType.of(DType.I32, tokens));
        lossWeight = decoding ? null : input(StepBuffer.LOSS_WEIGHT.bufferName(), TensorType.of(DType.F32, 1));
        for (ParameterTable.Param p : table.params()) {
            int[] dims = p.shape().stream().mapToInt(Integer::intValue).toArray();
            TensorType f32 = TensorType.of(DType.F32, dims);
            params.put(p.name(), new Parameter(p.name(),
                    w.value(p.name(), f32, Storage.PARAMETER),
                    Optional.of(w.value(p.name() + ".bf16", f32.withDtype(DType.BF16), Storage.SHADOW)),
                    w.value("grad." + p.name(), f32, Storage.GRADIENT),
                    w.value("adam_m." + p.name(), f32, Storage.OPTIMIZER_STATE),
                    w.value("adam_v." + p.name(), f32, Storage.OPTIMIZER_STATE),
                    p.decays()));
        }
        for (ParameterTable.Linear l : table.linears()) {
            linears.put(l.name(), l);
        }
    }

    /** The forward graph of {@code model} for micro-batches of {@code shape}. */
    public static Graph forward(ModelSpec model, StepShape shape) {
        return new GraphBuilder(model, shape, false, 0).build(model);
    }

    /**
     * The forward of one decoding step for {@code shape.batch()} sequences (seq 1) whose caches hold
     * {@code context} positions: inputs {@code tokens} and {@code positions} (each sequence's next token and
     * where it goes), output {@code logits} bf16[batch, vocab].
     */
    public static Graph decode(ModelSpec model, StepShape shape, int context) {
        return new GraphBuilder(model, shape, true, context).build(model);
    }

    private Graph build(ModelSpec model) {
        statements(model.forward(), -1, new HashMap<>());
        return new Graph(shape, List.copyOf(params.values()), inputs, w.nodes());
    }

    private Value input(String name, TensorType type) {
        Value v = w.value(name, type, Storage.INPUT);
        inputs.add(v);
        return v;
    }

    private void statements(List<GraphStmt> stmts, int layer, Map<String, Value> env) {
        for (GraphStmt s : stmts) {
            switch (s) {
                case GraphStmt.Let let -> env.put(let.name(), eval(let.value(), layer, env));
                case GraphStmt.Repeat rep -> {
                    for (int l = 0; l < rep.count(); l++) {
                        statements(rep.body(), l, env);
                    }
                }
            }
        }
    }

    private Value eval(Op op, int layer, Map<String, Value> env) {
        return switch (op) {
            case Op.Input in -> switch (in.kind()) {
                case TOKENS -> tokenIds;
                case TARGETS -> targets;
                default -> throw new IllegalStateException("no input of kind " + in.kind());
            };
            case Op.Ref ref -> {
                Value v = env.get(ref.name());
                if (v == null) {
                    throw new IllegalStateException("unbound name " + ref.name() + " (the checker admits only bound names)");
                }
                yield v;
            }
            case Op.Embedding e -> {
                eval(e.ids(), layer, env);
                String n = name(op, layer);
                Value out = hidden(n + ".out");
                w.add(new Operator.EmbeddingLookup(c.vocab(), c.dim()), List.of(tokenIds, shadow(n + ".weight")),
                        List.of(out), Phase.FORWARD);
                yield out;
            }
            case Op.PositionEmbedding e -> {
                eval(e.ids(), layer, env);
                String n = name(op, layer);
                Value out = hidden(n + ".out");
                w.add(new Operator.PositionLookup(c.maxSeq(), c.dim()), List.of(positions, shadow(n + ".weight")),
                        List.of(out), Phase.FORWARD);
                yield out;
            }
            case Op.RmsNorm norm -> {
                Value x = eval(norm.x(), layer, env);
                String n = name(op, layer);
                Value y = hidden(n + ".out");
                Value rstd = activation(n + ".rstd", TensorType.of(DType.F32, tokens));
                w.add(new Operator.RmsNorm(c.dim(), c.normEps()), List.of(x, shadow(n + ".weight")), List.of(y, rstd),
                        Phase.FORWARD);
                yield y;
            }
            case Op.LayerNorm norm -> {
                Value x = eval(norm.x(), layer, env);
                String n = name(op, layer);
                Value y = hidden(n + ".out");
                Value mean = activation(n + ".mean", TensorType.of(DType.F32, tokens));
                Value rstd = activation(n + ".rstd", TensorType.of(DType.F32, tokens));
                w.add(new Operator.LayerNorm(c.dim(), c.normEps()),
                        List.of(x, shadow(n + ".weight"), shadow(n + ".bias")), List.of(y, mean, rstd), Phase.FORWARD);
                yield y;
            }
            case Op.Attention a -> {
                Value x = eval(a.x(), layer, env);
                String n = name(op, layer);
                Value q = linear(n + ".q", x);
                Value k = linear(n + ".k", x);
                Value v = linear(n + ".v", x);
                if (a.rope()) {
                    q = rope(q, c.heads(), n + ".q_rope");
                    k = rope(k, c.kvHeads(), n + ".k_rope");
                }
                if (decoding) {
                    yield linear(n + ".o", cachedAttention(n, q, k, v));
                }
                Value o = activation(n + ".core", TensorType.of(DType.BF16, tokens, c.qDim()));
                Value lse = activation(n + ".lse", TensorType.of(DType.F32, shape.batch(), c.heads(), shape.seq()));
                w.add(new Operator.Attention(shape.batch(), shape.seq(), c.heads(), c.kvHeads(), c.headDim(), true),
                        List.of(q, k, v, documentIds), List.of(o, lse), Phase.FORWARD);
                yield linear(n + ".o", o);
            }
            case Op.SwiGlu m -> {
                Value x = eval(m.x(), layer, env);
                String n = name(op, layer);
                Value gate = linear(n + ".gate", x);
                Value up = linear(n + ".up", x);
                Value h = activation(n + ".hidden", TensorType.of(DType.BF16, tokens, c.ffn()));
                w.add(new Operator.SwiGlu(c.ffn()), List.of(gate, up), List.of(h), Phase.FORWARD);
                yield linear(n + ".down", h);
            }
            case Op.GeluMlp m -> {
                Value x = eval(m.x(), layer, env);
                String n = name(op, layer);
                Value up = linear(n + ".up", x);
                Value h = activation(n + ".hidden", TensorType.of(DType.BF16, tokens, c.ffn()));
                w.add(new Operator.Gelu(c.ffn()), List.of(up), List.of(h), Phase.FORWARD);
                yield linear(n + ".down", h);
            }
            case Op.Add add -> {
                Value left = eval(add.left(), layer, env);
                Value right = eval(add.right(), layer, env);
                Value out = hidden(layer < 0 ? "residual" : "layers." + layer + ".residual");
                w.add(new Operator.Add(left.type().elements()), List.of(left, right), List.of(out), Phase.FORWARD);
                yield out;
            }
            case Op.LmHead h -> {
                Value x = eval(h.x(), layer, env);
                String n = name(op, layer);
                yield decoding ? linear(n, x, w.value(StepBuffer.LOGITS.bufferName(), TensorType.of(DType.BF16, tokens, linears.get(n).out()),
                        Storage.OUTPUT)) : linear(n, x);
            }
            case Op.CrossEntropy ce when decoding -> eval(ce.logits(), layer, env);
            case Op.CrossEntropy ce -> {
                Value logits = eval(ce.logits(), layer, env);
                eval(ce.targets(), layer, env);
                String n = name(op, layer);
                Value tokenLoss = activation(n + ".token_loss", TensorType.of(DType.F32, tokens));
                Value lse = activation(n + ".lse", TensorType.of(DType.F32, tokens));
                w.add(new Operator.CrossEntropy(c.vocab()), List.of(logits, targets, lossWeight),
                        List.of(tokenLoss, lse), Phase.FORWARD);
                Value loss = w.value(StepBuffer.LOSS.bufferName(), TensorType.of(DType.F32, 1), dev.octet.compiler.ir.Storage.OUTPUT);
                w.add(new Operator.LossSum(tokens), List.of(tokenLoss), List.of(loss), Phase.FORWARD);
                yield loss;
            }
        };
    }

    /** Y = X·Wᵀ (+b) for the named linear layer: an fprop GEMM in canonical form, A = X, B = W. */
    private Value linear(String name, Value x) {
        ParameterTable.Linear l = linears.get(name);
        if (l == null) {
            throw new IllegalStateException("no linear layer " + name + " in the parameter table");
        }
        return linear(name, x, activation(name, TensorType.of(DType.BF16, tokens, l.out())));
    }

    /** The linear layer {@code name} writing {@code y}. */
    private Value linear(String name, Value x, Value y) {
        ParameterTable.Linear l = linears.get(name);
        List<Value> in = new ArrayList<>(List.of(x, shadow(l.weight())));
        if (l.bias()) {
            in.add(shadow(name + ".bias"));
        }
        w.add(new Operator.MatMul(name, Gemm.FPROP, tokens, l.out(), l.in(), false, false, Optional.empty(), l.bias(),
                false, false), in, List.of(y), Phase.FORWARD);
        return y;
    }

    /** The attention core of one decoding step, reading and extending the layer's key and value caches. */
    private Value cachedAttention(String n, Value q, Value k, Value v) {
        TensorType cache = TensorType.of(DType.BF16, shape.batch(), context, c.kvHeads() * c.headDim());
        Value keys = w.value(n + ".k_cache", cache, Storage.KV_CACHE);
        Value values = w.value(n + ".v_cache", cache, Storage.KV_CACHE);
        Value o = activation(n + ".core", TensorType.of(DType.BF16, tokens, c.qDim()));
        w.add(new Operator.CachedAttention(shape.batch(), context, c.heads(), c.kvHeads(), c.headDim()),
                List.of(q, k, v, positions, keys, values), List.of(o, keys, values), Phase.FORWARD);
        return o;
    }

    private Value rope(Value x, int heads, String name) {
        Value y = activation(name, x.type());
        w.add(new Operator.Rope(shape.seq(), heads, c.headDim(), c.ropeTheta(), c.ropeScaling(), false), List.of(x, positions), List.of(y),
                Phase.FORWARD);
        return y;
    }

    private String name(Op op, int layer) {
        String local = table.opName(op);
        return layer < 0 ? local : "layers." + layer + "." + local;
    }

    private Value shadow(String param) {
        Parameter p = params.get(param);
        if (p == null) {
            throw new IllegalStateException("no parameter " + param + " in the parameter table");
        }
        return p.shadow().orElseThrow();
    }

    private Value hidden(String name) {
        return activation(name, TensorType.of(DType.BF16, tokens, c.dim()));
    }

    private Value activation(String name, TensorType type) {
        return w.value(name, type, Storage.TRANSIENT);
    }
}
