package dev.octet.train;

import dev.octet.dist.GradientExchange;
import dev.octet.Version;
import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.ModelFingerprint;
import dev.octet.cpu.exec.Fp8TensorHealth;
import dev.octet.cpu.exec.NonFiniteTensorException;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import dev.octet.data.TrainingData;
import dev.octet.dist.RankBatches;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The training loop both backends share: gradient accumulation over micro-batches drawn in order from the
 * data, the schedule's learning rate, a metrics line per logged step, progress, checkpoints, FP8 health and the
 * held-out loss every N steps ({@link Monitoring}) and the held-out loss at the end. A step the backend skipped
 * for inf/NaN makes no optimizer update but uses up its batches and its place in the schedule; too many in a
 * row end the run as diverged. A run resumed from a checkpoint continues as the uninterrupted run would have:
 * same weights, moments, schedule position and batches.
 *
 * <p>As one rank of a data-parallel run ({@link TrainingBackend#exchange}), it trains on its share of each step's
 * micro-batches ({@link RankBatches}); the backend reduces the loss and the gradient norm, so every rank sees the
 * same outcome and takes the same path. Rank 0 alone writes the run's logs (metrics, FP8 health of its share) and
 * measures the held-out loss; every rank writes its shard of each checkpoint (the parameters it owns), which rank 0
 * checks and puts in place when all are in. The ranks stop together after a step when any of them is asked to.
 */
final class TrainingLoop {
    private static final double MIB = 1024.0 * 1024.0;

    private TrainingLoop() {}

    static TrainingResult run(TrainingBackend backend, ModelSpec model, RecipeSpec recipe, TrainingSpec spec,
                              TrainingData data, TrainingOptions options) throws IOException {
        int steps = options.steps();
        long firstStep = 0;
        long optimizerSteps = 0;
        double elapsedBefore = 0;
        BatchSource sampler;
        GradientExchange ranks = backend.exchange();
        boolean writer = ranks.rank() == 0;
        boolean talk = writer && options.showProgress();
        Map<String, String> settings = RunSettings.of(spec, recipe, data);
        if (options.resumeFrom().isPresent()) {
            Path file = options.resumeFrom().get();
            CheckpointMetadata resumed = backend.restore(file);
            List<RunSettings.Change> changes = RunSettings.changes(resumed.runSettings(), settings);
            RunSettings.requireOverridden(file, changes, options.overrides());
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
            if (writer) {
                RunSettings.record(options.runDir(), firstStep, changes);
                // Lines a kill left after the checkpoint (and a torn last line) go: the resumed run writes those steps again.
                StepLogs.truncate(options.runDir().resolve(MetricsLog.FILE_NAME), firstStep);
                StepLogs.truncate(options.runDir().resolve(Fp8HealthLog.FILE_NAME), firstStep);
            }
            optimizerSteps = resumed.optimizerSteps();
            elapsedBefore = resumed.elapsedSeconds();
        } else {
            if (options.initFrom().isPresent()) {
                backend.loadInitialWeights(options.initFrom().get());
            }
            sampler = data.trainBatches(spec.microBatch(), spec.seqLen(), spec.seed());
        }
        // Every rank draws the one-process sequence and trains on its block of each step's micro-batches.
        int microBatchesPerRank = RankBatches.shareOf(spec.accumulation(), ranks.worldSize());
        if (ranks.worldSize() > 1) {
            sampler = new RankBatches(sampler, spec.accumulation(), ranks.rank(), ranks.worldSize());
        }
        Checkpointing checkpointing = options.checkpointing();
        CheckpointDirectory checkpoints = CheckpointDirectory.of(options.runDir(), Math.max(1, checkpointing.keep()));
        String fingerprint = ModelFingerprint.of(model);
        Monitoring monitoring = options.monitoring();
        long tokensPerStep = (long) spec.globalBatch() * spec.seqLen();
        if (writer) {
            String where = ranks.worldSize() == 1 ? backend.name() : backend.name() + ", " + ranks.worldSize() + " ranks";
            new RunManifest(spec.name(), model.name(), recipe.name(), recipe.describe(), where, steps, tokensPerStep)
                    .writeTo(options.runDir());
        }
        List<Double> losses = new ArrayList<>();
        long stepsRun = 0;
        long skippedSteps = 0;
        int skippedInARow = 0;
        long start = System.nanoTime();
        double tokensPerSecond = 0;
        Optional<Path> lastCheckpoint = Optional.empty();
        boolean stopped = false;
        long step = firstStep;
        try (MetricsLog metrics = writer ? MetricsLog.openIn(options.runDir()) : MetricsLog.discarding(options.runDir());
             Fp8HealthLog healthLog = Fp8HealthLog.in(options.runDir());
             TrainingProgress progress = talk
                     ? TrainingProgress.onStandardOutput(firstStep, steps, Math.max(1, options.logEvery()))
                     : TrainingProgress.of(TrainingProgress.Display.PLAIN, nullStream(), firstStep, steps, 1)) {
            for (; step < steps && !stopped; step++) {
                List<Batch> microBatches = new ArrayList<>(microBatchesPerRank);
                for (int micro = 0; micro < microBatchesPerRank; micro++) {
                    microBatches.add(sampler.next());
                }
                double lr = spec.schedule().learningRate(spec.optimizer().lr(), (int) step, steps);
                boolean healthStep = writer && monitoring.healthDue(step);
                if (healthStep) {
                    backend.armHealth();
                }
                TrainingBackend.StepOutcome outcome = backend.step(microBatches, optimizerSteps + 1, lr);
                List<Fp8TensorHealth> measured = healthStep ? backend.finishHealth() : List.of();
                double loss = outcome.loss();
                if (outcome.wasApplied()) {
                    optimizerSteps++;
                    losses.add(loss);
                    skippedInARow = 0;
                } else {
                    String tensor = outcome.nonFinite().get();
                    skippedSteps++;
                    if (++skippedInARow > monitoring.maxSkippedInARow()) {
                        throw new NonFiniteTensorException(tensor + " (" + skippedInARow + " steps in a row up to step "
                                + step + ")", null);
                    }
                    if (talk) {
                        System.err.printf(Locale.ROOT, "octet: step %d skipped: non-finite values in %s%n", step, tensor);
                    }
                }
                stepsRun++;
                if (stepsRun == 1 && talk) {
                    System.err.printf(Locale.ROOT, "octet: first step done %.1f s after start-up (%.1f s of it the step)%n",
                            secondsSinceJvmStart(), (System.nanoTime() - start) / 1e9);
                }
                long completed = step + 1;
                stopped = completed < steps && ranks.anyRank(options.stop().shouldStop(completed));
                OptionalDouble evalLoss = writer && monitoring.evalDue(completed) && completed < steps
                        ? OptionalDouble.of(heldOutLoss(backend, data, spec, options)) : OptionalDouble.empty();
                double elapsed = (System.nanoTime() - start) / 1e9;
                tokensPerSecond = tokensPerStep * stepsRun / elapsed;
                healthLog.append(step, measured);
                if (step % options.logEvery() == 0 || completed == steps || stopped || !outcome.wasApplied()
                        || !measured.isEmpty() || evalLoss.isPresent()) {
                    long heapBytes = heapBytes();
                    OptionalLong deviceMemory = backend.deviceMemoryBytes();
                    StepMetrics line = new StepMetrics(step, loss, lr, outcome.gradNorm(), tokensPerSecond,
                            elapsedBefore + elapsed).with("skipped_steps", skippedSteps)
                            .with("heap_mb", heapBytes / MIB);
                    if (deviceMemory.isPresent()) {
                        line = line.with("device_mem_mb", deviceMemory.getAsLong() / MIB);
                    }
                    // The bar shows what fills up first where the step runs: device memory, else the heap.
                    progress.showMemory(deviceMemory.orElse(heapBytes));
                    if (outcome.nonFinite().isPresent()) {
                        line = line.with("skipped_tensor", outcome.nonFinite().get());
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
                boolean checkpointDue = checkpointing.enabled()
                        && (checkpointing.dueAfter(completed) || completed == steps || stopped);
                if (checkpointDue) {
                    // Every shard holds the same metadata: the run's time is rank 0's.
                    double runSeconds = ranks.fromRankZero(elapsedBefore + elapsed);
                    CheckpointMetadata state = new CheckpointMetadata(completed, optimizerSteps, steps,
                            spec.schedule().toString(), sampler.position(), spec.seed(), model.name(), fingerprint,
                            recipe.name(), spec.name(), Version.current(), runSeconds, settings);
                    long saveStart = System.nanoTime();
                    // One process writes one file; the ranks of a data-parallel run each write their shard.
                    Path saved = ranks.worldSize() == 1
                            ? checkpoints.save(completed, out -> backend.writeCheckpoint(out, state),
                                    written -> TrainingCheckpoint.verify(written, model))
                            : checkpoints.saveShards(completed, ranks.rank(), ranks.worldSize(),
                                    out -> backend.writeCheckpoint(out, state), ranks::barrier,
                                    written -> TrainingCheckpoint.verify(written, model));
                    lastCheckpoint = Optional.of(saved);
                    if (talk) {
                        double seconds = (System.nanoTime() - saveStart) / 1e9;
                        double gb = bytesOf(saved) / 1e9;
                        System.err.printf(Locale.ROOT, "octet: checkpoint of step %d: %.2f GB written and verified in %.1f s "
                                + "(%.2f GB/s)%n", completed, gb, seconds, gb / seconds);
                    }
                }
            }
            if (stopped) {
                return new TrainingResult(List.copyOf(losses), OptionalDouble.empty(), tokensPerSecond, step, true,
                        lastCheckpoint, skippedSteps);
            }
            if (!writer) {
                return new TrainingResult(List.copyOf(losses), OptionalDouble.empty(), tokensPerSecond, step, false,
                        lastCheckpoint, skippedSteps);
            }
            double validation = heldOutLoss(backend, data, spec, options);
            double lastLoss = losses.isEmpty() ? Double.NaN : losses.getLast();
            metrics.append(new StepMetrics(steps - 1, lastLoss, 0, 0, tokensPerSecond,
                    elapsedBefore + (System.nanoTime() - start) / 1e9).with("eval_loss", validation)
                    .with("skipped_steps", skippedSteps));
            return new TrainingResult(List.copyOf(losses), OptionalDouble.of(validation), tokensPerSecond, step, false,
                    lastCheckpoint, skippedSteps);
        }
    }

    /** The loss on a fixed set of held-out batches: the same at every evaluation and for every run with the same seed. */
    private static double heldOutLoss(TrainingBackend backend, TrainingData data, TrainingSpec spec, TrainingOptions options) {
        BatchSource heldOut = data.validationBatches(spec.microBatch(), spec.seqLen(), spec.seed() + 1);
        return backend.validationLoss(heldOut, options.validationBatches());
    }

    /** Seconds since the JVM started: what a user waits from typing the command, less the launcher's own start. */
    private static double secondsSinceJvmStart() {
        return (System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime()) / 1e3;
    }

    /** The bytes of a checkpoint: its file, or its shards. */
    private static long bytesOf(Path checkpoint) throws IOException {
        if (!Files.isDirectory(checkpoint)) {
            return Files.size(checkpoint);
        }
        long bytes = 0;
        try (var shards = Files.list(checkpoint)) {
            for (Path shard : (Iterable<Path>) shards::iterator) {
                bytes += Files.size(shard);
            }
        }
        return bytes;
    }

    /** JVM heap in use: the memory figure of every backend; a device backend adds its device's own. */
    private static long heapBytes() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static PrintStream nullStream() {
        return new PrintStream(OutputStream.nullOutputStream());
    }
}
