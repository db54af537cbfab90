package dev.octet.cpu.ir;

import dev.octet.compiler.ir.Value;

/**
 * Where the IR executors keep the contents of values. Contents travel as {@code double[]} whatever the
 * element type, and are stored in the value's own type: {@link #put} rounds exactly as a kernel storing that
 * type does (see {@link ElementCodec}), so what {@link #get} returns is what a later kernel would read.
 * FP8 values travel as their codes (0..255): decoding them needs the scales, which are a separate value.
 */
public interface Buffers {
    /**
     * The stored contents of {@code v}, a fresh array the caller may keep.
     *
     * @throws IllegalStateException if nothing wrote {@code v} yet (where the implementation can tell)
     */
    double[] get(Value v);

    /** Stores {@code contents} (one entry per element of {@code v}) encoded to {@code v}'s element type. */
    void put(Value v, double[] contents);
}
