package dev.octet.train;

/**
 * Whether and how often a run writes checkpoints into {@code RUN_DIR/checkpoints}. When enabled, one is
 * also written at the last step and when the run is stopped; {@code every = 0} writes only those.
 * The newest {@code keep} are kept.
 */
public record Checkpointing(boolean enabled, int every, int keep) {
    public Checkpointing {
        if (every < 0 || (enabled && keep < 1)) {
            throw new IllegalArgumentException("checkpoint every " + every + " steps keeping " + keep);
        }
    }

    public static Checkpointing off() {
        return new Checkpointing(false, 0, 0);
    }

    public static Checkpointing every(int steps, int keep) {
        return new Checkpointing(true, steps, keep);
    }

    boolean dueAfter(long completedSteps) {
        return enabled && every > 0 && completedSteps % every == 0;
    }
}
