package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;

import java.util.List;

/** Small kernels for tests: scale {@code n} floats in place by a factor, one element per thread. */
final class Kernels {
    private Kernels() {}

    static CudaKernel scale(int n) {
        List<KernelParam> params = List.of(KernelParam.inOut("x", DType.F32), KernelParam.scalar("factor", DType.F32));
        String name = "scale_f32_" + n;
        String body = """
                extern "C" __global__ void %s%s {
                    int i = blockIdx.x * blockDim.x + threadIdx.x;
                    if (i < %d) x[i] *= factor;
                }
                """.formatted(name, CudaKernel.signature(params), n);
        return new CudaKernel(name, CudaPrelude.kernelSource("x *= factor for " + n + " floats.", body),
                LaunchGeometry.linear((n + 255) / 256, 256, 0), params);
    }
}
