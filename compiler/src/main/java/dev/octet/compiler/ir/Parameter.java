package dev.octet.compiler.ir;

/**
 * A trainable tensor and the persistent values that serve it: the FP32 master, the BF16 working copy
 * every kernel reads, the FP32 gradient, and the two AdamW moments.
 */
public record Parameter(String name, Value master, Value shadow, Value gradient, Value m, Value v, boolean decays) {}
