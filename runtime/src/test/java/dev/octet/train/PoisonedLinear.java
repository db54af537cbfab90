package dev.octet.train;

import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.LinearKernel;
import dev.octet.cpu.ops.Rounding;

import java.util.function.LongPredicate;

/** How a test injects a fault: a policy's kernels, with one linear layer writing a NaN into chosen forward calls. */
final class PoisonedLinear {
    private PoisonedLinear() {}

    /**
     * {@code real}'s kernels, except that layer {@code linear}'s forward output gets a NaN in its first element on
     * the (0-based) forward calls {@code poisoned} accepts.
     */
    static GraphInterpreter.LinearPolicy policy(GraphInterpreter.LinearPolicy real, String linear, LongPredicate poisoned) {
        return l -> {
            LinearKernel k = real.kernelFor(l);
            if (!l.name().equals(linear)) {
                return k;
            }
            long[] calls = {0};
            return new LinearKernel() {
                @Override
                public void forward(double[] y, double[] x, double[] w, int m, int kk, int n) {
                    k.forward(y, x, w, m, kk, n);
                    if (poisoned.test(calls[0]++)) {
                        y[0] = Double.NaN;
                    }
                }

                @Override
                public void backwardInput(double[] dx, double[] dy, double[] w, int m, int kk, int n, Rounding rounding) {
                    k.backwardInput(dx, dy, w, m, kk, n, rounding);
                }

                @Override
                public void backwardWeight(double[] dw, double[] dy, double[] x, int m, int kk, int n) {
                    k.backwardWeight(dw, dy, x, m, kk, n);
                }
            };
        };
    }
}
