package dev.octet.cpu.ops;

import dev.octet.dsl.spec.ModelConfig;
import java.util.Optional;

/**
 * Rotary position embedding on q or k laid out {@code [rows, heads, headDim]}, "rotate-half" pairing as Llama/Qwen
 * in Hugging Face transformers: element i pairs with i + headDim/2, rotated by angle
 * {@code positions[row] · theta^(−2i/headDim)}:
 * <pre>
 *   out[i]        = x[i]·cos − x[i+half]·sin
 *   out[i+half]   = x[i+half]·cos + x[i]·sin        (i &lt; half)
 * </pre>
 * A rotation is orthogonal, so backward is the inverse rotation (angle negated) of the output gradient. The
 * {@code inverseFrequencies} overloads take the frequencies as {@code ModelConfig.ropeInverseFrequencies} gives
 * them (Llama 3's scaled ones included); the {@code theta} ones use the unscaled frequencies.
 * {@code out} may alias {@code x} (each pair is read before it is written).
 */
public final class Rope {
    private Rope() {}

    public static void forward(double[] out, double[] x, int[] positions, int rows, int heads, int headDim,
                               double theta, Rounding rounding) {
        forward(out, x, positions, rows, heads, headDim, unscaled(theta, headDim), rounding);
    }

    public static void forward(double[] out, double[] x, int[] positions, int rows, int heads, int headDim,
                               double[] inverseFrequencies, Rounding rounding) {
        rotate(out, x, positions, rows, heads, headDim, inverseFrequencies, 1.0, rounding);
    }

    /** {@code dx} written: the inverse rotation of {@code dout}. */
    public static void backward(double[] dx, double[] dout, int[] positions, int rows, int heads, int headDim,
                                double theta, Rounding rounding) {
        backward(dx, dout, positions, rows, heads, headDim, unscaled(theta, headDim), rounding);
    }

    public static void backward(double[] dx, double[] dout, int[] positions, int rows, int heads, int headDim,
                                double[] inverseFrequencies, Rounding rounding) {
        rotate(dx, dout, positions, rows, heads, headDim, inverseFrequencies, -1.0, rounding);
    }

    private static double[] unscaled(double theta, int headDim) {
        return ModelConfig.ropeInverseFrequencies(theta, headDim, Optional.empty());
    }

    private static void rotate(double[] out, double[] x, int[] positions, int rows, int heads, int headDim,
                               double[] invFreq, double direction, Rounding rounding) {
        Shapes.check(headDim % 2 == 0, "rope needs an even headDim, got " + headDim);
        Shapes.require(positions, rows, "positions");
        Shapes.require(x, (long) rows * heads * headDim, "x");
        Shapes.require(out, (long) rows * heads * headDim, "out");
        int half = headDim / 2;
        Shapes.require(invFreq, half, "inverse frequencies");
        double[] cos = new double[half], sin = new double[half];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < half; i++) {
                double angle = positions[r] * invFreq[i];
                cos[i] = Math.cos(angle);
                sin[i] = direction * Math.sin(angle);
            }
            for (int h = 0; h < heads; h++) {
                int o = (r * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    double a = x[o + i], b = x[o + i + half];
                    out[o + i] = rounding.apply(a * cos[i] - b * sin[i]);
                    out[o + i + half] = rounding.apply(b * cos[i] + a * sin[i]);
                }
            }
        }
    }
}
