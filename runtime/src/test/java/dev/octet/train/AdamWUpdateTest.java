package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decays flag of each parameter reaches AdamW: matrices and embeddings decay, norms and biases do not. */
class AdamWUpdateTest {
    private static final String SOURCE = """
            model biased {
              vocab = 64  dim = 32  ffn = 64  heads = 2  kv_heads = 2  head_dim = 16  layers = 1  max_seq = 16
              bias = all
              forward {
                x = embedding(tokens) + position_embedding(tokens)
                repeat layers {
                  x = x + attention(layernorm(x))
                  x = x + gelu_mlp(rmsnorm(x))
                }
                logits = lm_head(layernorm(x))
                loss = cross_entropy(logits, targets)
              }
            }
            """;

    @Test
    void withZeroGradientsOnlyDecayingParametersMove(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("biased.octet"), SOURCE);
        Diagnostics d = new Diagnostics();
        var program = ProgramLoader.load(List.of(file), d);
        if (d.hasErrors()) {
            throw new AssertionError(DiagnosticPrinter.render(d));
        }
        ModelSpec model = program.model("biased").orElseThrow();
        ParameterStore params = ParameterStore.initialize(model, 7);
        for (ParameterStore.Entry e : params.entries()) {
            java.util.Arrays.fill(e.master(), 0.5f); // biases start at zero, where decay could not be seen
        }
        params.zeroGrads();
        double lr = 0.1;
        double wd = 0.5;
        new AdamWUpdate().apply(params, new TrainingSpec.AdamW(lr, 0.9, 0.95, 1e-8, wd), lr, 1);

        // With g = 0 the moments stay 0 and AdamW's step is the decay alone: p − lr·wd·p.
        float decayed = 0.5f - (float) lr * ((float) wd * 0.5f);
        int decaying = 0;
        int kept = 0;
        for (ParameterStore.Entry e : params.entries()) {
            String name = e.param().name();
            boolean normOrBias = name.contains("norm") || name.endsWith(".bias");
            assertEquals(!normOrBias, e.param().decays(), name);
            float[] expected = new float[e.master().length];
            java.util.Arrays.fill(expected, e.param().decays() ? decayed : 0.5f);
            assertArrayEquals(expected, e.master(), name);
            if (e.param().decays()) {
                decaying++;
            } else {
                kept++;
            }
        }
        assertNotEquals(0.5f, decayed);
        // layernorm weights and biases, the rmsnorm weight, and the projections' biases
        assertTrue(kept >= 2 * 2 + 1 + 6, "kept " + kept);
        assertTrue(decaying > 0);
    }
}
