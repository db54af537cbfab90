package dev.octet.numerics;

/** How a quantization scale is stored: any FP32 value, or a power of two (UE8M0, an exponent byte). */
public enum ScaleType {
    FP32,
    UE8M0;

    public String lowerName() {
        return name().toLowerCase();
    }
}
