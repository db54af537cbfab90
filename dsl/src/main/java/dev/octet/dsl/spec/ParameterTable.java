package dev.octet.dsl.spec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every trainable tensor of a model, named and shaped, in graph order, and every linear layer (the GEMMs
 * an FP8 recipe applies to). Names are stable: an op's name is its kind, numbered from the second of
 * that kind in the same scope ({@code rmsnorm}, {@code rmsnorm_1}), under {@code layers.<i>.} inside the
 * repeated block, e.g. {@code layers.3.attention.q.weight}.
 */
public final class ParameterTable {
    /** A trainable tensor. {@code shape} is [rows, cols] for matrices, [n] for vectors. */
    public record Param(String name, List<Integer> shape, boolean decays) {
        public long size() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /**
     * One linear layer Y = X·Wᵀ (+b): W is [out, in]. {@code layer} is -1 outside the repeated block.
     * {@code weight} names the parameter W is read from: its own, or the token embedding for a tied LM head.
     */
    public record Linear(String name, Projection projection, int layer, int out, int in, boolean bias, String weight) {}

    private final List<Param> params = new ArrayList<>();
    private final List<Linear> linears = new ArrayList<>();
    private final Map<Op, String> opNames = new IdentityHashMap<>();
    private final ModelConfig c;
    private final int layers;
    /** The first token embedding's weight: what a tied LM head reads. */
    private String tokenEmbedding;

    private ParameterTable(ModelSpec model) {
        this.c = model.config();
        this.layers = c.layers();
        Map<String, Integer> topCounts = new HashMap<>();
        for (GraphStmt s : model.forward()) {
            switch (s) {
                case GraphStmt.Let let -> visit(let.value(), -1, topCounts);
                case GraphStmt.Repeat rep -> {
                    Map<String, Integer> blockCounts = new HashMap<>();
                    for (int layer = 0; layer < rep.count(); layer++) {
                        blockCounts.clear();
                        for (GraphStmt inner : rep.body()) {
                            if (inner instanceof GraphStmt.Let l) {
                                visit(l.value(), layer, blockCounts);
                            }
                        }
                    }
                }
            }
        }
    }

    public static ParameterTable of(ModelSpec model) {
        return new ParameterTable(model);
    }

    public List<Param> params() {
        return List.copyOf(params);
    }

    public List<Linear> linears() {
        return List.copyOf(linears);
    }

    /** The op's name within its scope, without the {@code layers.<i>.} prefix. */
    public String opName(Op op) {
        String n = opNames.get(op);
        if (n == null) {
            throw new IllegalArgumentException("op is not part of this model: " + op);
        }
        return n;
    }

    public long parameterCount() {
        return params.stream().mapToLong(Param::size).sum();
    }

    /** Multiply-accumulates per token of all linear layers, the LM head included (tied or not). */
    public long linearMacsPerToken() {
        return linears.stream().mapToLong(l -> (long) l.out() * l.in()).sum();
    }

    /**
     * Training FLOPs per token: 6 per linear weight (forward 2, backward 4) plus causal attention
     * (QKᵀ and PV, 2·seq·head_dim each per head forward, halved by the causal mask, times 3 for training).
     */
    public double trainingFlopsPerToken(int seqLen) {
        long attentionLayers = linears.stream().filter(l -> l.projection() == Projection.Q).count();
        return 6.0 * linearMacsPerToken() + 6.0 * attentionLayers * c.heads() * c.headDim() * (double) seqLen;
    }

    private void visit(Op op, int layer, Map<String, Integer> counts) {
        switch (op) {
            case Op.Input in -> {}
            case Op.Ref ref -> {}
            case Op.Add add -> {
                visit(add.left(), layer, counts);
                visit(add.right(), layer, counts);
            }
            case Op.Embedding e -> {
                visit(e.ids(), layer, counts);
                String n = name(op, "embedding", layer, counts);
                param(n + ".weight", true, c.vocab(), c.dim());
                if (tokenEmbedding == null) {
                    tokenEmbedding = n + ".weight";
                }
            }
            case Op.PositionEmbedding e -> {
                visit(e.ids(), layer, counts);
                String n = name(op, "position_embedding", layer, counts);
                param(n + ".weight", true, c.maxSeq(), c.dim());
            }
            case Op.RmsNorm norm -> {
                visit(norm.x(), layer, counts);
                param(name(op, "rmsnorm", layer, counts) + ".weight", false, c.dim());
            }
            case Op.LayerNorm norm -> {
                visit(norm.x(), layer, counts);
                String n = name(op, "layernorm", layer, counts);
                param(n + ".weight", false, c.dim());
                param(n + ".bias", false, c.dim());
            }
            case Op.Attention a -> {
                visit(a.x(), layer, counts);
                String n = name(op, "attention", layer, counts);
                linear(n + ".q", Projection.Q, layer, c.qDim(), c.dim());
                linear(n + ".k", Projection.K, layer, c.kvDim(), c.dim());
                linear(n + ".v", Projection.V, layer, c.kvDim(), c.dim());
                linear(n + ".o", Projection.O, layer, c.dim(), c.qDim());
            }
            case Op.SwiGlu m -> {
                visit(m.x(), layer, counts);
                String n = name(op, "swiglu", layer, counts);
                linear(n + ".gate", Projection.GATE, layer, c.ffn(), c.dim());
                linear(n + ".up", Projection.UP, layer, c.ffn(), c.dim());
                linear(n + ".down", Projection.DOWN, layer, c.dim(), c.ffn());
            }
            case Op.GeluMlp m -> {
                visit(m.x(), layer, counts);
                String n = name(op, "gelu_mlp", layer, counts);
                linear(n + ".up", Projection.UP, layer, c.ffn(), c.dim());
                linear(n + ".down", Projection.DOWN, layer, c.dim(), c.ffn());
            }
            case Op.LmHead h -> {
                visit(h.x(), layer, counts);
                String n = name(op, "lm_head", layer, counts);
                // The checker guarantees an embedding precedes a tied head.
                boolean tied = c.tiedEmbeddings() && tokenEmbedding != null;
                linears.add(new Linear(n, Projection.LM_HEAD, layer, c.vocab(), c.dim(), c.hasBias(Projection.LM_HEAD),
                        tied ? tokenEmbedding : n + ".weight"));
                if (!tied) {
                    param(n + ".weight", true, c.vocab(), c.dim());
                }
                if (c.hasBias(Projection.LM_HEAD)) {
                    param(n + ".bias", false, c.vocab());
                }
            }
            case Op.CrossEntropy ce -> {
                visit(ce.logits(), layer, counts);
                visit(ce.targets(), layer, counts);
                name(op, "cross_entropy", layer, counts);
            }
        }
    }

    private String name(Op op, String kind, int layer, Map<String, Integer> counts) {
        int k = counts.merge(kind, 1, Integer::sum) - 1;
        String local = k == 0 ? kind : kind + "_" + k;
        opNames.putIfAbsent(op, local);
        return layer < 0 ? local : "layers." + layer + "." + local;
    }

    private void linear(String name, Projection p, int layer, int out, int in) {
        boolean bias = c.hasBias(p);
        linears.add(new Linear(name, p, layer, out, in, bias, name + ".weight"));
        param(name + ".weight", true, out, in);
        if (bias) {
            param(name + ".bias", false, out);
        }
    }

    private void param(String name, boolean decays, int... shape) {
        params.add(new Param(name, java.util.Arrays.stream(shape).boxed().toList(), decays));
    }

    /** Layers in the repeated block, for resolving negative layer indices. */
    public int layerCount() {
        return layers;
    }
}
