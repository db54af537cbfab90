package dev.octet.data;

import java.util.Arrays;

/**
 * A batch of {@code batchSize} rows of {@code sequenceLength} positions, each array row-major.
 *
 * <p>{@code targets} are {@code inputs} shifted left by one: row r, position t targets the token
 * that follows input (r, t) in the corpus. {@code documentIds} belong to the inputs, so attention
 * can be kept within a document. {@code lossMask} weighs each target's loss (all 1 for pretraining).
 * Arrays are copied in and out, so a batch never changes.
 */
public record Batch(int batchSize, int sequenceLength, int[] inputs, int[] targets, int[] documentIds, float[] lossMask) {

    public Batch {
        int n = Math.multiplyExact(batchSize, sequenceLength);
        if (inputs.length != n || targets.length != n || documentIds.length != n || lossMask.length != n) {
            throw new IllegalArgumentException("every array of a " + batchSize + "x" + sequenceLength + " batch needs " + n + " entries");
        }
        inputs = inputs.clone();
        targets = targets.clone();
        documentIds = documentIds.clone();
        lossMask = lossMask.clone();
    }

    @Override public int[] inputs() { return inputs.clone(); }
    @Override public int[] targets() { return targets.clone(); }
    @Override public int[] documentIds() { return documentIds.clone(); }
    @Override public float[] lossMask() { return lossMask.clone(); }

    public int input(int row, int position) { return inputs[row * sequenceLength + position]; }
    public int target(int row, int position) { return targets[row * sequenceLength + position]; }
    public int documentId(int row, int position) { return documentIds[row * sequenceLength + position]; }

    public int tokenCount() {
        return inputs.length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Batch b && batchSize == b.batchSize && sequenceLength == b.sequenceLength
                && Arrays.equals(inputs, b.inputs) && Arrays.equals(targets, b.targets)
                && Arrays.equals(documentIds, b.documentIds) && Arrays.equals(lossMask, b.lossMask);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(inputs) + Arrays.hashCode(targets)) + Arrays.hashCode(documentIds);
    }

    @Override
    public String toString() {
        return "Batch[" + batchSize + "x" + sequenceLength + "]";
    }
}
