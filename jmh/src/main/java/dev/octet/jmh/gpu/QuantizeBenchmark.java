package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.quant.QuantizeOperand;
import dev.octet.compiler.cuda.quant.QuantizeGroups;
import dev.octet.compiler.cuda.quant.QuantizeTiled;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleType;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.List;
import java.util.Optional;

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
 *       memory (what kernel formation picks for it);
 *   <li>{@code both_layouts}: Xᵀ and X from one read of X (what kernel formation picks for a gradient that
 *       both dgrad and wgrad read);
 *   <li>{@code swiglu}: SwiGLU's output h = silu(gate)·up in both layouts, recomputed from gate and up bf16[T, width]
 *       by one kernel ({@link QuantizeGroups} reading {@code QuantizedSource.SWIGLU}, what kernel formation picks for
 *       the down projection's operand); use {@code -p width=ffn}.
 *   <li>{@code swiglu_gradients}: SwiGLU's dGate and dUp, each in both layouts, recomputed from gate, up and dh
 *       bf16[T, width] by one kernel ({@link QuantizeGroups} with siblings, what kernel formation picks where the
 *       gate and up projections are FP8); use {@code -p width=ffn}.
 * </ul>
 * {@code width}: X has the model's {@code dim} or {@code ffn} columns (the MLP's gradients dGate, dUp).
 * Rate: GB/s of the least traffic (input read once, codes and scales written once), against ~4.3 TB/s copy.
 */
public class QuantizeBenchmark extends GpuKernelBenchmark {
    @Param({"group", "group_warp", "block", "transpose", "transpose_staged", "both_layouts", "swiglu", "swiglu_gradients"})
    public String kind;

    @Param({"dim"})
    public String width;

    /** gpt2: dim 768, ffn 3072; qwen: dim 1536, ffn 8960. */
    @Param({"gpt2", "qwen"})
    public String model;

    @Setup(Level.Trial)
    public void setup() {
        open();
        QuantizeTiled tiled = spec(kind, model, width);
        QuantizeOperand operand = tiled.operand();
        Optional<GroupQuantization> rows = rows(kind, tiled);
        CudaKernel kernel = kernelSpec(kind, model, width).emit();
        long elements = operand.elements();
        int scales = tiled.grid().scaleCount();
        int layouts = rows.isPresent() ? 2 : 1;
        if (kind.equals("swiglu_gradients")) {
            tensors.uniform("gate", DType.BF16, elements, -4f, 4f).uniform("up", DType.BF16, elements, -2f, 2f)
                    .uniform("dh", DType.BF16, elements, -0.01f, 0.01f);
            for (String prefix : List.of("first_", "second_")) {
                tensors.zeros(prefix + "codes", operand.codeType(), elements).zeros(prefix + "scales", DType.F32, scales)
                        .zeros(prefix + "row_codes", operand.codeType(), elements).zeros(prefix + "row_scales", DType.F32, scales);
            }
            double bytes = 3 * GpuBench.bytes(DType.BF16, elements)
                    + 4 * (GpuBench.bytes(operand.codeType(), elements) + GpuBench.bytes(DType.F32, scales));
            prepare(List.of(tensors.bind(kernel)), new KernelTimer.Work.Bytes(bytes));
            return;
        }
        if (kind.equals("swiglu")) {
            tensors.uniform("gate", DType.BF16, elements, -4f, 4f).uniform("up", DType.BF16, elements, -2f, 2f)
                    .zeros("codes", operand.codeType(), elements).zeros("scales", DType.F32, scales)
                    .zeros("row_codes", operand.codeType(), elements).zeros("row_scales", DType.F32, scales);
            double bytes = 2 * GpuBench.bytes(DType.BF16, elements)
                    + 2 * (GpuBench.bytes(operand.codeType(), elements) + GpuBench.bytes(DType.F32, scales));
            prepare(List.of(tensors.bind(kernel)), new KernelTimer.Work.Bytes(bytes));
            return;
        }
        tensors.uniform("x", operand.input(), elements, -4f, 4f)
                .zeros("codes", operand.codeType(), elements)
                .zeros("scales", DType.F32, scales);
        if (rows.isPresent()) {
            tensors.zeros("row_codes", operand.codeType(), elements).zeros("row_scales", DType.F32, scales);
        }
        double bytes = GpuBench.bytes(operand.input(), elements) + layouts * (GpuBench.bytes(operand.codeType(), elements)
                + GpuBench.bytes(DType.F32, scales));
        prepare(List.of(tensors.bind(kernel)), new KernelTimer.Work.Bytes(bytes));
    }

    /** The kernel a kind measures: {@link QuantizeTiled}, or {@link QuantizeGroups} for the same operand. */
    static KernelSpec kernelSpec(String kind, String model, String width) {
        QuantizeTiled tiled = spec(kind, model, width);
        return switch (kind) {
            case "group_warp", "transpose_staged", "both_layouts" ->
                    new QuantizeGroups(tiled.operand(), 128, tiled.scaleType(), rows(kind, tiled));
            case "swiglu" -> new QuantizeGroups(tiled.operand(), 128, tiled.scaleType(), rows(kind, tiled),
                    QuantizedSource.SWIGLU, false);
            case "swiglu_gradients" -> new QuantizeGroups(tiled.operand(), 128, tiled.scaleType(), rows(kind, tiled),
                    QuantizedSource.SWIGLU_GATE_GRADIENT, true);
            default -> tiled;
        };
    }

    private static Optional<GroupQuantization> rows(String kind, QuantizeTiled tiled) {
        return kind.equals("both_layouts") || kind.startsWith("swiglu")
                ? Optional.of(new GroupQuantization(tiled.operand().format(), tiled.scaleType(), 128)) : Optional.empty();
    }

    static QuantizeTiled spec(String kind, String model, String width) {
        ModelDims dims = ModelDims.named(model);
        int cols = switch (width) {
            case "dim" -> dims.dim();
            case "ffn" -> dims.ffn();
            default -> throw new IllegalArgumentException("width is dim or ffn, not " + width);
        };
        QuantizeOperand operand;
        Granularity granularity;
        switch (kind) {
            case "group", "group_warp" -> {
                operand = new QuantizeOperand(DType.BF16, ModelDims.TOKENS, cols, false, Fp8Format.E4M3);
                granularity = Granularity.group(128);
            }
            case "block" -> {
                operand = new QuantizeOperand(DType.F32, dims.ffn(), dims.dim(), false, Fp8Format.E4M3);
                granularity = Granularity.block(128);
            }
            case "transpose", "transpose_staged", "both_layouts", "swiglu", "swiglu_gradients" -> {
                operand = new QuantizeOperand(DType.BF16, ModelDims.TOKENS, cols, true, Fp8Format.E4M3);
                granularity = Granularity.group(128);
            }
            default -> throw new IllegalArgumentException("kind is group, group_warp, block, transpose, transpose_staged,"
                    + " both_layouts, swiglu or swiglu_gradients, not " + kind);
        }
        return new QuantizeTiled(operand, granularity, ScaleType.UE8M0);
    }
}
