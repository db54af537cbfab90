package dev.octet.cpu.exec;

import dev.octet.dsl.spec.Program;
import dev.octet.testing.ModelSources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/** Checked programs from source text, for tests. */
final class Models {
    private Models() {}

    static Program parse(String source) {
        try {
            return ModelSources.load(Files.createTempDirectory("octet-test"), source);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A 2-layer Llama-style model: RMSNorm, RoPE, grouped-query attention, SwiGLU, tied head. */
    static final String LLAMA_LIKE = ModelSources.llamaLike(11, 8, 12, 2, 1, 4, 16);

    /** A 2-layer GPT-2-style model: learned positions, LayerNorm, GELU MLP, biases, untied head with bias. */
    static final String GPT2_LIKE = ModelSources.gpt2Like(13, 8, 16, 2, 16);
}
