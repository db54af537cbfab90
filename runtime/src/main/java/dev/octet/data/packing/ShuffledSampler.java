package dev.octet.data.packing;

import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import java.util.ArrayList;
import java.util.List;

/**
 * Batches of packed sequences in a shuffled order: each epoch visits every sequence once, in the order of an
 * {@link IndexPermutation} keyed by (seed, epoch). Deterministic by seed, and {@link #state()} is enough to
 * continue at the exact next sequence ({@link #resume}).
 */
public final class ShuffledSampler implements BatchSource {

    private final SequenceSource source;
    private final int batchSize;
    private PackedSamplerState state;
    private IndexPermutation order;

    private ShuffledSampler(SequenceSource source, int batchSize, PackedSamplerState state) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size " + batchSize);
        }
        if (state.sequenceCount() != source.sequenceCount()) {
            throw new IllegalArgumentException("the sampler state is for " + state.sequenceCount() + " sequences, the data has "
                    + source.sequenceCount() + ": not the data (or the seq_len) it was saved with");
        }
        this.source = source;
        this.batchSize = batchSize;
        this.state = state;
        this.order = permutation(state);
    }

    public static ShuffledSampler start(SequenceSource source, int batchSize, long seed) {
        return new ShuffledSampler(source, batchSize, PackedSamplerState.start(seed, source.sequenceCount()));
    }

    /** A sampler that draws exactly what the one that reported {@code state} would have drawn next. */
    public static ShuffledSampler resume(SequenceSource source, int batchSize, PackedSamplerState state) {
        return new ShuffledSampler(source, batchSize, state);
    }

    public PackedSamplerState state() {
        return state;
    }

    /** The index (in the source) of the sequence drawn next. */
    public long nextIndex() {
        return order.apply(state.position());
    }

    @Override
    public Batch next() {
        List<PackedSequence> rows = new ArrayList<>(batchSize);
        for (int r = 0; r < batchSize; r++) {
            rows.add(source.sequence(nextIndex()));
            PackedSamplerState after = state.advance();
            if (after.epoch() != state.epoch()) {
                order = permutation(after);
            }
            state = after;
        }
        return PackedSequence.batchOf(rows);
    }

    private static IndexPermutation permutation(PackedSamplerState state) {
        return new IndexPermutation(state.sequenceCount(), IndexPermutation.mix(state.seed(), state.epoch()));
    }
}
