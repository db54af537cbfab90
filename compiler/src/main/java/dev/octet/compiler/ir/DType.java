package dev.octet.compiler.ir;

import dev.octet.numerics.Fp8Format;

/** Element types of IR values and kernel buffers. Sizes in bytes; BF16 stored as its 16 raw bits. */
public enum DType {
    F32(4, "f32", "float"),
    BF16(2, "bf16", "bf16_t"),
    E4M3(1, "e4m3", "fp8_t"),
    E5M2(1, "e5m2", "fp8_t"),
    I32(4, "i32", "int");

    private final int bytes;
    private final String irName;
    private final String cudaType;

    DType(int bytes, String irName, String cudaType) {
        this.bytes = bytes;
        this.irName = irName;
        this.cudaType = cudaType;
    }

    public int bytes() {
        return bytes;
    }

    /** The name IR text uses: f32, bf16, e4m3, e5m2, i32. */
    public String irName() {
        return irName;
    }

    /** The element type generated CUDA uses (typedefs of {@link dev.octet.compiler.cuda.CudaPrelude}). */
    public String cudaType() {
        return cudaType;
    }

    public static DType of(Fp8Format format) {
        return switch (format) {
            case E4M3 -> E4M3;
            case E5M2 -> E5M2;
        };
    }
}
