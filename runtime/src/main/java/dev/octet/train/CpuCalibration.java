package dev.octet.train;

import dev.octet.cpu.exec.Fp8HealthCollector;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import dev.octet.data.TrainingData;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The first steps of a training block on the CPU backend with the kernels {@code policy} chooses, writing nothing:
 * what {@code octet tune} measures candidates on. Batches, learning rates and updates are those of the first
 * steps of {@code octet train}, so the calibration sees the tensors training would.
 */
public final class CpuCalibration {
    private CpuCalibration() {}

    /** Runs {@code steps} optimizer steps and returns their losses (NaN for a step skipped for non-finite values). */
    public static List<Double> run(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, TrainingData data, int steps,
                                   GraphInterpreter.LinearPolicy policy) {
        List<Double> losses = new ArrayList<>();
        try (CpuBackend backend = new CpuBackend(model, recipe, spec, policy, new Fp8HealthCollector())) {
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
