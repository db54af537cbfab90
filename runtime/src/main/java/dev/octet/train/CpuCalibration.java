package dev.octet.train;

import dev.octet.cpu.exec.Fp8HealthCollector;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import dev.octet.data.TrainingData;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The first steps of a training block on the CPU backend with the kernels {@code policy} chooses, writing nothing:
 * what {@code octet tune} measures candidates on. Batches, learning rates and updates are those of the first
 * steps of {@code octet train}, so the calibration sees the tensors training would.
 */
public final class CpuCalibration {
    private CpuCalibration() {}

    /**
     * Runs {@code steps} optimizer steps, from {@code initialWeights} if given (as {@code octet train --init}) or the
     * seed's initialisation, and returns their losses (NaN for a step skipped for non-finite values).
     */
    public static List<Double> run(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, TrainingData data, int steps,
                                   Optional<Path> initialWeights, GraphInterpreter.LinearPolicy policy) throws IOException {
        List<Double> losses = new ArrayList<>();
        try (CpuBackend backend = new CpuBackend(model, recipe, spec, policy, new Fp8HealthCollector())) {
            if (initialWeights.isPresent()) {
                backend.loadInitialWeights(initialWeights.get());
            }
            BatchSource sampler = data.trainBatches(spec.microBatch(), spec.seqLen(), spec.seed());
            long applied = 0;
            for (int step = 0; step < steps; step++) {
                List<Batch> microBatches = new ArrayList<>(spec.accumulation());
                for (int micro = 0; micro < spec.accumulation(); micro++) {
                    microBatches.add(sampler.next());
                }
                double lr = spec.schedule().learningRate(spec.optimizer().lr(), step, Math.max(steps, spec.steps()));
                TrainingBackend.StepOutcome outcome = backend.step(microBatches, applied + 1, lr);
                if (outcome.wasApplied()) {
                    applied++;
                }
                losses.add(outcome.wasApplied() ? outcome.loss() : Double.NaN);
            }
        }
        return List.copyOf(losses);
    }
}
