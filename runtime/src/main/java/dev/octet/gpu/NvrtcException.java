package dev.octet.gpu;

/** An NVRTC call that failed for a reason other than the source not compiling. */
public final class NvrtcException extends RuntimeException {
    private final int result;

    public NvrtcException(String call, String kernel, int result, String resultText) {
        super(call + " for kernel " + kernel + " failed: " + resultText + " (nvrtcResult " + result + ")");
        this.result = result;
    }

    public int result() {
        return result;
    }
}
