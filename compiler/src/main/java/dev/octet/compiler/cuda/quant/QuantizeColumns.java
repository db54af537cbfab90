package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.ScaleType;
import java.util.List;
import java.util.Objects;

/**
 * One scale per output row of a transposed output (channel or token granularity of a wgrad operand, or of the
 * weights' dgrad layout): the row is a whole input column, so its amax comes first from {@link #columnAmax()}'s
 * partials, and the codes are written through {@link TransposedTiles}. One block per output row, walking its
 * input column from memory, reads elements a row apart (~230 GB/s at GPT-2's 8192×768). Bit-exact with
 * {@code Quantizer.quantize(output, outputRows, outputCols, channel, Axis.COLS, format, scaleType)}.
 *
 * <p>Buffers: {@code x} (input), {@code amax_partials} (from {@link #columnAmax()}), {@code codes} (fp8
 * [outputRows, outputCols]), {@code scales} (f32[outputRows]).
 */
public record QuantizeColumns(QuantizeOperand operand, ScaleType scaleType) implements KernelSpec {
    private static final int THREADS = 256;
    /** Blocks of the grid-stride tile walk: four waves of an H200's 132 SMs at most. */
    private static final int MAX_BLOCKS = 4 * 132;

    public QuantizeColumns {
        Objects.requireNonNull(operand, "operand");
        Objects.requireNonNull(scaleType, "scaleType");
        if (!operand.transpose()) {
            throw new IllegalArgumentException("a scale per input column is a scale per output row only when the output "
                    + "is the input transposed; untransposed, QuantizeTiled reads each row whole");
        }
    }

    /** The kernel that must run first, writing the partials this one reads. */
    public ColumnAmax columnAmax() {
        return new ColumnAmax(operand.input(), operand.rows(), operand.cols());
    }

    @Override
    public String kernelName() {
        return "quantize_columns_" + operand.nameSuffix() + "_" + scaleType.lowerName();
    }

    @Override
    public CudaKernel emit() {
        int tiles = Math.ceilDiv(operand.rows(), TransposedTiles.TILE) * Math.ceilDiv(operand.cols(), TransposedTiles.TILE);
        int blocks = Math.min(MAX_BLOCKS, tiles);
        List<KernelParam> params = List.of(
                KernelParam.in("x", operand.input()),
                KernelParam.in("amax_partials", DType.F32),
                KernelParam.out("codes", operand.codeType()),
                KernelParam.out("scales", DType.F32));
        // Before a tile is staged, its 64 input columns' scales: the max over the row ranges' partials. The barrier
        // after the staging orders them before the codes are written.
        String tileScales = """
                if (threadIdx.x < TRANSPOSED_TILE) {
                    const int col = c0 + threadIdx.x;
                    unsigned m = 0;
                    if (col < IN_COLS) {
                        for (int k = 0; k < SPLITS; k++) m = max(m, __float_as_uint(amax_partials[k * IN_COLS + col]));
                    }
                    const float s = scale_for(m);
                    tile_s[threadIdx.x] = s;
                    tile_inv_s[threadIdx.x] = 1.0f / s;
                    if (r0 == 0 && col < IN_COLS) scales[col] = s;
                }
                """;
        String rowScale = "const float s = tile_s[j], inv_s = tile_inv_s[j];";
        String body = operand.deviceDefinitions() + ScaleFormulas.scaleFor(scaleType) + TransposedTiles.constants() + """

                constexpr int SPLITS = %d, BLOCKS = %d, THREADS = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    __shared__ float tile_s[TRANSPOSED_TILE], tile_inv_s[TRANSPOSED_TILE];
                %s}
                """.formatted(columnAmax().splits(), blocks, THREADS, kernelName(), CudaKernel.signature(params),
                TransposedTiles.walk(operand.input(), "", tileScales, rowScale, ScaleFormulas.quotient(scaleType)).indent(4));
        String description = "Quantize with one " + scaleType.lowerName() + " scale per output row (an input column),"
                + " from the column amax partials of " + columnAmax().kernelName() + ".\n" + operand.description()
                + "\nscales f32[" + operand.outputRows() + "]; oracle Quantizer.quantize(output, channel, Axis.COLS).";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(blocks, THREADS, 0), params);
    }
}
