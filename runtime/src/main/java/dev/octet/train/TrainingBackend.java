package dev.octet.train;

import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a training step runs: the CPU reference interpreter or the compiled step on a CUDA device. The
 * {@link TrainingLoop} owns everything else (data order, schedule, metrics, progress, checkpoints), so both
 * backends see the same batches and learning rates and write the same files.
 */
interface TrainingBackend extends AutoCloseable {
    /** Loss and global gradient norm (before clipping) of one optimizer step. */
    record StepOutcome(double loss, double gradNorm) {}

    /**
     * Forward and backward over every micro-batch of the step, gradient clipping and AdamW.
     *
     * @param optimizerStep the 1-based AdamW step count (bias corrections)
     * @param learningRate  this step's rate after the schedule
     */
    StepOutcome step(List<Batch> microBatches, long optimizerStep, double learningRate);

    /** Mean loss over {@code batches} batches of {@code sampler}, without gradients. */
    double validationLoss(BatchSource sampler, int batches);

    /**
     * Replaces the random initialisation with the master weights of {@code file} (an imported model's weights
     * or a checkpoint), matched by name and shape; moments stay zero.
     */
    void loadInitialWeights(Path file) throws IOException;

    /** Loads a checkpoint's weights and optimizer state; returns where its run stood. */
    CheckpointMetadata restore(Path file) throws IOException;

    /** Writes weights and optimizer state with {@code state} as the checkpoint's metadata. */
    void writeCheckpoint(FileChannel out, CheckpointMetadata state) throws IOException;

    /** Releases what the backend holds (device memory); nothing for the CPU. */
    @Override
    default void close() {}
}
