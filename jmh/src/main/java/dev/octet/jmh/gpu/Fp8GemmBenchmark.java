package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.gemm.GemmEpilogue;
import dev.octet.compiler.cuda.gemm.GemmKernel;
import dev.octet.compiler.cuda.gemm.GemmKernels;
import dev.octet.compiler.cuda.gemm.GemmOperand;
import dev.octet.compiler.cuda.gemm.GemmProblem;
import dev.octet.compiler.cuda.gemm.Fp8WgmmaGemm;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.List;

/**
 * The FP8 E4M3 GEMM that {@code GemmKernels.forProblem} picks, per role of a linear layer, for the infir2
 * recipe (1×128 groups and 128×128 blocks, partial sums promoted every 128 K) and for tensor-wise scales.
 * Operands are K-major codes with FP32 scales (the layout the quantize kernels write); fprop and dgrad store
 * BF16, wgrad accumulates into an FP32 dW. Rate: TFLOP/s, 2·M·N·K per launch.
 */
public class Fp8GemmBenchmark extends GpuKernelBenchmark {
    @Param({"gpt2_fc_fprop", "gpt2_fc_dgrad", "gpt2_fc_wgrad", "qwen_up_fprop", "qwen_up_dgrad", "qwen_up_wgrad",
            "qwen_o_fprop_16k", "qwen_up_fprop_16k", "qwen_up_dgrad_16k", "qwen_up_wgrad_16k", "llama_up_fprop_16k",
            "llama_up_dgrad_16k", "llama_up_wgrad_16k", "qwen_kv_wgrad_16k", "qwen_o_wgrad_16k", "gpt2_attn_wgrad_32k",
            "square_4096", "square_8192"})
    public String shape;

    @Param({"infir2", "tensor"})
    public String recipe;

    /** 0: the column tile GemmKernels chooses; else the Hopper kernel with this column tile (64 or 128). */
    @Param({"0"})
    public int blockN;

    /** Blocks per cluster of the Hopper kernel: 1, or 2 (A shared by TMA multicast). */
    @Param({"1"})
    public int cluster;

    /**
     * Largest magnitude of the random operand values: 448 spreads the codes over E4M3's whole range, as scaling to
     * the amax does; small values (e.g. 4, what {@code randn} gives) toggle fewer bits, draw less power and let the
     * clocks run higher, which is worth knowing when comparing against a library measured on such data.
     */
    @Param({"448"})
    public float amplitude;

    /** 0: the K split GemmKernels chooses; else the Hopper kernel with K split this many ways (1: unsplit). */
    @Param({"0"})
    public int splits;

    @Setup(Level.Trial)
    public void setup() {
        open();
        GemmShape s = GemmShape.named(shape);
        GemmProblem problem = problem(shape, recipe);
        GemmKernel chosen = blockN == 0 && cluster == 1 ? GemmKernels.forProblem(problem)
                : Fp8WgmmaGemm.withTiles(problem, blockN == 0 ? 128 : blockN, cluster);
        if (splits > 0) {
            chosen = ((Fp8WgmmaGemm) chosen).withSplits(splits);
        }
        float fmax = Math.min(amplitude, Fp8Format.E4M3.maxFinite());
        // Codes uniform in [-fmax, fmax) (by default over the whole E4M3 range); power-of-two scales.
        tensors.uniform("a", DType.E4M3, (long) s.m * s.k, -fmax, fmax)
                .constant("a_scales", ((GemmOperand.Fp8) problem.a()).scaleGrid(s.m, s.k).scaleCount(), 0x1p-9f)
                .uniform("b", DType.E4M3, (long) s.n * s.k, -fmax, fmax)
                .constant("b_scales", ((GemmOperand.Fp8) problem.b()).scaleGrid(s.n, s.k).scaleCount(), 0x1p-14f)
                .zeros("c", problem.epilogue().output(), (long) s.m * s.n);
        prepare(tensors.bindGemm(chosen), new KernelTimer.Work.Flops(problem.flops()));
    }

    static GemmProblem problem(String shape, String recipe) {
        GemmShape s = GemmShape.named(shape);
        boolean infir2 = switch (recipe) {
            case "infir2" -> true;
            case "tensor" -> false;
            default -> throw new IllegalArgumentException("recipe is infir2 or tensor, not " + recipe);
        };
        Granularity aGranularity = infir2 ? s.role.infir2A : Granularity.tensor();
        Granularity bGranularity = infir2 ? s.role.infir2B : Granularity.tensor();
        boolean wgrad = s.role == GemmShape.Role.WGRAD;
        GemmEpilogue epilogue = wgrad ? GemmEpilogue.accumulateF32() : GemmEpilogue.store(DType.BF16);
        // A weight gradient's operands come from fused transposes, as in the step (their group scales column-major).
        return GemmProblem.fp8(s.m, s.n, s.k, new GemmOperand.Fp8(Fp8Format.E4M3, aGranularity, wgrad),
                new GemmOperand.Fp8(Fp8Format.E4M3, bGranularity, wgrad), epilogue);
    }
}
