package dev.octet.numerics;

import java.util.Arrays;
import java.util.Objects;

/**
 * A row-major {@code [rows, cols]} matrix of FP8 codes with its scales: element (r, c) stands for
 * {@code format.decode(code(r, c)) · scale(r, c)}. The scale layout is {@link #grid()}.
 *
 * <p>Immutable: the arrays are copied in and out, so a value handed to a test or a GPU upload cannot change
 * under another holder.
 */
public record QuantizedMatrix(Fp8Format format, Granularity granularity, Axis axis, int rows, int cols,
                              byte[] codes, float[] scales) {

    public QuantizedMatrix {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(granularity, "granularity");
        Objects.requireNonNull(axis, "axis");
        ScaleGrid grid = ScaleGrid.of(granularity, axis, rows, cols);
        if (codes.length != rows * cols) {
            throw new IllegalArgumentException("codes: " + codes.length + " for " + rows + "x" + cols);
        }
        if (scales.length != grid.scaleCount()) {
            throw new IllegalArgumentException("scales: " + scales.length + ", grid needs " + grid.scaleCount());
        }
        codes = codes.clone();
        scales = scales.clone();
    }

    public ScaleGrid grid() {
        return ScaleGrid.of(granularity, axis, rows, cols);
    }

    @Override
    public byte[] codes() {
        return codes.clone();
    }

    @Override
    public float[] scales() {
        return scales.clone();
    }

    public byte code(int r, int c) {
        return codes[Objects.checkIndex(r, rows) * cols + Objects.checkIndex(c, cols)];
    }

    public float scale(int r, int c) {
        return scales[grid().scaleIndex(Objects.checkIndex(r, rows), Objects.checkIndex(c, cols))];
    }

    /** decode(code) without the scale, row-major: what the tensor core multiplies. */
    public float[] decodeUnscaled() {
        float[] out = new float[codes.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = format.decode(codes[i]);
        }
        return out;
    }

    /** Every element's scale, row-major, expanded from the grid. */
    public float[] expandedScales() {
        ScaleGrid grid = grid();
        float[] out = new float[codes.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = scales[grid.scaleIndex(r, c)];
            }
        }
        return out;
    }

    /** decode(code) · scale for every element, in float32 as a dequantizing kernel computes it. */
    public float[] dequantize() {
        float[] values = decodeUnscaled();
        float[] s = expandedScales();
        for (int i = 0; i < values.length; i++) {
            values[i] *= s[i];
        }
        return values;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedMatrix q && format == q.format && granularity.equals(q.granularity)
                && axis == q.axis && rows == q.rows && cols == q.cols
                && Arrays.equals(codes, q.codes) && Arrays.equals(scales, q.scales);
    }

    @Override
    public int hashCode() {
        return Objects.hash(format, granularity, axis, rows, cols, Arrays.hashCode(codes), Arrays.hashCode(scales));
    }

    @Override
    public String toString() {
        return "QuantizedMatrix[" + format + " " + granularity + " along " + axis + ", " + rows + "x" + cols
                + ", " + scales.length + " scales]";
    }
}
