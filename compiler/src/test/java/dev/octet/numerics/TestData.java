package dev.octet.numerics;

import java.util.SplittableRandom;

/** Random matrices shaped like training tensors: gaussian, rows of very different magnitude, a few outliers. */
final class TestData {
    private TestData() {}

    static float[] activations(int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            double rowScale = Math.scalb(1.0, random.nextInt(-12, 8));
            for (int c = 0; c < cols; c++) {
                double v = random.nextGaussian() * rowScale;
                if (random.nextInt(200) == 0) {
                    v *= 50; // outlier channels are what makes per-tensor scaling lose the small values
                }
                x[r * cols + c] = (float) v;
            }
        }
        return x;
    }

    static float[] uniform(int rows, int cols, double lo, double hi, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(lo, hi);
        }
        return x;
    }

    static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = x[r * cols + c];
            }
        }
        return t;
    }
}
