package dev.octet.train;

/** The planned step does not fit the device's free memory; the message is one line saying what would. */
public final class DeviceMemoryShortfallException extends RuntimeException {
    public DeviceMemoryShortfallException(String message) {
        super(message);
    }
}
