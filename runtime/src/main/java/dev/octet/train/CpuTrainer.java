package dev.octet.train;

import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.AdamW;
import dev.octet.cpu.ops.GradientClipping;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.BatchSource;
import dev.octet.data.TrainingData;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training loop on the CPU reference backend: gradient accumulation over micro-batches, global-norm
 * clipping, the schedule's learning rate, AdamW on FP32 master weights, a metrics line per logged step,
 * and the loss on held-out text at the end.
 */
public final class CpuTrainer {
    /** How a run differs from its training block: steps, where it writes, how often it logs. */
    public record Options(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress) {}

    /** Losses per step, and the held-out loss at the end. */
    public record Result(List<Double> losses, double validationLoss, double tokensPerSecond) {
        public double first() {
            return losses.getFirst();
        }

        /** Mean of the last ten steps: one step's loss is noisy. */
        public double finalMean() {
            int n = Math.min(10, losses.size());
            double sum = 0;
            for (double l : losses.subList(losses.size() - n, losses.size())) {
                sum += l;
            }
            return sum / n;
        }
    }

    private CpuTrainer() {}

    public static Result train(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, TrainingData data, Options options)
            throws IOException {
        ParameterStore params = ParameterStore.initialize(model, spec.seed());
        Rounding rounding = Rounding.GPU;
        GraphInterpreter interpreter = new GraphInterpreter(model, params,
                new RecipeLinearPolicy(recipe, model.config().layers()), rounding);
        BatchSource sampler = data.trainBatches(spec.microBatch(), spec.seqLen(), spec.seed());
        int accumulation = spec.accumulation();
        int steps = options.steps();
        double[][] grads = params.entries().stream().map(ParameterStore.Entry::grad).toArray(double[][]::new);
        // AdamW reads FP32 gradients, as on the GPU; one buffer per parameter, reused every step.
        java.util.Map<ParameterStore.Entry, float[]> fp32Grads = new java.util.IdentityHashMap<>();
        List<Double> losses = new ArrayList<>();
        long tokensPerStep = (long) spec.globalBatch() * spec.seqLen();
        long start = System.nanoTime();
        double tokensPerSecond = 0;
        try (MetricsLog metrics = MetricsLog.openIn(options.runDir());
             TrainingProgress progress = options.showProgress()
                     ? TrainingProgress.onStandardOutput(0, steps, Math.max(1, options.logEvery()))
                     : TrainingProgress.of(TrainingProgress.Display.PLAIN, nullStream(), 0, steps, 1)) {
            for (int step = 0; step < steps; step++) {
                params.refreshWorking(rounding);
                params.zeroGrads();
                double loss = 0;
                for (int micro = 0; micro < accumulation; micro++) {
                    loss += interpreter.forwardBackward(TokenBatch.of(sampler.next()), 1.0 / accumulation) / accumulation;
                }
                double norm = spec.clipGradNorm() > 0 ? GradientClipping.clip(spec.clipGradNorm(), grads)
                        : GradientClipping.globalNorm(grads);
                double lr = spec.schedule().learningRate(spec.optimizer().lr(), step, steps);
                TrainingSpec.AdamW opt = spec.optimizer();
                for (ParameterStore.Entry e : params.entries()) {
                    float[] g = fp32Grads.computeIfAbsent(e, x -> new float[x.grad().length]);
                    for (int i = 0; i < g.length; i++) {
                        g[i] = (float) e.grad()[i];
                    }
                    AdamW.step(e.master(), g, e.m(), e.v(), step + 1, lr, opt.beta1(), opt.beta2(), opt.eps(),
                            e.param().decays() ? opt.weightDecay() : 0);
                }
                losses.add(loss);
                double elapsed = (System.nanoTime() - start) / 1e9;
                tokensPerSecond = tokensPerStep * (step + 1) / elapsed;
                if (step % options.logEvery() == 0 || step == steps - 1) {
                    metrics.append(new StepMetrics(step, loss, lr, norm, tokensPerSecond, elapsed));
                }
                progress.update(step + 1, loss, tokensPerSecond);
            }
            double validation = validationLoss(interpreter, params, data, spec, options.validationBatches(), rounding);
            metrics.append(new StepMetrics(steps - 1, losses.getLast(), 0, 0, tokensPerSecond, (System.nanoTime() - start) / 1e9)
                    .with("val_loss", validation));
            return new Result(List.copyOf(losses), validation, tokensPerSecond);
        }
    }

    /** Mean loss over a fixed set of held-out batches (the same for every run with the same seed). */
    private static double validationLoss(GraphInterpreter interpreter, ParameterStore params, TrainingData data,
                                         TrainingSpec spec, int batches, Rounding rounding) {
        params.refreshWorking(rounding);
        BatchSource sampler = data.validationBatches(spec.microBatch(), spec.seqLen(), spec.seed() + 1);
        double sum = 0;
        for (int i = 0; i < batches; i++) {
            sum += interpreter.loss(TokenBatch.of(sampler.next()));
        }
        return sum / batches;
    }

    private static java.io.PrintStream nullStream() {
        return new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
    }
}
