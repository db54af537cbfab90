package dev.octet.compiler.cuda;

/**
 * How a kernel reads a buffer through the Tensor Memory Accelerator: as a row-major {@code rows × cols}
 * matrix of the parameter's element type whose rows lie {@code pitch} elements apart ({@code pitch ≥ cols}: a
 * buffer may pad its rows so that each starts on 16 bytes, as TMA requires), copied into shared memory one {@code boxRows × boxCols} box at a
 * time with the given swizzle. Boxes reaching past the matrix edge are zero-filled by the hardware, which is
 * how ragged shapes stay correct without bounds checks. The runtime turns this into a
 * {@code cuTensorMapEncodeTiled} call over the bound buffer's address.
 */
public record TensorMapView(long rows, long cols, long pitch, int boxRows, int boxCols, Swizzle swizzle) {
    /** Shared-memory swizzle of a box row; the box's inner extent may span at most {@link #bytes} bytes. */
    public enum Swizzle {
        NONE(0), B32(32), B64(64), B128(128);

        public final int bytes;

        Swizzle(int bytes) {
            this.bytes = bytes;
        }
    }

    public TensorMapView {
        if (rows < 1 || cols < 1 || boxRows < 1 || boxRows > 256 || boxCols < 1 || boxCols > 256) {
            throw new IllegalArgumentException("tensor map view " + rows + "x" + cols + " in boxes of " + boxRows + "x"
                    + boxCols + ": extents must be positive and boxes at most 256 per side");
        }
        if (pitch < cols) {
            throw new IllegalArgumentException("tensor map view with rows of " + cols + " elements " + pitch + " apart");
        }
    }

    /** A matrix whose rows lie back to back. */
    public TensorMapView(long rows, long cols, int boxRows, int boxCols, Swizzle swizzle) {
        this(rows, cols, cols, boxRows, boxCols, swizzle);
    }
}
