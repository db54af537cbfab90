package dev.octet.cpu.ops;

/** Token embedding: {@code out[r, :] = table[ids[r], :]}, table {@code [vocab, dim]}, out {@code [rows, dim]}. */
public final class Embedding {
    private Embedding() {}

    public static void forward(double[] out, int[] ids, double[] table, int rows, int vocab, int dim, Rounding rounding) {
        Shapes.require(ids, rows, "ids");
        Shapes.require(table, (long) vocab * dim, "table");
        Shapes.require(out, (long) rows * dim, "out");
        for (int r = 0; r < rows; r++) {
            int id = ids[r];
            Shapes.check(id >= 0 && id < vocab, "token id " + id + " at row " + r + " outside [0, " + vocab + ")");
            System.arraycopy(table, id * dim, out, r * dim, dim);
        }
        rounding.apply(out, 0, rows * dim);
    }

    /** Scatter-adds {@code dout} rows into {@code dtable} (accumulated: repeated ids and tied weights add up). */
    public static void backward(double[] dtable, double[] dout, int[] ids, int rows, int vocab, int dim) {
        Shapes.require(dtable, (long) vocab * dim, "dtable");
        Shapes.require(dout, (long) rows * dim, "dout");
        for (int r = 0; r < rows; r++) {
            int t = ids[r] * dim, o = r * dim;
            for (int d = 0; d < dim; d++) dtable[t + d] += dout[o + d];
        }
    }
}
