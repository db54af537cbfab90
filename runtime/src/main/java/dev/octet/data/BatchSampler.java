package dev.octet.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws batches of windows of {@code sequenceLength + 1} consecutive tokens at pseudo-random offsets.
 *
 * <p>Batch k is drawn from a generator seeded by a hash of (seed, k) alone, so the sequence of
 * batches depends only on the seed, and resuming at batch k costs nothing: no earlier batch has to
 * be replayed. Windows may span a document boundary; the document ids say where.
 */
public final class BatchSampler implements BatchSource {

    private final TokenSplit split;
    private final long seed;
    private final int batchSize;
    private final int sequenceLength;
    private long nextBatch;

    public BatchSampler(TokenSplit split, int batchSize, int sequenceLength, long seed) {
        this(split, new SamplerState(seed, batchSize, sequenceLength, 0));
    }

    private BatchSampler(TokenSplit split, SamplerState state) {
        if (split.tokenCount() < state.sequenceLength() + 1) {
            throw new IllegalArgumentException("a split of " + split.tokenCount() + " tokens is shorter than one window of "
                    + (state.sequenceLength() + 1));
        }
        this.split = split;
        this.seed = state.seed();
        this.batchSize = state.batchSize();
        this.sequenceLength = state.sequenceLength();
        this.nextBatch = state.nextBatch();
    }

    /** A sampler that continues exactly where the one that produced {@code state} was. */
    public static BatchSampler resume(TokenSplit split, SamplerState state) {
        return new BatchSampler(split, state);
    }

    public SamplerState state() {
        return new SamplerState(seed, batchSize, sequenceLength, nextBatch);
    }

    @Override
    public Batch next() {
        SplittableRandom random = new SplittableRandom(mix(seed, nextBatch));
        nextBatch++;
        int window = sequenceLength + 1;
        int n = batchSize * sequenceLength;
        int[] inputs = new int[n];
        int[] targets = new int[n];
        int[] documentIds = new int[n];
        int[] windowTokens = new int[window];
        int[] windowDocuments = new int[window];
        for (int row = 0; row < batchSize; row++) {
            // Offsets run over 0..tokenCount-window, so the window's last token is the split's last at most.
            int offset = random.nextInt(split.tokenCount() - window + 1);
            split.copyWindow(offset, window, windowTokens, windowDocuments, 0);
            System.arraycopy(windowTokens, 0, inputs, row * sequenceLength, sequenceLength);
            System.arraycopy(windowTokens, 1, targets, row * sequenceLength, sequenceLength);
            System.arraycopy(windowDocuments, 0, documentIds, row * sequenceLength, sequenceLength);
        }
        float[] lossMask = new float[n];
        Arrays.fill(lossMask, 1f);
        return new Batch(batchSize, sequenceLength, inputs, targets, documentIds, lossMask);
    }

    /** A 64-bit finalizer over (seed, index) so neighbouring batches get unrelated generators. */
    private static long mix(long seed, long index) {
        long z = seed ^ (index * 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }
}
