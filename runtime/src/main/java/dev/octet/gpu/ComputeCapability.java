package dev.octet.gpu;

/** A device's compute capability; {@code 9.0} for H100/H200. */
public record ComputeCapability(int major, int minor) {
    /** The NVRTC architecture name without arch-specific features: {@code sm_90}. */
    public String smName() {
        return "sm_" + major + minor;
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
