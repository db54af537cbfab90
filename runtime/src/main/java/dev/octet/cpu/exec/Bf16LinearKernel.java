package dev.octet.cpu.exec;

import dev.octet.cpu.ops.Linear;
import dev.octet.cpu.ops.Rounding;

/** Linear layers kept in BF16: inputs are BF16 values, products accumulate in high precision. */
public final class Bf16LinearKernel implements LinearKernel {
    @Override
    public void forward(double[] y, double[] x, double[] w, int m, int k, int n) {
        Linear.forward(y, x, w, m, k, n, Rounding.EXACT);
    }

    @Override
    public void backwardInput(double[] dx, double[] dy, double[] w, int m, int k, int n, Rounding rounding) {
        Linear.backwardInput(dx, dy, w, m, k, n, rounding);
    }

    @Override
    public void backwardWeight(double[] dw, double[] dy, double[] x, int m, int k, int n) {
        Linear.backwardWeight(dw, dy, x, m, k, n);
    }
}
