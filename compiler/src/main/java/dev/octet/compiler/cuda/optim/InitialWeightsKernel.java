package dev.octet.compiler.cuda.optim;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.InitialWeights;
import java.util.ArrayList;
import java.util.List;

/**
 * One parameter's training state written in place on the device: its FP32 master weights as
 * {@link InitialWeights} defines them (zeros, ones, or the seed's Gaussians), or left as they are, and, with
 * {@code workingCopy}, the BF16 working copy rounded from them (to nearest even, as the optimizer writes it). The host holds no
 * copy of the parameter. The Gaussians use the double-precision {@code log}, {@code cos} and {@code sqrt} of
 * CUDA's math library, Java's own on the CPU: both within an ulp or two in double, so after the rounding to
 * float the two agree except where a value lies within that of a rounding boundary (a few elements in a billion,
 * then by one float ulp).
 *
 * <p>Buffers {@code master} (f32[count]) and, with {@code workingCopy}, {@code shadow} (bf16[count]); scalars {@code count}, {@code fill}
 * ({@link Mode} ordinal), the seed and the first draw as low and high 32-bit halves, {@code residual} (1 for an
 * output projection) and {@code layers}.
 */
public record InitialWeightsKernel(boolean workingCopy) implements KernelSpec {
    /** What a launch writes into {@code master}. */
    public enum Mode {
        ZEROS, ONES, GAUSSIAN,
        /** The masters are already there (uploaded from a file): only the working copy is written. */
        KEEP
    }

    private static final int THREADS = 256, BLOCKS = 132 * 8;

    @Override
    public String kernelName() {
        return workingCopy ? "initial_weights" : "initial_weights_master_only";
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = new ArrayList<>(List.of(KernelParam.inOut("master", DType.F32)));
        if (workingCopy) {
            params.add(KernelParam.out("shadow", DType.BF16));
        }
        params.addAll(List.of(
                KernelParam.scalar("count", DType.I32),
                KernelParam.scalar("fill", DType.I32),
                KernelParam.scalar("seed_lo", DType.I32),
                KernelParam.scalar("seed_hi", DType.I32),
                KernelParam.scalar("first_lo", DType.I32),
                KernelParam.scalar("first_hi", DType.I32),
                KernelParam.scalar("residual", DType.I32),
                KernelParam.scalar("layers", DType.I32)));
        String body = """
                constexpr int THREADS = %d;
                constexpr int ZEROS = %d, ONES = %d, GAUSSIAN = %d;
                constexpr unsigned long long GAMMA = 0x%xull;  // SplitMix64's increment

                __device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
                    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
                    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
                    return z ^ (z >> 31);
                }

                // Draw n of the seed's stream in [0, 1), as SplittableRandom.nextDouble gives it.
                __device__ __forceinline__ double unit_double(unsigned long long seed, unsigned long long n) {
                    return (double) (mix64(seed + (n + 1) * GAMMA) >> 11) * 0x1.0p-53;
                }

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    const unsigned long long seed = ((unsigned long long) (unsigned) seed_hi << 32) | (unsigned) seed_lo;
                    const unsigned long long first = ((unsigned long long) (unsigned) first_hi << 32) | (unsigned) first_lo;
                    const double std = 0.02 * (residual ? 1.0 / sqrt(2.0 * layers) : 1.0);
                    for (long long i = blockIdx.x * (long long) THREADS + threadIdx.x; i < count; i += (long long) gridDim.x * THREADS) {
                        float x;
                        if (fill == GAUSSIAN) {
                            const unsigned long long draw = first + 2ull * (unsigned long long) i;
                            const double u = 1.0 - unit_double(seed, draw);
                            const double v = unit_double(seed, draw + 1);
                            // Box-Muller, evaluated in Java's order: (sqrt(-2 ln u) * cos(2 pi v)) * std.
                            x = __double2float_rn(sqrt(-2.0 * log(u)) * cos(0x1.921fb54442d18p+2 * v) * std);
                            master[i] = x;
                        } else if (fill == ZEROS || fill == ONES) {
                            x = fill == ONES ? 1.0f : 0.0f;
                            master[i] = x;
                        } else {
                            x = master[i];
                        }
                        %s
                    }
                }
                """.formatted(THREADS, Mode.ZEROS.ordinal(), Mode.ONES.ordinal(), Mode.GAUSSIAN.ordinal(),
                InitialWeights.GAMMA, kernelName(), CudaKernel.signature(params),
                workingCopy ? "shadow[i] = f32_to_bf16(x);" : "(void) x;");
        String description = "A parameter's initial FP32 master weights (zeros, ones or Box-Muller Gaussians of one "
                + "SplitMix64 stream, dev.octet.numerics.InitialWeights)" + (workingCopy ? " and its BF16 working copy" : "")
                + ", in place.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(BLOCKS, THREADS, 0), params);
    }
}
