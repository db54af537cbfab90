package dev.octet.cpu.ops;

/**
 * AdamW (Loshchilov &amp; Hutter; PyTorch {@code torch.optim.AdamW}) on FP32 master weights and FP32 moments, as the
 * recipe keeps them. Weight decay is decoupled (applied to the parameter, not added to the gradient) and uses the
 * parameter before this step's update; moments are bias-corrected with the 1-based step count {@code t}:
 * <pre>
 *   m = β1·m + (1−β1)·g          v = β2·v + (1−β2)·g²
 *   p = p − lr·( (m/(1−β1ᵗ)) / (sqrt(v/(1−β2ᵗ)) + eps) + wd·p )
 * </pre>
 * Arithmetic per element is in float, as the GPU kernel does it (llm.c's adamw kernel is the model), so the two
 * can agree to the last bit; the bias corrections are computed once in double and rounded to float.
 * Parameters that should not decay (norm weights, biases, often embeddings) are stepped with {@code weightDecay = 0}.
 */
public final class AdamW {
    private AdamW() {}

    public static void step(float[] params, float[] grads, float[] m, float[] v, int t, double lr, double beta1,
                            double beta2, double eps, double weightDecay) {
        Shapes.check(t >= 1, "AdamW step count is 1-based, got " + t);
        step(params, grads, m, v, (float) lr, biasCorrection(beta1, t), biasCorrection(beta2, t), beta1, beta2, eps,
                weightDecay);
    }

    /** {@code 1 − βᵗ}, computed in double and rounded to float: the form the update reads it in. */
    public static float biasCorrection(double beta, int t) {
        return (float) (1 - Math.pow(beta, t));
    }

    /**
     * The update with the learning rate and both bias corrections given as the floats it computes with, as a
     * device kernel reads them from a buffer the host writes each step.
     */
    public static void step(float[] params, float[] grads, float[] m, float[] v, float lr, float correction1,
                            float correction2, double beta1, double beta2, double eps, double weightDecay) {
        int n = params.length;
        Shapes.require(grads, n, "grads");
        Shapes.require(m, n, "m");
        Shapes.require(v, n, "v");
        // 1−β is formed in double before rounding to float, as PyTorch passes it (0.1f, not 1f − 0.9f)
        float b1 = (float) beta1, b2 = (float) beta2, a1 = (float) (1 - beta1), a2 = (float) (1 - beta2);
        float epsF = (float) eps, wd = (float) weightDecay;
        for (int i = 0; i < n; i++) {
            float g = grads[i];
            float mi = b1 * m[i] + a1 * g;
            float vi = b2 * v[i] + a2 * g * g;
            m[i] = mi;
            v[i] = vi;
            float mHat = mi / correction1, vHat = vi / correction2;
            params[i] -= lr * (mHat / ((float) Math.sqrt(vHat) + epsF) + wd * params[i]);
        }
    }
}
