package dev.octet.compiler.cuda.optim;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.MultiTensorKernel;
import dev.octet.compiler.ir.DType;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/**
 * First level of the global gradient norm: block b writes the sum of squares of its grid-stride share of one
 * FP32 gradient buffer (read four elements at a time) into {@code partials[b]}, for b in [0, {@link #partialCount()}). The runtime passes
 * {@code partials} already offset to this buffer's slot range (see {@link GradNormPlan}), so buffers of equal
 * size share one kernel. Squares are summed in double, in a fixed order per thread and a fixed tree per block:
 * the same bits every run. {@link GradSquareSums} does the same for several buffers in one launch.
 *
 * <p>Buffers: {@code grad} (f32[elements]), {@code partials} (f32[partialCount]).
 */
public record GradSquareSum(int elements) implements MultiTensorKernel {

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
    public Object batchKey() {
        return "grad_square_sum";
    }

    @Override
    public Set<String> memberParams() {
        return Set.of("grad", "partials");
    }

    @Override
    public OptionalLong writtenElements(String param) {
        return param.equals("partials") ? OptionalLong.of(partialCount()) : OptionalLong.empty();
    }

    @Override
    public KernelSpec batch(List<? extends MultiTensorKernel> members) {
        return new GradSquareSums(members.stream().map(k -> ((GradSquareSum) k).elements()).toList());
    }

    /**
     * What a single launch and a batched one share: {@code square_sum(grad, n, blocks, block, partial)}, block
     * {@code block} of {@code blocks} over one buffer of {@code n} elements writing its sum to {@code *partial}.
     */
    static String deviceFunctions() {
        return """
                constexpr int THREADS = %d;

                __device__ __forceinline__ void square_sum(const float* __restrict__ grad, int n, int blocks, int block,
                                                           float* __restrict__ partial) {
                    __shared__ double warp_sums[THREADS / 32];
                    const int quads = n / 4;
                    double s = 0.0;
                    // Four elements a load (16 bytes), two loads in flight; the last n %% 4 elements in block 0.
                    #pragma unroll 2
                    for (int q = block * THREADS + threadIdx.x; q < quads; q += blocks * THREADS) {
                        const float4 t = reinterpret_cast<const float4*>(grad)[q];
                        s += (double) t.x * t.x;
                        s += (double) t.y * t.y;
                        s += (double) t.z * t.z;
                        s += (double) t.w * t.w;
                    }
                    if (block == 0 && 4 * quads + (int) threadIdx.x < n) {
                        const double g = grad[4 * quads + threadIdx.x];
                        s += g * g;
                    }
                    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
                    if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = s;
                    __syncthreads();
                    if (threadIdx.x == 0) {
                        double total = 0.0;
                        for (int w = 0; w < THREADS / 32; w++) total += warp_sums[w];
                        *partial = (float) total;
                    }
                }
                """.formatted(THREADS);
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = List.of(KernelParam.in("grad", DType.F32), KernelParam.out("partials", DType.F32));
        String body = deviceFunctions() + """

                constexpr int N = %d, BLOCKS = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    square_sum(grad, N, BLOCKS, blockIdx.x, partials + blockIdx.x);
                }
                """.formatted(elements, partialCount(), kernelName(), CudaKernel.signature(params));
        String description = "Gradient norm, first level: partials[b] = sum of grad^2 over block b's share.\n"
                + "grad f32[" + elements + "], partials f32[" + partialCount() + "] (this buffer's slot range).";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(partialCount(), THREADS, 0), params);
    }
}
