package dev.octet.dsl.spec;

import dev.octet.dsl.ast.SourcePos;
import java.util.Optional;

/** A checked {@code training} block: which model and recipe, the optimizer, schedule and batch shape. */
public record TrainingSpec(
        String name, SourcePos pos, String model, Optional<String> recipe, Mode mode,
        AdamW optimizer, Schedule schedule, double clipGradNorm,
        int microBatch, int globalBatch, int seqLen, int steps, long seed, Optional<String> data) {

    public enum Mode { PRETRAIN, SFT }

    /** AdamW with decoupled weight decay. */
    public record AdamW(double lr, double beta1, double beta2, double eps, double weightDecay) {}

    /** The same block with another batch shape (sequences per micro-batch and per optimizer step). */
    public TrainingSpec withBatch(int microBatch, int globalBatch) {
        return new TrainingSpec(name, pos, model, recipe, mode, optimizer, schedule, clipGradNorm, microBatch, globalBatch,
                seqLen, steps, seed, data);
    }

    /** Gradient accumulation steps per optimizer step. */
    public int accumulation() {
        return globalBatch / microBatch;
    }
}
