package dev.octet.gpu.kernels;

import dev.octet.compiler.ir.DType;
import dev.octet.gpu.DeviceBuffer;
import dev.octet.numerics.Bf16;

/** Host data of one kernel buffer, typed like the kernel parameter it feeds. */
public sealed interface HostArray {

    record F32(float[] values) implements HostArray {}

    /** BF16 as raw bits, the way the device stores it. */
    record Bf16Bits(short[] bits) implements HostArray {}

    /** FP8 codes of either format. */
    record Fp8Codes(DType format, byte[] codes) implements HostArray {
        public Fp8Codes {
            if (format != DType.E4M3 && format != DType.E5M2) {
                throw new IllegalArgumentException("FP8 codes are e4m3 or e5m2, not " + format.irName());
            }
        }
    }

    record I32(int[] values) implements HostArray {}

    static HostArray f32(float... values) {
        return new F32(values);
    }

    /** {@code values} rounded to BF16 (nearest even); round them first where the oracle must see the same numbers. */
    static HostArray bf16(float[] values) {
        short[] bits = new short[values.length];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = Bf16.encode(values[i]);
        }
        return new Bf16Bits(bits);
    }

    static HostArray i32(int... values) {
        return new I32(values);
    }

    static HostArray fp8(DType format, byte[] codes) {
        return new Fp8Codes(format, codes);
    }

    default DType dtype() {
        return switch (this) {
            case F32 f -> DType.F32;
            case Bf16Bits b -> DType.BF16;
            case Fp8Codes c -> c.format();
            case I32 i -> DType.I32;
        };
    }

    default int length() {
        return switch (this) {
            case F32 f -> f.values().length;
            case Bf16Bits b -> b.bits().length;
            case Fp8Codes c -> c.codes().length;
            case I32 i -> i.values().length;
        };
    }

    default void upload(DeviceBuffer buffer) {
        switch (this) {
            case F32 f -> buffer.copyFrom(f.values());
            case Bf16Bits b -> buffer.copyFrom(b.bits());
            case Fp8Codes c -> buffer.copyFrom(c.codes());
            case I32 i -> buffer.copyFrom(i.values());
        }
    }

    /** The buffer's first {@code length} elements of {@code dtype}. */
    static HostArray download(DeviceBuffer buffer, DType dtype, int length) {
        return switch (dtype) {
            case F32 -> {
                float[] v = new float[length];
                buffer.copyTo(v);
                yield new F32(v);
            }
            case BF16 -> {
                short[] v = new short[length];
                buffer.copyTo(v);
                yield new Bf16Bits(v);
            }
            case E4M3, E5M2 -> {
                byte[] v = new byte[length];
                buffer.copyTo(v);
                yield new Fp8Codes(dtype, v);
            }
            case I32 -> {
                int[] v = new int[length];
                buffer.copyTo(v);
                yield new I32(v);
            }
        };
    }
}
