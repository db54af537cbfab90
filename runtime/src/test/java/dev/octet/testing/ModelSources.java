package dev.octet.testing;

import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Program;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The two small model families the runtime tests train, written once: a Llama-style block (RMSNorm, RoPE,
 * grouped-query attention, SwiGLU, tied head) and a GPT-2-style block (learned positions, LayerNorm, GELU
 * MLP, biases everywhere but the tied-free head). Each test picks the sizes it needs.
 */
public final class ModelSources {
    private ModelSources() {}

    /** {@code source} written to {@code dir}/model.octet and loaded; its diagnostics fail the test. */
    public static Program load(Path dir, String source) throws IOException {
        Path file = dir.resolve("model.octet");
        Files.writeString(file, source);
        Diagnostics d = new Diagnostics();
        Program program = ProgramLoader.load(List.of(file), d);
        if (d.hasErrors()) {
            throw new AssertionError(DiagnosticPrinter.render(d));
        }
        return program;
    }

    /** The Llama-style model named {@code llama_like} with two layers. */
    public static String llamaLike(int vocab, int dim, int ffn, int heads, int kvHeads, int headDim, int maxSeq) {
        return llama("llama_like", vocab, dim, ffn, heads, kvHeads, headDim, 2, maxSeq);
    }

    public static String llama(String name, int vocab, int dim, int ffn, int heads, int kvHeads, int headDim, int layers,
                               int maxSeq) {
        return """
                model %s {
                  vocab = %d  dim = %d  ffn = %d  heads = %d  kv_heads = %d  head_dim = %d  layers = %d  max_seq = %d
                  tie_embeddings = true
                  forward {
                    x = embedding(tokens)
                    repeat layers {
                      x = x + attention(rmsnorm(x), rope = true)
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                  }
                }
                """.formatted(name, vocab, dim, ffn, heads, kvHeads, headDim, layers, maxSeq);
    }

    /**
     * The one-layer model the training tests run on the example text: 512-token vocabulary, width 128, one
     * head pair of 64 — the smallest whose projections fit InfiR2's 128-wide FP8 blocks.
     */
    public static final String SMALL = llama("small", 512, 128, 256, 2, 2, 64, 1, 64);

    public static String gpt2Like(int vocab, int dim, int ffn, int heads, int maxSeq) {
        return """
                model gpt2_like {
                  vocab = %d  dim = %d  ffn = %d  heads = %d  layers = 2  max_seq = %d
                  bias = [q, k, v, o, up, down, lm_head]
                  forward {
                    x = embedding(tokens) + position_embedding(tokens)
                    repeat layers {
                      x = x + attention(layernorm(x))
                      x = x + gelu_mlp(layernorm(x))
                    }
                    logits = lm_head(layernorm(x))
                    loss = cross_entropy(logits, targets)
                  }
                }
                """.formatted(vocab, dim, ffn, heads, maxSeq);
    }

    public static final String BF16 = """
            recipe bf16 { bf16 = all }
            """;

    public static final String INFIR2 = """
            recipe infir2 {
              format = e4m3  scale = ue8m0  scaling = current
              weights = block(128)  activations = group(128)  gradients = group(128)
              bf16 = [embedding, lm_head, attention_core, norm]
            }
            """;

    /** The bf16 baseline and the InfiR2 recipe, as test sources name them. */
    public static final String RECIPES = BF16 + INFIR2;
}
