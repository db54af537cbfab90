package dev.octet.dsl.spec;

/** Storage precision of master weights and optimizer states. */
public enum Precision {
    FP32, BF16, FP8;

    public String lowerName() {
        return name().toLowerCase();
    }
}
