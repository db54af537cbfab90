package dev.octet.decode;

/**
 * One decoding step over a fixed number of slots, each holding one sequence: slot s is fed
 * {@code tokens[s]} at position {@code positions[s]} and answers the logits of the token after it. Position 0
 * starts a new sequence in that slot; otherwise a slot is fed the position after its previous one. Every slot
 * is fed every step (an idle slot gets token 0 at position 0, and its logits are ignored), so a compiled step
 * with fixed shapes can serve it. Implemented on the CPU by the reference forward with a KV cache and on the
 * GPU by the compiled decoding step.
 */
public interface DecodeStep extends AutoCloseable {
    /** Sequences decoded at once. */
    int slots();

    /** Positions each slot's cache holds: a sequence never grows beyond this many tokens. */
    int context();

    int vocab();

    /** Feeds one token to every slot; returns the logits {@code [slots × vocab]}, slot after slot. */
    float[] step(int[] tokens, int[] positions);

    /** What decodes, for the run's first line: "CPU, KV cache" or the GPU's name. */
    String describe();

    @Override
    default void close() {}
}
