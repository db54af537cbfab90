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
 * Fills benchmark inputs with uniform pseudo-random values on the device: a hash of the element index and a
 * seed, so inputs of hundreds of MB take milliseconds and no host memory. Speed only needs inputs that are
 * not zeros (tensor cores and encoders do not take shortcuts on zeros, but a benchmark should not rely on it);
 * correctness is the GPU tests' business.
 */
final class DeviceFill {
    private static final int BLOCKS = 132 * 8;
    private static final int THREADS = 256;

    private final GpuBench bench;

    DeviceFill(GpuBench bench) {
        this.bench = bench;
    }

    void uniform(DeviceBuffer buffer, DType dtype, long length, float lo, float hi, int seed) {
        if (length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("fill indexes with 32-bit ints; " + length + " elements is too many");
        }
        CudaKernel kernel = kernel(dtype);
        KernelLauncher.launch(bench.function(kernel), kernel, bench.stream(), List.of(buffer.arg(),
                new KernelArg.I32((int) length), new KernelArg.I32(seed), new KernelArg.F32(lo), new KernelArg.F32(hi)));
        bench.stream().synchronize();
    }

    static CudaKernel kernel(DType dtype) {
        String name = "fill_uniform_" + dtype.irName().toLowerCase(Locale.ROOT);
        String convert = switch (dtype) {
            case F32 -> "v";
            case BF16 -> "f32_to_bf16(v)";
            case E4M3 -> "f32_to_e4m3(v)";
            case E5M2 -> "f32_to_e5m2(v)";
            case I32 -> throw new IllegalArgumentException("the benchmarks fill no i32 buffers");
        };
        List<KernelParam> params = List.of(KernelParam.out("out", dtype), KernelParam.scalar("n", DType.I32),
                KernelParam.scalar("seed", DType.I32), KernelParam.scalar("lo", DType.F32),
                KernelParam.scalar("hi", DType.F32));
        String body = """
                constexpr int BLOCKS = %d, THREADS = %d;

                __device__ __forceinline__ unsigned mix(unsigned x) {
                    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
                    return x;
                }

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    for (int i = blockIdx.x * THREADS + threadIdx.x; i < n; i += BLOCKS * THREADS) {
                        const float u = (mix((unsigned) i * 0x9e3779b9U ^ mix((unsigned) seed)) >> 8) * (1.0f / 16777216.0f);
                        const float v = lo + (hi - lo) * u;
                        out[i] = %s;
                    }
                }
                """.formatted(BLOCKS, THREADS, name, CudaKernel.signature(params), convert);
        return new CudaKernel(name, CudaPrelude.kernelSource("Uniform pseudo-random " + dtype.irName()
                + " in [lo, hi), for benchmark inputs.", body), LaunchGeometry.linear(BLOCKS, THREADS, 0), params);
    }
}
