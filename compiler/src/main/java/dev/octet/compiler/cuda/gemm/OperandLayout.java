package dev.octet.compiler.cuda.gemm;

/**
 * How a GEMM operand sits in memory. The canonical problem is {@code C[M,N] = A[M,K] · B[N,K]ᵀ}; an operand
 * with R rows (M for A, N for B) is either stored {@code [R, K]} row-major ({@link #K_MAJOR}, K contiguous) or
 * {@code [K, R]} row-major ({@link #MN_MAJOR}, its rows contiguous). The second lets the backward GEMMs read
 * W, dY and X where they are, without a transpose kernel: dgrad {@code dX = dY·W} is A = dY K-major and
 * B = W [out, in] read as {@code [K, N]}, i.e. MN-major.
 */
public enum OperandLayout {
    /** {@code [rows, K]} row-major: element (r, k) at {@code r·K + k}. */
    K_MAJOR("k"),
    /** {@code [K, rows]} row-major: element (r, k) at {@code k·rows + r}. */
    MN_MAJOR("mn");

    private final String tag;

    OperandLayout(String tag) {
        this.tag = tag;
    }

    /** Short lower-case tag for kernel names. */
    String tag() {
        return tag;
    }
}
