package dev.octet.compiler.cuda.optim;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaLiteral;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * Second level of the global gradient norm: one block sums all {@code partialCount} partials in a fixed order
 * (in double), then {@code grad_norm[0] = sqrt(sum)} and {@code clip_factor[0] = GradientClipping.scale(maxNorm,
 * norm)}: {@code min(1, maxNorm / norm)}, and 1 when the norm is 0, inf or NaN (no eps), and {@code skip[0]}
 * = 1 for a non-finite norm or a non-finite {@code loss[0]} (the step's summed loss), else 0: the step skips its
 * update on the device, and the host reads loss and norm once, at the step's end.
 * {@code clip_factor} and {@code skip} may point at {@link AdamWScalarSlot#CLIP_FACTOR} and
 * {@link AdamWScalarSlot#SKIP} of the optimizer's scalar buffer, so AdamW reads them without a copy.
 *
 * <p>Buffers: {@code partials} (f32[partialCount]), {@code loss} (f32[1]), {@code grad_norm} (f32[1]),
 * {@code clip_factor} (f32[1]), {@code skip} (f32[1]).
 */
public record GradNormFinalize(int partialCount, double maxNorm) implements KernelSpec {

    private static final int THREADS = 256;

    public GradNormFinalize {
        if (partialCount <= 0) {
            throw new IllegalArgumentException("a gradient norm over no partials: " + partialCount);
        }
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("max gradient norm must be positive and finite, got " + maxNorm);
        }
    }

    @Override
    public String kernelName() {
        return "grad_norm_finalize_p" + partialCount;
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = List.of(
                KernelParam.in("partials", DType.F32),
                KernelParam.in("loss", DType.F32),
                KernelParam.out("grad_norm", DType.F32),
                KernelParam.out("clip_factor", DType.F32),
                KernelParam.out("skip", DType.F32));
        String body = """
                constexpr int PARTIALS = %d, THREADS = %d;
                constexpr double MAX_NORM = %s; // %s

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    __shared__ double thread_sums[THREADS];
                    double s = 0.0;
                    for (int i = threadIdx.x; i < PARTIALS; i += THREADS) s += partials[i];
                    thread_sums[threadIdx.x] = s;
                    __syncthreads();
                    if (threadIdx.x == 0) {
                        double total = 0.0;
                        for (int t = 0; t < THREADS; t++) total += thread_sums[t];
                        const double norm = sqrt(total);
                        // GradientClipping.scale: !(norm > 0) also catches NaN; an infinite norm is left alone too.
                        const bool finite = norm < __longlong_as_double(0x7ff0000000000000ll);  // false for NaN too
                        const bool usable = norm > 0.0 && finite;
                        grad_norm[0] = (float) norm;
                        clip_factor[0] = usable ? (float) fmin(1.0, MAX_NORM / norm) : 1.0f;
                        const bool loss_finite = fabsf(loss[0]) < __int_as_float(0x7f800000);  // false for inf and NaN
                        skip[0] = finite && loss_finite ? 0.0f : 1.0f;
                    }
                }
                """.formatted(partialCount, THREADS, CudaLiteral.f64(maxNorm), maxNorm, kernelName(),
                CudaKernel.signature(params));
        String description = "Gradient norm, second level: grad_norm = sqrt(sum of " + partialCount
                + " partials), clip_factor = min(1, " + maxNorm + " / norm) (1 for a zero or non-finite norm), skip = 1 for a"
                + " non-finite norm or loss.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(1, THREADS, 0), params);
    }
}
