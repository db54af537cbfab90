package dev.octet.gpu;

/** The version NVRTC reports of itself; part of every compile-cache key. */
public record NvrtcVersion(int major, int minor) {
    @Override
    public String toString() {
        return major + "." + minor;
    }
}
