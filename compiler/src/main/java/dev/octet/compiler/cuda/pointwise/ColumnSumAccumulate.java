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
 * {@code sums[c] += Σ_r input[r, c]} over {@code input [rows, cols]} (BF16 or F32), summed in FP32 in a fixed
 * order, so the result is deterministic: a block owns a strip of 32·VEC columns, its 32 row lanes each sum
 * every 32nd row in order, and one lane adds the 32 partial sums in lane order. No atomics.
 * Buffers: {@code sums} f32[cols] (read and written), {@code input}.
 *
 * <p>Uses: the bias gradient ({@code dy [tokens, n]} BF16 → {@code db [n]}), and the second stage of the
 * norm parameter gradients (per-block partial sums F32 → the parameter's gradient).
 */
public record ColumnSumAccumulate(DType input, int rows, int cols, int pitch) implements KernelSpec {
    static final int ROW_LANES = 32;

    /** Over an input whose rows lie back to back. */
    public ColumnSumAccumulate(DType input, int rows, int cols) {
        this(input, rows, cols, cols);
    }

    public ColumnSumAccumulate {
        if (input != DType.BF16 && input != DType.F32) {
            throw new IllegalArgumentException("column sums read bf16 or f32, not " + input.irName());
        }
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("column sums: shape must be positive: " + rows + "x" + cols);
        }
        if (pitch < cols) {
            throw new IllegalArgumentException("column sums over rows of " + cols + " elements " + pitch + " apart");
        }
    }

    /** The bias gradient {@code db[n] += Σ_t dy[t, n]} of a linear layer. */
    public static ColumnSumAccumulate biasGradient(int tokens, int outFeatures) {
        return new ColumnSumAccumulate(DType.BF16, tokens, outFeatures);
    }

    @Override
    public String kernelName() {
        return "column_sum_accumulate_" + input.irName() + "_" + rows + "x" + cols + (pitch != cols ? "_p" + pitch : "");
    }

    /** 128 bytes per warp and row: wide enough to coalesce, narrow enough to give many blocks. */
    private VectorAccess vectors() {
        return vectors(input, cols, pitch);
    }

    static VectorAccess vectors(DType input, int cols, int pitch) {
        return new VectorAccess(input == DType.BF16 && cols % 2 == 0 && pitch % 2 == 0 ? 2 : 1);
    }

    @Override
    public CudaKernel emit() {
        String body = stripSumsSource(vectors(), input, rows, cols, pitch, rows, kernelName(), CudaKernel.signature(params()), """
                    float total[VEC];
                    load_f32_vec(sums + c, total);
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) total[k] += strip[k];
                    store_f32_vec(sums + c, total);
                """);
        String header = "Column sums accumulated: sums[c] += sum over r of input[r, c], input " + input.irName() + " ["
                + rows + ", " + cols + "]" + (pitch != cols ? " (rows " + pitch + " apart)" : "") + "; deterministic order.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(header, body), geometry(vectors(), cols, 1), params());
    }

    /**
     * The body both stages share: block (x, y) sums rows [y·ROWS_PER_BLOCK, ...) of its strip of 32·VEC columns
     * into {@code float strip[VEC]} (its 32 row lanes each every 32nd row in order, then the lanes in order), and
     * lane row 0 runs {@code finish} with it for column {@code c}.
     */
    static String stripSumsSource(VectorAccess v, DType input, int rows, int cols, int pitch, int rowsPerBlock,
                                  String name, String signature, String finish) {
        String load = input == DType.BF16 ? "load_bf16_vec" : "load_f32_vec";
        return v.source() + """

                #define ROWS %d
                #define COLS %d
                #define PITCH %d
                #define ROWS_PER_BLOCK %d
                #define ROW_LANES %d

                extern "C" __global__ void __launch_bounds__(32 * ROW_LANES) %s%s {
                    __shared__ float partial[ROW_LANES][32 * VEC];
                    const int c = blockIdx.x * 32 * VEC + threadIdx.x * VEC;
                    const int first = blockIdx.y * ROWS_PER_BLOCK;
                    const int end = min(ROWS, first + ROWS_PER_BLOCK);
                    float acc[VEC];
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) acc[k] = 0.0f;
                    if (c < COLS) {
                        #pragma unroll 4
                        for (int r = first + threadIdx.y; r < end; r += ROW_LANES) {
                            float x[VEC];
                            %s(input + (size_t) r * PITCH + c, x);
                            #pragma unroll
                            for (int k = 0; k < VEC; k++) acc[k] += x[k];
                        }
                    }
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) partial[threadIdx.y][threadIdx.x * VEC + k] = acc[k];
                    __syncthreads();
                    if (threadIdx.y != 0 || c >= COLS) return;
                    float strip[VEC];
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) strip[k] = partial[0][threadIdx.x * VEC + k];
                    for (int y = 1; y < ROW_LANES; y++) {
                        #pragma unroll
                        for (int k = 0; k < VEC; k++) strip[k] += partial[y][threadIdx.x * VEC + k];
                    }
                %s}
                """.formatted(rows, cols, pitch, rowsPerBlock, ROW_LANES, name, signature, load, finish);
    }

    /** One block per strip of 32·VEC columns and row range. */
    static LaunchGeometry geometry(VectorAccess v, int cols, int rowBlocks) {
        return new LaunchGeometry(Math.ceilDiv(cols, 32 * v.width()), rowBlocks, 1, 32, ROW_LANES, 1, 0);
    }

    private List<KernelParam> params() {
        return List.of(KernelParam.inOut("sums", DType.F32), KernelParam.in("input", input));
    }
}
