package dev.octet.data;

/**
 * Everything a {@link BatchSampler} needs to continue where it stopped: save it with a checkpoint
 * and pass it to {@link BatchSampler#resume}. Plain numbers, so it serializes as JSON as is.
 */
public record SamplerState(long seed, int batchSize, int sequenceLength, long nextBatch) {
    public SamplerState {
        if (batchSize < 1 || sequenceLength < 1 || nextBatch < 0) {
            throw new IllegalArgumentException("invalid sampler state " + batchSize + "x" + sequenceLength + " at " + nextBatch);
        }
    }
}
