package dev.octet.data.packing;

import java.util.Optional;

/** A fixed, indexed collection of packed sequences of {@code sequenceLength() + 1} tokens each. */
public interface SequenceSource {

    /** Tokens per row after the shift: each sequence holds one more. */
    int sequenceLength();

    long sequenceCount();

    PackedSequence sequence(long index);

    /**
     * A checksum of what the sequences hold, when it is known without reading them again: what a checkpoint
     * records so that a resume on other data of the same shape is not taken for the same run.
     */
    default Optional<String> checksum() {
        return Optional.empty();
    }
}
