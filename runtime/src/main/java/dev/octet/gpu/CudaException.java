package dev.octet.gpu;

import java.util.Optional;

/** A CUDA driver call that returned an error: which call, for which kernel if any, and the CUresult. */
public final class CudaException extends RuntimeException {
    private final String call;
    private final String kernel;
    private final int result;

    public CudaException(String call, Optional<String> kernel, int result, String resultName) {
        super(call + kernel.map(k -> " for kernel " + k).orElse("") + " failed: " + resultName + " (" + result + ")");
        this.call = call;
        this.kernel = kernel.orElse("");
        this.result = result;
    }

    public String call() {
        return call;
    }

    public Optional<String> kernel() {
        return kernel.isEmpty() ? Optional.empty() : Optional.of(kernel);
    }

    /** The CUresult code, e.g. 700 for CUDA_ERROR_ILLEGAL_ADDRESS. */
    public int result() {
        return result;
    }
}
