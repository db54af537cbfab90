package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.VectorAccess;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * The second half of a GEMM whose K is split ({@link Fp8WgmmaGemm} with {@code splits > 1}):
 * {@code c[i] += (partials[0][i] + partials[1][i] + …)} over the {@code m × n} FP32 results, the K ranges summed in
 * order in FP32 and then added to C, so the result is the same on every run and every GPU.
 *
 * <p>Buffers: {@code c} f32[m, n] (read and written), {@code partials} f32[splits, m, n].
 */
public record SplitKReduce(int m, int n, int splits) implements KernelSpec {
    private static final int THREADS = 256;

    public SplitKReduce {
        if (m < 1 || n < 1 || splits < 2) {
            throw new IllegalArgumentException("split-K reduction of " + m + "x" + n + " over " + splits + " K ranges");
        }
    }

    /** One line for kernel descriptions. */
    static String describe() {
        return "c[m,n] += (partials[0][m,n] + partials[1][m,n] + ...) in FP32, in order (SplitKReduce)";
    }

    /** What a GEMM kernel's description adds when it splits K {@code splits} ways: empty for 1. */
    static String describeSplit(int splits) {
        return splits == 1 ? "" : "\nK split " + splits + " ways: partials[s] = the sums over the s-th K range (f32 ["
                + splits + ", M, N]); then " + describe();
    }

    /**
     * The line a split GEMM's consumers run before the epilogue, given work unit {@code w} of a grid over UNITS
     * tiles: their K range's slice of the partials, under the name the epilogue writes ({@code c}).
     */
    static String partialsSlice(int splits) {
        return splits == 1 ? "" : "float* __restrict__ c = partials + (size_t) (w / UNITS) * M * N;  // this K range's slice";
    }

    @Override
    public String kernelName() {
        return "split_k_reduce_" + m + "x" + n + "_s" + splits;
    }

    @Override
    public CudaKernel emit() {
        long elements = (long) m * n;
        VectorAccess v = new VectorAccess(elements % 4 == 0 ? 4 : elements % 2 == 0 ? 2 : 1);  // 16 bytes at most
        List<KernelParam> params = List.of(KernelParam.inOut("c", DType.F32), KernelParam.in("partials", DType.F32));
        String body = v.source() + """

                constexpr long long ELEMENTS = %dLL;
                constexpr int SPLITS = %d;

                extern "C" __global__ void __launch_bounds__(%d) %s%s {
                    const long long i = ((long long) blockIdx.x * blockDim.x + threadIdx.x) * VEC;
                    if (i >= ELEMENTS) return;
                    float sum[VEC], part[VEC], out[VEC];
                    load_f32_vec(partials + i, sum);
                    #pragma unroll
                    for (int s = 1; s < SPLITS; ++s) {
                        load_f32_vec(partials + s * ELEMENTS + i, part);
                        #pragma unroll
                        for (int e = 0; e < VEC; ++e) sum[e] = __fadd_rn(sum[e], part[e]);
                    }
                    load_f32_vec(c + i, out);
                    #pragma unroll
                    for (int e = 0; e < VEC; ++e) out[e] = __fadd_rn(out[e], sum[e]);
                    store_f32_vec(c + i, out);
                }
                """.formatted(elements, splits, THREADS, kernelName(), CudaKernel.signature(params));
        String header = "Split-K reduction: " + describe() + ", c f32[" + m + ", " + n + "], partials f32[" + splits
                + ", " + m + ", " + n + "].";
        long threads = Math.ceilDiv(elements, v.width());
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(header, body),
                LaunchGeometry.linear(Math.toIntExact(Math.ceilDiv(threads, THREADS)), THREADS, 0), params);
    }
}
