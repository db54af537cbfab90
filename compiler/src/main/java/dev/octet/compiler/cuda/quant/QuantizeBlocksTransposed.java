package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Axis;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleGrid;
import dev.octet.numerics.ScaleType;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A BF16 weight W [rows, cols] quantized as Wᵀ in square blocks of {@link #BLOCK} (the dgrad operand): one thread
 * block stages one weight block with 16-byte loads ({@link StagedTranspose}, whole-tile scope), takes its amax and
 * writes the block's codes transposed with stores of up to 16 codes. Bit-exact with
 * {@code Quantizer.quantize(Wᵀ, block(BLOCK))}, partial tail blocks included; other block sizes and FP32 inputs go
 * to {@link QuantizeTiled}.
 *
 * <p>Buffers: {@code x} (W), {@code codes} (fp8 Wᵀ), {@code scales} (f32, the {@link ScaleGrid} of Wᵀ).
 */
public record QuantizeBlocksTransposed(QuantizeOperand operand, ScaleType scaleType) implements KernelSpec {
    /** The block a staged tile holds: 128 rows of {@value StagedTranspose#TILE_BYTES} bytes of BF16. */
    public static final int BLOCK = StagedTranspose.TILE_BYTES / 2;

    public QuantizeBlocksTransposed {
        Objects.requireNonNull(operand, "operand");
        Objects.requireNonNull(scaleType, "scaleType");
        if (!operand.transpose() || operand.input() != DType.BF16) {
            throw new IllegalArgumentException("staged block quantization reads BF16 and writes its transpose, not "
                    + operand.description());
        }
    }

    /** Whether this template serves a quantization, else QuantizeTiled does. */
    public static boolean serves(QuantizeOperand operand, Granularity granularity) {
        return operand.transpose() && operand.input() == DType.BF16 && granularity instanceof Granularity.Block b
                && b.size() == BLOCK;
    }

    /** The scale blocks over Wᵀ. */
    public ScaleGrid grid() {
        return ScaleGrid.of(new Granularity.Block(BLOCK), Axis.COLS, operand.outputRows(), operand.outputCols());
    }

    @Override
    public String kernelName() {
        return "quantize_block" + BLOCK + "_" + operand.nameSuffix() + "_" + scaleType.lowerName() + "_staged";
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = List.of(
                KernelParam.in("x", operand.input()),
                KernelParam.out("codes", operand.codeType()),
                KernelParam.out("scales", DType.F32));
        String description = "Quantize+transpose into block(" + BLOCK + "), " + scaleType.lowerName()
                + " scales, amax just in time, staged in shared memory.\n" + operand.description() + "\nscales f32["
                + grid().scaleRows() + ", " + grid().scaleCols() + "]; oracle Quantizer.quantize(output, block, Axis.COLS);";
        return StagedTranspose.emit(kernelName(), description, operand, BLOCK, scaleType, Optional.empty(),
                StagedTranspose.Scope.WHOLE_TILE, grid(), params);
    }
}
