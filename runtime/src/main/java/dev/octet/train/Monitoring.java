package dev.octet.train;

/**
 * What a run measures besides the loss: FP8 health every {@code healthEvery} steps (into
 * {@code fp8_health.jsonl}), the held-out loss every {@code evalEvery} steps (as {@code eval_loss} in
 * {@code metrics.jsonl}; it is always measured at the end), and how many steps in a row may be skipped for
 * non-finite values before the run counts as diverged. 0 turns a periodic measurement off.
 */
public record Monitoring(int healthEvery, int evalEvery, int maxSkippedInARow) {
    /** A transient inf or NaN is survivable; this many in a row means the weights themselves went bad. */
    public static final int DEFAULT_MAX_SKIPPED_IN_A_ROW = 5;

    public Monitoring {
        if (healthEvery < 0 || evalEvery < 0 || maxSkippedInARow < 0) {
            throw new IllegalArgumentException("monitoring intervals must be 0 (off) or positive: health " + healthEvery
                    + ", eval " + evalEvery + ", skips in a row " + maxSkippedInARow);
        }
    }

    public Monitoring(int healthEvery, int evalEvery) {
        this(healthEvery, evalEvery, DEFAULT_MAX_SKIPPED_IN_A_ROW);
    }

    /** No periodic measurement: the held-out loss only at the end. */
    public static Monitoring off() {
        return new Monitoring(0, 0);
    }

    /** FP8 health is measured on the first step and every {@code healthEvery} steps after (0-based step). */
    public boolean healthDue(long step) {
        return healthEvery > 0 && step % healthEvery == 0;
    }

    /** The held-out loss is measured after every {@code evalEvery} completed steps. */
    public boolean evalDue(long completedSteps) {
        return evalEvery > 0 && completedSteps % evalEvery == 0;
    }
}
