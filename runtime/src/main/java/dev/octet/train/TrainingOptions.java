package dev.octet.train;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * How a run differs from its training block: steps (the schedule's length), where it writes, how often it
 * logs, checkpoints, a checkpoint to continue from, when to stop early, what it measures besides the loss
 * ({@link Monitoring}), and weights to start from instead of a random initialisation (master weights only:
 * moments start at zero, the schedule at step 0; a resumed run takes its weights from the checkpoint instead),
 * and the {@link RunSettings} a resume may change on purpose ({@code overrides}).
 */
public record TrainingOptions(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress,
                              Checkpointing checkpointing, Optional<Path> resumeFrom, StopCondition stop,
                              Monitoring monitoring, Optional<Path> initFrom, Set<String> overrides) {
    public TrainingOptions {
        overrides = Set.copyOf(overrides);
    }

    public TrainingOptions(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress) {
        this(steps, runDir, logEvery, validationBatches, showProgress, Checkpointing.off(), Optional.empty(),
                StopCondition.NEVER, Monitoring.off(), Optional.empty(), Set.of());
    }

    public TrainingOptions withCheckpointing(Checkpointing c) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, c, resumeFrom, stop,
                monitoring, initFrom, overrides);
    }

    public TrainingOptions resumingFrom(Path checkpoint) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing,
                Optional.of(checkpoint), stop, monitoring, initFrom, overrides);
    }

    public TrainingOptions stoppingWhen(StopCondition condition) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                condition, monitoring, initFrom, overrides);
    }

    public TrainingOptions monitoring(Monitoring m) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                stop, m, initFrom, overrides);
    }

    /** Starts from these master weights (Octet names, F32): an imported model's weights.safetensors or a checkpoint. */
    public TrainingOptions initializedFrom(Path weights) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                stop, monitoring, Optional.of(weights), overrides);
    }

    /** A resume may change these {@link RunSettings}; each change is recorded in the run. */
    public TrainingOptions overriding(Set<String> settings) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                stop, monitoring, initFrom, settings);
    }
}
