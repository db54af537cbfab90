package dev.octet.numerics;

import java.util.stream.IntStream;

/**
 * The CPU oracle of the FP8 GEMM kernels: {@code C[M,N] = A[M,K] · B[N,K]ᵀ}, both operands quantized along K
 * (their reduction axis), with the accumulation order the H200 kernels use.
 *
 * <p><b>Accumulation model.</b> K is split into chunks; inside a chunk the products
 * {@code decode(a)·decode(b)} (exact in float32) are summed in float32 in increasing k; at the end of each
 * chunk the sum is multiplied by {@code sA·sB} (that product rounded to float32 first) and added into a float32
 * accumulator. This "promotion" is what keeps the tensor core's ~14-bit internal accumulation from costing
 * accuracy at large K (DeepSeek-V3); a float32 chunk sum is the ideal the kernel reaches.
 *
 * <p><b>Chunking rule.</b> A chunk must lie inside one scale tile of each operand, so
 * {@code chunk = gcd(128, wA, wB)}, where w is the operand's scale-tile width along K (g for a group, b for a
 * block), left out when one tile spans all of K (tensor, channel, token). Tile boundaries are multiples of w,
 * hence of the chunk; the last chunk may be partial, exactly where a partial tail tile is. 1×128 × 128×128
 * gives 128; a group of 64 gives 64.
 *
 * <p>Output is float32; the caller rounds with {@link Bf16} where the GPU stores BF16.
 */
public final class Fp8Gemm {
    /** The K extent of one WGMMA promotion step in the kernels. */
    public static final int MAX_CHUNK = 128;

    private Fp8Gemm() {}

    public static float[] multiply(QuantizedMatrix a, QuantizedMatrix b) {
        int k = checkOperands(a, b);
        int m = a.rows();
        int n = b.rows();
        int chunk = chunkSize(a, b);
        float[] aValues = a.decodeUnscaled();
        float[] bValues = b.decodeUnscaled();
        ScaleGrid aGrid = a.grid();
        ScaleGrid bGrid = b.grid();
        float[] aScales = a.scales();
        float[] bScales = b.scales();
        float[] c = new float[m * n];
        IntStream.range(0, m).parallel().forEach(i -> {
            int aRow = i * k;
            for (int j = 0; j < n; j++) {
                int bRow = j * k;
                float acc = 0;
                for (int k0 = 0; k0 < k; k0 += chunk) {
                    int k1 = Math.min(k0 + chunk, k);
                    float partial = 0;
                    for (int kk = k0; kk < k1; kk++) {
                        partial += aValues[aRow + kk] * bValues[bRow + kk];
                    }
                    float scale = aScales[aGrid.scaleIndex(i, k0)] * bScales[bGrid.scaleIndex(j, k0)];
                    acc += partial * scale;
                }
                c[i * n + j] = acc;
            }
        });
        return c;
    }

    /** The promotion chunk along K for these operands (see the class doc). */
    public static int chunkSize(QuantizedMatrix a, QuantizedMatrix b) {
        checkOperands(a, b);
        return chunkSize(a.grid(), b.grid());
    }

    /**
     * The promotion chunk for operands with these scale grids (both {@code [rows, K]}), so that a kernel
     * generator can apply the same rule without the data.
     */
    public static int chunkSize(ScaleGrid a, ScaleGrid b) {
        if (a.cols() != b.cols()) {
            throw new IllegalArgumentException("K mismatch: A grid " + a + ", B grid " + b);
        }
        int k = a.cols();
        int chunk = MAX_CHUNK;
        for (ScaleGrid grid : new ScaleGrid[] {a, b}) {
            int width = grid.tileWidthAlongCols();
            if (width < k) {
                chunk = gcd(chunk, width);
            }
        }
        return chunk;
    }

    private static int checkOperands(QuantizedMatrix a, QuantizedMatrix b) {
        if (a.cols() != b.cols()) {
            throw new IllegalArgumentException("K mismatch: A is " + a.rows() + "x" + a.cols() + ", B is "
                    + b.rows() + "x" + b.cols());
        }
        for (QuantizedMatrix q : new QuantizedMatrix[] {a, b}) {
            if (q.axis() != Axis.COLS && !(q.granularity() instanceof Granularity.Tensor)
                    && !(q.granularity() instanceof Granularity.Block)) {
                throw new IllegalArgumentException("GEMM operands must be quantized along K (Axis.COLS): " + q);
            }
        }
        return a.cols();
    }

    private static int gcd(int x, int y) {
        return y == 0 ? x : gcd(y, x % y);
    }
}
