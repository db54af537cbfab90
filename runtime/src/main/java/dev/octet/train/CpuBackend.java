package dev.octet.train;

import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.AdamW;
import dev.octet.cpu.ops.GradientClipping;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CPU reference backend: the graph interpreter (FP8 simulated bit for bit, BF16 rounding as the GPU
 * stores values), global-norm clipping on FP64 gradients and AdamW on FP32 master weights.
 */
final class CpuBackend implements TrainingBackend {
    private static final Rounding ROUNDING = Rounding.GPU;

    private final ModelSpec model;
    private final RecipeSpec recipe;
    private final TrainingSpec spec;
    private final ParameterStore params;
    private final GraphInterpreter interpreter;
    private final double[][] grads;
    // AdamW reads FP32 gradients, as on the GPU; one buffer per parameter, reused every step.
    private final Map<ParameterStore.Entry, float[]> fp32Grads = new IdentityHashMap<>();

    CpuBackend(ModelSpec model, RecipeSpec recipe, TrainingSpec spec) {
        this.model = model;
        this.recipe = recipe;
        this.spec = spec;
        this.params = ParameterStore.initialize(model, spec.seed());
        this.interpreter = new GraphInterpreter(model, params, new RecipeLinearPolicy(recipe, model.config().layers()),
                ROUNDING);
        this.grads = params.entries().stream().map(ParameterStore.Entry::grad).toArray(double[][]::new);
    }

    @Override
    public StepOutcome step(List<Batch> microBatches, long optimizerStep, double learningRate) {
        params.refreshWorking(ROUNDING);
        params.zeroGrads();
        int accumulation = microBatches.size();
        double loss = 0;
        for (Batch b : microBatches) {
            loss += interpreter.forwardBackward(TokenBatch.of(b), 1.0 / accumulation) / accumulation;
        }
        double norm = spec.clipGradNorm() > 0 ? GradientClipping.clip(spec.clipGradNorm(), grads)
                : GradientClipping.globalNorm(grads);
        TrainingSpec.AdamW opt = spec.optimizer();
        for (ParameterStore.Entry e : params.entries()) {
            float[] g = fp32Grads.computeIfAbsent(e, x -> new float[x.grad().length]);
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) e.grad()[i];
            }
            AdamW.step(e.master(), g, e.m(), e.v(), Math.toIntExact(optimizerStep), learningRate, opt.beta1(),
                    opt.beta2(), opt.eps(), e.param().decays() ? opt.weightDecay() : 0);
        }
        return new StepOutcome(loss, norm);
    }

    @Override
    public double validationLoss(BatchSource sampler, int batches) {
        params.refreshWorking(ROUNDING);
        double sum = 0;
        for (int i = 0; i < batches; i++) {
            sum += interpreter.loss(TokenBatch.of(sampler.next()));
        }
        return sum / batches;
    }

    @Override
    public void loadInitialWeights(Path file) throws IOException {
        MasterWeights.load(file, params);
    }

    @Override
    public CheckpointMetadata restore(Path file) throws IOException {
        return TrainingCheckpoint.restore(file, model, recipe, params, interpreter);
    }

    @Override
    public void writeCheckpoint(FileChannel out, CheckpointMetadata state) throws IOException {
        TrainingCheckpoint.write(out, state, params, model, interpreter);
    }
}
