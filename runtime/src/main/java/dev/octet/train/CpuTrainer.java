package dev.octet.train;

import dev.octet.Version;
import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.checkpoint.ModelFingerprint;
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
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The training loop on the CPU reference backend: gradient accumulation over micro-batches, global-norm
 * clipping, the schedule's learning rate, AdamW on FP32 master weights, a metrics line per logged step,
 * checkpoints, and the loss on held-out text at the end. A run resumed from a checkpoint continues
 * bit for bit as the uninterrupted run would have: same weights, moments, schedule position and batches.
 */
public final class CpuTrainer {
    /**
     * How a run differs from its training block: steps (the schedule's length), where it writes, how often it
     * logs, checkpoints, a checkpoint to continue from, weights to start from instead of a random initialisation
     * (master weights only: moments start at zero, the schedule at step 0), and when to stop early.
     */
    public record Options(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress,
                          Checkpointing checkpointing, Optional<Path> resumeFrom, StopCondition stop,
                          Optional<Path> initFrom) {
        public Options(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress) {
            this(steps, runDir, logEvery, validationBatches, showProgress, Checkpointing.off(), Optional.empty(),
                    StopCondition.NEVER, Optional.empty());
        }

        public Options withCheckpointing(Checkpointing c) {
            return new Options(steps, runDir, logEvery, validationBatches, showProgress, c, resumeFrom, stop, initFrom);
        }

        public Options resumingFrom(Path checkpoint) {
            return new Options(steps, runDir, logEvery, validationBatches, showProgress, checkpointing,
                    Optional.of(checkpoint), stop, initFrom);
        }

        public Options stoppingWhen(StopCondition condition) {
            return new Options(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                    condition, initFrom);
        }

        /** Starts from these master weights (Octet names, F32; an imported model's weights.safetensors or a checkpoint). */
        public Options initializedFrom(Path weights) {
            return new Options(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom, stop,
                    Optional.of(weights));
        }
    }

