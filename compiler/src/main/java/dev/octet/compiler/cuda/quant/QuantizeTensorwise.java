package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.ScaleType;
import java.util.List;
import java.util.Objects;

/**
 * Tensor-wise quantization with current scaling, after {@link #amaxReduce()}: every block reduces the amax
 * partials (the same bits in each block), derives the one scale, and encodes a grid-stride share of the output
 * (of its {@link TransposedTiles} when the output is the input transposed).
 * Bit-exact with {@code Quantizer.quantize(output, ..., Granularity.tensor(), Axis.COLS, format, scaleType)}.
 *
 * <p>Buffers: {@code x} (input), {@code amax_partials} (from {@link #amaxReduce()}), {@code codes} (fp8
 * [outputRows, outputCols]), {@code scales} (f32[1], written by block 0).
 */
public record QuantizeTensorwise(QuantizeOperand operand, ScaleType scaleType) implements KernelSpec {

    public QuantizeTensorwise {
        Objects.requireNonNull(operand, "operand");
        Objects.requireNonNull(scaleType, "scaleType");
    }

    /** The kernel that must run first, writing the partials this one reads. */
    public AmaxReduce amaxReduce() {
        return AmaxReduce.of(operand, false);
    }

    @Override
    public String kernelName() {
        return "quantize_tensor_" + operand.nameSuffix() + "_" + scaleType.lowerName();
    }

    @Override
    public CudaKernel emit() {
        int blocks = AmaxReduce.blocksFor(operand.elements());
        List<KernelParam> params = List.of(
                KernelParam.in("x", operand.input()),
                KernelParam.in("amax_partials", DType.F32),
                KernelParam.out("codes", operand.codeType()),
                KernelParam.out("scales", DType.F32));
        String quotient = ScaleFormulas.quotient(scaleType);
        String encodeLoop = operand.transpose() ? TransposedTiles.walk(operand.input(), "", quotient) : """
                for (int o = blockIdx.x * THREADS + threadIdx.x; o < OUT_ROWS * OUT_COLS; o += BLOCKS * THREADS) {
                    const float v = load_input(x, o / OUT_COLS, o %% OUT_COLS);
                    codes[o] = encode(%s);
                }
                """.formatted(quotient);
        String body = operand.deviceDefinitions() + ScaleFormulas.scaleFor(scaleType) + TransposedTiles.constants() + """

                constexpr int PARTIALS = %d, BLOCKS = %d, THREADS = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    const float s = scale_for(max_of_partials(amax_partials, PARTIALS)), inv_s = 1.0f / s;
                    if (blockIdx.x == 0 && threadIdx.x == 0) scales[0] = s;
                %s}
                """.formatted(amaxReduce().partialCount(), blocks, AmaxReduce.THREADS, kernelName(),
                CudaKernel.signature(params), encodeLoop.indent(4));
        String description = "Quantize tensor-wise, " + scaleType.lowerName() + " scale from the current amax"
                + " (partials of " + amaxReduce().kernelName() + ").\n" + operand.description()
                + "\nscales f32[1]; oracle Quantizer.quantize(output, tensor, Axis.COLS).";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(blocks, AmaxReduce.THREADS, 0), params);
    }
}
