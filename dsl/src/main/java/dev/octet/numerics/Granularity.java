package dev.octet.numerics;

/**
 * Which elements share one scale. Together with an {@link Axis} (the reduction axis) it fixes the
 * {@link ScaleGrid} of a matrix.
 *
 * <p><b>Tail rule.</b> When the extent along an axis is not a multiple of the group or block size, the last
 * group or block is partial (it covers only the remaining elements) and gets its own scale, computed from its
 * own elements only. It is never padded with zeros from outside the matrix nor merged into its neighbour, so a
 * kernel that masks its last tile computes the same scales.
 */
public sealed interface Granularity {

    /** One scale for the whole matrix (TransformerEngine's delayed and current scaling). */
    record Tensor() implements Granularity {}

    /**
     * One scale per index of the non-reduced axis, covering the whole reduction axis: per output channel of a
     * weight {@code W[out, in]} reduced along {@code in}. Same layout as {@link Token}; the name says the role.
     */
    record Channel() implements Granularity {}

    /** One scale per token (row of {@code X[tokens, channels]} when reducing along channels): torchao rowwise. */
    record Token() implements Granularity {}

    /** 1×g groups along the reduction axis (InfiR2/DeepSeek-V3 activations and gradients: g = 128). */
    record Group(int size) implements Granularity {
        public Group {
            if (size <= 0) {
                throw new IllegalArgumentException("group size must be positive: " + size);
            }
        }
    }

    /** b×b blocks (InfiR2/DeepSeek-V3 weights: b = 128); the same tiles whichever axis is reduced. */
    record Block(int size) implements Granularity {
        public Block {
            if (size <= 0) {
                throw new IllegalArgumentException("block size must be positive: " + size);
            }
        }
    }

    static Granularity tensor() {
        return new Tensor();
    }

    static Granularity channel() {
        return new Channel();
    }

    static Granularity token() {
        return new Token();
    }

    static Granularity group(int g) {
        return new Group(g);
    }

    static Granularity block(int b) {
        return new Block(b);
    }

    /** The language's spelling: tensor, channel, token, group(128), block(128). */
    default String describe() {
        return switch (this) {
            case Tensor t -> "tensor";
            case Channel c -> "channel";
            case Token t -> "token";
            case Group g -> "group(" + g.size() + ")";
            case Block b -> "block(" + b.size() + ")";
        };
    }
}
