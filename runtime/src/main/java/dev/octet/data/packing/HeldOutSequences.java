package dev.octet.data.packing;

/**
 * The training or the validation part of a sequence source: every {@code stride}-th sequence (index
 * stride-1, 2·stride-1, ...) is held out, as {@code TokenDataset} holds out documents. The stride is 50, or
 * the number of sequences when there are fewer, so a small source still holds out one.
 */
public record HeldOutSequences(SequenceSource all, boolean validation, long stride) implements SequenceSource {

    public static final long DEFAULT_STRIDE = 50;

    public HeldOutSequences {
        if (stride < 2 || all.sequenceCount() < 2) {
            throw new IllegalArgumentException("cannot hold out 1 in " + stride + " of " + all.sequenceCount() + " sequences");
        }
    }

    public static HeldOutSequences train(SequenceSource all) {
        return new HeldOutSequences(all, false, strideFor(all));
    }

    public static HeldOutSequences validation(SequenceSource all) {
        return new HeldOutSequences(all, true, strideFor(all));
    }

    private static long strideFor(SequenceSource all) {
        return Math.clamp(all.sequenceCount(), 2, DEFAULT_STRIDE);
    }

    @Override
    public int sequenceLength() {
        return all.sequenceLength();
    }

    @Override
    public long sequenceCount() {
        long held = all.sequenceCount() / stride;
        return validation ? held : all.sequenceCount() - held;
    }

    @Override
    public PackedSequence sequence(long index) {
        if (index < 0 || index >= sequenceCount()) {
            throw new IndexOutOfBoundsException("sequence " + index + " of " + sequenceCount());
        }
        // Training: each run of stride-1 kept sequences is followed by one held out.
        long inAll = validation ? index * stride + stride - 1 : index + index / (stride - 1);
        return all.sequence(inAll);
    }
}
