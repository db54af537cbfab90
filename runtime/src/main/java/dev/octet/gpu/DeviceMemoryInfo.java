package dev.octet.gpu;

/** Free and total bytes of a device as cuMemGetInfo reports them; free counts every process's use. */
public record DeviceMemoryInfo(long freeBytes, long totalBytes) {
    public DeviceMemoryInfo {
        if (freeBytes < 0 || totalBytes < 0 || freeBytes > totalBytes) {
            throw new IllegalArgumentException("free " + freeBytes + " of " + totalBytes + " bytes");
        }
    }

    public long usedBytes() {
        return totalBytes - freeBytes;
    }
}
