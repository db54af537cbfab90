package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * First level of a tensor's amax: each block writes the largest magnitude of its grid-stride share into
 * {@code amax_partials[blockIdx.x]} ({@link #partialCount()} entries, NaN kept). The consumers
 * ({@link QuantizeTensorwise}, {@link QuantizeDelayed}, {@link AmaxHistoryUpdate}) finish the reduction
 * themselves; max is exact and order-free, so the result is deterministic without atomics or a counter.
 *
 * <p>With {@code firstStepOnly} the kernel first reads the delayed-scaling step counter {@code recorded}
 * (i32[1]) and returns at once unless it is 0: delayed scaling needs the current amax only on its first step,
 * and the same CUDA graph replays every step.
 *
 * <p>Buffers: {@code x} (input, {@code elements} values), [{@code recorded}], {@code amax_partials}.
 */
public record AmaxReduce(DType input, int elements, boolean firstStepOnly) implements KernelSpec {

    static final int THREADS = 256;
    /** Enough blocks to fill an H200 (132 SMs) several times over while the consumers read at most 4 KB. */
    private static final int MAX_BLOCKS = 1024;
    private static final int ELEMENTS_PER_THREAD = 4;

    public AmaxReduce {
        Objects.requireNonNull(input, "input");
        if (input != DType.BF16 && input != DType.F32) {
            throw new IllegalArgumentException("amax reads bf16 or f32, not " + input.irName());
        }
        if (elements <= 0) {
            throw new IllegalArgumentException("amax of an empty tensor: " + elements + " elements");
        }
    }

    /** The amax partials of the matrix a quantize kernel reads. */
    public static AmaxReduce of(QuantizeOperand operand, boolean firstStepOnly) {
        return new AmaxReduce(operand.input(), operand.elements(), firstStepOnly);
    }

    /** Grid size of the grid-stride kernels over {@code elements} values; also the number of partials. */
    static int blocksFor(int elements) {
        return (int) Math.min(MAX_BLOCKS, Math.ceilDiv((long) elements, (long) THREADS * ELEMENTS_PER_THREAD));
    }

    public int partialCount() {
        return blocksFor(elements);
    }

    @Override
    public String kernelName() {
        return "amax_reduce_" + input.irName() + "_" + elements + (firstStepOnly ? "_first_step" : "");
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = new ArrayList<>();
        params.add(KernelParam.in("x", input));
        if (firstStepOnly) {
            params.add(KernelParam.in("recorded", DType.I32));
        }
        params.add(KernelParam.out("amax_partials", DType.F32));
        String load = input == DType.BF16 ? "bf16_to_f32(x[i])" : "x[i]";
        String skip = firstStepOnly ? "if (recorded[0] != 0) return; // the history holds amaxes: not needed\n    " : "";
        String body = AmaxDevice.SOURCE + """

                constexpr int N = %d, BLOCKS = %d, THREADS = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    %sunsigned amax_bits = 0;
                    for (int i = blockIdx.x * THREADS + threadIdx.x; i < N; i += BLOCKS * THREADS) {
                        amax_bits = max(amax_bits, abs_bits(%s));
                    }
                    amax_bits = block_max_bits(amax_bits);
                    if (threadIdx.x == 0) amax_partials[blockIdx.x] = __uint_as_float(amax_bits);
                }
                """.formatted(elements, partialCount(), THREADS, kernelName(), CudaKernel.signature(params), skip, load);
        String description = "Amax, first level: amax_partials[b] = max |x| over block b's grid-stride share"
                + " (NaN kept).\n" + input.irName() + "[" + elements + "], " + partialCount() + " partials"
                + (firstStepOnly ? "\nRuns only while the delayed-scaling counter recorded[0] is 0." : "");
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(partialCount(), THREADS, 0), params);
    }
}
