package dev.octet.cpu.decode;

/**
 * The keys (after RoPE) and values of one attention op for every position fed so far, laid out
 * {@code [position, kvHeads, headDim]} as the full forward pass lays out its k and v rows.
 */
final class KvCache {
    final double[] keys;
    final double[] values;
    private final int rowWidth;
    private int length;

    KvCache(int maxSeq, int kvHeads, int headDim) {
        this.rowWidth = kvHeads * headDim;
        this.keys = new double[maxSeq * rowWidth];
        this.values = new double[maxSeq * rowWidth];
    }

    int length() {
        return length;
    }

    /** Appends {@code rows} positions of k and v, each {@code [rows, kvHeads, headDim]}. */
    void append(double[] k, double[] v, int rows) {
        if ((long) (length + rows) * rowWidth > keys.length) {
            throw new IllegalArgumentException("the context holds max_seq = " + keys.length / rowWidth + " positions; "
                    + (length + rows) + " asked for");
        }
        System.arraycopy(k, 0, keys, length * rowWidth, rows * rowWidth);
        System.arraycopy(v, 0, values, length * rowWidth, rows * rowWidth);
        length += rows;
    }

    void clear() {
        length = 0;
    }
}
