package dev.octet.train;

/**
 * Asked after every optimizer step whether the run should stop there: the trainer then writes a
 * checkpoint (when checkpointing) and returns without the held-out evaluation. The command line
 * answers yes once the process was asked to terminate (Ctrl-C, SIGTERM).
 */
@FunctionalInterface
public interface StopCondition {
    StopCondition NEVER = completedSteps -> false;

    /** {@code completedSteps} counts from the run's start, resumed runs included. */
    boolean shouldStop(long completedSteps);
}
