package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.quant.QuantizeOperand;
import dev.octet.compiler.cuda.quant.QuantizeGroups;
import dev.octet.compiler.cuda.quant.QuantizeTiled;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleType;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.List;

/**
 * Just-in-time quantization to E4M3 with UE8M0 scales ({@link QuantizeTiled}: amax and encode in one kernel),
 * the three operands of the infir2 recipe at T = 8192 tokens:
 * <ul>
 *   <li>{@code group}: activations X bf16[T, dim] in 1×128 groups (fprop and dgrad operand), a block per group;
 *   <li>{@code group_warp}: the same through {@link QuantizeGroups}, a warp per group (what kernel formation
 *       picks for it);
 *   <li>{@code block}: the FP32 master weight W f32[ffn, dim] in 128×128 blocks;
 *   <li>{@code transpose}: Xᵀ from X bf16[T, dim], grouped along the tokens (the wgrad operand, fused
 *       cast+transpose), read column by column by {@code QuantizeTiled};
 *   <li>{@code transpose_staged}: the same through {@link QuantizeGroups}, which stages tiles in shared
 *       memory (what kernel formation picks for it).
 * </ul>
 * Rate: GB/s of the least traffic (input read once, codes and scales written once), against ~4.3 TB/s copy.
 */
public class QuantizeBenchmark extends GpuKernelBenchmark {
    @Param({"group", "group_warp", "block", "transpose", "transpose_staged"})
    public String kind;

    /** gpt2: dim 768, ffn 3072; qwen: dim 1536, ffn 8960. */
    @Param({"gpt2", "qwen"})
    public String model;

    @Setup(Level.Trial)
    public void setup() {
        open();
        QuantizeTiled tiled = spec(kind, model);
        QuantizeOperand operand = tiled.operand();
        CudaKernel kernel = switch (kind) {
            case "group_warp", "transpose_staged" -> new QuantizeGroups(operand, 128, tiled.scaleType()).emit();
            default -> tiled.emit();
        };
        long elements = operand.elements();
        int scales = tiled.grid().scaleCount();
        tensors.uniform("x", operand.input(), elements, -4f, 4f)
                .zeros("codes", operand.codeType(), elements)
                .zeros("scales", DType.F32, scales);
        double bytes = GpuBench.bytes(operand.input(), elements) + GpuBench.bytes(operand.codeType(), elements)
                + GpuBench.bytes(DType.F32, scales);
        prepare(List.of(tensors.bind(kernel)), new KernelTimer.Work.Bytes(bytes));
    }

    static QuantizeTiled spec(String kind, String model) {
        ModelDims dims = ModelDims.named(model);
        QuantizeOperand operand;
        Granularity granularity;
        switch (kind) {
            case "group", "group_warp" -> {
                operand = new QuantizeOperand(DType.BF16, ModelDims.TOKENS, dims.dim(), false, Fp8Format.E4M3);
                granularity = Granularity.group(128);
            }
            case "block" -> {
                operand = new QuantizeOperand(DType.F32, dims.ffn(), dims.dim(), false, Fp8Format.E4M3);
                granularity = Granularity.block(128);
            }
            case "transpose", "transpose_staged" -> {
                operand = new QuantizeOperand(DType.BF16, ModelDims.TOKENS, dims.dim(), true, Fp8Format.E4M3);
                granularity = Granularity.group(128);
            }
            default -> throw new IllegalArgumentException("kind is group, group_warp, block, transpose or transpose_staged, not " + kind);
        }
        return new QuantizeTiled(operand, granularity, ScaleType.UE8M0);
    }
}
