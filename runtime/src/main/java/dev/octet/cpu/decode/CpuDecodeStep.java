package dev.octet.cpu.decode;

import dev.octet.decode.DecodeStep;
import java.util.function.Supplier;

/**
 * The CPU's {@link DecodeStep}: one {@link IncrementalForward} per slot, each with its own KV cache, fed one
 * token per step. The slots run one after another, so one slot is as fast as several here.
 */
public final class CpuDecodeStep implements DecodeStep {
    private final IncrementalForward[] slots;
    private final int context;
    private final int vocab;

    /** {@code slots} forwards from {@code forwards}, each over the same weights; caches of {@code context} positions. */
    public CpuDecodeStep(int slots, int context, int vocab, Supplier<IncrementalForward> forwards) {
        this.slots = new IncrementalForward[slots];
        for (int s = 0; s < slots; s++) {
            this.slots[s] = forwards.get();
        }
        this.context = context;
        this.vocab = vocab;
    }

    @Override
    public int slots() {
        return slots.length;
    }

    @Override
    public int context() {
        return context;
    }

    @Override
    public int vocab() {
        return vocab;
    }

    @Override
    public float[] step(int[] tokens, int[] positions) {
        float[] out = new float[slots.length * vocab];
        for (int s = 0; s < slots.length; s++) {
            IncrementalForward f = slots[s];
            if (positions[s] == 0) {
                f.reset();
            } else if (positions[s] != f.length()) {
                throw new IllegalArgumentException("slot " + s + " holds " + f.length() + " positions; fed position "
                        + positions[s]);
            }
            double[] logits = f.append(tokens[s]);
            for (int i = 0; i < vocab; i++) {
                out[s * vocab + i] = (float) logits[i];
            }
        }
        return out;
    }

    @Override
    public String describe() {
        return "CPU with a KV cache";
    }
}
