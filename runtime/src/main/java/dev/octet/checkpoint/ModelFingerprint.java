package dev.octet.checkpoint;

import dev.octet.dsl.spec.GraphStmt;
import dev.octet.dsl.spec.ModelConfig;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Op;
import dev.octet.dsl.spec.Projection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * A SHA-256 of what a model computes: its hyper-parameters and forward graph, written out canonically.
 * Source positions, comments and the model's name are left out, so reformatting or renaming a model keeps
 * its checkpoints usable, while any change to a shape or an op makes resuming refuse clearly.
 */
public final class ModelFingerprint {
    private ModelFingerprint() {}

    public static String of(ModelSpec model) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical(model).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** The text that is hashed: one line of hyper-parameters, then one line per statement. */
    static String canonical(ModelSpec model) {
        ModelConfig c = model.config();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT,
                "vocab=%d dim=%d ffn=%d heads=%d kv_heads=%d head_dim=%d layers=%d max_seq=%d norm_eps=%s rope_theta=%s tied=%b bias=",
                c.vocab(), c.dim(), c.ffn(), c.heads(), c.kvHeads(), c.headDim(), c.layers(), c.maxSeq(),
                Double.toString(c.normEps()), Double.toString(c.ropeTheta()), c.tiedEmbeddings()));
        // Sorted: a Set's iteration order may differ from one JVM run to the next.
        sb.append(c.biases().stream().map(Projection::lowerName).sorted().toList());
        // Only where present, so that fingerprints of unscaled models stay what they were.
        c.ropeScaling().ifPresent(s -> sb.append(" rope_scaling=").append(s.describe()));
        sb.append('\n');
        for (GraphStmt s : model.forward()) {
            statement(s, "", sb);
        }
        return sb.toString();
    }

    private static void statement(GraphStmt s, String indent, StringBuilder sb) {
        switch (s) {
            case GraphStmt.Let let -> sb.append(indent).append(let.name()).append(" = ").append(op(let.value())).append('\n');
            case GraphStmt.Repeat rep -> {
                sb.append(indent).append("repeat ").append(rep.count()).append('\n');
                for (GraphStmt inner : rep.body()) {
                    statement(inner, indent + "  ", sb);
                }
            }
        }
    }

    private static String op(Op op) {
        return switch (op) {
            case Op.Input in -> in.kind().toString().toLowerCase(Locale.ROOT);
            case Op.Ref ref -> ref.name();
            case Op.Embedding e -> "embedding(" + op(e.ids()) + ")";
            case Op.PositionEmbedding p -> "position_embedding(" + op(p.ids()) + ")";
            case Op.RmsNorm n -> "rmsnorm(" + op(n.x()) + ")";
            case Op.LayerNorm n -> "layernorm(" + op(n.x()) + ")";
            case Op.Attention a -> "attention(" + op(a.x()) + ", rope=" + a.rope() + ")";
            case Op.SwiGlu s -> "swiglu(" + op(s.x()) + ")";
            case Op.GeluMlp g -> "gelu_mlp(" + op(g.x()) + ")";
            case Op.Add a -> "(" + op(a.left()) + " + " + op(a.right()) + ")";
            case Op.LmHead h -> "lm_head(" + op(h.x()) + ")";
            case Op.CrossEntropy ce -> "cross_entropy(" + op(ce.logits()) + ", " + op(ce.targets()) + ")";
        };
    }
}
