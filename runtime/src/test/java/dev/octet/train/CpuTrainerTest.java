package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.data.TokenDataset;
import dev.octet.dsl.spec.Program;
import dev.octet.testing.ExampleText;
import dev.octet.testing.ModelSources;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fixed-seed training runs on the example text: the loss falls, and FP8 (InfiR2) tracks BF16. */
class CpuTrainerTest {
    private static final int STEPS = 40;
    private static final String SOURCE = ModelSources.SMALL + ModelSources.RECIPES + """
            training run {
              model = small  recipe = infir2
              optimizer = adamw(lr = 3e-3, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1)
              schedule = cosine(warmup = 5, min_lr = 3e-4)
              clip_grad_norm = 1.0  micro_batch = 2  global_batch = 2  seq_len = 64  steps = 40  seed = 5
            }
            """;

    private static Program program;
    private static TokenDataset data;

    @BeforeAll
    static void load(@TempDir Path dir) throws IOException {
        program = ModelSources.load(dir, SOURCE);
        data = ExampleText.brown(512);
    }

    private TrainingResult run(String recipe, Path dir) throws IOException {
        return CpuTrainer.train(program.model("small").orElseThrow(), program.recipe(recipe).orElseThrow(),
                program.trainings().getFirst(), data, new TrainingOptions(STEPS, dir, 5, 2, false));
    }

    @Test
    void lossFallsFromLnVocabAndFp8TracksBf16(@TempDir Path dir) throws IOException {
        TrainingResult bf16 = run("bf16", dir.resolve("bf16"));
        TrainingResult fp8 = run("infir2", dir.resolve("fp8"));
        System.out.printf("bf16 %.4f -> %.4f (val %.4f); infir2 %.4f -> %.4f (val %.4f)%n", bf16.first(), bf16.finalMean(),
                bf16.validationLoss().orElseThrow(), fp8.first(), fp8.finalMean(), fp8.validationLoss().orElseThrow());
        // Untrained, the loss is near ln(512) = 6.24 (a tied head favours repeating the input token a little).
        assertEquals(Math.log(512), bf16.first(), 0.5);
        // 40 steps of 128 tokens take the loss at least 1.0 nat below where it started.
        assertTrue(bf16.finalMean() < bf16.first() - 1.0, "bf16 " + bf16.first() + " -> " + bf16.finalMean());
        assertTrue(fp8.finalMean() < fp8.first() - 1.0, "fp8 " + fp8.first() + " -> " + fp8.finalMean());
        // Same seed, same batches: FP8 ends within 0.1 nat of BF16, in training and held-out loss.
        assertEquals(bf16.finalMean(), fp8.finalMean(), 0.1);
        assertEquals(bf16.validationLoss().orElseThrow(), fp8.validationLoss().orElseThrow(), 0.1);
        // Identical first step: quantization changes the loss only slightly before any update.
        assertEquals(bf16.first(), fp8.first(), 0.02);
    }

    @Test
    void metricsFileHasOneLinePerLoggedStepAndTheHeldOutLoss(@TempDir Path dir) throws IOException {
        run("infir2", dir);
        var lines = MetricsLog.read(dir.resolve(MetricsLog.FILE_NAME));
        // steps 0, 5, ..., 35, the last step 39, and the closing line with eval_loss
        assertEquals(STEPS / 5 + 2, lines.size());
        assertEquals(0, lines.getFirst().get("step").getAsInt());
        assertTrue(lines.getLast().has("eval_loss"));
    }
}
