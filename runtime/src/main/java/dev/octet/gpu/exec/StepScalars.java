package dev.octet.gpu.exec;

import dev.octet.compiler.cuda.optim.AdamWScalarSlot;

/**
 * The per-step values the AdamW kernels read from the {@code step_scalars} buffer, rounded to float exactly
 * as the CPU's AdamW rounds them: the learning rate, and the bias corrections 1 − β1ᵗ and 1 − β2ᵗ formed in
 * double. The clip factor's and the skip flag's slots are written on the device by the gradient-norm kernel;
 * the host writes 1 and 0.
 */
public record StepScalars(float learningRate, float biasCorrection1, float biasCorrection2) {
    /** @param step the 1-based AdamW step count */
    public static StepScalars of(double learningRate, double beta1, double beta2, long step) {
        if (step < 1) {
            throw new IllegalArgumentException("AdamW step count is 1-based, got " + step);
        }
        return new StepScalars((float) learningRate, (float) (1 - Math.pow(beta1, step)),
                (float) (1 - Math.pow(beta2, step)));
    }

    /** The buffer's contents, slot by slot. */
    public float[] slots() {
        float[] s = new float[AdamWScalarSlot.count()];
        s[AdamWScalarSlot.LEARNING_RATE.index()] = learningRate;
        s[AdamWScalarSlot.BIAS_CORRECTION1.index()] = biasCorrection1;
        s[AdamWScalarSlot.BIAS_CORRECTION2.index()] = biasCorrection2;
        s[AdamWScalarSlot.CLIP_FACTOR.index()] = 1f;
        s[AdamWScalarSlot.SKIP.index()] = 0f;
        return s;
    }
}
