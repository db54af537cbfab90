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
 * Quantization into 1×g groups along the rows, not transposed (the fprop and dgrad operands X and dY): one warp
 * per group, {@value #WARPS} groups per block. Each lane loads its ceil(g/32) elements once into registers (the
 * warp reads contiguous bytes), the warp takes the amax, and each lane encodes what it holds, so the input is
 * read once; {@link QuantizeTiled} gives each group a whole block and reads it twice. Same arithmetic as
 * QuantizeTiled, so bit-exact with {@code Quantizer.quantize(x, Axis.COLS)}, the tail rule included.
 *
 * <p>Buffers: {@code x} (input [rows, cols]), {@code codes} (fp8 [rows, cols]), {@code scales} (f32 [rows,
 * ceil(cols / g)]).
 */
public record QuantizeRowGroups(QuantizeOperand operand, int groupSize, ScaleType scaleType) implements KernelSpec {
    static final int WARPS = 8;
    /** Largest group a warp holds in registers (32 elements per lane). */
    public static final int MAX_GROUP = 1024;

    public QuantizeRowGroups {
        Objects.requireNonNull(operand, "operand");
        Objects.requireNonNull(scaleType, "scaleType");
        if (operand.transpose()) {
            throw new IllegalArgumentException("QuantizeRowGroups does not transpose; use QuantizeTransposedGroups for "
                    + operand.description());
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
        return "quantize_group" + groupSize + "_" + operand.nameSuffix() + "_" + scaleType.lowerName() + "_warp";
    }

    @Override
    public CudaKernel emit() {
        ScaleGrid grid = grid();
        List<KernelParam> params = List.of(
                KernelParam.in("x", operand.input()),
                KernelParam.out("codes", operand.codeType()),
                KernelParam.out("scales", DType.F32));
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
}
