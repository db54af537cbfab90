package dev.octet.cpu.exec;

import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Program;
import dev.octet.testing.ModelSources;
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
    static final String LLAMA_LIKE = ModelSources.llamaLike(11, 8, 12, 2, 1, 4, 16);

    /** A 2-layer GPT-2-style model: learned positions, LayerNorm, GELU MLP, biases, untied head with bias. */
    static final String GPT2_LIKE = ModelSources.gpt2Like(13, 8, 16, 2, 16);
}
