package dev.octet.compiler.cuda.optim;

/**
 * The per-step values an {@link AdamWStep} kernel reads from the device buffer {@code scalars} (f32, one slot
 * each, in this order). They live in device memory, not in kernel arguments, so one captured CUDA graph
 * replays every step: the host (or {@link GradNormFinalize}, for the clip factor and the skip flag) rewrites the buffer.
 */
public enum AdamWScalarSlot {
    /** {@code (float) lr} of this step (after the schedule). */
    LEARNING_RATE,
    /** {@code (float) (1 − β1^t)}, t the 1-based step, computed in double as AdamW.java does. */
    BIAS_CORRECTION1,
    /** {@code (float) (1 − β2^t)}. */
    BIAS_CORRECTION2,
    /** The gradient multiplier from clipping: {@code min(1, maxNorm / norm)}, 1 without clipping. */
    CLIP_FACTOR,
    /**
     * 1 when the step's global gradient norm is not finite, else 0; written by {@link GradNormFinalize}. AdamW
     * then leaves weights, moments and gradients as they are, so the host can name the tensor and drop the step.
     */
    SKIP;

    /** The slot index in the scalar buffer. */
    public int index() {
        return ordinal();
    }

    /** The buffer's length in floats. */
    public static int count() {
        return values().length;
    }
}
