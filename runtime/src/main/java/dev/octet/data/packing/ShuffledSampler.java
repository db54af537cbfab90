package dev.octet.data.packing;

import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Batches of packed sequences in a shuffled order: each epoch visits every sequence once, in the order of an
 * {@link IndexPermutation} keyed by (seed, epoch). Deterministic by seed, and {@link #state()} is enough to
 * continue at the exact next sequence ({@link #resume}).
 */
public final class ShuffledSampler implements BatchSource {

    /** This sampler's name in {@link #position()}. */
    public static final String KIND = "shuffled_sequences";

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

    /**
     * A sampler that continues at {@code position} ({@link #position()} of an earlier one), after checking
     * that it is a position of this kind of sampler over as many sequences as {@code source} holds.
     */
    public static ShuffledSampler resume(SequenceSource source, int batchSize, Map<String, String> position) {
        if (!KIND.equals(position.get(SAMPLER))) {
            throw new IllegalArgumentException("the data position is of a " + position.getOrDefault(SAMPLER, "unnamed")
                    + " sampler, not of a " + KIND + " sampler over packed sequences");
        }
        return resume(source, batchSize, PackedSamplerState.fromMap(position));
    }

    public PackedSamplerState state() {
        return state;
    }

    @Override
    public Map<String, String> position() {
        Map<String, String> position = new LinkedHashMap<>();
        position.put(SAMPLER, KIND);
        state.toMap().forEach((key, value) -> position.put(key, Long.toString(value)));
        return position;
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
