package dev.octet.train;

import dev.octet.data.TrainingData;
import dev.octet.dist.HostCollectives;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Training on a CUDA device: the same loop as {@link CpuTrainer} (same batches in the same order, schedule,
 * metrics.jsonl, progress, checkpoints, held-out loss), with each step the compiled plan replayed as CUDA
 * graphs by {@link GpuBackend}. Needs a device that {@code CudaAvailability.probe()} reports Available and NVRTC.
 */
public final class GpuTrainer {
    private GpuTrainer() {}

    /**
     * @param report receives lines on the device's planned and free memory, the device, how the kernels were
     *               obtained (compile cache), and notes
     * @throws DeviceMemoryShortfallException when the step does not fit the device's free memory, before allocating
     */
    public static TrainingResult train(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, TrainingData data,
                                       TrainingOptions options, Consumer<String> report) throws IOException {
        try (GpuBackend backend = GpuBackend.open(model, recipe, spec, options.lossWorkspaceBytes(), true, report)) {
            report.accept("device: " + backend.describe());
            return TrainingLoop.run(backend, model, recipe, spec, data, options);
        }
    }

    /**
     * As above as one rank of a data-parallel run through {@code ranks}, on CUDA device {@code device} of this host
     * (its LOCAL_RANK): this rank's share of every step's micro-batches, gradients summed over the ranks by NCCL.
     */
    public static TrainingResult train(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, TrainingData data,
                                       TrainingOptions options, Consumer<String> report, HostCollectives ranks,
                                       int device) throws IOException {
        try (GpuBackend backend = GpuBackend.open(model, recipe, spec, options.lossWorkspaceBytes(), true, report,
                ranks, device, false)) {
            report.accept("device: " + backend.describe());
            return TrainingLoop.run(backend, model, recipe, spec, data, options);
        }
    }
}
