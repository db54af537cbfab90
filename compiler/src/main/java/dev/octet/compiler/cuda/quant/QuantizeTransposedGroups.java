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
 * Fused cast+transpose into 1×g groups (the wgrad operands Xᵀ and dYᵀ, grouped along the tokens): one block
 * stages a tile of g input rows × {@value #TILE_COLS} input columns in shared memory, read row by row so that
 * each warp reads contiguous bytes, then each warp finishes whole output rows from it: the amax of the group
 * down one input column, its scale, and the g codes, written contiguously. {@link QuantizeTiled} reads the same
 * column straight from memory, one 2-byte element per 32-byte sector. Same arithmetic as QuantizeTiled, so
 * bit-exact with {@code Quantizer.quantize(transposed input, Axis.COLS)} (the tail rule included: a partial last
 * group scales its own elements).
 *
 * <p>Buffers: {@code x} (input [rows, cols]), {@code codes} (fp8 [cols, rows]), {@code scales} (f32 [cols,
 * ceil(rows / g)]).
 */
public record QuantizeTransposedGroups(QuantizeOperand operand, int groupSize, ScaleType scaleType) implements KernelSpec {
    static final int TILE_COLS = 64;
    private static final int THREADS = 256;
    private static final int WARPS = THREADS / 32;
    /** Largest group whose staged tile fits the 48 KiB of static shared memory. */
    public static final int MAX_GROUP = 48 * 1024 / (4 * (TILE_COLS + 1));

    public QuantizeTransposedGroups {
        Objects.requireNonNull(operand, "operand");
        Objects.requireNonNull(scaleType, "scaleType");
        if (!operand.transpose()) {
            throw new IllegalArgumentException("QuantizeTransposedGroups transposes; use QuantizeTiled for " + operand.description());
        }
        if (groupSize < 1 || groupSize > MAX_GROUP) {
            throw new IllegalArgumentException("group size must be in [1, " + MAX_GROUP + "], got " + groupSize);
        }
    }

    /** The scale tiles over the output matrix. */
    public ScaleGrid grid() {
        return ScaleGrid.of(new Granularity.Group(groupSize), Axis.COLS, operand.outputRows(), operand.outputCols());
    }

    @Override
    public String kernelName() {
        return "quantize_group" + groupSize + "_" + operand.nameSuffix() + "_" + scaleType.lowerName() + "_tiled";
    }

    @Override
    public CudaKernel emit() {
        ScaleGrid grid = grid();
        List<KernelParam> params = List.of(
                KernelParam.in("x", operand.input()),
                KernelParam.out("codes", operand.codeType()),
                KernelParam.out("scales", DType.F32));
        String load = operand.input() == DType.BF16 ? "bf16_to_f32(x[t * IN_COLS + c])" : "x[t * IN_COLS + c]";
        String body = operand.deviceDefinitions() + ScaleFormulas.scaleFor(scaleType) + """

                constexpr int GROUP = %d, TILE_COLS = %d, THREADS = %d, WARPS = %d, SCALE_COLS = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    // +1 float of padding per row: a warp reading one column touches 32 different banks.
                    __shared__ float tile[GROUP][TILE_COLS + 1];
                    const int c0 = blockIdx.x * TILE_COLS, t0 = blockIdx.y * GROUP;
                    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
                    for (int r = warp; r < GROUP; r += WARPS) {
                        const int t = t0 + r;
                        for (int j = lane; j < TILE_COLS; j += 32) {
                            const int c = c0 + j;
                            tile[r][j] = (t < IN_ROWS && c < IN_COLS) ? %s : 0.0f;
                        }
                    }
                    __syncthreads();
                    // Output row c (input column c): its group t0 .. t0 + GROUP - 1, finished by one warp.
                    for (int j = warp; j < TILE_COLS && c0 + j < IN_COLS; j += WARPS) {
                        const int c = c0 + j;
                        unsigned amax_bits = 0;
                        for (int r = lane; r < GROUP && t0 + r < IN_ROWS; r += 32) amax_bits = max(amax_bits, abs_bits(tile[r][j]));
                        amax_bits = warp_max_bits(amax_bits);
                        const float s = scale_for(amax_bits), inv_s = 1.0f / s;
                        if (lane == 0) scales[c * SCALE_COLS + blockIdx.y] = s;
                        for (int r = lane; r < GROUP && t0 + r < IN_ROWS; r += 32) {
                            const float v = tile[r][j];
                            codes[c * OUT_COLS + t0 + r] = encode(%s);
                        }
                    }
                }
                """.formatted(groupSize, TILE_COLS, THREADS, WARPS, grid.scaleCols(), kernelName(),
                CudaKernel.signature(params), load, ScaleFormulas.quotient(scaleType));
        String description = "Quantize+transpose into group(" + groupSize + ") along the output rows, "
                + scaleType.lowerName() + " scales, amax just in time, staged in shared memory.\n" + operand.description()
                + "\nscales f32[" + grid.scaleRows() + ", " + grid.scaleCols() + "]; one block per " + groupSize + " input rows x "
                + TILE_COLS + " input columns; oracle Quantizer.quantize(output, Axis.COLS).";
        LaunchGeometry launch = new LaunchGeometry(Math.ceilDiv(operand.cols(), TILE_COLS), grid.scaleCols(), 1,
                THREADS, 1, 1, 0);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params);
    }
}
