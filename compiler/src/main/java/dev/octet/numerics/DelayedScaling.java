package dev.octet.numerics;

import java.util.Objects;

/**
 * TransformerEngine-style delayed scaling of one tensor: the scale used at step t comes from the amaxes of
 * earlier steps, so the quantize kernel need not wait for a reduction over the tensor it is quantizing.
 *
 * <p>The history is a ring of the last {@code historyLength} amaxes; the scale follows TE's "max" algorithm:
 * {@code s = (max(history) / fmax) · 2^margin} in our dequantization-multiplier convention (see
 * {@link ScaleType}). TE stores the reciprocal, {@code scale = fmax / amax / 2^margin}, and our {@code s} is
 * its {@code scale_inv}; a positive margin leaves headroom for growth between steps. On the first step the
 * history is empty, so the current amax is used (just-in-time scaling for one step). A history max of 0 gives
 * s = 1, as in {@link ScaleType}. After quantizing, the step's own amax is recorded.
 *
 * <p>Immutable: {@link #record} returns the next state. A non-finite amax is rejected rather than recorded,
 * because a single inf would otherwise poison the scale for the next {@code historyLength} steps.
 */
public record DelayedScaling(Fp8Format format, int historyLength, int margin, float[] history, long recorded) {

    /** The result of one training step's quantization. */
    public record Step(QuantizedMatrix quantized, float amax, DelayedScaling next) {}

    public DelayedScaling {
        Objects.requireNonNull(format, "format");
        if (historyLength <= 0 || history.length != historyLength || recorded < 0) {
            throw new IllegalArgumentException("history of length " + historyLength + " holds " + history.length);
        }
        history = history.clone();
    }

    public static DelayedScaling start(Fp8Format format, int historyLength, int margin) {
        return new DelayedScaling(format, historyLength, margin, new float[historyLength], 0);
    }

    @Override
    public float[] history() {
        return history.clone();
    }

    /** Largest amax in the history; 0 when nothing was recorded. */
    public float historyMax() {
        float max = 0;
        int filled = (int) Math.min(recorded, historyLength);
        for (int i = 0; i < filled; i++) {
            max = Math.max(max, history[i]);
        }
        return max;
    }

    /** The dequantization scale for this step; {@code currentAmax} is used only while the history is empty. */
    public float scale(float currentAmax) {
        float amax = recorded == 0 ? checked(currentAmax) : historyMax();
        if (amax == 0) {
            return 1.0f;
        }
        return Math.max(Math.scalb(amax / format.maxFinite(), margin), Float.MIN_NORMAL);
    }

    /** The state after recording this step's amax, overwriting the oldest entry once the ring is full. */
    public DelayedScaling record(float amax) {
        float[] next = history.clone();
        next[(int) (recorded % historyLength)] = checked(amax);
        return new DelayedScaling(format, historyLength, margin, next, recorded + 1);
    }

    /** Quantize tensor-wise with this step's scale, then record the tensor's amax. */
    public Step quantize(float[] x, int rows, int cols) {
        float amax = checked(Quantizer.amax(x));
        QuantizedMatrix q = Quantizer.quantizeWithScale(x, rows, cols, format, scale(amax));
        return new Step(q, amax, record(amax));
    }

    private static float checked(float amax) {
        if (!Float.isFinite(amax) || amax < 0) {
            throw new IllegalArgumentException("non-finite amax " + amax + " cannot enter the amax history");
        }
        return amax;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DelayedScaling d && format == d.format && historyLength == d.historyLength
                && margin == d.margin && recorded == d.recorded && java.util.Arrays.equals(history, d.history);
    }

    @Override
    public int hashCode() {
        return Objects.hash(format, historyLength, margin, recorded, java.util.Arrays.hashCode(history));
    }

    @Override
    public String toString() {
        return "DelayedScaling[" + format + ", L=" + historyLength + ", margin=" + margin + ", recorded=" + recorded
                + ", max=" + historyMax() + "]";
    }
}
