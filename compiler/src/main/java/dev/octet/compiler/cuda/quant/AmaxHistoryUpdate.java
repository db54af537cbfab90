package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * Records a step's amax into a delayed-scaling history, as {@code DelayedScaling.record}: one block reduces
 * the {@code step_amax_partials} of {@link QuantizeDelayed}, writes the amax to
 * {@code amax_history[recorded % historyLength]} and increments {@code recorded}. A non-finite amax is not
 * recorded and the counter stays (the oracle throws there): one inf would otherwise set the scale for the next
 * {@code historyLength} steps; the NaN scale of the step itself already reports it.
 *
 * <p>Buffers: {@code step_amax_partials} (f32[partialCount]), {@code amax_history} (f32[historyLength]),
 * {@code recorded} (i32[1]).
 */
public record AmaxHistoryUpdate(int historyLength, int partialCount) implements KernelSpec {

    private static final int THREADS = 256;

    public AmaxHistoryUpdate {
        if (historyLength <= 0) {
            throw new IllegalArgumentException("amax history of length " + historyLength);
        }
        if (partialCount <= 0) {
            throw new IllegalArgumentException("no amax partials to record: " + partialCount);
        }
    }

    @Override
    public String kernelName() {
        return "amax_history_update_h" + historyLength + "_p" + partialCount;
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = List.of(
                KernelParam.in("step_amax_partials", DType.F32),
                KernelParam.inOut("amax_history", DType.F32),
                KernelParam.inOut("recorded", DType.I32));
        String body = AmaxDevice.SOURCE + """

                constexpr int HISTORY = %d, PARTIALS = %d, THREADS = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    const unsigned amax_bits = max_of_partials(step_amax_partials, PARTIALS);
                    if (threadIdx.x == 0 && amax_is_finite(amax_bits)) {
                        const int count = recorded[0];
                        amax_history[count %% HISTORY] = __uint_as_float(amax_bits);
                        recorded[0] = count + 1;
                    }
                }
                """.formatted(historyLength, partialCount, THREADS, kernelName(), CudaKernel.signature(params));
        String description = "Delayed scaling: record this step's amax (max of " + partialCount + " partials) into"
                + " amax_history[recorded % " + historyLength + "], then recorded += 1.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(1, THREADS, 0), params);
    }
}
