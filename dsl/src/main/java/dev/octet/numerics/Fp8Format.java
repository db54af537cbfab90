package dev.octet.numerics;

/** The two FP8 formats of the OCP standard. */
public enum Fp8Format {
    /** 4 exponent bits, 3 mantissa bits, the "fn" variant: max 448, no infinities. */
    E4M3(448f),
    /** 5 exponent bits, 2 mantissa bits: max 57344, with infinities. */
    E5M2(57344f);

    private final float maxFinite;

    Fp8Format(float maxFinite) {
        this.maxFinite = maxFinite;
    }

    public float maxFinite() {
        return maxFinite;
    }

    public String lowerName() {
        return name().toLowerCase();
    }
}
