package dev.octet.cpu.ir;

import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.cpu.ops.Gelu;
import dev.octet.cpu.ops.LayerNorm;
import dev.octet.cpu.ops.RmsNorm;
import dev.octet.cpu.ops.Rounding;
import dev.octet.cpu.ops.SwiGlu;
import dev.octet.numerics.Bf16;

/**
 * A quantized tensor recomputed from its producer's inputs, as the producer rounds it (GPU rounding): an activation
 * from its forward's inputs, a gradient from its backward's, a weight's working copy from its master.
 */
public final class Recomputation {
    private Recomputation() {}

    /**
     * The [tokens, width] tensor {@code source} describes, from {@code in} in {@link QuantizedSource#inputs()} order:
     * per-element inputs [tokens, width], per-token statistics [tokens], per-column weights [width]. Any prefix of
     * columns (with the weights' same prefix) recomputes those columns.
     */
    public static double[] of(QuantizedSource source, double[][] in, int tokens, int width) {
        double[] y = new double[tokens * width];
        switch (source) {
            case STORED -> System.arraycopy(in[0], 0, y, 0, y.length);
            case SWIGLU -> SwiGlu.forward(y, in[0], in[1], y.length, Rounding.GPU);
            case GELU -> Gelu.forward(y, in[0], y.length, Rounding.GPU);
            case RMS_NORM -> RmsNorm.normalize(y, in[0], in[1], in[2], tokens, width, Rounding.GPU);
            case LAYER_NORM -> LayerNorm.normalize(y, in[0], in[1], in[2], in[3], in[4], tokens, width, Rounding.GPU);
            case SWIGLU_GATE_GRADIENT -> SwiGlu.backward(y, new double[y.length], in[2], in[0], in[1], y.length, Rounding.GPU);
            case SWIGLU_UP_GRADIENT -> SwiGlu.backward(new double[y.length], y, in[2], in[0], in[1], y.length, Rounding.GPU);
            case MASTER -> {
                for (int i = 0; i < y.length; i++) {
                    y[i] = Bf16.round((float) in[0][i]);
                }
            }
        }
        return y;
    }
}
