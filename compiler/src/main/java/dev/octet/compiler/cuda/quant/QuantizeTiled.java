package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.ScaleIndex;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleGrid;
import dev.octet.numerics.ScaleType;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Just-in-time quantization with one scale per tile that a single thread block can see whole: group(g) along
 * the output's rows, block(b), channel or token (one scale per output row). One block per scale tile: it reads
 * the tile once for the amax, then again (from L1/L2) to encode, so amax and codes need no second kernel. A
 * block of 64 or 128 whose rows fit a {@link StagedTile} (the weights' blocks, either layout) is staged there
 * instead: read once with 16-byte loads, written 8 to 16 codes a store; walked from memory, a transposed
 * block's byte stores land in 32 rows per warp (~170 GB/s for the weights' dgrad layout).
 * Bit-exact with {@code Quantizer.quantize(output, outputRows, outputCols, granularity, Axis.COLS, format,
 * scaleType)}. Tensor granularity needs a global amax first: see {@link QuantizeTensorwise}. So does a scale per
 * output row of a transposed output, where a tile here would be one whole input column: see {@link QuantizeColumns}.
 *
 * A staged block may read a weight's FP32 master instead of its BF16 working copy ({@link QuantizedSource#MASTER}),
 * rounding each element to BF16 as it stages it: the same codes, and the working copy need not exist.
 *
 * <p>Buffers: {@code x} (input; {@code master} f32 of the same shape with {@code MASTER}), {@code codes} (fp8
 * [outputRows, outputCols]), {@code scales} (f32, the {@link ScaleGrid} of the output, {@link QuantizeOperand#scaleGrid}).
 */
public record QuantizeTiled(QuantizeOperand operand, Granularity granularity, ScaleType scaleType, QuantizedSource source)
        implements KernelSpec {

    private static final int MAX_THREADS = 256;

    public QuantizeTiled {
        Objects.requireNonNull(operand, "operand");
        Objects.requireNonNull(granularity, "granularity");
        Objects.requireNonNull(scaleType, "scaleType");
        Objects.requireNonNull(source, "source");
        if (granularity instanceof Granularity.Tensor) {
            throw new IllegalArgumentException("tensor-wise scaling needs the amax of the whole tensor first: "
                    + "use AmaxReduce then QuantizeTensorwise, or QuantizeDelayed");
        }
        if (source != QuantizedSource.STORED && (source != QuantizedSource.MASTER || operand.input() != DType.BF16
                || !readsMaster(granularity))) {
            throw new IllegalArgumentException("a tile quantization reads its input, or a master rounded to BF16 in "
                    + "staged 64 or 128 blocks; not " + source.lowerName() + " for " + granularity.describe()
                    + " of " + operand.input().irName());
        }
    }

    public QuantizeTiled(QuantizeOperand operand, Granularity granularity, ScaleType scaleType) {
        this(operand, granularity, scaleType, QuantizedSource.STORED);
    }

    /** Whether a BF16 working copy quantized in {@code granularity} can be read from its FP32 master instead. */
    public static boolean readsMaster(Granularity granularity) {
        return granularity instanceof Granularity.Block b && StagedTile.holdsBlock(DType.BF16, b.size());
    }

    /** The scale tiles over the output matrix. */
    public ScaleGrid grid() {
        return operand.scaleGrid(granularity);
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
        return "quantize_" + g + "_" + operand.nameSuffix() + "_" + scaleType.lowerName()
                + (source == QuantizedSource.STORED ? "" : "_of_" + source.lowerName());
    }

    @Override
    public CudaKernel emit() {
        if (granularity instanceof Granularity.Block b && StagedTile.holdsBlock(operand.input(), b.size())) {
            return staged(b.size());
        }
        ScaleGrid grid = grid();
        int tileRows = Math.min(grid.tileRows(), grid.rows());
        int tileCols = Math.min(grid.tileCols(), grid.cols());
        long tileElements = (long) tileRows * tileCols;
        int threads = (int) Math.min(MAX_THREADS, Math.ceilDiv(tileElements, 32) * 32);
        List<KernelParam> params = params();
        // A transposed tile is walked down its columns, so neighbouring threads read neighbouring input
        // columns (coalesced); a plain one along its rows, where reads and writes are both contiguous.
        String walk = operand.transpose()
                ? "const int r = r0 + t % TILE_ROWS, c = c0 + t / TILE_ROWS;"
                : "const int r = r0 + t / TILE_COLS, c = c0 + t % TILE_COLS;";
        String body = operand.deviceDefinitions() + ScaleFormulas.scaleFor(scaleType) + """

                constexpr int TILE_ROWS = %d, TILE_COLS = %d, SCALE_COLS = %d, THREADS = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    const int tile = blockIdx.x;
                    const int r0 = (tile / SCALE_COLS) * TILE_ROWS, c0 = (tile %% SCALE_COLS) * TILE_COLS;
                    unsigned amax_bits = 0;
                    for (int t = threadIdx.x; t < TILE_ROWS * TILE_COLS; t += THREADS) {
                        %s
                        // A partial tail tile covers only the elements inside the matrix (Granularity's tail rule).
                        if (r < OUT_ROWS && c < OUT_COLS) amax_bits = max(amax_bits, abs_bits(load_input(x, r, c)));
                    }
                    amax_bits = block_max_bits(amax_bits);
                    const float s = scale_for(amax_bits), inv_s = 1.0f / s;
                    if (threadIdx.x == 0) scales[%s] = s;
                    for (int t = threadIdx.x; t < TILE_ROWS * TILE_COLS; t += THREADS) {
                        %s
                        if (r < OUT_ROWS && c < OUT_COLS) {
                            const float v = load_input(x, r, c);
                            codes[r * OUT_COLS + c] = encode(%s);
                        }
                    }
                }
                """.formatted(tileRows, tileCols, grid.scaleCols(), threads, kernelName(),
                CudaKernel.signature(params), walk, ScaleIndex.ofTile(grid, "tile / SCALE_COLS", "tile % SCALE_COLS"), walk,
                ScaleFormulas.quotient(scaleType));
        String description = "Quantize " + granularity.describe() + ", " + scaleType.lowerName()
                + " scales, amax just in time.\n" + operand.description()
                + "\nscales f32[" + grid.storedShape()[0] + ", " + grid.storedShape()[1] + "]" + (grid.columnMajor() ? " (column-major)" : "")
                + ": one per "
                + tileRows + "x" + tileCols + " output tile (a partial tail tile scales its own elements)"
                + "\nOne block per scale tile; oracle Quantizer.quantize(output, Axis.COLS).";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(grid.scaleCount(), threads, 0), params);
    }

    private CudaKernel staged(int block) {
        String description = "Quantize " + granularity.describe() + ", " + scaleType.lowerName()
                + " scales, amax just in time, each block staged in shared memory.\n" + operand.description()
                + "\nscales f32[" + grid().scaleRows() + ", " + grid().scaleCols() + "] (a partial tail block scales its"
                + " own elements); oracle Quantizer.quantize(output, Axis.COLS);"
                + (source == QuantizedSource.MASTER ? "\nThe input is read from the FP32 master, rounded to BF16 as staged." : "");
        return StagedTile.emit(kernelName(), description, operand, block, scaleType, Optional.empty(),
                StagedTile.Scope.WHOLE_TILE, grid(), source, false, false, params());
    }

    private List<KernelParam> params() {
        List<KernelParam> params = new ArrayList<>(TileInput.params(source, operand.input()));
        params.add(KernelParam.out("codes", operand.codeType()));
        params.add(KernelParam.out("scales", DType.F32));
        return params;
    }
}
