package dev.octet.compiler.cuda.norm;

/** Which normalization: RMSNorm (weight only, saves rstd) or LayerNorm (weight and bias, saves mean and rstd). */
public enum NormKind {
    RMS("rmsnorm"),
    LAYER("layernorm");

    private final String kernelPrefix;

    NormKind(String kernelPrefix) {
        this.kernelPrefix = kernelPrefix;
    }

    /** {@code rmsnorm} or {@code layernorm}: how kernel names start. */
    public String kernelPrefix() {
        return kernelPrefix;
    }
}
