package dev.octet.cpu.ir;

import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Bf16;
import java.nio.ByteBuffer;

/**
 * How a value's elements are stored: BF16 rounded to nearest even from the FP32 value (as {@code
 * cvt.rn.bf16.f32}), F32 by a cast, I32 as integers, FP8 as raw codes. Both buffer implementations store
 * through here, so a map of arrays and a byte arena hold exactly the same numbers.
 */
final class ElementCodec {
    private ElementCodec() {}

    /** {@code x} as it reads back after being stored as {@code dtype}. */
    static double stored(DType dtype, double x) {
        return switch (dtype) {
            case F32 -> (float) x;
            case BF16 -> Bf16.decode(Bf16.encode((float) x));
            case I32 -> integer(x);
            case E4M3, E5M2 -> code(x) & 0xff;
        };
    }

    /** Writes {@code values} as {@code dtype} elements starting at byte {@code offset} of {@code arena}. */
    static void write(ByteBuffer arena, int offset, DType dtype, double[] values) {
        for (int i = 0; i < values.length; i++) {
            double x = values[i];
            switch (dtype) {
                case F32 -> arena.putFloat(offset + 4 * i, (float) x);
                case BF16 -> arena.putShort(offset + 2 * i, Bf16.encode((float) x));
                case I32 -> arena.putInt(offset + 4 * i, integer(x));
                case E4M3, E5M2 -> arena.put(offset + i, code(x));
            }
        }
    }

    /** Reads {@code count} {@code dtype} elements starting at byte {@code offset} of {@code arena}. */
    static double[] read(ByteBuffer arena, int offset, DType dtype, int count) {
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            out[i] = switch (dtype) {
                case F32 -> arena.getFloat(offset + 4 * i);
                case BF16 -> Bf16.decode(arena.getShort(offset + 2 * i));
                case I32 -> arena.getInt(offset + 4 * i);
                case E4M3, E5M2 -> arena.get(offset + i) & 0xff;
            };
        }
        return out;
    }

    private static int integer(double x) {
        int i = (int) x;
        if (i != x) {
            throw new IllegalArgumentException("not an i32 value: " + x);
        }
        return i;
    }

    private static byte code(double x) {
        int c = (int) x;
        if (c != x || c < -128 || c > 255) {
            throw new IllegalArgumentException("not an FP8 code: " + x);
        }
        return (byte) c;
    }
}
