package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.pointwise.SwiGluBackward;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Axis;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleGrid;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * SwiGLU's backward with both gradients quantized in both layouts their GEMMs read, never stored in BF16: per tile
 * of {@code transposed.groupSize()} tokens × 128 columns a block reads gate, up and dh once, computes dgate and dup
 * ({@link SwiGluBackward}'s expression, rounded to BF16 as it rounds them), writes each one's 1×g row groups (the
 * dgrads' operand) from registers and its transposed groups along the tokens (the wgrads' operand) through the
 * staged tile — dgate's first, then dup's from the registers that held it. Bit for bit the SwiGLU backward kernel
 * followed by {@link QuantizeGroups} with a row output on each gradient.
 *
 * <p>Buffers: {@code gate}, {@code up}, {@code dh} (bf16 [rows, cols]); for each of {@code dgate_} and {@code dup_}:
 * {@code codes} (fp8 [cols, rows]), {@code scales} (the transposed grid), {@code row_codes} (fp8 [rows, cols]),
 * {@code row_scales}.
 */
public record SwiGluGradientQuantize(int rows, int cols, GroupQuantization transposed, GroupQuantization rowGroups)
        implements KernelSpec {
    private static final List<String> TENSORS = List.of("dgate_", "dup_");

    public SwiGluGradientQuantize {
        Objects.requireNonNull(transposed, "transposed");
        Objects.requireNonNull(rowGroups, "rowGroups");
        // The same limits as the one-tensor staged transpose with a row output.
        new QuantizeGroups(operand(rows, cols, transposed), transposed.groupSize(), transposed.scaleType(),
                Optional.of(rowGroups));
    }

    private static QuantizeOperand operand(int rows, int cols, GroupQuantization transposed) {
        return new QuantizeOperand(DType.BF16, rows, cols, true, transposed.format());
    }

    /** The scale grid of each gradient's transposed codes. */
    public ScaleGrid grid() {
        return ScaleGrid.of(new Granularity.Group(transposed.groupSize()), Axis.COLS, cols, rows);
    }

    /** The scale grid of each gradient's row groups. */
    public ScaleGrid rowGrid() {
        return StagedTile.rowGrid(operand(rows, cols, transposed), rowGroups);
    }

    @Override
    public String kernelName() {
        return "swiglu_backward_" + rows + "x" + cols + "_q_t_" + transposed.nameSuffix() + "_rows_" + rowGroups.nameSuffix();
    }

    private List<KernelParam> params() {
        List<KernelParam> params = new ArrayList<>(List.of(KernelParam.in("gate", DType.BF16), KernelParam.in("up", DType.BF16),
                KernelParam.in("dh", DType.BF16)));
        for (String t : TENSORS) {
            params.add(KernelParam.out(t + "codes", transposed.codeType()));
            params.add(KernelParam.out(t + "scales", DType.F32));
            params.add(KernelParam.out(t + "row_codes", rowGroups.codeType()));
            params.add(KernelParam.out(t + "row_scales", DType.F32));
        }
        return params;
    }

    /** Both gradients of EPC elements from one read of the three inputs: dgate into chunk, dup into chunk1. */
    private static final String LOAD = """
            uint4 chunk = make_uint4(0u, 0u, 0u, 0u), chunk1 = make_uint4(0u, 0u, 0u, 0u);
            if (inside) {
                in_t* dg = reinterpret_cast<in_t*>(&chunk);
                in_t* du = reinterpret_cast<in_t*>(&chunk1);
                if (VECTOR_ROWS) {
                    if (c < IN_COLS) {
                        const uint4 v_gate = *reinterpret_cast<const uint4*>(gate + t * IN_COLS + c);
                        const uint4 v_up = *reinterpret_cast<const uint4*>(up + t * IN_COLS + c);
                        const uint4 v_dh = *reinterpret_cast<const uint4*>(dh + t * IN_COLS + c);
                        #pragma unroll
                        for (int j = 0; j < EPC; j++) {
                            float dgate, dup;
                            element(bf16_to_f32(reinterpret_cast<const bf16_t*>(&v_gate)[j]),
                                    bf16_to_f32(reinterpret_cast<const bf16_t*>(&v_up)[j]),
                                    bf16_to_f32(reinterpret_cast<const bf16_t*>(&v_dh)[j]), dgate, dup);
                            dg[j] = f32_to_bf16(dgate);
                            du[j] = f32_to_bf16(dup);
                        }
                    }
                } else {
                    #pragma unroll
                    for (int j = 0; j < EPC; j++) {
                        if (c + j < IN_COLS) {
                            const int at = t * IN_COLS + c + j;
                            float dgate, dup;
                            element(bf16_to_f32(gate[at]), bf16_to_f32(up[at]), bf16_to_f32(dh[at]), dgate, dup);
                            dg[j] = f32_to_bf16(dgate);
                            du[j] = f32_to_bf16(dup);
                        }
                    }
                }
            }
            """.indent(4);

    @Override
    public CudaKernel emit() {
        QuantizeOperand operand = operand(rows, cols, transposed);
        String description = "SwiGLU backward (dgate = dh * up * s * (1 + g * (1 - s)), dup = dh * g * s, s = sigmoid(g)),"
                + " both gradients quantized into group(" + transposed.groupSize() + ") along the tokens (transposed, "
                + transposed.nameSuffix() + ") and 1x" + rowGroups.groupSize() + " row groups (" + rowGroups.nameSuffix()
                + "), never stored in BF16.\n" + operand.description();
        return StagedTile.emit(kernelName(), description, operand, transposed.groupSize(), transposed.scaleType(),
                Optional.of(rowGroups), StagedTile.Scope.COLUMN_GROUPS, grid(),
                new StagedTile.Staging(SwiGluBackward.ELEMENT, LOAD, TENSORS), params());
    }
}
