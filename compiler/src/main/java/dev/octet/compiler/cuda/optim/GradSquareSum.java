package dev.octet.compiler.cuda.optim;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * First level of the global gradient norm: block b writes the sum of squares of its grid-stride share of one
 * FP32 gradient buffer (read four elements at a time) into {@code partials[b]}, for b in [0, {@link #partialCount()}). The runtime passes
 * {@code partials} already offset to this buffer's slot range (see {@link GradNormPlan}), so buffers of equal
 * size share one kernel. Squares are summed in double, in a fixed order per thread and a fixed tree per block:
 * the same bits every run.
 *
 * <p>Buffers: {@code grad} (f32[elements]), {@code partials} (f32[partialCount]).
 */
public record GradSquareSum(int elements) implements KernelSpec {

    static final int THREADS = 256;
    private static final int MAX_BLOCKS = 512;
    private static final int ELEMENTS_PER_THREAD = 8;

    public GradSquareSum {
        if (elements <= 0) {
            throw new IllegalArgumentException("a gradient buffer of " + elements + " elements");
        }
    }

    public int partialCount() {
        return (int) Math.min(MAX_BLOCKS, Math.ceilDiv((long) elements, (long) THREADS * ELEMENTS_PER_THREAD));
    }

    @Override
    public String kernelName() {
        return "grad_square_sum_" + elements;
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = List.of(KernelParam.in("grad", DType.F32), KernelParam.out("partials", DType.F32));
        String body = """
                constexpr int N = %d, BLOCKS = %d, THREADS = %d, QUADS = N / 4;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    __shared__ double warp_sums[THREADS / 32];
                    double s = 0.0;
                    // Four elements a load (16 bytes), two loads in flight; the last N %% 4 elements in block 0.
                    #pragma unroll 2
                    for (int q = blockIdx.x * THREADS + threadIdx.x; q < QUADS; q += BLOCKS * THREADS) {
                        const float4 t = reinterpret_cast<const float4*>(grad)[q];
                        s += (double) t.x * t.x;
                        s += (double) t.y * t.y;
                        s += (double) t.z * t.z;
                        s += (double) t.w * t.w;
                    }
                    if (blockIdx.x == 0 && 4 * QUADS + (int) threadIdx.x < N) {
                        const double g = grad[4 * QUADS + threadIdx.x];
                        s += g * g;
                    }
                    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
                    if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = s;
                    __syncthreads();
                    if (threadIdx.x == 0) {
                        double total = 0.0;
                        for (int w = 0; w < THREADS / 32; w++) total += warp_sums[w];
                        partials[blockIdx.x] = (float) total;
                    }
                }
                """.formatted(elements, partialCount(), THREADS, kernelName(), CudaKernel.signature(params));
        String description = "Gradient norm, first level: partials[b] = sum of grad^2 over block b's share.\n"
                + "grad f32[" + elements + "], partials f32[" + partialCount() + "] (this buffer's slot range).";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(partialCount(), THREADS, 0), params);
    }
}