    /**
     * Losses of the steps this call ran, the held-out loss (absent when the run was stopped early), the step
     * the run reached, and the last checkpoint written.
     */
    public record Result(List<Double> losses, OptionalDouble validationLoss, double tokensPerSecond, long completedSteps,
                         boolean stopped, Optional<Path> checkpoint) {
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
        if (options.resumeFrom().isEmpty() && options.initFrom().isPresent()) {
            MasterWeights.load(options.initFrom().get(), params);
        }
        Rounding rounding = Rounding.GPU;
        GraphInterpreter interpreter = new GraphInterpreter(model, params,
                new RecipeLinearPolicy(recipe, model.config().layers()), rounding);
        int steps = options.steps();
        long firstStep = 0;
        long optimizerSteps = 0;
        double elapsedBefore = 0;
        BatchSource sampler;
        if (options.resumeFrom().isPresent()) {
            Path file = options.resumeFrom().get();
            CheckpointMetadata resumed = TrainingCheckpoint.restore(file, model, recipe, params, interpreter);
            if (resumed.step() >= steps) {
                throw new CheckpointException(file, "the run already completed " + resumed.step() + " of " + steps
                        + " steps; ask for more steps to continue it");
            }
            try {
                sampler = data.resumeTrainBatches(spec.microBatch(), spec.seqLen(), resumed.dataPosition());
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(file, "its data position does not fit the training data of " + spec.name()
                        + ": " + e.getMessage());
            }
            firstStep = resumed.step();
            optimizerSteps = resumed.optimizerSteps();
            elapsedBefore = resumed.elapsedSeconds();
        } else {
            sampler = data.trainBatches(spec.microBatch(), spec.seqLen(), spec.seed());
        }
        Checkpointing checkpointing = options.checkpointing();
        CheckpointDirectory checkpoints = CheckpointDirectory.of(options.runDir(), Math.max(1, checkpointing.keep()));
        String fingerprint = ModelFingerprint.of(model);
        int accumulation = spec.accumulation();
        double[][] grads = params.entries().stream().map(ParameterStore.Entry::grad).toArray(double[][]::new);
        // AdamW reads FP32 gradients, as on the GPU; one buffer per parameter, reused every step.
        java.util.Map<ParameterStore.Entry, float[]> fp32Grads = new java.util.IdentityHashMap<>();
        List<Double> losses = new ArrayList<>();
        long tokensPerStep = (long) spec.globalBatch() * spec.seqLen();
        long start = System.nanoTime();
        double tokensPerSecond = 0;
        Optional<Path> lastCheckpoint = Optional.empty();
        boolean stopped = false;
        long step = firstStep;
        try (MetricsLog metrics = MetricsLog.openIn(options.runDir());
             TrainingProgress progress = options.showProgress()
                     ? TrainingProgress.onStandardOutput(firstStep, steps, Math.max(1, options.logEvery()))
                     : TrainingProgress.of(TrainingProgress.Display.PLAIN, nullStream(), firstStep, steps, 1)) {
            for (; step < steps && !stopped; step++) {
                params.refreshWorking(rounding);
                params.zeroGrads();
                double loss = 0;
                for (int micro = 0; micro < accumulation; micro++) {
                    loss += interpreter.forwardBackward(TokenBatch.of(sampler.next()), 1.0 / accumulation) / accumulation;
                }
                double norm = spec.clipGradNorm() > 0 ? GradientClipping.clip(spec.clipGradNorm(), grads)
                        : GradientClipping.globalNorm(grads);
                double lr = spec.schedule().learningRate(spec.optimizer().lr(), (int) step, steps);
                TrainingSpec.AdamW opt = spec.optimizer();
                optimizerSteps++;
                for (ParameterStore.Entry e : params.entries()) {
                    float[] g = fp32Grads.computeIfAbsent(e, x -> new float[x.grad().length]);
                    for (int i = 0; i < g.length; i++) {
                        g[i] = (float) e.grad()[i];
                    }
                    AdamW.step(e.master(), g, e.m(), e.v(), Math.toIntExact(optimizerSteps), lr, opt.beta1(), opt.beta2(),
                            opt.eps(), e.param().decays() ? opt.weightDecay() : 0);
                }
                losses.add(loss);
                long completed = step + 1;
                stopped = completed < steps && options.stop().shouldStop(completed);
                double elapsed = (System.nanoTime() - start) / 1e9;
                tokensPerSecond = tokensPerStep * losses.size() / elapsed;
                if (step % options.logEvery() == 0 || completed == steps || stopped) {
                    metrics.append(new StepMetrics(step, loss, lr, norm, tokensPerSecond, elapsedBefore + elapsed));
                }
                progress.update(completed, loss, tokensPerSecond);
                if (checkpointing.enabled() && (checkpointing.dueAfter(completed) || completed == steps || stopped)) {
                    CheckpointMetadata state = new CheckpointMetadata(completed, optimizerSteps, steps,
                            spec.schedule().toString(), sampler.position(), spec.seed(), model.name(), fingerprint,
                            recipe.name(), spec.name(), Version.current(), elapsedBefore + elapsed);
                    lastCheckpoint = Optional.of(checkpoints.save(completed,
                            out -> TrainingCheckpoint.write(out, state, params, model, interpreter)));
                }
            }
            if (stopped) {
                return new Result(List.copyOf(losses), OptionalDouble.empty(), tokensPerSecond, step, true, lastCheckpoint);
            }
            double validation = validationLoss(interpreter, params, data, spec, options.validationBatches(), rounding);
            metrics.append(new StepMetrics(steps - 1, losses.getLast(), 0, 0, tokensPerSecond,
                    elapsedBefore + (System.nanoTime() - start) / 1e9).with("val_loss", validation));
            return new Result(List.copyOf(losses), OptionalDouble.of(validation), tokensPerSecond, step, false, lastCheckpoint);
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
