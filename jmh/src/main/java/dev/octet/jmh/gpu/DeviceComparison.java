package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import dev.octet.gpu.DeviceBuffer;
import dev.octet.gpu.KernelArg;
import dev.octet.gpu.KernelLauncher;
import java.util.List;
import java.util.Locale;

/**
 * How far one device tensor is from another of the same type, computed on the device: outputs of hundreds of MB
 * are compared without copying them to the host. Each block writes its sums of squared differences and of squared
 * reference values, and its count of non-finite results; the host adds the blocks' partials.
 */
final class DeviceComparison {
    private static final int BLOCKS = 132 * 4;
    private static final int THREADS = 256;
    /** Floats per block: squared differences, squared reference values, non-finite results. */
    private static final int SUMS = 3;

    /** The relative L2 distance of a result from its reference, and how many of its values are not finite. */
    record Distance(double relativeL2, long nonFinite) {
        boolean within(double bound) {
            return nonFinite == 0 && relativeL2 <= bound;
        }

        @Override
        public String toString() {
            return nonFinite > 0 ? nonFinite + " non-finite values"
                    : String.format(Locale.ROOT, "relative L2 %.2e", relativeL2);
        }
    }

    private final GpuBench bench;

    DeviceComparison(GpuBench bench) {
        this.bench = bench;
    }

    /** {@code got} against {@code want}, both {@code length} elements of {@code dtype}. */
    Distance distance(DeviceBuffer got, DeviceBuffer want, DType dtype, long length) {
        if (length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the comparison indexes with 32-bit ints; " + length + " elements is too many");
        }
        CudaKernel kernel = kernel(dtype);
        float[] partials = new float[BLOCKS * SUMS];
        try (DeviceBuffer sums = DeviceBuffer.allocate((long) partials.length * Float.BYTES)) {
            KernelLauncher.launch(bench.function(kernel), kernel, bench.stream(), List.of(got.arg(), want.arg(),
                    new KernelArg.I32((int) length), sums.arg()));
            bench.stream().synchronize();
            sums.copyTo(partials);
        }
        double difference = 0, reference = 0, nonFinite = 0;
        for (int b = 0; b < BLOCKS; b++) {
            difference += partials[b * SUMS];
            reference += partials[b * SUMS + 1];
            nonFinite += partials[b * SUMS + 2];
        }
        double relative = reference > 0 ? Math.sqrt(difference / reference) : Math.sqrt(difference);
        return new Distance(relative, (long) nonFinite);
    }

    static CudaKernel kernel(DType dtype) {
        String name = "compare_" + dtype.irName().toLowerCase(Locale.ROOT);
        String load = switch (dtype) {
            case F32 -> "p[i]";
            case BF16 -> "bf16_to_f32(p[i])";
            case E4M3, E5M2, I32 -> throw new IllegalArgumentException("the benchmarks compare f32 and bf16 results, not "
                    + dtype.irName());
        };
        List<KernelParam> params = List.of(KernelParam.in("got", dtype), KernelParam.in("want", dtype),
                KernelParam.scalar("n", DType.I32), KernelParam.out("sums", DType.F32));
        String body = """
                constexpr int BLOCKS = %d, THREADS = %d;

                template <typename T> __device__ __forceinline__ float at(const T* __restrict__ p, int i) { return %s; }

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    __shared__ double block_sums[3][THREADS / 32];
                    double d = 0.0, w = 0.0, bad = 0.0;
                    for (int i = blockIdx.x * THREADS + threadIdx.x; i < n; i += BLOCKS * THREADS) {
                        const float g = at(got, i), r = at(want, i);
                        if (!isfinite(g)) {
                            bad += 1.0;
                            continue;
                        }
                        const double e = (double) g - (double) r;
                        d += e * e;
                        w += (double) r * r;
                    }
                    for (int o = 16; o > 0; o >>= 1) {
                        d += __shfl_xor_sync(0xffffffffu, d, o);
                        w += __shfl_xor_sync(0xffffffffu, w, o);
                        bad += __shfl_xor_sync(0xffffffffu, bad, o);
                    }
                    if ((threadIdx.x & 31) == 0) {
                        block_sums[0][threadIdx.x >> 5] = d;
                        block_sums[1][threadIdx.x >> 5] = w;
                        block_sums[2][threadIdx.x >> 5] = bad;
                    }
                    __syncthreads();
                    if (threadIdx.x < 3) {
                        double total = 0.0;
                        for (int k = 0; k < THREADS / 32; k++) total += block_sums[threadIdx.x][k];
                        sums[blockIdx.x * 3 + threadIdx.x] = (float) total;
                    }
                }
                """.formatted(BLOCKS, THREADS, load, name, CudaKernel.signature(params));
        return new CudaKernel(name, CudaPrelude.kernelSource("Distance of got from want (" + dtype.irName()
                + "): per block the sums of squared differences and squared references, and the non-finite count.", body),
                LaunchGeometry.linear(BLOCKS, THREADS, 0), params);
    }
}
