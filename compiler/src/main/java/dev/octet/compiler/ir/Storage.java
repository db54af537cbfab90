package dev.octet.compiler.ir;

/**
 * Where a value lives and who writes it. Everything but {@link #TRANSIENT} persists across steps (or is
 * written by the host before a step) and has a fixed place; transients share the arena by liveness.
 */
public enum Storage {
    /** FP32 master weights, updated by the optimizer. */
    PARAMETER,
    /** The BF16 working copy of a parameter that forward and backward read; written by the optimizer. */
    SHADOW,
    /**
     * FP8 codes and scales of a weight, quantized once per step right after the optimizer updates it (steps of
     * several micro-batches: {@code passes/WeightsQuantizedPerStep}); every micro-batch of the next step reads them.
     */
    WEIGHT_CODES,
    /** FP32 parameter gradients, accumulated over the micro-batches of a step, zeroed by the optimizer. */
    GRADIENT,
    /** AdamW moments and amax histories of delayed scaling. */
    OPTIMIZER_STATE,
    /** Written by the host before each micro-batch or step: tokens, targets, loss mask, step scalars. */
    INPUT,
    /** Read by the host after a step: the loss, the gradient norm. */
    OUTPUT,
    /** Keys and values of the positions decoded so far, one cache per attention layer; kept across decode steps. */
    KV_CACHE,
    /** Produced and consumed within one step; lives in the arena while live. */
    TRANSIENT;

    public boolean persistent() {
        return this != TRANSIENT;
    }
}
