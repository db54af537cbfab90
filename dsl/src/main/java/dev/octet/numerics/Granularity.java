package dev.octet.numerics;

/**
 * How many elements share one quantization scale. "Along K" means along the GEMM's reduction axis.
 */
public sealed interface Granularity {
    /** One scale for the whole tensor. */
    record Tensor() implements Granularity {}

    /** One scale per output channel (a row of a weight [out, in]). */
    record Channel() implements Granularity {}

    /** One scale per token (a row of an activation or gradient [tokens, features]). */
    record Token() implements Granularity {}

    /** 1×size groups along K: one scale per row per {@code size} consecutive reduction elements. */
    record Group(int size) implements Granularity {}

    /** size×size blocks. */
    record Block(int size) implements Granularity {}

    /** The DSL spelling: tensor, channel, token, group(128), block(128). */
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
