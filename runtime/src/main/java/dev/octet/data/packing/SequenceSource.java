package dev.octet.data.packing;

/** A fixed, indexed collection of packed sequences of {@code sequenceLength() + 1} tokens each. */
public interface SequenceSource {

    /** Tokens per row after the shift: each sequence holds one more. */
    int sequenceLength();

    long sequenceCount();

    PackedSequence sequence(long index);
}
