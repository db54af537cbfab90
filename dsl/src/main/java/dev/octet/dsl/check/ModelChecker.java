package dev.octet.dsl.check;

import dev.octet.dsl.ast.Assignment;
import dev.octet.dsl.ast.Block;
import dev.octet.dsl.ast.Expr;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.GraphStmt;
import dev.octet.dsl.spec.ModelConfig;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Projection;
import dev.octet.dsl.spec.RopeScaling;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Checks a {@code model} block: its hyper-parameters, then its {@code forward} graph. */
final class ModelChecker {
    static final Set<String> KEYS = Set.of("vocab", "dim", "ffn", "heads", "kv_heads", "head_dim", "layers", "max_seq",
            "norm_eps", "rope_theta", "rope_scaling", "tie_embeddings", "bias");
    static final List<String> PROJECTIONS = Arrays.stream(Projection.values()).map(Projection::lowerName).toList();

    private ModelChecker() {}

    static Optional<ModelSpec> check(Block block, String name, Diagnostics diagnostics) {
        int before = diagnostics.errorCount();
        BlockReader r = new BlockReader(block, "model '" + name + "'", KEYS, Set.of("forward"), diagnostics);
        r.requireAll("vocab", "dim", "ffn", "heads", "layers", "max_seq");
        int vocab = r.integer("vocab", 2, 4_194_304, 2);
        int dim = r.integer("dim", 1, 65_536, 1);
        int ffn = r.integer("ffn", 1, 1_048_576, 1);
        int heads = r.integer("heads", 1, 1024, 1);
        int kvHeads = r.integer("kv_heads", 1, heads, heads);
        int layers = r.integer("layers", 1, 1024, 1);
        int maxSeq = r.integer("max_seq", 1, 4_194_304, 1);
        double normEps = r.real("norm_eps", 0, false, 0.1, 1e-5);
        double ropeTheta = r.real("rope_theta", 0, false, 1e12, 10_000);
        Optional<RopeScaling> ropeScaling = r.get("rope_scaling").flatMap(a -> ropeScaling(r, a));
        boolean tied = r.bool("tie_embeddings", false);
        Set<Projection> biases = biases(r);

        int headDim;
        if (r.has("head_dim")) {
            headDim = r.integer("head_dim", 1, 1024, 1);
        } else {
            headDim = Math.max(1, dim / heads);
            if (dim % heads != 0 && r.has("dim") && r.has("heads")) {
                diagnostics.error(r.get("heads").orElseThrow().value().pos(),
                        "heads = " + heads + " does not divide dim = " + dim,
                        "dim must be a multiple of heads (head_dim = dim / heads), or set head_dim explicitly");
            }
        }
        if (heads % kvHeads != 0) {
            diagnostics.error(r.get("kv_heads").orElseThrow().value().pos(),
                    "kv_heads = " + kvHeads + " does not divide heads = " + heads,
                    "grouped-query attention shares each key/value head among heads / kv_heads query heads");
        }
        if (headDim % 2 != 0 && r.has("head_dim")) {
            diagnostics.error(r.get("head_dim").orElseThrow().value().pos(), "head_dim = " + headDim + " must be even",
                    "rotary embeddings rotate pairs of channels");
        }
        ModelConfig config = new ModelConfig(vocab, dim, ffn, heads, kvHeads, headDim, layers, maxSeq, normEps,
                ropeTheta, ropeScaling, tied, biases);

        List<Block> forwards = r.blocks();
        List<GraphStmt> graph = List.of();
        if (forwards.isEmpty()) {
            diagnostics.error(block.pos(), "model '" + name + "' has no forward block",
                    "add 'forward { ... }' with the layers, ending in 'loss = cross_entropy(logits, targets)'");
        } else {
            for (int i = 1; i < forwards.size(); i++) {
                diagnostics.error(forwards.get(i).pos(), "duplicate definition of 'forward' in model '" + name + "'",
                        "first defined at " + forwards.getFirst().pos());
            }
            graph = new GraphChecker(config, name, diagnostics).check(forwards.getFirst());
        }
        if (diagnostics.errorCount() > before) {
            return Optional.empty();
        }
        return Optional.of(new ModelSpec(name, block.pos(), config, graph));
    }

    private static Set<Projection> biases(BlockReader r) {
        Optional<Assignment> a = r.get("bias");
        if (a.isEmpty()) {
            return Set.of();
        }
        Expr v = a.get().value();
        if (v instanceof Expr.Name n && n.name().equals("none")) {
            return Set.of();
        }
        if (v instanceof Expr.Name n && n.name().equals("all")) {
            // Every projection of the block; GPT-2, the model that has biases everywhere, has none on its LM head.
            return EnumSet.complementOf(EnumSet.of(Projection.LM_HEAD));
        }
        if (v instanceof Expr.ListLit list) {
            EnumSet<Projection> set = EnumSet.noneOf(Projection.class);
            for (Expr e : list.elements()) {
                r.choice(e, "bias", PROJECTIONS).ifPresent(p -> set.add(Projection.valueOf(p.toUpperCase())));
            }
            return set;
        }
        r.diagnostics().error(v.pos(), "'bias' expects none, all, or a list of projections",
                "e.g. bias = [q, k, v]; projections: " + String.join(", ", PROJECTIONS));
        return Set.of();
    }

    /** {@code rope_scaling = llama3(factor = 32, low_freq_factor = 1, high_freq_factor = 4, original_max_seq = 8192)}. */
    private static Optional<RopeScaling> ropeScaling(BlockReader r, Assignment a) {
        var args = CallOptions.named(r, a.value(), "rope_scaling", "llama3",
                Set.of("factor", "low_freq_factor", "high_freq_factor", "original_max_seq"));
        for (String key : List.of("factor", "low_freq_factor", "high_freq_factor", "original_max_seq")) {
            if (!args.containsKey(key) && a.value() instanceof Expr.Call c && c.callee().equals("llama3")) {
                r.diagnostics().error(a.value().pos(), "llama3(...) needs " + key,
                        "e.g. rope_scaling = llama3(factor = 32, low_freq_factor = 1, high_freq_factor = 4, original_max_seq = 8192)");
                return Optional.empty();
            }
        }
        if (args.isEmpty()) {
            return Optional.empty();
        }
        double factor = CallOptions.real(r, args, "factor", 1, true, 1e6, 1);
        double low = CallOptions.real(r, args, "low_freq_factor", 0, false, 1e6, 1);
        double high = CallOptions.real(r, args, "high_freq_factor", 0, false, 1e6, 4);
        int original = CallOptions.integer(r, args, "original_max_seq", 8192);
        if (!(high > low) || original < 1) {
            r.diagnostics().error(a.value().pos(), "llama3 RoPE scaling needs low_freq_factor < high_freq_factor and "
                    + "original_max_seq >= 1", "Llama 3.1/3.2 use low_freq_factor = 1, high_freq_factor = 4, original_max_seq = 8192");
            return Optional.empty();
        }
        return Optional.of(new RopeScaling(factor, low, high, original));
    }
}
