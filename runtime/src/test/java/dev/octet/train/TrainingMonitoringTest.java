package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.checkpoint.TensorNames;
import dev.octet.cpu.exec.Fp8HealthCollector;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.NonFiniteTensorException;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.data.TokenDataset;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.testing.ExampleText;
import dev.octet.testing.ModelSources;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FP8 health every N steps, periodic held-out loss, and steps skipped for inf/NaN, on short runs of a small model. */
class TrainingMonitoringTest {
    private static final String SOURCE = ModelSources.SMALL + ModelSources.RECIPES + """
            recipe delayed {
              granularity = tensor  scale = fp32  scaling = delayed(history = 16, margin = 0)  format = e4m3
              bf16 = [embedding, lm_head, attention_core, norm]
            }
            training run {
              model = small  recipe = infir2
              optimizer = adamw(lr = 3e-3, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1)
              schedule = cosine(warmup = 2, min_lr = 3e-4)
              clip_grad_norm = 1.0  micro_batch = 2  global_batch = 2  seq_len = 64  steps = 10  seed = 5
            }
            """;
    /** 7 linear layers in FP8 (q, k, v, o, gate, up, down), each quantizing 6 operands. */
    private static final int FP8_OPERANDS = 7 * 6;

    private static Program program;
    private static TokenDataset data;

    @BeforeAll
    static void load(@TempDir Path dir) throws IOException {
        program = ModelSources.load(dir, SOURCE);
        data = ExampleText.brown(512);
    }

    private static ModelSpec model() {
        return program.model("small").orElseThrow();
    }

    private static RecipeSpec recipe(String name) {
        return program.recipe(name).orElseThrow();
    }

    private static TrainingSpec spec() {
        return program.trainings().getFirst();
    }

    private static TrainingOptions options(int steps, Path dir, Monitoring monitoring) {
        return new TrainingOptions(steps, dir, 100, 2, false).monitoring(monitoring);
    }

    @Test
    void healthIsLoggedEveryNStepsWithEveryFp8OperandAndTheWorstInTheMetrics(@TempDir Path dir) throws IOException {
        CpuTrainer.train(model(), recipe("infir2"), spec(), data, options(10, dir, new Monitoring(4, 0)));
        List<JsonObject> health = MetricsLog.read(dir.resolve(Fp8HealthLog.FILE_NAME));
        assertEquals(List.of(0L, 4L, 8L), health.stream().map(h -> h.get("step").getAsLong()).toList());
        var tensors = health.getFirst().getAsJsonArray("tensors");
        assertEquals(FP8_OPERANDS, tensors.size());
        JsonObject q = tensors.get(0).getAsJsonObject();
        assertEquals("layers.0.attention.q fprop activations", q.get("tensor").getAsString());
        double worst = Double.POSITIVE_INFINITY;
        for (var t : tensors) {
            JsonObject e = t.getAsJsonObject();
            double snr = e.get("snr_db").getAsDouble();
            // E4M3 with 1x128 / 128x128 power-of-two scales: well above 20 dB, and nothing is clipped; only a
            // group whose amax is exactly 448·2^k (a BF16 value) puts an element at the max.
            assertTrue(snr > 20 && snr < 40, e.toString());
            assertTrue(e.get("saturated").getAsDouble() < 1e-3, e.toString());
            assertTrue(e.get("amax").getAsDouble() > 0, e.toString());
            worst = Math.min(worst, snr);
        }
        JsonObject step0 = MetricsLog.read(dir.resolve(MetricsLog.FILE_NAME)).getFirst();
        assertEquals(worst, step0.get("fp8_worst_snr_db").getAsDouble());
        assertTrue(step0.get("fp8_worst_snr_tensor").getAsString().startsWith("layers.0."), step0.toString());
    }

    @Test
    void aBf16RunWritesNoHealthFile(@TempDir Path dir) throws IOException {
        CpuTrainer.train(model(), recipe("bf16"), spec(), data, options(2, dir, new Monitoring(1, 0)));
        assertFalse(Files.exists(dir.resolve(Fp8HealthLog.FILE_NAME)));
        assertEquals("bf16", RunManifest.readFrom(dir).orElseThrow().recipe());
    }

