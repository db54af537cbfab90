package dev.octet.cpu.exec;

import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Program;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Checked programs from source text, for tests. */
final class Models {
    private Models() {}

    static Program parse(String source) {
        try {
            Path dir = Files.createTempDirectory("octet-test");
            Path file = dir.resolve("model.octet");
            Files.writeString(file, source);
            Diagnostics d = new Diagnostics();
            Program p = ProgramLoader.load(List.of(file), d);
            if (d.hasErrors()) {
                throw new AssertionError(DiagnosticPrinter.render(d));
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A 2-layer Llama-style model: RMSNorm, RoPE, grouped-query attention, SwiGLU, tied head. */
    static final String LLAMA_LIKE = """
            model llama_like {
              vocab = 11  dim = 8  ffn = 12  heads = 2  kv_heads = 1  head_dim = 4  layers = 2  max_seq = 16
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
            """;

    /** A 2-layer GPT-2-style model: learned positions, LayerNorm, GELU MLP, biases, untied head with bias. */
    static final String GPT2_LIKE = """
            model gpt2_like {
              vocab = 13  dim = 8  ffn = 16  heads = 2  layers = 2  max_seq = 16
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
            """;
}
