package dev.octet.train;

import dev.octet.dist.GradientExchange;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.cpu.exec.Fp8HealthCollector;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.data.TrainingData;
import dev.octet.dist.HostCollectives;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Training on the CPU reference backend ({@link CpuBackend}) through the shared {@link TrainingLoop}: gradient
 * accumulation, global-norm clipping, the schedule's learning rate, AdamW on FP32 master weights, metrics,
 * checkpoints, FP8 health and the held-out loss ({@link Monitoring}), and steps skipped for
 * inf/NaN. A resumed run continues bit for bit as the uninterrupted run would have.
 */
public final class CpuTrainer {
    private CpuTrainer() {}

    public static TrainingResult train(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, TrainingData data,
                                       TrainingOptions options) throws IOException {
        try (CpuBackend backend = new CpuBackend(model, recipe, spec)) {
            return TrainingLoop.run(backend, model, recipe, spec, data, options);
        }
    }

    /**
     * As above as one rank of a data-parallel run through {@code ranks}: this rank's share of every step's
     * micro-batches, gradients summed at their parameters' owners, optimizer state sharded (ZeRO-2), rank 0 writing
     * the run's files.
     */
    public static TrainingResult train(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, TrainingData data,
                                       TrainingOptions options, HostCollectives ranks) throws IOException {
        try (CpuBackend backend = new CpuBackend(model, recipe, spec, ranks)) {
            return TrainingLoop.run(backend, model, recipe, spec, data, options);
        }
    }

    /** As above with the kernels chosen by {@code policy}: how a test injects a fault into one layer. */
    static TrainingResult train(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, TrainingData data,
                                TrainingOptions options, GraphInterpreter.LinearPolicy policy, Fp8HealthCollector health)
            throws IOException {
        try (CpuBackend backend = new CpuBackend(model, recipe, spec, policy, health)) {
            return TrainingLoop.run(backend, model, recipe, spec, data, options);
        }
    }

    /**
     * Where a checkpoint's run stood, after checking that it was written for {@code model}: what resuming
     * reads before it loads any data.
     */
    public static CheckpointMetadata checkpointFor(Path file, ModelSpec model) throws IOException {
        CheckpointMetadata metadata = TrainingCheckpoint.readMetadata(file);
        TrainingCheckpoint.requireSameModel(file, metadata, model);
        return metadata;
    }

}
