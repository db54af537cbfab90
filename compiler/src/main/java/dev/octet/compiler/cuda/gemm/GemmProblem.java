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
 *
 * <p>Each matrix lies row-major as its layout says, its rows {@link Pitches pitched}: back to back unless a buffer
 * pads them (the LM head's logits over an odd vocabulary are padded to whole 16 bytes, so that TMA can read them).
 */
public record GemmProblem(int m, int n, int k, GemmOperand a, GemmOperand b, GemmEpilogue epilogue, Pitches pitches) {
    /** Elements from one row of A, B and C, as each lies in memory, to the next: at least the row's extent. */
    public record Pitches(int a, int b, int c) {}

    public GemmProblem {
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        Objects.requireNonNull(epilogue, "epilogue");
        Objects.requireNonNull(pitches, "pitches");
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("GEMM extents must be positive: M=" + m + " N=" + n + " K=" + k);
        }
        if ((a instanceof GemmOperand.Fp8) != (b instanceof GemmOperand.Fp8)) {
            throw new IllegalArgumentException("GEMM operands must both be FP8 or both BF16: A is "
                    + a.dtype().irName() + ", B is " + b.dtype().irName());
        }
        Pitches rows = rowExtents(m, n, k, a, b);
        if (pitches.a() < rows.a() || pitches.b() < rows.b() || pitches.c() < rows.c()) {
            throw new IllegalArgumentException("GEMM row pitches " + pitches + " below the rows' extents " + rows);
        }
        if (epilogue.residual() && pitches.c() != n) {
            throw new IllegalArgumentException("a residual is read at C's positions: C's rows cannot be padded ("
                    + pitches.c() + " for N=" + n + ")");
        }
    }

    /** A problem whose matrices lie with their rows back to back. */
    public GemmProblem(int m, int n, int k, GemmOperand a, GemmOperand b, GemmEpilogue epilogue) {
        this(m, n, k, a, b, epilogue, rowExtents(m, n, k, a, b));
    }

    /** The contiguous extent of a row of each matrix as it lies: K or the operand's rows, and N. */
    private static Pitches rowExtents(int m, int n, int k, GemmOperand a, GemmOperand b) {
        return new Pitches(layoutOf(a) == OperandLayout.K_MAJOR ? k : m, layoutOf(b) == OperandLayout.K_MAJOR ? k : n, n);
    }

    /** FP8 operands are always K-major (what the FP8 tensor cores read). */
    static OperandLayout layoutOf(GemmOperand operand) {
        return operand instanceof GemmOperand.Bf16 bf16 ? bf16.layout() : OperandLayout.K_MAJOR;
    }

    /** Whether every matrix lies with its rows back to back. */
    public boolean dense() {
        return pitches.equals(rowExtents(m, n, k, a, b));
    }

    /** This problem over matrices whose rows lie {@code pitches} apart. */
    public GemmProblem withPitches(Pitches newPitches) {
        return new GemmProblem(m, n, k, a, b, epilogue, newPitches);
    }

    /** Name fragment for padded rows: empty when dense, else e.g. {@code _lda50264_ldc50264}. */
    String pitchTag() {
        Pitches dense = rowExtents(m, n, k, a, b);
        return (pitches.a() != dense.a() ? "_lda" + pitches.a() : "") + (pitches.b() != dense.b() ? "_ldb" + pitches.b() : "")
                + (pitches.c() != dense.c() ? "_ldc" + pitches.c() : "");
    }

    /** FP8 operands as a quantize kernel without a transpose writes them (scales row-major). */
    public static GemmProblem fp8(int m, int n, int k, Fp8Format aFormat, Granularity aGranularity,
                                  Fp8Format bFormat, Granularity bGranularity, GemmEpilogue epilogue) {
        return fp8(m, n, k, new GemmOperand.Fp8(aFormat, aGranularity, false), new GemmOperand.Fp8(bFormat, bGranularity, false),
                epilogue);
    }

    public static GemmProblem fp8(int m, int n, int k, GemmOperand.Fp8 a, GemmOperand.Fp8 b, GemmEpilogue epilogue) {
        return new GemmProblem(m, n, k, a, b, epilogue);
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
        return new GemmProblem(m, n, k, a, b, newEpilogue, pitches);
    }
}
