package dev.octet.gpu;

/**
 * An encoded CUtensorMap: 128 opaque bytes, passed by value to a kernel as a {@code const __grid_constant__
 * CUtensorMap} parameter.
 */
public record TensorMap(byte[] bytes) {
    public static final int BYTES = 128;

    public TensorMap {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("a CUtensorMap is " + BYTES + " bytes, got " + bytes.length);
        }
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }
}
