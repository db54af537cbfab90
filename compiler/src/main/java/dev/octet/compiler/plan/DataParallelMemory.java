package dev.octet.compiler.plan;

import dev.octet.compiler.ir.Parameter;
import java.util.Locale;

/**
 * What one GPU of a data-parallel run over {@code gpus} GPUs holds of a compiled step, by how much of the
 * training state is sharded: every GPU keeps the whole step's activations, working weights and (ZeRO-1)
 * gradients, but only its share of the FP32 master weights and AdamW moments; with ZeRO-2 also only its share
 * of the FP32 gradients, plus one parameter's whole gradient while it is being reduce-scattered. Estimated from
 * the one-GPU plan: the sharded parts are persistent there, so taking them out of the arena lowers every peak
 * by the same amount. Shards are counted as equal splits ({@code ceil(bytes / gpus)}). A weight the step quantizes
 * from its master (no working copy) cannot be quantized from a shard: every GPU then holds its FP8 codes in both
 * layouts, gathered from the owner's (1 byte an element each, {@code gatheredCodeBytes}).
 */
public record DataParallelMemory(int gpus, DeviceMemoryPlan oneGpu, long optimizerStateBytes, long gradientBytes,
                                 long largestGradientBytes, long gatheredCodeBytes) {

    public DataParallelMemory {
        if (gpus < 1) {
            throw new IllegalArgumentException("GPUs must be at least 1, not " + gpus);
        }
    }

    public static DataParallelMemory of(StepPlan plan, int gpus) {
        long state = 0, grads = 0, largest = 0, codes = 0;
        for (Parameter p : plan.stepInterface().parameters()) {
            state += p.master().type().bytes() + p.m().type().bytes() + p.v().type().bytes();
            grads += p.gradient().type().bytes();
            largest = Math.max(largest, p.gradient().type().bytes());
            codes += p.shadow().isEmpty() ? 2 * p.master().type().elements() : 0;
        }
        return new DataParallelMemory(gpus, DeviceMemoryPlan.of(plan), state, grads, largest, codes);
    }

    /** Per GPU with master weights and moments sharded (ZeRO-1). */
    public long zero1Bytes() {
        return oneGpu.totalBytes() - optimizerStateBytes + Math.ceilDiv(optimizerStateBytes, gpus)
                + (gpus > 1 ? gatheredCodeBytes : 0);
    }

    /** Per GPU with gradients sharded too (ZeRO-2). */
    public long zero2Bytes() {
        return zero1Bytes() - gradientBytes + Math.ceilDiv(gradientBytes, gpus) + (gpus > 1 ? largestGradientBytes : 0);
    }

    /** Two summary lines, e.g. for 2 GPUs: what each holds with ZeRO-1 and with ZeRO-2. */
    public String describe() {
        return String.format(Locale.ROOT, "  data parallel over %d GPUs, per GPU: %s with master weights and moments sharded"
                        + " (ZeRO-1; %s of them in all), %s with gradients sharded too (ZeRO-2; %s of them)%n", gpus,
                DeviceMemoryPlan.gib(zero1Bytes()), DeviceMemoryPlan.gib(optimizerStateBytes), DeviceMemoryPlan.gib(zero2Bytes()),
                DeviceMemoryPlan.gib(gradientBytes));
    }
}
