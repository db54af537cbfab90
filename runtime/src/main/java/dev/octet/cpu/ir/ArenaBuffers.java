package dev.octet.cpu.ir;

import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.MemoryPlan;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The device memory of a planned step on the CPU: one little-endian arena of {@link MemoryPlan#arenaBytes()},
 * each value at its planned offset in its real element type, so two values the plan lets share bytes really
 * do. Values that never leave one fused kernel have no place in the arena; they live in a scratch map that
 * is emptied after each kernel, as registers are.
 */
final class ArenaBuffers implements Buffers {
    /** All bits set: NaN in F32, BF16 and E4M3 (E5M2 too), −1 as an id; a read before any write shows. */
    static final byte POISON = (byte) 0xFF;

    private final ByteBuffer arena;
    private final MemoryPlan memory;
    private final Set<Value> internal;
    private final Map<Value, double[]> scratch = new HashMap<>();

    ArenaBuffers(MemoryPlan memory, Set<Value> internal) {
        if (memory.arenaBytes() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("an arena of " + memory.arenaBytes() + " bytes exceeds one CPU buffer");
        }
        byte[] bytes = new byte[(int) memory.arenaBytes()];
        Arrays.fill(bytes, POISON);
        this.arena = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        this.memory = memory;
        this.internal = Set.copyOf(internal);
    }

    @Override
    public double[] get(Value v) {
        if (internal.contains(v)) {
            double[] c = scratch.get(v);
            if (c == null) {
                throw new IllegalStateException(v + " is read inside its kernel before the kernel computed it");
            }
            return c.clone();
        }
        return ElementCodec.read(arena, offset(v), v.type().dtype(), Math.toIntExact(v.type().elements()));
    }

    @Override
    public void put(Value v, double[] contents) {
        if (internal.contains(v)) {
            scratch.put(v, ValueBuffers.stored(v, contents));
            return;
        }
        if (contents.length != v.type().elements()) {
            throw new IllegalArgumentException(v.declaration() + " written with " + contents.length + " elements");
        }
        ElementCodec.write(arena, offset(v), v.type().dtype(), contents);
    }

    /** Ends a kernel: what it kept in registers is gone. */
    void endKernel() {
        scratch.clear();
    }

    private int offset(Value v) {
        return Math.toIntExact(memory.offset(v));
    }
}
