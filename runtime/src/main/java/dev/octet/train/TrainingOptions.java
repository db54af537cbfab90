package dev.octet.train;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * How a run differs from its training block: steps (the schedule's length), where it writes, how often it
 * logs, checkpoints, a checkpoint to continue from, when to stop early, what it measures besides the loss
 * ({@link Monitoring}), and weights to start from instead of a random initialisation (master weights only:
 * moments start at zero, the schedule at step 0; a resumed run takes its weights from the checkpoint instead),
 * the {@link RunSettings} a resume may change on purpose ({@code overrides}), and on the GPU the bytes of the LM
 * head's loss workspace when not the compiler's default ({@code CompileTarget.withLossWorkspace}).
 */
public record TrainingOptions(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress,
                              Checkpointing checkpointing, Optional<Path> resumeFrom, StopCondition stop,
                              Monitoring monitoring, Optional<Path> initFrom, Set<String> overrides,
                              OptionalLong lossWorkspaceBytes) {
    public TrainingOptions {
        overrides = Set.copyOf(overrides);
        Objects.requireNonNull(lossWorkspaceBytes, "lossWorkspaceBytes");
    }

    public TrainingOptions(int steps, Path runDir, int logEvery, int validationBatches, boolean showProgress) {
        this(steps, runDir, logEvery, validationBatches, showProgress, Checkpointing.off(), Optional.empty(),
                StopCondition.NEVER, Monitoring.off(), Optional.empty(), Set.of(), OptionalLong.empty());
    }

    public TrainingOptions withCheckpointing(Checkpointing c) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, c, resumeFrom, stop,
                monitoring, initFrom, overrides, lossWorkspaceBytes);
    }

    public TrainingOptions resumingFrom(Path checkpoint) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing,
                Optional.of(checkpoint), stop, monitoring, initFrom, overrides, lossWorkspaceBytes);
    }

    public TrainingOptions stoppingWhen(StopCondition condition) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                condition, monitoring, initFrom, overrides, lossWorkspaceBytes);
    }

    public TrainingOptions monitoring(Monitoring m) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                stop, m, initFrom, overrides, lossWorkspaceBytes);
    }

    /** Starts from these master weights (Octet names, F32): an imported model's weights.safetensors or a checkpoint. */
    public TrainingOptions initializedFrom(Path weights) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                stop, monitoring, Optional.of(weights), overrides, lossWorkspaceBytes);
    }

    /** A resume may change these {@link RunSettings}; each change is recorded in the run. */
    public TrainingOptions overriding(Set<String> settings) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                stop, monitoring, initFrom, settings, lossWorkspaceBytes);
    }

    /** Compiles the GPU step with a loss workspace of {@code bytes} (0: the whole micro-batch's logits at once). */
    public TrainingOptions withLossWorkspace(long bytes) {
        return new TrainingOptions(steps, runDir, logEvery, validationBatches, showProgress, checkpointing, resumeFrom,
                stop, monitoring, initFrom, overrides, OptionalLong.of(bytes));
    }
}
