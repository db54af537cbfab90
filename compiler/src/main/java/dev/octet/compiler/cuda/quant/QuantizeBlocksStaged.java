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
 * A BF16 weight W [rows, cols] quantized in square blocks of {@link #BLOCK}, as W (the fprop operand) or as Wᵀ
 * (dgrad's): one thread block stages one weight block with 16-byte loads ({@link StagedTile}, whole-tile scope),
 * takes its amax and writes the block's codes, along the rows 8 at a time or transposed up to 16 at a time.
 * Bit-exact with {@code Quantizer.quantize(output, block(BLOCK))}, partial tail blocks included; other block sizes
 * and FP32 inputs go to {@link QuantizeTiled}.
 *
 * <p>Buffers: {@code x} (W), {@code codes} (fp8, the output matrix), {@code scales} (f32, its {@link ScaleGrid}).
 */
public record QuantizeBlocksStaged(QuantizeOperand operand, ScaleType scaleType) implements KernelSpec {
    /** The block a staged tile holds: 128 rows of {@value StagedTile#TILE_BYTES} bytes of BF16. */
    public static final int BLOCK = StagedTile.TILE_BYTES / 2;

    public QuantizeBlocksStaged {
        Objects.requireNonNull(operand, "operand");
        Objects.requireNonNull(scaleType, "scaleType");
        if (operand.input() != DType.BF16) {
            throw new IllegalArgumentException("staged block quantization reads BF16, not " + operand.description());
        }
    }

    /** Whether this template serves a quantization, else QuantizeTiled does. */
    public static boolean serves(QuantizeOperand operand, Granularity granularity) {
        return operand.input() == DType.BF16 && granularity instanceof Granularity.Block b && b.size() == BLOCK;
    }

    /** The scale blocks over the output matrix. */
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
        String description = "Quantize" + (operand.transpose() ? "+transpose" : "") + " into block(" + BLOCK + "), " + scaleType.lowerName()
                + " scales, amax just in time, staged in shared memory.\n" + operand.description() + "\nscales f32["
                + grid().scaleRows() + ", " + grid().scaleCols() + "]; oracle Quantizer.quantize(output, block, Axis.COLS);";
        return StagedTile.emit(kernelName(), description, operand, BLOCK, scaleType, Optional.empty(),
                StagedTile.Scope.WHOLE_TILE, grid(), params);
    }
}
