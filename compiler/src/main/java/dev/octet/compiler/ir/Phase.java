package dev.octet.compiler.ir;

/**
 * The part of a training step a node belongs to. Forward and backward run once per micro-batch
 * (gradient accumulation repeats them), the optimizer once per step.
 */
public enum Phase {
    FORWARD, BACKWARD, OPTIMIZER;

    public String lowerName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
