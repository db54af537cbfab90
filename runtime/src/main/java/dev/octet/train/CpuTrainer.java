package dev.octet.train;

import dev.octet.Version;
import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.ModelFingerprint;
import dev.octet.cpu.exec.Fp8HealthCollector;
import dev.octet.cpu.exec.Fp8TensorHealth;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.NonFiniteTensorException;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
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
 * checkpoints, FP8 health and the held-out loss every N steps ({@link Monitoring}) and at the end. A step whose
 * loss or gradients are not finite is skipped: no optimizer update, counted in the metrics. A run resumed from a checkpoint continues
 * bit for bit as the uninterrupted run would have: same weights, moments, schedule position and batches.
 */
public final class CpuTrainer {
    /**
     * How a run differs from its training block: steps (the schedule's length), where it writes, how often it
     * logs, checkpoints, a checkpoint to continue from, and when to stop early.
     */
    public record Options(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress,
                          Checkpointing checkpointing, Optional<Path> resumeFrom, StopCondition stop,
                          Monitoring monitoring) {
        public Options(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress) {
            this(steps, runDir, logEvery, validationBatches, showProgress, Checkpointing.off(), Optional.empty(),
                    StopCondition.NEVER, Monitoring.off());
        }

        public Options withCheckpointing(Checkpointing c) {
            return new Options(steps, runDir, logEvery, validationBatches, showProgress, c, resumeFrom, stop, monitoring);
        }

        public Options resumingFrom(Path checkpoint) {
            return new Options(steps, runDir, logEvery, validationBatches, showProgress, checkpointing,
                    Optional.of(checkpoint), stop, monitoring);
        }

        public Options stoppingWhen(StopCondition condition) {
            return new Options(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom, condition,
                    monitoring);
        }

        public Options monitoring(Monitoring m) {
            return new Options(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom, stop, m);
        }
    }

