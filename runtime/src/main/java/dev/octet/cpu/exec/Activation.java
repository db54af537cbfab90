package dev.octet.cpu.exec;

/** A value of the forward pass, [rows, cols] row-major, and its gradient once backward reaches it. */
final class Activation {
    final double[] data;
    final int rows;
    final int cols;
    double[] grad;

    Activation(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
        this.data = new double[rows * cols];
    }

    /** Adds {@code g} into this value's gradient (a value read by several ops gets the sum). */
    void accumulate(double[] g) {
        if (grad == null) {
            grad = g.clone();
            return;
        }
        for (int i = 0; i < g.length; i++) {
            grad[i] += g[i];
        }
    }
}
