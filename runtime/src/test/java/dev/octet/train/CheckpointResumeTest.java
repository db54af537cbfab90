package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.checkpoint.TensorNames;
import dev.octet.data.TextCorpus;
import dev.octet.data.TokenDataset;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** A run stopped and resumed from its checkpoint continues bit for bit as the uninterrupted run. */
class CheckpointResumeTest {
    private static final int STEPS = 6;
    private static final String SOURCE = """
            model small {
              vocab = 512  dim = 128  ffn = 256  heads = 2  kv_heads = 2  head_dim = 64  layers = 1  max_seq = 64
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
            model wider {
              vocab = 512  dim = 256  ffn = 256  heads = 2  kv_heads = 2  head_dim = 128  layers = 1  max_seq = 64
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
            recipe infir2 {
              format = e4m3  scale = ue8m0  scaling = current
              weights = block(128)  activations = group(128)  gradients = group(128)
              bf16 = [embedding, lm_head, attention_core, norm]
            }
            recipe delayed {
              granularity = tensor  scale = fp32  scaling = delayed(history = 4, margin = 0)  format = e4m3
              bf16 = [embedding, lm_head, attention_core, norm]
            }
            training run {
              model = small  recipe = infir2
              optimizer = adamw(lr = 3e-3, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1)
              schedule = cosine(warmup = 2, min_lr = 3e-4)
              clip_grad_norm = 1.0  micro_batch = 2  global_batch = 4  seq_len = 64  steps = 6  seed = 5
            }
            """;

    private static Program program;
    private static TokenDataset data;

    @BeforeAll
    static void load(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("small.octet");
        Files.writeString(file, SOURCE);
        Diagnostics d = new Diagnostics();
        program = ProgramLoader.load(List.of(file), d);
        if (d.hasErrors()) {
            throw new AssertionError(DiagnosticPrinter.render(d));
        }
        data = TokenDataset.build(TextCorpus.loadExample("brown").tokenize(), 512);
    }

    private static CpuTrainer.Result train(String model, String recipe, CpuTrainer.Options options) throws IOException {
        return CpuTrainer.train(program.model(model).orElseThrow(), program.recipe(recipe).orElseThrow(),
                program.trainings().getFirst(), data, options);
    }

    private static CpuTrainer.Options options(Path run) {
        return new CpuTrainer.Options(STEPS, run, 1, 1, false).withCheckpointing(Checkpointing.every(0, 2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"infir2", "delayed"})
    void stoppedAfterThreeStepsAndResumedEqualsSixStepsBitForBit(String recipe, @TempDir Path dir) throws IOException {
        Path whole = dir.resolve("whole");
        Path split = dir.resolve("split");
        CpuTrainer.Result uninterrupted = train("small", recipe, options(whole));

        CpuTrainer.Result first = train("small", recipe, options(split).stoppingWhen(done -> done == 3));
        assertTrue(first.stopped());
        assertTrue(first.validationLoss().isEmpty());
        assertEquals(3, first.completedSteps());
        Path checkpoint = first.checkpoint().orElseThrow();
        assertEquals(CheckpointDirectory.of(split, 2).fileFor(3), checkpoint);
        CheckpointMetadata saved = CpuTrainer.checkpointFor(checkpoint, program.model("small").orElseThrow());
        assertEquals(3, saved.step());
        assertEquals(3, saved.optimizerSteps());
        assertEquals(STEPS, saved.totalSteps());
        assertEquals(6, saved.sampler().nextBatch(), "two micro-batches per step");
        assertEquals(recipe, saved.recipe());

        CpuTrainer.Result second = train("small", recipe, options(split).resumingFrom(checkpoint));
        assertEquals(6, second.completedSteps());

        List<Double> resumed = new java.util.ArrayList<>(first.losses());
        resumed.addAll(second.losses());
        assertEquals(uninterrupted.losses(), resumed, "losses step for step, to the last bit");
        assertEquals(uninterrupted.validationLoss(), second.validationLoss());

        // metrics.jsonl was appended to, and holds the same lines as the uninterrupted run's, timings aside.
        assertEquals(withoutTimings(whole), withoutTimings(split));

        // The final states agree to the last bit, moments and amax histories included.
        try (SafetensorsFile a = SafetensorsFile.open(uninterrupted.checkpoint().orElseThrow());
             SafetensorsFile b = SafetensorsFile.open(second.checkpoint().orElseThrow())) {
            assertEquals(a.names(), b.names());
            for (String name : a.names()) {
                assertArrayEquals(a.bytes(name), b.bytes(name), name);
            }
            assertEquals(recipe.equals("delayed"), a.names().stream().anyMatch(n -> n.startsWith("fp8.amax_history.")));
            assertTrue(a.names().contains(TensorNames.adamV("layers.0.attention.q.weight")), a.names().toString());
        }
    }

    @Test
    void aCheckpointOfAnotherModelIsRefusedNamingBoth(@TempDir Path dir) throws IOException {
        CpuTrainer.Result run = train("small", "infir2", options(dir).stoppingWhen(done -> done == 1));
        Path checkpoint = run.checkpoint().orElseThrow();
        ModelSpec wider = program.model("wider").orElseThrow();
        CheckpointException e = assertThrows(CheckpointException.class, () -> CpuTrainer.checkpointFor(checkpoint, wider));
        assertTrue(e.getMessage().startsWith(checkpoint + ": was written for model small"), e.getMessage());
        assertTrue(e.getMessage().contains("not for model wider"), e.getMessage());
        assertThrows(CheckpointException.class, () -> train("wider", "infir2", options(dir).resumingFrom(checkpoint)));
    }

    @Test
    void resumingAFinishedRunIsRefused(@TempDir Path dir) throws IOException {
        CpuTrainer.Result run = train("small", "infir2", new CpuTrainer.Options(2, dir, 1, 1, false)
                .withCheckpointing(Checkpointing.every(1, 1)));
        Path last = run.checkpoint().orElseThrow();
        assertEquals(List.of(2L), CheckpointDirectory.of(dir, 1).entries().stream().map(CheckpointDirectory.Entry::step).toList());
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> train("small", "infir2", new CpuTrainer.Options(2, dir, 1, 1, false).resumingFrom(last)));
        assertTrue(e.getMessage().contains("already completed 2 of 2 steps"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    private static List<JsonObject> withoutTimings(Path run) throws IOException {
        List<JsonObject> lines = MetricsLog.read(run.resolve(MetricsLog.FILE_NAME));
        for (JsonObject line : lines) {
            line.remove("tokens_per_s");
            line.remove("elapsed_s");
        }
        return lines;
    }
}
