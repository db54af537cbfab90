package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaLiteral;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;
import java.util.Objects;

/**
 * Tensor-wise quantization with TransformerEngine's delayed scaling ("max" algorithm with a margin), exactly
 * as {@code DelayedScaling.quantize}: the scale is {@code max((amax / fmax)·2^margin, 2^-126)} (1 when the
 * amax is 0) where amax is the largest entry of the history, or, while nothing has been recorded, the current
 * amax from the partials of {@link #firstStepAmax()}. Blocks encode grid-stride shares of the output ({@link TransposedTiles}
 * when it is the input transposed), and each also writes the amax of the share it encoded
 * into {@code step_amax_partials}, which {@link #historyUpdate()} records afterwards.
 *
 * <p>State: {@code amax_history} f32[historyLength] and {@code recorded} i32[1], both zero at the start of
 * training. {@code recorded} counts the amaxes recorded so far; the ring slot of the next one is
 * {@code recorded % historyLength} and the filled entries are the first {@code min(recorded, historyLength)}.
 * This kernel only reads them; {@link AmaxHistoryUpdate} writes them.
 *
 * <p>Buffers: {@code x}, {@code amax_history}, {@code recorded}, {@code first_step_amax_partials},
 * {@code codes}, {@code scales} (f32[1], the scale used this step), {@code step_amax_partials}.
 * One step runs {@link #firstStepAmax()}, this kernel, then {@link #historyUpdate()}.
 */
public record QuantizeDelayed(QuantizeOperand operand, int historyLength, int margin) implements KernelSpec {

    public QuantizeDelayed {
        Objects.requireNonNull(operand, "operand");
        if (historyLength <= 0) {
            throw new IllegalArgumentException("delayed scaling needs an amax history of at least 1, got " + historyLength);
        }
        if (margin < -126 || margin > 127) {
            throw new IllegalArgumentException("margin " + margin + " outside [-126, 127]: 2^margin must be a normal float");
        }
    }

    /** Computes the current amax, on the first step only. */
    public AmaxReduce firstStepAmax() {
        return AmaxReduce.of(operand, true);
    }

    /** Records this step's amax into the history once this kernel has run. */
    public AmaxHistoryUpdate historyUpdate() {
        return new AmaxHistoryUpdate(historyLength, AmaxReduce.blocksFor(operand.elements()));
    }

    @Override
    public String kernelName() {
        return "quantize_delayed_h" + historyLength + "_m" + (margin < 0 ? "minus" + -margin : margin) + "_"
                + operand.nameSuffix();
    }

    @Override
    public CudaKernel emit() {
        int blocks = AmaxReduce.blocksFor(operand.elements());
        List<KernelParam> params = List.of(
                KernelParam.in("x", operand.input()),
                KernelParam.in("amax_history", DType.F32),
                KernelParam.in("recorded", DType.I32),
                KernelParam.in("first_step_amax_partials", DType.F32),
                KernelParam.out("codes", operand.codeType()),
                KernelParam.out("scales", DType.F32),
                KernelParam.out("step_amax_partials", DType.F32));
        String encodeLoop = operand.transpose()
                ? TransposedTiles.walk(operand.input(), "step_bits = max(step_bits, abs_bits(v));", "__fdiv_rn(v, s)") : """
                for (int o = blockIdx.x * THREADS + threadIdx.x; o < OUT_ROWS * OUT_COLS; o += BLOCKS * THREADS) {
                    const float v = load_input(x, o / OUT_COLS, o % OUT_COLS);
                    step_bits = max(step_bits, abs_bits(v));
                    codes[o] = encode(__fdiv_rn(v, s));
                }
                """;
        String body = operand.deviceDefinitions() + TransposedTiles.constants() + """

                constexpr int HISTORY = %d, PARTIALS = %d, BLOCKS = %d, THREADS = %d;
                constexpr float MARGIN_FACTOR = %s; // 2^margin: the product rounds like Math.scalb

                // DelayedScaling.scale; NaN where the oracle refuses a non-finite amax.
                __device__ __forceinline__ float delayed_scale(unsigned amax_bits) {
                    if (!amax_is_finite(amax_bits)) return nan_scale();
                    const float amax = __uint_as_float(amax_bits);
                    if (amax == 0.0f) return 1.0f;
                    return fmaxf(__fmul_rn(__fdiv_rn(amax, FMAX), MARGIN_FACTOR), 1.17549435e-38f);
                }

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    const int count = recorded[0];
                    unsigned amax_bits = 0;
                    if (count == 0) {
                        amax_bits = max_of_partials(first_step_amax_partials, PARTIALS);
                    } else {
                        // Recorded amaxes are finite and non-negative, so their bits order like their values.
                        for (int i = threadIdx.x; i < min(count, HISTORY); i += THREADS) {
                            amax_bits = max(amax_bits, __float_as_uint(amax_history[i]));
                        }
                        amax_bits = block_max_bits(amax_bits);
                    }
                    const float s = delayed_scale(amax_bits);
                    if (blockIdx.x == 0 && threadIdx.x == 0) scales[0] = s;
                    unsigned step_bits = 0;
                %s    step_bits = block_max_bits(step_bits);
                    if (threadIdx.x == 0) step_amax_partials[blockIdx.x] = __uint_as_float(step_bits);
                }
                """.formatted(historyLength, firstStepAmax().partialCount(), blocks, AmaxReduce.THREADS,
                CudaLiteral.f32(Math.scalb(1.0f, margin)), kernelName(), CudaKernel.signature(params), encodeLoop.indent(4));
        String description = "Quantize tensor-wise with delayed scaling: amax history of " + historyLength
                + ", margin " + margin + " (TE's max algorithm).\n" + operand.description()
                + "\nscales f32[1]; step_amax_partials f32[" + blocks + "]; oracle DelayedScaling.quantize.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(blocks, AmaxReduce.THREADS, 0), params);
    }
}
