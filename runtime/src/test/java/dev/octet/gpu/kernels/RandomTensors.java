package dev.octet.gpu.kernels;

import dev.octet.numerics.Bf16;

import java.util.SplittableRandom;

/**
 * Seeded random inputs at the magnitudes training sees: activations ~N(0, 1), weights ~N(0, 0.02), gradients
 * ~N(0, 1e-3). Never zeros: a kernel that ignores its input, or reads the wrong one, must not pass by luck.
 * BF16 inputs are drawn already rounded to BF16, so the oracle sees exactly the numbers the device reads.
 */
public final class RandomTensors {
    public static final double ACTIVATION_STD = 1.0;
    public static final double WEIGHT_STD = 0.02;
    public static final double GRADIENT_STD = 1e-3;

    private final SplittableRandom random;

    public RandomTensors(long seed) {
        this.random = new SplittableRandom(seed);
    }

    public float[] gaussian(int n, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (std * nextGaussian());
        }
        return x;
    }

    public float[] activations(int n) {
        return gaussian(n, ACTIVATION_STD);
    }

    public float[] weights(int n) {
        return gaussian(n, WEIGHT_STD);
    }

    public float[] gradients(int n) {
        return gaussian(n, GRADIENT_STD);
    }

    /** Gaussian values rounded to BF16, returned as floats. */
    public float[] bf16Gaussian(int n, double std) {
        float[] x = gaussian(n, std);
        for (int i = 0; i < n; i++) {
            x[i] = Bf16.round(x[i]);
        }
        return x;
    }

    /** Uniform in [lo, hi). */
    public float[] uniform(int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * random.nextDouble());
        }
        return x;
    }

    /** Uniform in [0, bound). */
    public int[] ints(int n, int bound) {
        int[] x = new int[n];
        for (int i = 0; i < n; i++) {
            x[i] = random.nextInt(bound);
        }
        return x;
    }

    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    private double nextGaussian() {
        // Box-Muller from SplittableRandom, which (unlike java.util.Random) has no gaussian of its own here.
        double u1 = 1.0 - random.nextDouble(), u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }
}
