package dev.octet.gpu;

/** Thrown when GPU work is asked for on a machine where {@link CudaAvailability#probe()} says no. */
public final class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(CudaAvailability.Unavailable why) {
        super("CUDA is not available: " + why.reason());
    }
}
