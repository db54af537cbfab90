package dev.octet.compiler.cuda.gemm;

import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import java.util.Objects;

/**
 * One GEMM, in canonical form {@code C[M,N] = A[M,K] · B[N,K]ᵀ} followed by an {@link GemmEpilogue}. Shapes
 * are compile-time constants of the kernel. Both operands are BF16 or both are FP8 (E4M3 and E5M2 may mix,
 * e.g. an E5M2 gradient times an E4M3 weight).
 *
 * <p>The three GEMMs of a linear layer {@code Y[T,out] = X[T,in]·W[out,in]ᵀ}:
 * <ul>
 *   <li>fprop: M=T, N=out, K=in; A = X, B = W.
 *   <li>dgrad: M=T, N=in, K=out; A = dY, B = Wᵀ (FP8: a transposed copy; BF16: W itself, {@link OperandLayout#MN_MAJOR}).
 *   <li>wgrad: M=out, N=in, K=T; A = dYᵀ, B = Xᵀ (FP8: transposed copies grouped along T; BF16: dY and X
 *       themselves, both MN-major).
 * </ul>
 */
public record GemmProblem(int m, int n, int k, GemmOperand a, GemmOperand b, GemmEpilogue epilogue) {
    public GemmProblem {
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        Objects.requireNonNull(epilogue, "epilogue");
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("GEMM extents must be positive: M=" + m + " N=" + n + " K=" + k);
        }
        if ((a instanceof GemmOperand.Fp8) != (b instanceof GemmOperand.Fp8)) {
            throw new IllegalArgumentException("GEMM operands must both be FP8 or both BF16: A is "
                    + a.dtype().irName() + ", B is " + b.dtype().irName());
        }
    }

    public static GemmProblem fp8(int m, int n, int k, Fp8Format aFormat, Granularity aGranularity,
                                  Fp8Format bFormat, Granularity bGranularity, GemmEpilogue epilogue) {
        return new GemmProblem(m, n, k, GemmOperand.fp8(aFormat, aGranularity), GemmOperand.fp8(bFormat, bGranularity),
                epilogue);
    }

    public static GemmProblem bf16(int m, int n, int k, OperandLayout aLayout, OperandLayout bLayout,
                                   GemmEpilogue epilogue) {
        return new GemmProblem(m, n, k, GemmOperand.bf16(aLayout), GemmOperand.bf16(bLayout), epilogue);
    }

    public boolean isFp8() {
        return a instanceof GemmOperand.Fp8;
    }

    /** Multiply-adds times two. */
    public double flops() {
        return 2.0 * m * n * k;
    }

    public GemmProblem withEpilogue(GemmEpilogue newEpilogue) {
        return new GemmProblem(m, n, k, a, b, newEpilogue);
    }
}
