package dev.octet.train;

import dev.octet.checkpoint.TensorReader;
import dev.octet.data.TokenDataset;
import dev.octet.dist.GradientExchange;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.testing.ExampleFiles;
import dev.octet.testing.ExampleText;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The GPU step's data-parallel path on one GPU: a communicator of one rank, through which every gradient and the
 * loss are summed in place after the micro-batches, trains the tiny example to the same bits as the step without
 * it (an all-reduce over one rank gives back its input), checkpoints included. Several ranks need as many GPUs.
 * NCCL must be loadable: scripts/gpu-tests-remote points OCTET_NCCL_LIBRARY at PyTorch's copy.
 */
@GpuKernelTest
class DataParallelGpuTest {
    @Test
    void oneRankThroughNcclTrainsAsTheStepWithoutIt(@TempDir Path dir) throws IOException {
        Path examples = ExampleFiles.dir();
        Diagnostics diagnostics = new Diagnostics();
        Program p = ProgramLoader.load(List.of(examples.resolve("tiny.octet"), examples.resolve("recipes/infir2.octet")),
                diagnostics);
        assertFalse(diagnostics.hasErrors());
        ModelSpec model = p.model("tiny").orElseThrow();
        RecipeSpec recipe = p.recipe("infir2").orElseThrow();
        TrainingSpec spec = p.trainings().getFirst();
        TokenDataset data = ExampleText.brown(model.config().vocab());

        TrainingResult plain = run(model, recipe, spec, data, dir.resolve("plain"), false);
        TrainingResult nccl = run(model, recipe, spec, data, dir.resolve("nccl"), true);
        System.out.println("tiny/infir2 on the GPU: without NCCL " + plain.losses() + ", through one NCCL rank " + nccl.losses());
        assertEquals(plain.losses(), nccl.losses(), "losses step for step, to the last bit");
        try (TensorReader a = TensorReader.open(plain.checkpoint().orElseThrow());
             TensorReader b = TensorReader.open(nccl.checkpoint().orElseThrow())) {
            assertEquals(a.names(), b.names());
            for (String name : a.names()) {
                assertArrayEquals(a.bytes(name), b.bytes(name), name);
            }
        }
    }

    private static TrainingResult run(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, TokenDataset data, Path dir,
                                      boolean nccl) throws IOException {
        TrainingOptions options = new TrainingOptions(4, dir, 1, 1, false).withCheckpointing(Checkpointing.every(0, 1));
        try (GpuBackend backend = GpuBackend.open(model, recipe, spec, OptionalLong.empty(), true, line -> {},
                GradientExchange.SINGLE, 0, nccl)) {
            return TrainingLoop.run(backend, model, recipe, spec, data, options);
        }
    }
}
