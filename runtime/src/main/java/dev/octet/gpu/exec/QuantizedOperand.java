package dev.octet.gpu.exec;

import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Value;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.Role;
import dev.octet.numerics.Axis;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.QuantizationHealth;
import dev.octet.numerics.QuantizedMatrix;
import dev.octet.numerics.ScaleGrid;
import java.util.List;

/**
 * One FP8 quantization of the compiled step: its {@code sources} (the tensor quantized, BF16 or FP32, or the
 * producer's inputs it is recomputed from, {@code quantize.source()}), the {@code codes} and {@code scales} it
 * writes, and every GEMM operand that reads them. The compiler shares one quantization
 * between GEMMs that would quantize the same tensor the same way (the normalized activation feeding q, k and
 * v), so one measurement stands for several operands, each of which the CPU measures on its own.
 */
public record QuantizedOperand(Operator.Quantize quantize, List<Value> sources, Value codes, Value scales, List<Use> uses) {
    /** A GEMM operand fed by this quantization: the linear layer, which of its GEMMs, which of the two operands. */
    public record Use(String layer, Gemm gemm, Role role) {}

    public QuantizedOperand {
        uses = List.copyOf(uses);
        sources = List.copyOf(sources);
        if (sources.size() != quantize.source().inputs().size()) {
            throw new IllegalArgumentException(quantize.source().lowerName() + " reads " + quantize.source().inputs()
                    + ", not " + sources);
        }
        Value first = sources.getFirst();
        if (first.type().elements() != (long) quantize.rows() * quantize.cols()) {
            throw new IllegalArgumentException(first + " " + first.type() + " is not a " + quantize.rows() + "x"
                    + quantize.cols() + " operand");
        }
    }

    /**
     * What the quantization lost, from the values it read and what it wrote, as the device holds them:
     * {@code source} in the source's own layout (transposed when the kernel transposes), codes and scales
     * K-major. The same figure the CPU computes for this operand from its own quantization.
     */
    public QuantizationHealth measure(float[] source, byte[] codes, float[] scales) {
        return measure(source, codes, scales, quantize.rows());
    }

    /**
     * The same over the first {@code rows} rows of the quantized layout: {@code source} holds those rows (their
     * columns, {@code [cols, rows]}, when the kernel transposes), {@code codes} their codes and {@code scales} the
     * first {@link #sampleScales}{@code (rows)} scales as stored.
     */
    public QuantizationHealth measure(float[] source, byte[] codes, float[] scales, int rows) {
        int cols = quantize.cols();
        ScaleGrid stored = grid(quantize.rows());
        float[] rowScales = scales;
        if (stored.columnMajor()) {
            // The whole grid was read: keep the sampled rows' scales, row-major.
            rowScales = java.util.Arrays.copyOf(stored.rowMajor(scales), grid(rows).scaleCount());
        }
        QuantizedMatrix quantized = new QuantizedMatrix(quantize.format(), quantize.granularity(), Axis.COLS, rows, cols,
                codes, rowScales);
        return QuantizationHealth.measure(quantize.transpose() ? transpose(source, cols, rows) : source, quantized);
    }

    /**
     * How many rows of the quantized layout a health measurement reads: all of them when they hold at most
     * {@code maxElements}, else the largest prefix of whole scale tiles (at least one) that does. Reading every
     * quantization of a large step whole would move tens of gigabytes to the host; a prefix of rows keeps each
     * measurement bounded and its scales a prefix of the grid.
     */
    public int sampleRows(long maxElements) {
        int rows = quantize.rows();
        int cols = quantize.cols();
        if ((long) rows * cols <= maxElements) {
            return rows;
        }
        ScaleGrid grid = grid(rows);
        int tile = quantize.granularity() instanceof Granularity.Tensor ? 1 : grid.tileRows();
        long fit = maxElements / cols / tile * tile;
        return (int) Math.min(rows, Math.max(tile, fit));
    }

    /**
     * How many scales, from the first, hold those of the first {@code rows} rows' tiles: a prefix of a row-major
     * grid, or all of a column-major one (a transposed group quantization's, which is small: a scale per group).
     */
    public int sampleScales(int rows) {
        ScaleGrid whole = grid(quantize.rows());
        return whole.columnMajor() ? whole.scaleCount() : grid(rows).scaleCount();
    }

    /** The scale grid of the first {@code rows} rows of the quantized layout, in the order the GEMMs read it. */
    private ScaleGrid grid(int rows) {
        return ScaleGrid.ofOperand(quantize.granularity(), rows, quantize.cols(), quantize.transpose());
    }

    /** {@code a} is row-major [rows, cols]; the result is [cols, rows]. */
    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }
}
