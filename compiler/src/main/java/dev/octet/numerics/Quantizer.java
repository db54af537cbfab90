package dev.octet.numerics;

import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Just-in-time quantization of a row-major float32 matrix: per scale tile, amax → scale (see
 * {@link ScaleType} for the convention) → {@code code = format.encode(x / s)}. This is the CPU oracle of the
 * fused cast kernels, so it divides by the scale exactly as written (with a UE8M0 scale a kernel may multiply
 * by the reciprocal instead: that is the same float).
 */
public final class Quantizer {
    private Quantizer() {}

    /**
     * @throws IllegalArgumentException if a tile holds inf or NaN (no finite scale exists for it, see
     *     {@link ScaleType#scaleFor}), or if the shape does not match {@code x}
     */
    public static QuantizedMatrix quantize(float[] x, int rows, int cols, Granularity granularity, Axis axis,
                                           Fp8Format format, ScaleType scaleType) {
        Objects.requireNonNull(scaleType, "scaleType");
        checkShape(x, rows, cols);
        ScaleGrid grid = ScaleGrid.of(granularity, axis, rows, cols);
        float[] scales = new float[grid.scaleCount()];
        byte[] codes = new byte[x.length];
        // Tiles are disjoint, so they can be quantized in parallel without any shared state.
        IntStream.range(0, scales.length).parallel().forEach(tile -> {
            int r0 = (tile / grid.scaleCols()) * grid.tileRows();
            int c0 = (tile % grid.scaleCols()) * grid.tileCols();
            int r1 = Math.min(r0 + grid.tileRows(), rows);
            int c1 = Math.min(c0 + grid.tileCols(), cols);
            float amax = 0;
            for (int r = r0; r < r1; r++) {
                for (int c = c0; c < c1; c++) {
                    float v = x[r * cols + c];
                    if (!Float.isFinite(v)) {
                        throw new IllegalArgumentException(
                                "non-finite value " + v + " at (" + r + ", " + c + "): no scale for its tile");
                    }
                    amax = Math.max(amax, Math.abs(v));
                }
            }
            float s = scaleType.scaleFor(amax, format);
            scales[tile] = s;
            encodeTile(x, cols, r0, r1, c0, c1, s, format, codes);
        });
        return new QuantizedMatrix(format, granularity, axis, rows, cols, codes, scales);
    }

    /** Tensor-wise quantization with a scale chosen elsewhere (delayed scaling); values beyond s·fmax saturate. */
    public static QuantizedMatrix quantizeWithScale(float[] x, int rows, int cols, Fp8Format format, float scale) {
        checkShape(x, rows, cols);
        if (!(scale > 0) || !Float.isFinite(scale)) {
            throw new IllegalArgumentException("scale must be positive and finite: " + scale);
        }
        byte[] codes = new byte[x.length];
        IntStream.range(0, rows).parallel().forEach(r -> encodeTile(x, cols, r, r + 1, 0, cols, scale, format, codes));
        return new QuantizedMatrix(format, Granularity.tensor(), Axis.COLS, rows, cols, codes, new float[] {scale});
    }

    /** Largest magnitude in {@code x}; NaN if any element is NaN, so a diverged tensor cannot look small. */
    public static float amax(float[] x) {
        float amax = 0;
        for (float v : x) {
            if (Float.isNaN(v)) {
                return Float.NaN;
            }
            amax = Math.max(amax, Math.abs(v));
        }
        return amax;
    }

    private static void encodeTile(float[] x, int cols, int r0, int r1, int c0, int c1, float s, Fp8Format format,
                                   byte[] codes) {
        for (int r = r0; r < r1; r++) {
            for (int c = c0; c < c1; c++) {
                int i = r * cols + c;
                codes[i] = format.encode(x[i] / s);
            }
        }
    }

    private static void checkShape(float[] x, int rows, int cols) {
        Objects.requireNonNull(x, "x");
        if (rows <= 0 || cols <= 0 || (long) rows * cols != x.length) {
            throw new IllegalArgumentException("shape " + rows + "x" + cols + " does not match " + x.length + " values");
        }
    }
}