    /**
     * Losses of the steps this call ran and applied (a skipped step's loss is left out), the held-out loss
     * (absent when the run was stopped early), the step the run reached, the steps skipped for non-finite
     * values, and the last checkpoint written.
     */
    public record Result(List<Double> losses, OptionalDouble validationLoss, double tokensPerSecond, long completedSteps,
                         boolean stopped, Optional<Path> checkpoint, long skippedSteps) {
        /** The first applied step's loss; NaN when every step was skipped. */
        public double first() {
            return losses.isEmpty() ? Double.NaN : losses.getFirst();
        }

        /** Mean of the last ten steps: one step's loss is noisy. NaN when every step was skipped. */
        public double finalMean() {
            if (losses.isEmpty()) {
                return Double.NaN;
            }
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
        Fp8HealthCollector health = new Fp8HealthCollector();
        return train(model, recipe, spec, data, options, new RecipeLinearPolicy(recipe, model.config().layers(), health),
                health);
    }

    /** As above with the kernels chosen by {@code policy}: how a test injects a fault into one layer. */
    static Result train(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, TrainingData data, Options options,
                        GraphInterpreter.LinearPolicy policy, Fp8HealthCollector health) throws IOException {
        ParameterStore params = ParameterStore.initialize(model, spec.seed());
        Rounding rounding = Rounding.GPU;
        GraphInterpreter interpreter = new GraphInterpreter(model, params, policy, rounding);
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
        AdamWUpdate adamW = new AdamWUpdate();
        Monitoring monitoring = options.monitoring();
        HeldOutEvaluation evaluation = new HeldOutEvaluation(model, interpreter, params, data, spec,
                options.validationBatches(), rounding);
        new RunManifest(spec.name(), model.name(), recipe.name(), recipe.describe(), "cpu", steps,
                (long) spec.globalBatch() * spec.seqLen()).writeTo(options.runDir());
        List<Double> losses = new ArrayList<>();
        long stepsRun = 0;
        long skippedSteps = 0;
        int skippedInARow = 0;
        long tokensPerStep = (long) spec.globalBatch() * spec.seqLen();
        long start = System.nanoTime();
        double tokensPerSecond = 0;
        Optional<Path> lastCheckpoint = Optional.empty();
        boolean stopped = false;
        long step = firstStep;
        try (MetricsLog metrics = MetricsLog.openIn(options.runDir());
             Fp8HealthLog healthLog = Fp8HealthLog.in(options.runDir());
             TrainingProgress progress = options.showProgress()
                     ? TrainingProgress.onStandardOutput(firstStep, steps, Math.max(1, options.logEvery()))
                     : TrainingProgress.of(TrainingProgress.Display.PLAIN, nullStream(), firstStep, steps, 1)) {
            for (; step < steps && !stopped; step++) {
                params.refreshWorking(rounding);
                params.zeroGrads();
                boolean healthStep = monitoring.healthDue(step);
                if (healthStep) {
                    health.arm();
                }
                double loss = 0;
                Optional<String> nonFinite;
                int micro = 0;
                try {
                    for (; micro < accumulation; micro++) {
                        loss += interpreter.forwardBackward(TokenBatch.of(sampler.next()), 1.0 / accumulation) / accumulation;
                    }
                    nonFinite = NonFiniteCheck.firstNonFinite(loss, GradientClipping.globalNorm(grads), params.entries());
                } catch (NonFiniteTensorException e) {
                    // The step's batches are used up either way, so the data stream stays where an applied step leaves it.
                    for (micro++; micro < accumulation; micro++) {
                        sampler.next();
                    }
                    loss = Double.NaN;
                    nonFinite = Optional.of(e.tensor());
                }
                List<Fp8TensorHealth> measured = healthStep ? health.finish() : List.of();
                double lr = spec.schedule().learningRate(spec.optimizer().lr(), (int) step, steps);
                double norm = Double.NaN;
                if (nonFinite.isEmpty()) {
                    norm = spec.clipGradNorm() > 0 ? GradientClipping.clip(spec.clipGradNorm(), grads)
                            : GradientClipping.globalNorm(grads);
                    optimizerSteps++;
                    adamW.apply(params, spec.optimizer(), lr, optimizerSteps);
                    losses.add(loss);
                    skippedInARow = 0;
                } else {
                    skippedSteps++;
                    if (++skippedInARow > monitoring.maxSkippedInARow()) {
                        throw new NonFiniteTensorException(nonFinite.get() + " (" + skippedInARow + " steps in a row up to step "
                                + step + ")", null);
                    }
                    if (options.showProgress()) {
                        System.err.printf(java.util.Locale.ROOT, "octet: step %d skipped: non-finite values in %s%n", step,
                                nonFinite.get());
                    }
                }
                stepsRun++;
                long completed = step + 1;
                stopped = completed < steps && options.stop().shouldStop(completed);
                OptionalDouble evalLoss = monitoring.evalDue(completed) && completed < steps
                        ? OptionalDouble.of(evaluation.loss()) : OptionalDouble.empty();
                double elapsed = (System.nanoTime() - start) / 1e9;
                tokensPerSecond = tokensPerStep * stepsRun / elapsed;
                healthLog.append(step, measured);
                if (step % options.logEvery() == 0 || completed == steps || stopped || nonFinite.isPresent()
                        || !measured.isEmpty() || evalLoss.isPresent()) {
                    StepMetrics line = new StepMetrics(step, loss, lr, norm, tokensPerSecond, elapsedBefore + elapsed)
                            .with("skipped_steps", skippedSteps).with("heap_mb", heapMegabytes());
                    if (nonFinite.isPresent()) {
                        line = line.with("skipped_tensor", nonFinite.get());
                    }
                    if (evalLoss.isPresent()) {
                        line = line.with("eval_loss", evalLoss.getAsDouble());
                    }
                    Optional<Fp8TensorHealth> worst = Fp8HealthLog.worst(measured);
                    if (worst.isPresent()) {
                        line = line.with("fp8_worst_snr_db", worst.get().health().snrDb())
                                .with("fp8_worst_snr_tensor", worst.get().tensor());
                    }
                    metrics.append(line);
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
                return new Result(List.copyOf(losses), OptionalDouble.empty(), tokensPerSecond, step, true, lastCheckpoint,
                        skippedSteps);
            }
            double validation = evaluation.loss();
            double lastLoss = losses.isEmpty() ? Double.NaN : losses.getLast();
            metrics.append(new StepMetrics(steps - 1, lastLoss, 0, 0, tokensPerSecond,
                    elapsedBefore + (System.nanoTime() - start) / 1e9).with("eval_loss", validation)
                    .with("skipped_steps", skippedSteps));
            return new Result(List.copyOf(losses), OptionalDouble.of(validation), tokensPerSecond, step, false, lastCheckpoint,
                    skippedSteps);
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

    /** JVM heap in use: the memory figure a CPU run can report. */
    private static double heapMegabytes() {
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
    }

    private static java.io.PrintStream nullStream() {
        return new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
    }
}