    @Test
    void heldOutLossIsLoggedEveryNStepsAndLeavesTrainingUnchanged(@TempDir Path dir) throws IOException {
        // Delayed scaling: evaluation must not leave its amaxes in the histories that training scales with.
        TrainingResult plain = CpuTrainer.train(model(), recipe("delayed"), spec(), data,
                options(10, dir.resolve("plain"), Monitoring.off()));
        TrainingResult evaluated = CpuTrainer.train(model(), recipe("delayed"), spec(), data,
                options(10, dir.resolve("eval"), new Monitoring(0, 4)));
        assertEquals(plain.losses(), evaluated.losses());
        assertEquals(plain.validationLoss(), evaluated.validationLoss());

        List<JsonObject> lines = MetricsLog.read(dir.resolve("eval").resolve(MetricsLog.FILE_NAME));
        List<JsonObject> evals = lines.stream().filter(l -> l.has("eval_loss")).toList();
        // after 4 and 8 completed steps (steps 3 and 7), and the closing line after the last step
        assertEquals(List.of(3L, 7L, 9L), evals.stream().map(l -> l.get("step").getAsLong()).toList());
        assertEquals(evaluated.validationLoss().orElseThrow(), evals.getLast().get("eval_loss").getAsDouble());
        assertTrue(evals.get(1).get("eval_loss").getAsDouble() < evals.get(0).get("eval_loss").getAsDouble());
    }

    @Test
    void aNaNSkipsTheStepWithoutAnUpdateAndNamesTheTensor(@TempDir Path dir) throws IOException {
        int steps = 4;
        Path faulty = dir.resolve("faulty");
        TrainingResult result = trainPoisoning("layers.0.swiglu.up", Set.of(3L), steps, faulty,
                Monitoring.off(), Checkpointing.every(0, 2), StopCondition.NEVER);
        assertEquals(1, result.skippedSteps());
        assertEquals(steps - 1, result.losses().size());
        assertTrue(result.losses().stream().allMatch(Double::isFinite));

        JsonObject step3 = MetricsLog.read(faulty.resolve(MetricsLog.FILE_NAME)).stream()
                .filter(l -> l.get("step").getAsLong() == 3 && l.has("skipped_tensor")).findFirst().orElseThrow();
        assertEquals(1, step3.get("skipped_steps").getAsLong());
        // NaN in up's output flows through SwiGLU into down's FP8 activations, where quantizing finds it.
        assertEquals("layers.0.swiglu.down (fprop activations)", step3.get("skipped_tensor").getAsString());

        // The same run stopped after 3 steps has exactly the weights and moments the skipped 4th step left.
        Path clean = dir.resolve("clean");
        trainPoisoning("layers.0.swiglu.up", Set.of(), steps, clean, Monitoring.off(), Checkpointing.every(0, 2),
                completed -> completed == 3);
        try (SafetensorsFile a = SafetensorsFile.open(checkpoint(faulty, 4));
             SafetensorsFile b = SafetensorsFile.open(checkpoint(clean, 3))) {
            assertEquals("3", a.metadata().get("optimizer_steps"), a.metadata().toString());
            for (ParameterTable.Param p : ParameterTable.of(model()).params()) {
                assertArrayEquals(b.floats(TensorNames.master(p.name())), a.floats(TensorNames.master(p.name())), p.name());
                assertArrayEquals(b.floats(TensorNames.adamV(p.name())), a.floats(TensorNames.adamV(p.name())), p.name());
            }
        }
    }

    @Test
    void tooManySkippedStepsInARowIsDivergence(@TempDir Path dir) {
        NonFiniteTensorException e = assertThrows(NonFiniteTensorException.class, () -> trainPoisoning("layers.0.attention.q",
                Set.of(1L, 2L, 3L, 4L), 6, dir, new Monitoring(0, 0, 2), Checkpointing.off(), StopCondition.NEVER));
        assertTrue(e.getMessage().contains("3 steps in a row up to step 3"), e.getMessage());
    }

    private static Path checkpoint(Path runDir, int step) {
        return runDir.resolve("checkpoints").resolve(String.format("step-%08d.safetensors", step));
    }

    /** Trains with one linear layer's forward output poisoned with a NaN on the given (0-based) steps. */
    private static TrainingResult trainPoisoning(String linear, Set<Long> poisonedSteps, int steps, Path dir,
                                                    Monitoring monitoring, Checkpointing checkpointing, StopCondition stop)
            throws IOException {
        Fp8HealthCollector health = new Fp8HealthCollector();
        RecipeLinearPolicy real = new RecipeLinearPolicy(recipe("infir2"), model().config().layers(), health);
        // One micro-batch per step, so the n-th forward call of the layer is step n (evaluation runs only at the end).
        GraphInterpreter.LinearPolicy policy = PoisonedLinear.policy(real, linear, poisonedSteps::contains);
        TrainingOptions options = new TrainingOptions(steps, dir, 1, 2, false).monitoring(monitoring)
                .withCheckpointing(checkpointing).stoppingWhen(stop);
        return CpuTrainer.train(model(), recipe("infir2"), spec(), data, options, policy, health);
    }
}
