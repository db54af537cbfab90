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
 * Just-in-time quantization into 1×g groups along the output's rows, with a template per layout that reads the
 * input once, where {@link QuantizeTiled} gives each group a block and reads it twice. Same arithmetic as
 * QuantizeTiled, so bit-exact with {@code Quantizer.quantize(output, Axis.COLS)}, the tail rule included (a
 * partial last group scales its own elements).
 * <ul>
 *   <li>Not transposed (the fprop and dgrad operands X and dY): one warp per group, {@value #WARPS} groups per
 *       block; each lane loads its ceil(g/32) elements into registers (the warp reads contiguous bytes), the
 *       warp takes the amax, and each lane encodes what it holds.</li>
 *   <li>Transposed (the wgrad operands Xᵀ and dYᵀ, grouped along the tokens): a block stages a tile of g input
 *       rows × {@value #TILE_COLS} input columns in shared memory, read row by row, then each warp finishes whole
 *       output rows from it: the amax down one input column, its scale, and the g codes, written contiguously.
 *       Reading the column straight from memory would use one 2-byte element of every 32-byte sector.</li>
 * </ul>
 *
 * <p>Buffers: {@code x} (input [rows, cols]), {@code codes} (fp8, the output matrix), {@code scales} (f32, the
 * {@link ScaleGrid} of the output, row-major).
 */
public record QuantizeGroups(QuantizeOperand operand, int groupSize, ScaleType scaleType) implements KernelSpec {
    static final int WARPS = 8;
    static final int TILE_COLS = 64;
    private static final int THREADS = WARPS * 32;

    public QuantizeGroups {
        Objects.requireNonNull(operand, "operand");
        Objects.requireNonNull(scaleType, "scaleType");
        if (groupSize < 1 || groupSize > maxGroup(operand.transpose())) {
            throw new IllegalArgumentException("group size must be in [1, " + maxGroup(operand.transpose()) + "] for "
                    + operand.description() + ", got " + groupSize);
        }
    }

    /**
     * The largest group each template serves: 32 elements per lane in registers, or a staged tile within the
     * 48 KiB of static shared memory.
     */
    public static int maxGroup(boolean transpose) {
        return transpose ? 48 * 1024 / (4 * (TILE_COLS + 1)) : 1024;
    }

    /** The scale tiles over the output matrix. */
    public ScaleGrid grid() {
        return ScaleGrid.of(new Granularity.Group(groupSize), Axis.COLS, operand.outputRows(), operand.outputCols());
    }

    @Override
    public String kernelName() {
        return "quantize_group" + groupSize + "_" + operand.nameSuffix() + "_" + scaleType.lowerName()
                + (operand.transpose() ? "_tiled" : "_warp");
    }

    @Override
    public CudaKernel emit() {
        return operand.transpose() ? stagedTranspose() : warpPerGroup();
    }

    private List<KernelParam> params() {
        return List.of(
                KernelParam.in("x", operand.input()),
                KernelParam.out("codes", operand.codeType()),
                KernelParam.out("scales", DType.F32));
    }

    private CudaKernel warpPerGroup() {
        ScaleGrid grid = grid();
        List<KernelParam> params = params();
        String body = operand.deviceDefinitions() + ScaleFormulas.scaleFor(scaleType) + """

                constexpr int GROUP = %d, PER_LANE = (GROUP + 31) / 32, WARPS = %d, SCALE_COLS = %d;
                constexpr int TILES = OUT_ROWS * SCALE_COLS;

                extern "C" __global__ void __launch_bounds__(WARPS * 32) %s%s {
                    const int lane = threadIdx.x & 31;
                    const int tile = blockIdx.x * WARPS + (threadIdx.x >> 5);
                    if (tile >= TILES) return;
                    const int r = tile / SCALE_COLS, c0 = (tile %% SCALE_COLS) * GROUP;
                    float vals[PER_LANE];
                    unsigned amax_bits = 0;
                    #pragma unroll
                    for (int i = 0; i < PER_LANE; i++) {
                        const int j = lane + 32 * i, c = c0 + j;
                        // A partial tail group covers only the elements inside the matrix (Granularity's tail rule).
                        const bool inside = j < GROUP && c < OUT_COLS;
                        vals[i] = inside ? load_input(x, r, c) : 0.0f;
                        if (inside) amax_bits = max(amax_bits, abs_bits(vals[i]));
                    }
                    amax_bits = warp_max_bits(amax_bits);
                    const float s = scale_for(amax_bits), inv_s = 1.0f / s;
                    if (lane == 0) scales[tile] = s;
                    #pragma unroll
                    for (int i = 0; i < PER_LANE; i++) {
                        const int j = lane + 32 * i, c = c0 + j;
                        if (j < GROUP && c < OUT_COLS) {
                            const float v = vals[i];
                            codes[r * OUT_COLS + c] = encode(%s);
                        }
                    }
                }
                """.formatted(groupSize, WARPS, grid.scaleCols(), kernelName(), CudaKernel.signature(params),
                ScaleFormulas.quotient(scaleType));
        String description = "Quantize group(" + groupSize + ") along the rows, " + scaleType.lowerName()
                + " scales, amax just in time, one warp per group holding it in registers.\n" + operand.description()
                + "\nscales f32[" + grid.scaleRows() + ", " + grid.scaleCols() + "]; oracle Quantizer.quantize(x, Axis.COLS).";
        LaunchGeometry launch = LaunchGeometry.linear(Math.ceilDiv(grid.scaleCount(), WARPS), WARPS * 32, 0);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params);
    }

    private CudaKernel stagedTranspose() {
        ScaleGrid grid = grid();
        List<KernelParam> params = params();
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
