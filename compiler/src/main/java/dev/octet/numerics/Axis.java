package dev.octet.numerics;

/**
 * The axis of a row-major {@code [rows, cols]} matrix that quantization groups run along: the GEMM's
 * reduction axis for this operand. Activations {@code X[tokens, channels]} in fprop reduce along
 * {@link #COLS} (1×128 groups over channels); the wgrad GEMM {@code dW = dYᵀ·X} reduces over tokens, so the
 * same tensors are quantized a second time along {@link #ROWS} (128×1 groups down each channel).
 */
public enum Axis {
    /** Groups run along a row: consecutive columns of one row (the contiguous axis). */
    COLS,
    /** Groups run down a column: consecutive rows of one column. */
    ROWS
}
