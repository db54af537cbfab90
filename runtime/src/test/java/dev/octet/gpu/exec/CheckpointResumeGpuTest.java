package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.data.TokenDataset;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.testing.ExampleText;
import dev.octet.train.Checkpointing;
import dev.octet.train.GpuTrainer;
import dev.octet.train.TrainingOptions;
import dev.octet.train.TrainingResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * On the GPU, a run stopped after 3 of 6 steps and resumed from its checkpoint gives the uninterrupted run's
 * losses to the last bit, and the same final checkpoint: weights, moments and, under delayed scaling, the amax
 * histories the device keeps (copied out of the arena into the checkpoint and back in on resume).
 */
@GpuKernelTest
class CheckpointResumeGpuTest {
    private static final int STEPS = 6;

    @ParameterizedTest
    @CsvSource({"infir2, infir2", "tensorwise-delayed, tensorwise_delayed"})
    void stoppedAndResumedEqualsUninterruptedBitForBit(String file, String recipeName, @TempDir Path dir) throws IOException {
        Program p = ExampleModels.load("tiny.octet", file);
        ModelSpec model = p.model("tiny").orElseThrow();
        RecipeSpec recipe = p.recipe(recipeName).orElseThrow();
        TrainingSpec spec = p.trainings().getFirst();
        TokenDataset data = ExampleText.brown(model.config().vocab());

        TrainingResult whole = GpuTrainer.train(model, recipe, spec, data, options(dir.resolve("whole")), line -> {});
        TrainingResult first = GpuTrainer.train(model, recipe, spec, data,
                options(dir.resolve("split")).stoppingWhen(done -> done == 3), line -> {});
        assertTrue(first.stopped());
        TrainingResult second = GpuTrainer.train(model, recipe, spec, data,
                options(dir.resolve("split")).resumingFrom(first.checkpoint().orElseThrow()), line -> {});

        List<Double> resumed = new ArrayList<>(first.losses());
        resumed.addAll(second.losses());
        System.out.println("tiny/" + recipeName + " on the GPU: uninterrupted " + whole.losses() + ", resumed " + resumed);
        assertEquals(whole.losses(), resumed, "losses step for step, to the last bit");
        assertEquals(whole.validationLoss(), second.validationLoss());
        try (SafetensorsFile a = SafetensorsFile.open(whole.checkpoint().orElseThrow());
             SafetensorsFile b = SafetensorsFile.open(second.checkpoint().orElseThrow())) {
            assertEquals(a.names(), b.names());
            assertEquals(recipeName.equals("tensorwise_delayed"), a.names().stream().anyMatch(n -> n.startsWith("fp8.amax_history.")),
                    "amax histories in the checkpoint exactly when the recipe scales with delayed scaling");
            for (String name : a.names()) {
                if (name.contains("recorded")) {
                    assertArrayEquals(a.longs(name), b.longs(name), name);
                } else {
                    assertArrayEquals(a.floats(name), b.floats(name), name);
                }
            }
        }
    }

    private static TrainingOptions options(Path run) {
        return new TrainingOptions(STEPS, run, 1, 1, false).withCheckpointing(Checkpointing.every(0, 2));
    }
}
