package dev.octet.compiler.cuda.pointwise;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.VectorAccess;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * The first stage of column sums over many rows: {@code partials[s, c] = Σ input[r, c]} over the s-th of
 * {@code splits} equal row ranges, summed as {@link ColumnSumAccumulate} sums (fixed order, no atomics), so that a
 * tall input gets blocks for every SM (a bias gradient over 32,768 tokens and 768 columns had 12); the second stage
 * is {@code ColumnSumAccumulate(F32, splits, cols)}, which adds the ranges in order. The result is deterministic and
 * does not depend on the GPU.
 *
 * <p>Buffers: {@code partials} f32[splits, cols] (written), {@code input} [rows, cols], rows {@code pitch} apart.
 */
public record ColumnPartialSums(DType input, int rows, int cols, int pitch, int splits) implements KernelSpec {
    /** Blocks to aim at: two per SM of an H200. */
    static final int TARGET_BLOCKS = 264;
    /** Fewer rows than this per range are not worth a second launch. */
    static final int MIN_ROWS_PER_SPLIT = 256;

    public ColumnPartialSums {
        if (input != DType.BF16 && input != DType.F32) {
            throw new IllegalArgumentException("column sums read bf16 or f32, not " + input.irName());
        }
        if (rows < 1 || cols < 1 || pitch < cols || splits < 2 || splits > rows) {
            throw new IllegalArgumentException("column partial sums over " + rows + "x" + cols + " (rows " + pitch
                    + " apart) in " + splits + " row ranges");
        }
    }

    /**
     * Row ranges for column sums over {@code rows × cols}: enough that the strips of columns times the ranges give
     * about {@link #TARGET_BLOCKS} blocks, each range at least {@link #MIN_ROWS_PER_SPLIT} rows; 1 means one launch
     * of {@link ColumnSumAccumulate} suffices.
     */
    public static int splitsFor(DType input, int rows, int cols, int pitch) {
        int strips = Math.ceilDiv(cols, 32 * ColumnSumAccumulate.vectors(input, cols, pitch).width());
        return Math.max(1, Math.min(Math.ceilDiv(TARGET_BLOCKS, strips), rows / MIN_ROWS_PER_SPLIT));
    }

    /** Rows in each range; the last range holds the rest. */
    public int rowsPerSplit() {
        return Math.ceilDiv(rows, splits);
    }

    @Override
    public String kernelName() {
        return "column_partial_sums_" + input.irName() + "_" + rows + "x" + cols + (pitch != cols ? "_p" + pitch : "")
                + "_r" + splits;
    }

    @Override
    public CudaKernel emit() {
        VectorAccess v = ColumnSumAccumulate.vectors(input, cols, pitch);
        List<KernelParam> params = List.of(KernelParam.out("partials", DType.F32), KernelParam.in("input", input));
        String body = ColumnSumAccumulate.stripSumsSource(v, input, rows, cols, pitch, rowsPerSplit(), kernelName(),
                CudaKernel.signature(params), """
                    store_f32_vec(partials + (size_t) blockIdx.y * COLS + c, strip);
                """);
        String header = "Column partial sums: partials[s, c] = sum over the s-th of " + splits + " row ranges of input[r, c],"
                + " input " + input.irName() + " [" + rows + ", " + cols + "]" + (pitch != cols ? " (rows " + pitch + " apart)" : "")
                + "; deterministic order. Second stage: column_sum_accumulate_f32_" + splits + "x" + cols + ".";
        LaunchGeometry geometry = ColumnSumAccumulate.geometry(v, cols, splits);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(header, body), geometry, params);
    }
}
