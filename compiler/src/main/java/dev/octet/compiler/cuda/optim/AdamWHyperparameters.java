package dev.octet.compiler.cuda.optim;

/**
 * The AdamW constants a kernel is compiled with, as {@code AdamW.step} takes them (doubles, rounded to float
 * the same way there and here). The learning rate changes per step and is a {@link AdamWScalarSlot} instead.
 */
public record AdamWHyperparameters(double beta1, double beta2, double eps, double weightDecay) {

    public AdamWHyperparameters {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW betas must lie in [0, 1), got " + beta1 + " and " + beta2);
        }
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("AdamW eps must be positive and finite, got " + eps);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("AdamW weight decay must be non-negative and finite, got " + weightDecay);
        }
    }

    /** PyTorch's defaults with the usual LLM betas: β = (0.9, 0.95), eps 1e-8, weight decay 0.1. */
    public static AdamWHyperparameters llmDefaults() {
        return new AdamWHyperparameters(0.9, 0.95, 1e-8, 0.1);
    }

    /**
     * The scalar buffer for 1-based step {@code t}, in {@link AdamWScalarSlot} order, computed exactly as
     * AdamW.java computes its floats; {@code clipFactor} is the clipping multiplier (1 without clipping).
     */
    public float[] scalarsForStep(int t, double learningRate, float clipFactor) {
        if (t < 1) {
            throw new IllegalArgumentException("AdamW step count is 1-based, got " + t);
        }
        float[] slots = new float[AdamWScalarSlot.count()];
        slots[AdamWScalarSlot.LEARNING_RATE.index()] = (float) learningRate;
        slots[AdamWScalarSlot.BIAS_CORRECTION1.index()] = (float) (1 - Math.pow(beta1, t));
        slots[AdamWScalarSlot.BIAS_CORRECTION2.index()] = (float) (1 - Math.pow(beta2, t));
        slots[AdamWScalarSlot.CLIP_FACTOR.index()] = clipFactor;
        slots[AdamWScalarSlot.SKIP.index()] = 0f;
        return slots;
    }
}
