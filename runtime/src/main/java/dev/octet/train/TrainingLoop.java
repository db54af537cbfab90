package dev.octet.train;

import dev.octet.Version;
import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.ModelFingerprint;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import dev.octet.data.TrainingData;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The training loop both backends share: gradient accumulation over micro-batches drawn in order from the
 * data, the schedule's learning rate, a metrics line per logged step, progress, checkpoints, and the loss on
 * held-out text at the end. A run resumed from a checkpoint continues as the uninterrupted run would have:
 * same weights, moments, schedule position and batches.
 */
final class TrainingLoop {
    private TrainingLoop() {}

    static TrainingResult run(TrainingBackend backend, ModelSpec model, RecipeSpec recipe, TrainingSpec spec,
                              TrainingData data, TrainingOptions options) throws IOException {
        int steps = options.steps();
        long firstStep = 0;
        long optimizerSteps = 0;
        double elapsedBefore = 0;
        BatchSource sampler;
        if (options.resumeFrom().isPresent()) {
            Path file = options.resumeFrom().get();
            CheckpointMetadata resumed = backend.restore(file);
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
            if (options.initFrom().isPresent()) {
                backend.loadInitialWeights(options.initFrom().get());
            }
            sampler = data.trainBatches(spec.microBatch(), spec.seqLen(), spec.seed());
        }
        Checkpointing checkpointing = options.checkpointing();
        CheckpointDirectory checkpoints = CheckpointDirectory.of(options.runDir(), Math.max(1, checkpointing.keep()));
        String fingerprint = ModelFingerprint.of(model);
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
                List<Batch> microBatches = new ArrayList<>(spec.accumulation());
                for (int micro = 0; micro < spec.accumulation(); micro++) {
                    microBatches.add(sampler.next());
                }
                double lr = spec.schedule().learningRate(spec.optimizer().lr(), (int) step, steps);
                optimizerSteps++;
                TrainingBackend.StepOutcome outcome = backend.step(microBatches, optimizerSteps, lr);
                double loss = outcome.loss();
                losses.add(loss);
                long completed = step + 1;
                stopped = completed < steps && options.stop().shouldStop(completed);
                double elapsed = (System.nanoTime() - start) / 1e9;
                tokensPerSecond = tokensPerStep * losses.size() / elapsed;
                if (step % options.logEvery() == 0 || completed == steps || stopped) {
                    metrics.append(new StepMetrics(step, loss, lr, outcome.gradNorm(), tokensPerSecond,
                            elapsedBefore + elapsed));
                }
                progress.update(completed, loss, tokensPerSecond);
                if (checkpointing.enabled() && (checkpointing.dueAfter(completed) || completed == steps || stopped)) {
                    CheckpointMetadata state = new CheckpointMetadata(completed, optimizerSteps, steps,
                            spec.schedule().toString(), sampler.position(), spec.seed(), model.name(), fingerprint,
                            recipe.name(), spec.name(), Version.current(), elapsedBefore + elapsed);
                    lastCheckpoint = Optional.of(checkpoints.save(completed, out -> backend.writeCheckpoint(out, state)));
                }
            }
            if (stopped) {
                return new TrainingResult(List.copyOf(losses), OptionalDouble.empty(), tokensPerSecond, step, true,
                        lastCheckpoint);
            }
            // A fixed set of held-out batches: the same for every run with the same seed.
            BatchSource heldOut = data.validationBatches(spec.microBatch(), spec.seqLen(), spec.seed() + 1);
            double validation = backend.validationLoss(heldOut, options.validationBatches());
            metrics.append(new StepMetrics(steps - 1, losses.getLast(), 0, 0, tokensPerSecond,
                    elapsedBefore + (System.nanoTime() - start) / 1e9).with("val_loss", validation));
            return new TrainingResult(List.copyOf(losses), OptionalDouble.of(validation), tokensPerSecond, step, false,
                    lastCheckpoint);
        }
    }

    private static PrintStream nullStream() {
        return new PrintStream(OutputStream.nullOutputStream());
    }
}
