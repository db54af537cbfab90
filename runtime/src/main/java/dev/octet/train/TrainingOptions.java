package dev.octet.train;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How a run differs from its training block: steps (the schedule's length), where it writes, how often it
 * logs, checkpoints, a checkpoint to continue from, and when to stop early.
 */
public record TrainingOptions(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress,
                              Checkpointing checkpointing, Optional<Path> resumeFrom, StopCondition stop) {
    public TrainingOptions(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress) {
        this(steps, runDir, logEvery, validationBatches, showProgress, Checkpointing.off(), Optional.empty(),
                StopCondition.NEVER);
    }

    public TrainingOptions withCheckpointing(Checkpointing c) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, c, resumeFrom, stop);
    }

    public TrainingOptions resumingFrom(Path checkpoint) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing,
                Optional.of(checkpoint), stop);
    }

    public TrainingOptions stoppingWhen(StopCondition condition) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom, condition);
    }
}
