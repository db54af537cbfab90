package dev.octet.hf;

import dev.octet.checkpoint.ModelFingerprint;
import dev.octet.dsl.check.ProgramChecker;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.parse.SourceParser;
import dev.octet.dsl.spec.ModelConfig;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.Projection;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The Llama/Qwen2 decoder in Octet's language, the graph of {@code examples/llama3.2-1b.octet}: what an import
 * writes, and what an export requires (another graph has no Hugging Face counterpart here).
 */
public final class StandardModelSource {
    private static final String FORWARD = """
              forward {
                x = embedding(tokens)
                repeat layers {
                  x = x + attention(rmsnorm(x), rope = true)
                  x = x + swiglu(rmsnorm(x))
                }
                logits = lm_head(rmsnorm(x))
                loss = cross_entropy(logits, targets)
              }
            """;

    private StandardModelSource() {}

    /** The model block, preceded by {@code comment} as {@code #} lines. */
    public static String render(String name, ModelConfig c, String comment) {
        StringBuilder sb = new StringBuilder();
        comment.lines().forEach(l -> sb.append("# ").append(l).append('\n'));
        sb.append("model ").append(name).append(" {\n");
        setting(sb, "vocab", Integer.toString(c.vocab()));
        setting(sb, "dim", Integer.toString(c.dim()));
        setting(sb, "ffn", Integer.toString(c.ffn()));
        setting(sb, "heads", Integer.toString(c.heads()));
        setting(sb, "kv_heads", Integer.toString(c.kvHeads()));
        setting(sb, "head_dim", Integer.toString(c.headDim()));
        setting(sb, "layers", Integer.toString(c.layers()));
        setting(sb, "max_seq", Integer.toString(c.maxSeq()));
        setting(sb, "norm_eps", number(c.normEps()));
        setting(sb, "rope_theta", number(c.ropeTheta()));
        c.ropeScaling().ifPresent(s -> setting(sb, "rope_scaling", s.describe()));
        setting(sb, "tie_embeddings", Boolean.toString(c.tiedEmbeddings()));
        if (!c.biases().isEmpty()) {
            // In the order the examples list them.
            setting(sb, "bias", c.biases().stream().sorted().map(Projection::lowerName)
                    .collect(Collectors.joining(", ", "[", "]")));
        }
        return sb.append('\n').append(FORWARD).append("}\n").toString();
    }

    /** Whether {@code model} computes exactly what the standard graph with its hyper-parameters computes. */
    public static boolean isStandard(ModelSpec model) {
        Diagnostics diagnostics = new Diagnostics();
        String text = render(model.name(), model.config(), "");
        Program p = ProgramChecker.check(List.of(SourceParser.parse(Path.of("standard.octet"), text, diagnostics)), diagnostics);
        // Out-of-range settings cannot come from a checked model; a failure here only means "not standard".
        return !diagnostics.hasErrors() && p.model(model.name())
                .map(s -> ModelFingerprint.of(s).equals(ModelFingerprint.of(model))).orElse(false);
    }

    /** A model name of the language ({@code [a-z_][a-z0-9_]*}) from a directory name like {@code Qwen2.5-0.5B}. */
    public static String nameFrom(String directoryName) {
        String n = directoryName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]+", "_").replaceAll("^_+|_+$", "");
        if (n.isEmpty()) {
            return "imported";
        }
        return Character.isDigit(n.charAt(0)) ? "m_" + n : n;
    }

    private static void setting(StringBuilder sb, String key, String value) {
        sb.append(String.format(Locale.ROOT, "  %-14s = %s\n", key, value));
    }

    /** Shortest text that parses back to the same double: 1000000, 1e-06 as 1E-6. */
    private static String number(double d) {
        BigDecimal b = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        return b.scale() <= 0 || b.abs().compareTo(BigDecimal.valueOf(1, 3)) >= 0 ? b.toPlainString() : b.toString();
    }
}
