package dev.octet.train;

/**
 * A variant of the training step considered when the planned one does not fit the device: another micro-batch
 * size, and whether it adds recompute = [norm, activation] to a recipe that does not recompute them all.
 */
public record StepCandidate(int microBatch, boolean addsRecompute, long bytesAfterContext) {}
