package dev.octet.compiler;

/**
 * A model the checker accepts but no kernel template can serve at its shapes (e.g. attention with a head
 * size the flash-attention tiles are not written for). The message says which kernel and why; the CPU
 * backend still trains such a model.
 */
public final class UnsupportedShapeException extends RuntimeException {
    public UnsupportedShapeException(String message, Throwable cause) {
        super(message, cause);
    }
}
