package dev.octet.compiler.cuda;

/** Java values written as CUDA literals that read back exactly. */
public final class CudaLiteral {
    private CudaLiteral() {}

    /** A float literal such as {@code 1.0E-5f}; Java prints the shortest decimal that reads back to the same float. */
    public static String f32(float value) {
        if (!Float.isFinite(value)) {
            throw new IllegalArgumentException("no CUDA literal for the non-finite float " + value);
        }
        return Float.toString(value) + "f";
    }
}
