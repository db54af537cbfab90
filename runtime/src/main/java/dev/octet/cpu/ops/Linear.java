package dev.octet.cpu.ops;

/**
 * Linear layer, the BF16 GEMM path: {@code y[M,N] = x[M,K] · W[N,K]ᵀ (+ bias[N])}, W stored as PyTorch stores it.
 * Backward: {@code dx = dy·W} (dgrad, written), {@code dW += dyᵀ·x} (wgrad, accumulated),
 * {@code db += colsum(dy)} (accumulated). Under {@code Rounding.GPU} y and dx are rounded to BF16 once, after the
 * full-precision accumulation (the GPU's FP32 accumulator); dW and db stay unrounded (FP32 on the GPU).
 *
 * <p>All three GEMMs go through one kernel, {@link #matmulAdd}, in i-k-j order so the innermost loop is an
 * axpy over contiguous rows that the JIT vectorizes; operands are transposed first where needed.
 */
public final class Linear {
    private Linear() {}

    // Tile sizes: a KB×NB tile of B (256 KiB) stays in L2 while ROWS rows of A sweep over it.
    private static final int ROWS = 16, KB = 128, NB = 256;

    public static void forward(double[] y, double[] x, double[] w, int m, int k, int n, Rounding rounding) {
        checkShapes(x, w, m, k, n);
        Shapes.require(y, (long) m * n, "y");
        java.util.Arrays.fill(y, 0, m * n, 0.0);
        matmulAdd(y, x, transpose(w, n, k), m, k, n);
        rounding.apply(y, 0, m * n);
    }

    public static void forward(double[] y, double[] x, double[] w, double[] bias, int m, int k, int n,
                               Rounding rounding) {
        checkShapes(x, w, m, k, n);
        Shapes.require(y, (long) m * n, "y");
        Shapes.require(bias, n, "bias");
        for (int i = 0; i < m; i++) System.arraycopy(bias, 0, y, i * n, n);
        matmulAdd(y, x, transpose(w, n, k), m, k, n);
        rounding.apply(y, 0, m * n);
    }

    /** dx written, dw accumulated. */
    public static void backward(double[] dx, double[] dw, double[] dy, double[] x, double[] w, int m, int k, int n,
                                Rounding rounding) {
        backwardInput(dx, dy, w, m, k, n, rounding);
        backwardWeight(dw, dy, x, m, k, n);
    }

    /** dx written, dw and dbias accumulated. */
    public static void backward(double[] dx, double[] dw, double[] dbias, double[] dy, double[] x, double[] w, int m,
                                int k, int n, Rounding rounding) {
        backward(dx, dw, dy, x, w, m, k, n, rounding);
        backwardBias(dbias, dy, m, n);
    }

    /** dgrad: {@code dx[M,K] = dy[M,N]·W[N,K]}, written. */
    public static void backwardInput(double[] dx, double[] dy, double[] w, int m, int k, int n, Rounding rounding) {
        Shapes.require(dx, (long) m * k, "dx");
        Shapes.require(dy, (long) m * n, "dy");
        Shapes.require(w, (long) n * k, "w");
        java.util.Arrays.fill(dx, 0, m * k, 0.0);
        matmulAdd(dx, dy, w, m, n, k);
        rounding.apply(dx, 0, m * k);
    }

    /** wgrad: {@code dW[N,K] += dy[M,N]ᵀ·x[M,K]}. */
    public static void backwardWeight(double[] dw, double[] dy, double[] x, int m, int k, int n) {
        Shapes.require(dw, (long) n * k, "dw");
        Shapes.require(dy, (long) m * n, "dy");
        Shapes.require(x, (long) m * k, "x");
        matmulAdd(dw, transpose(dy, m, n), x, n, m, k);
    }

    /** {@code dbias[N] += Σ_rows dy}. */
    public static void backwardBias(double[] dbias, double[] dy, int m, int n) {
        Shapes.require(dbias, n, "dbias");
        for (int i = 0; i < m; i++) {
            int o = i * n;
            for (int j = 0; j < n; j++) dbias[j] += dy[o + j];
        }
    }

    /**
     * {@code c[M,N] += a[M,K] · b[K,N]}, all row-major. Parallel over blocks of rows of c; the order in which each
     * c element sums its products depends only on k, never on the thread split, so results are deterministic.
     */
    static void matmulAdd(double[] c, double[] a, double[] b, int m, int k, int n) {
        int blocks = (m + ROWS - 1) / ROWS;
        Parallel.forEach(blocks, block -> {
            int m0 = block * ROWS, m1 = Math.min(m, m0 + ROWS);
            for (int n0 = 0; n0 < n; n0 += NB) {
                int n1 = Math.min(n, n0 + NB);
                for (int k0 = 0; k0 < k; k0 += KB) {
                    int k1 = Math.min(k, k0 + KB);
                    for (int i = m0; i < m1; i++) rowTile(c, a, b, i, k, n, k0, k1, n0, n1);
                }
            }
        });
    }

    /** c[i, n0:n1] += a[i, k0:k1] · b[k0:k1, n0:n1], four k at a time so each c load/store serves four products. */
    private static void rowTile(double[] c, double[] a, double[] b, int i, int k, int n, int k0, int k1, int n0,
                                int n1) {
        int co = i * n, ao = i * k;
        int kk = k0;
        for (; kk + 3 < k1; kk += 4) {
            double a0 = a[ao + kk], a1 = a[ao + kk + 1], a2 = a[ao + kk + 2], a3 = a[ao + kk + 3];
            int b0 = kk * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
            for (int j = n0; j < n1; j++) {
                c[co + j] += a0 * b[b0 + j] + a1 * b[b1 + j] + a2 * b[b2 + j] + a3 * b[b3 + j];
            }
        }
        for (; kk < k1; kk++) {
            double a0 = a[ao + kk];
            int b0 = kk * n;
            for (int j = n0; j < n1; j++) c[co + j] += a0 * b[b0 + j];
        }
    }

    /** {@code a[rows, cols]} → {@code [cols, rows]}. */
    static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        }
        return t;
    }

    private static void checkShapes(double[] x, double[] w, int m, int k, int n) {
        Shapes.require(x, (long) m * k, "x");
        Shapes.require(w, (long) n * k, "w");
    }
}
