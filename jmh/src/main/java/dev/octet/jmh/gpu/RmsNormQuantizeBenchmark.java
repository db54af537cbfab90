package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.norm.NormForward;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.ScaleType;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.List;

/**
 * RMSNorm forward fused with the quantization of its output ({@link NormForward} with a quantized output):
 * x bf16[T, dim] → y bf16 (kept for the wgrad operand), y as E4M3 codes in 1×128 groups with UE8M0 scales,
 * and rstd f32[T], at T = 8192. Rate: GB/s of the least traffic (x and weight read once, every output written
 * once).
 */
public class RmsNormQuantizeBenchmark extends GpuKernelBenchmark {
    @Param({"gpt2", "qwen"})
    public String model;

    @Setup(Level.Trial)
    public void setup() {
        open();
        int rows = ModelDims.TOKENS;
        int dim = ModelDims.named(model).dim();
        CudaKernel kernel = spec(model).emit();
        long elements = (long) rows * dim;
        long scales = elements / 128;
        tensors.uniform("x", DType.BF16, elements, -3f, 3f)
                .uniform("weight", DType.BF16, dim, 0.5f, 1.5f)
                .zeros("y", DType.BF16, elements)
                .zeros("y_codes", DType.E4M3, elements)
                .zeros("y_scales", DType.F32, scales)
                .zeros("rstd", DType.F32, rows);
        double bytes = GpuBench.bytes(DType.BF16, elements) * 2 + GpuBench.bytes(DType.BF16, dim)
                + GpuBench.bytes(DType.E4M3, elements) + GpuBench.bytes(DType.F32, scales) + GpuBench.bytes(DType.F32, rows);
        prepare(List.of(tensors.bind(kernel)), new KernelTimer.Work.Bytes(bytes));
    }

    static NormForward spec(String model) {
        GroupQuantization groups = new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128);
        return NormForward.rms(ModelDims.TOKENS, ModelDims.named(model).dim(), 1e-6f).withQuantizedOutput(groups, true);
    }
}
