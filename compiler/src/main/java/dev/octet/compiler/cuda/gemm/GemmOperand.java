package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleGrid;
import java.util.Objects;

/** One input of a GEMM: its element type and what the kernel needs to know to read it. */
public sealed interface GemmOperand {

    DType dtype();

    /** A BF16 operand, in either layout. */
    record Bf16(OperandLayout layout) implements GemmOperand {
        public Bf16 {
            Objects.requireNonNull(layout, "layout");
        }

        @Override
        public DType dtype() {
            return DType.BF16;
        }
    }

    /**
     * An FP8 operand: codes {@code [rows, K]} row-major (K-major, what Hopper's FP8 tensor cores read; a fused
     * quantize+transpose kernel produces this layout for the backward GEMMs, {@code transposed}) and FP32
     * dequantization scales laid out as {@link ScaleGrid#ofOperand}{@code (granularity, rows, K, transposed)}.
     */
    record Fp8(Fp8Format format, Granularity granularity, boolean transposed) implements GemmOperand {
        public Fp8 {
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(granularity, "granularity");
        }

        @Override
        public DType dtype() {
            return DType.of(format);
        }

        /** The scale tiling of this operand when it has {@code rows} rows and reduces over {@code k}. */
        public ScaleGrid scaleGrid(int rows, int k) {
            return ScaleGrid.ofOperand(granularity, rows, k, transposed);
        }

        /** Name fragment: e4m3_g128, e5m2_b128, e4m3_tensor, e4m3_channel; g128t where the scales lie column-major. */
        String tag() {
            String g = switch (granularity) {
                case Granularity.Tensor t -> "tensor";
                case Granularity.Channel c -> "channel";
                case Granularity.Token t -> "token";
                case Granularity.Group gr -> "g" + gr.size() + (ScaleGrid.columnMajorOperand(gr, transposed) ? "t" : "");
                case Granularity.Block b -> "b" + b.size();
            };
            return dtype().irName() + "_" + g;
        }
    }

    static GemmOperand bf16(OperandLayout layout) {
        return new Bf16(layout);
    }
}
