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

    /** The same sums over an input whose rows lie {@code rowPitch} elements apart (the LM head's padded logits). */
    public ColumnSumAccumulate withPitch(int rowPitch) {
        return new ColumnSumAccumulate(input, rows, cols, rowPitch);
    }

    @Override
    public String kernelName() {
        return "column_sum_accumulate_" + input.irName() + "_" + rows + "x" + cols + (pitch != cols ? "_p" + pitch : "");
    }

    /** 128 bytes per warp and row: wide enough to coalesce, narrow enough to give many blocks. */
    private VectorAccess vectors() {
        return new VectorAccess(input == DType.BF16 && cols % 2 == 0 && pitch % 2 == 0 ? 2 : 1);
    }

    @Override
    public CudaKernel emit() {
        VectorAccess v = vectors();
        String load = input == DType.BF16 ? "load_bf16_vec" : "load_f32_vec";
        String body = v.source() + """

                #define ROWS %d
                #define COLS %d
                #define PITCH %d
                #define ROW_LANES %d

                extern "C" __global__ void __launch_bounds__(32 * ROW_LANES) %s%s {
                    __shared__ float partial[ROW_LANES][32 * VEC];
                    const int c = blockIdx.x * 32 * VEC + threadIdx.x * VEC;
                    float acc[VEC];
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) acc[k] = 0.0f;
                    if (c < COLS) {
                        #pragma unroll 4
                        for (int r = threadIdx.y; r < ROWS; r += ROW_LANES) {
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
                    float total[VEC];
                    load_f32_vec(sums + c, total);
                    float strip[VEC];
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) strip[k] = partial[0][threadIdx.x * VEC + k];
                    for (int y = 1; y < ROW_LANES; y++) {
                        #pragma unroll
                        for (int k = 0; k < VEC; k++) strip[k] += partial[y][threadIdx.x * VEC + k];
                    }
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) total[k] += strip[k];
                    store_f32_vec(sums + c, total);
                }
                """.formatted(rows, cols, pitch, ROW_LANES, kernelName(),
                CudaKernel.signature(params()), load);
        int blocks = Math.ceilDiv(cols, 32 * v.width());
        String header = "Column sums accumulated: sums[c] += sum over r of input[r, c], input " + input.irName() + " ["
                + rows + ", " + cols + "]" + (pitch != cols ? " (rows " + pitch + " apart)" : "") + "; deterministic order.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(header, body),
                new LaunchGeometry(blocks, 1, 1, 32, ROW_LANES, 1, 0), params());
    }

    private List<KernelParam> params() {
        return List.of(KernelParam.inOut("sums", DType.F32), KernelParam.in("input", input));
    }
}
