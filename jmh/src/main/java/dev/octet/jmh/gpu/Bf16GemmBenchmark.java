package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.gemm.GemmEpilogue;
import dev.octet.compiler.cuda.gemm.GemmKernels;
import dev.octet.compiler.cuda.gemm.GemmProblem;
import dev.octet.compiler.ir.DType;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;


/**
 * The BF16 GEMM that {@code GemmKernels.forProblem} picks, at the same shapes as {@link Fp8GemmBenchmark}, with
 * each role's operand layouts: fprop reads X and W K-major, dgrad reads W MN-major, wgrad reads dY and X
 * MN-major (no transpose kernels). fprop and dgrad store BF16, wgrad accumulates into an FP32 dW. Rate:
 * TFLOP/s, 2·M·N·K per launch.
 */
public class Bf16GemmBenchmark extends GpuKernelBenchmark {
    @Param({"gpt2_fc_fprop", "gpt2_fc_dgrad", "gpt2_fc_wgrad", "qwen_up_fprop", "qwen_up_dgrad", "qwen_up_wgrad",
            "qwen_up_fprop_16k", "qwen_up_dgrad_16k", "qwen_up_wgrad_16k", "qwen_lm_head_fprop", "qwen_lm_head_dgrad",
            "qwen_lm_head_wgrad", "qwen_kv_wgrad_16k", "qwen_o_wgrad_16k", "gpt2_attn_wgrad_32k", "square_4096",
            "square_8192"})
    public String shape;

    @Setup(Level.Trial)
    public void setup() {
        open();
        GemmShape s = GemmShape.named(shape);
        GemmProblem problem = problem(shape);
        GemmEpilogue epilogue = problem.epilogue();
        tensors.uniform("a", DType.BF16, (long) s.m * s.k, -1f, 1f)
                .uniform("b", DType.BF16, (long) s.n * s.k, -0.05f, 0.05f)
                .zeros("c", epilogue.output(), (long) s.m * s.n);
        prepare(tensors.bindGemm(GemmKernels.forProblem(problem)), new KernelTimer.Work.Flops(problem.flops()));
    }

    static GemmProblem problem(String shape) {
        GemmShape s = GemmShape.named(shape);
        GemmEpilogue epilogue = s.role == GemmShape.Role.WGRAD ? GemmEpilogue.accumulateF32() : GemmEpilogue.store(DType.BF16);
        return GemmProblem.bf16(s.m, s.n, s.k, s.role.bf16A, s.role.bf16B, epilogue);
    }
}
