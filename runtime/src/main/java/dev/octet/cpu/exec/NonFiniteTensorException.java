package dev.octet.cpu.exec;

/** A tensor about to be quantized holds inf or NaN: training diverged. Names the tensor. */
public final class NonFiniteTensorException extends RuntimeException {
    public NonFiniteTensorException(String tensor, Throwable cause) {
        super("non-finite values in " + tensor, cause);
    }
}
