package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Axis;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleGrid;
import dev.octet.numerics.ScaleType;
import java.util.List;
import java.util.Objects;

/**
 * Just-in-time quantization with one scale per tile that a single thread block can see whole: group(g) along
 * the output's rows, block(b), channel or token (one scale per output row). One block per scale tile: it reads
 * the tile once for the amax, then again (from L1/L2) to encode, so amax and codes need no second kernel.
 * Bit-exact with {@code Quantizer.quantize(output, outputRows, outputCols, granularity, Axis.COLS, format,
 * scaleType)}. Tensor granularity needs a global amax first: see {@link QuantizeTensorwise}.
 *
 * <p>Buffers: {@code x} (input), {@code codes} (fp8 [outputRows, outputCols]), {@code scales} (f32, the
 * {@link ScaleGrid} of the output, row-major).
 */
public record QuantizeTiled(QuantizeOperand operand, Granularity granularity, ScaleType scaleType) implements KernelSpec {

    private static final int MAX_THREADS = 256;

    public QuantizeTiled {
        Objects.requireNonNull(operand, "operand");
        Objects.requireNonNull(granularity, "granularity");
        Objects.requireNonNull(scaleType, "scaleType");
        if (granularity instanceof Granularity.Tensor) {
            throw new IllegalArgumentException("tensor-wise scaling needs the amax of the whole tensor first: "
                    + "use AmaxReduce then QuantizeTensorwise, or QuantizeDelayed");
        }
    }

    /** The scale tiles over the output matrix. */
    public ScaleGrid grid() {
        return ScaleGrid.of(granularity, Axis.COLS, operand.outputRows(), operand.outputCols());
    }

    @Override
    public String kernelName() {
        String g = switch (granularity) {
            case Granularity.Group gr -> "group" + gr.size();
            case Granularity.Block b -> "block" + b.size();
            case Granularity.Channel c -> "channel";
            case Granularity.Token t -> "token";
            case Granularity.Tensor t -> throw new IllegalStateException("refused by the constructor");
        };
        return "quantize_" + g + "_" + operand.nameSuffix() + "_" + scaleType.lowerName();
    }

    @Override
    public CudaKernel emit() {
        ScaleGrid grid = grid();
        int tileRows = Math.min(grid.tileRows(), grid.rows());
        int tileCols = Math.min(grid.tileCols(), grid.cols());
        long tileElements = (long) tileRows * tileCols;
        int threads = (int) Math.min(MAX_THREADS, Math.ceilDiv(tileElements, 32) * 32);
        List<KernelParam> params = List.of(
                KernelParam.in("x", operand.input()),
                KernelParam.out("codes", operand.codeType()),
                KernelParam.out("scales", DType.F32));
        // A transposed block tile is read down its columns (neighbouring threads read neighbouring input columns,
        // coalesced) into shared memory and written along its rows (neighbouring threads write neighbouring
        // codes): written straight from the column walk, each warp's byte stores hit 32 rows, and the weights'
        // transposed quantization ran at ~170 GB/s. Other tiles are one output row, walked along it.
        boolean staged = operand.transpose() && tileRows > 1;
        String walk = operand.transpose()
                ? "const int r = r0 + t % TILE_ROWS, c = c0 + t / TILE_ROWS;"
                : "const int r = r0 + t / TILE_COLS, c = c0 + t % TILE_COLS;";
        String head = operand.deviceDefinitions() + ScaleFormulas.scaleFor(scaleType) + """

                constexpr int TILE_ROWS = %d, TILE_COLS = %d, SCALE_COLS = %d, THREADS = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    const int tile = blockIdx.x;
                    const int r0 = (tile / SCALE_COLS) * TILE_ROWS, c0 = (tile %% SCALE_COLS) * TILE_COLS;
                    unsigned amax_bits = 0;
                """.formatted(tileRows, tileCols, grid.scaleCols(), threads, kernelName(), CudaKernel.signature(params));
        String passes = staged ? """
                    extern __shared__ float tile_values[];  // [TILE_COLS][TILE_ROWS + 1]: padded, so both walks are conflict-free
                    for (int t = threadIdx.x; t < TILE_ROWS * TILE_COLS; t += THREADS) {
                        const int r = r0 + t %% TILE_ROWS, c = c0 + t / TILE_ROWS;
                        // A partial tail tile covers only the elements inside the matrix (Granularity's tail rule).
                        float v = 0.0f;
                        if (r < OUT_ROWS && c < OUT_COLS) {
                            v = load_input(x, r, c);
                            amax_bits = max(amax_bits, abs_bits(v));
                        }
                        tile_values[(c - c0) * (TILE_ROWS + 1) + (r - r0)] = v;
                    }
                    amax_bits = block_max_bits(amax_bits);  // also orders the tile's writes before the reads below
                    const float s = scale_for(amax_bits), inv_s = 1.0f / s;
                    if (threadIdx.x == 0) scales[tile] = s;
                    for (int t = threadIdx.x; t < TILE_ROWS * TILE_COLS; t += THREADS) {
                        const int r = r0 + t / TILE_COLS, c = c0 + t %% TILE_COLS;
                        if (r < OUT_ROWS && c < OUT_COLS) {
                            const float v = tile_values[(c - c0) * (TILE_ROWS + 1) + (r - r0)];
                            codes[r * OUT_COLS + c] = encode(%1$s);
                        }
                    }
                }
                """.formatted(ScaleFormulas.quotient(scaleType)) : """
                    for (int t = threadIdx.x; t < TILE_ROWS * TILE_COLS; t += THREADS) {
                        %1$s
                        // A partial tail tile covers only the elements inside the matrix (Granularity's tail rule).
                        if (r < OUT_ROWS && c < OUT_COLS) amax_bits = max(amax_bits, abs_bits(load_input(x, r, c)));
                    }
                    amax_bits = block_max_bits(amax_bits);
                    const float s = scale_for(amax_bits), inv_s = 1.0f / s;
                    if (threadIdx.x == 0) scales[tile] = s;
                    for (int t = threadIdx.x; t < TILE_ROWS * TILE_COLS; t += THREADS) {
                        %1$s
                        if (r < OUT_ROWS && c < OUT_COLS) {
                            const float v = load_input(x, r, c);
                            codes[r * OUT_COLS + c] = encode(%2$s);
                        }
                    }
                }
                """.formatted(walk, ScaleFormulas.quotient(scaleType));
        String body = head + passes;
        int sharedBytes = staged ? tileCols * (tileRows + 1) * Float.BYTES : 0;
        String description = "Quantize " + granularity.describe() + ", " + scaleType.lowerName()
                + " scales, amax just in time.\n" + operand.description()
                + "\nscales f32[" + grid.scaleRows() + ", " + grid.scaleCols() + "]: one per "
                + tileRows + "x" + tileCols + " output tile (a partial tail tile scales its own elements)"
                + "\nOne block per scale tile" + (staged ? ", transposed through shared memory" : "")
                + "; oracle Quantizer.quantize(output, Axis.COLS).";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(grid.scaleCount(), threads, sharedBytes), params);
    }
}
