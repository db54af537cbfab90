package dev.octet.cpu.exec;

/** A tensor about to be quantized holds inf or NaN: training diverged. Names the tensor. */
public final class NonFiniteTensorException extends RuntimeException {
    private final String tensor;

    public NonFiniteTensorException(String tensor, Throwable cause) {
        super("non-finite values in " + tensor, cause);
        this.tensor = tensor;
    }

    /** The tensor that held inf or NaN, e.g. {@code layers.0.attention.o (fprop activations)}. */
    public String tensor() {
        return tensor;
    }
}
