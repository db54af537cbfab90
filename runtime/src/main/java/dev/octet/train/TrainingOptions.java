package dev.octet.train;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How a run differs from its training block: steps (the schedule's length), where it writes, how often it
 * logs, checkpoints, a checkpoint to continue from, when to stop early, and what it measures besides the loss
 * ({@link Monitoring}).
 */
public record TrainingOptions(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress,
                              Checkpointing checkpointing, Optional<Path> resumeFrom, StopCondition stop,
                              Monitoring monitoring) {
    public TrainingOptions(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress) {
        this(steps, runDir, logEvery, validationBatches, showProgress, Checkpointing.off(), Optional.empty(),
                StopCondition.NEVER, Monitoring.off());
    }

    public TrainingOptions withCheckpointing(Checkpointing c) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, c, resumeFrom, stop,
                monitoring);
    }

    public TrainingOptions resumingFrom(Path checkpoint) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing,
                Optional.of(checkpoint), stop, monitoring);
    }

    public TrainingOptions stoppingWhen(StopCondition condition) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                condition, monitoring);
    }

    public TrainingOptions monitoring(Monitoring m) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                stop, m);
    }
}
