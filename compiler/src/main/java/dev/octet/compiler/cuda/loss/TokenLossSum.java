package dev.octet.compiler.cuda.loss;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * {@code loss[0] += Σ losses[t]}: the step's mean loss from the weighted per-token losses of
 * {@link CrossEntropyFused}, accumulated over micro-batches. One block; each thread sums a fixed strided
 * share in index order and the shares are combined by a fixed tree, so the sum is the same bits every run.
 *
 * <p>Buffers: {@code losses} (f32[tokens]), {@code loss} (f32[1], zeroed by the host at the start of a step).
 */
public record TokenLossSum(int tokens) implements KernelSpec {

    private static final int THREADS = 1024;

    public TokenLossSum {
        if (tokens <= 0) {
            throw new IllegalArgumentException("a loss sum over no tokens: " + tokens);
        }
    }

    @Override
    public String kernelName() {
        return "token_loss_sum_" + tokens;
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = List.of(KernelParam.in("losses", DType.F32), KernelParam.inOut("loss", DType.F32));
        String body = """
                constexpr int T = %d, THREADS = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    __shared__ float warp_sums[THREADS / 32];
                    float s = 0.0f;
                    for (int t = threadIdx.x; t < T; t += THREADS) s += losses[t];
                    s = warp_sum(s);
                    if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = s;
                    __syncthreads();
                    if (threadIdx.x < 32) {
                        s = warp_sum(warp_sums[threadIdx.x]);
                        if (threadIdx.x == 0) loss[0] += s;
                    }
                }
                """.formatted(tokens, THREADS, kernelName(), CudaKernel.signature(params));
        String description = "loss[0] += sum of losses f32[" + tokens + "], in a fixed order (deterministic).";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(1, THREADS, 0), params);
    }
}
