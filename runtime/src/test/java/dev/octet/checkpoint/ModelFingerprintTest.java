package dev.octet.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fingerprint follows what a model computes, not how its file is written. */
class ModelFingerprintTest {
    private static final String MODEL = """
            model m {
              vocab = 11  dim = 8  ffn = 12  heads = 2  kv_heads = 1  head_dim = 4  layers = 2  max_seq = 16
              bias = [q, v]
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

    @Test
    void reformattingAndRenamingKeepItAnyChangeToTheModelDoesNot(@TempDir Path dir) throws IOException {
        String fingerprint = ModelFingerprint.of(parse(dir, "a", MODEL));
        assertEquals(64, fingerprint.length());
        String reformatted = "# a comment moves every position\n\n" + MODEL.replace("model m {", "model renamed {")
                .replace("  ", "    ").replace("bias = [q, v]", "bias = [v, q]");
        assertEquals(fingerprint, ModelFingerprint.of(parse(dir, "b", reformatted)));

        for (String changed : List.of(MODEL.replace("ffn = 12", "ffn = 16"), MODEL.replace("rope = true", "rope = false"),
                MODEL.replace("bias = [q, v]", "bias = [q]"), MODEL.replace("layers = 2", "layers = 3"))) {
            assertNotEquals(fingerprint, ModelFingerprint.of(parse(dir, "c" + changed.hashCode(), changed)), changed);
        }
    }

    private static ModelSpec parse(Path dir, String name, String source) throws IOException {
        Path file = Files.writeString(dir.resolve(name + ".octet"), source);
        Diagnostics d = new Diagnostics();
        var program = ProgramLoader.load(List.of(file), d);
        if (d.hasErrors()) {
            throw new AssertionError(DiagnosticPrinter.render(d));
        }
        return program.models().values().iterator().next();
    }
}
