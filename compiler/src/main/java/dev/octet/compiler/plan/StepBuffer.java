package dev.octet.compiler.plan;

/**
 * The buffers through which the host talks to a compiled step: what it writes before a micro-batch or the
 * optimizer, and what it reads back. The graph builder and the optimizer pass create them under these names;
 * everything else finds them by role ({@link StepInterface}), never by spelling a name.
 */
public enum StepBuffer {
    /** i32[tokens]: the micro-batch's token ids. */
    TOKENS("tokens"),
    /** i32[tokens]: the next token of each, -1 where the loss leaves it out. */
    TARGETS("targets"),
    /** i32[tokens]: each token's position in its document. */
    POSITIONS("positions"),
    /** i32[tokens]: each token's document, for attention's document mask. */
    DOCUMENT_IDS("document_ids"),
    /** f32[1]: 1 / tokens counted over the step's micro-batches. */
    LOSS_WEIGHT("loss_weight"),
    /** f32[AdamWScalarSlot.count()]: learning rate, bias corrections, clip factor, skip flag. */
    STEP_SCALARS("step_scalars"),
    /** f32[1]: the step's mean loss, added into by each micro-batch. */
    LOSS("loss"),
    /** f32[1]: the global gradient norm before clipping. */
    GRAD_NORM("grad_norm"),
    /** bf16[batch, vocab]: a decoding step's next-token logits. */
    LOGITS("logits");

    private final String bufferName;

    StepBuffer(String bufferName) {
        this.bufferName = bufferName;
    }

    /** The value's name in the graph. */
    public String bufferName() {
        return bufferName;
    }
}
