package dev.octet.train;

import dev.octet.dist.GradientExchange;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.cpu.exec.Fp8TensorHealth;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a training step runs: the CPU reference interpreter or the compiled step on a CUDA device. The
 * {@link TrainingLoop} owns everything else (data order, schedule, metrics, progress, checkpoints, monitoring),
 * so both backends see the same batches and learning rates and write the same files.
 */
interface TrainingBackend extends AutoCloseable {
    /**
     * Loss and global gradient norm (before clipping) of one step, and what held inf or NaN when the step was
     * skipped: then no optimizer update was made.
     */
    record StepOutcome(double loss, double gradNorm, Optional<String> nonFinite) {
        static StepOutcome applied(double loss, double gradNorm) {
            return new StepOutcome(loss, gradNorm, Optional.empty());
        }

        static StepOutcome skipped(double loss, double gradNorm, String tensor) {
            return new StepOutcome(loss, gradNorm, Optional.of(tensor));
        }

        boolean wasApplied() {
            return nonFinite.isEmpty();
        }
    }

    /** What {@code run.json} names the backend. */
    String name();

    /**
     * Forward and backward over every micro-batch of the step, then, unless the loss or a gradient is not
     * finite, gradient clipping and AdamW.
     *
     * @param optimizerStep the 1-based AdamW step count (bias corrections) the step has if it is applied
     * @param learningRate  this step's rate after the schedule
     */
    StepOutcome step(List<Batch> microBatches, long optimizerStep, double learningRate);

    /**
     * Mean loss over {@code batches} batches of {@code sampler}, without gradients and without changing what
     * training reads next.
     */
    double validationLoss(BatchSource sampler, int batches);

    /** Measure FP8 health during the next {@link #step}. A backend that cannot measure it ignores this. */
    default void armHealth() {}

    /** What was measured since {@link #armHealth}, one entry per quantized operand; empty when nothing was. */
    default List<Fp8TensorHealth> finishHealth() {
        return List.of();
    }

    /**
     * Bytes in use on the device the step runs on, asked for on logged steps only; empty for a backend without
     * one (the CPU's memory is the JVM heap, which the loop reads itself).
     */
    default OptionalLong deviceMemoryBytes() {
        return OptionalLong.empty();
    }

    /**
     * Replaces the random initialisation with the master weights of {@code file} (an imported model's weights
     * or a checkpoint), matched by name and shape; moments stay zero.
     */
    void loadInitialWeights(Path file) throws IOException;

    /** Loads a checkpoint's weights and optimizer state; returns where its run stood. */
    CheckpointMetadata restore(Path file) throws IOException;

    /**
     * The ranks of the data-parallel run this backend is one of ({@link GradientExchange#SINGLE} for one
     * process): the loop reads its share of the data and agrees on stopping through it.
     */
    default GradientExchange exchange() {
        return GradientExchange.SINGLE;
    }

    /**
     * Writes weights and optimizer state with {@code state} as the checkpoint's metadata: all of it in one
     * process; in a data-parallel run this rank's shard, the parameters it owns (rank 0's also holds what is not
     * a parameter's, the amax histories).
     */
    void writeCheckpoint(FileChannel out, CheckpointMetadata state) throws IOException;

    /** Releases what the backend holds (device memory); nothing for the CPU. */
    @Override
    default void close() {}
}
