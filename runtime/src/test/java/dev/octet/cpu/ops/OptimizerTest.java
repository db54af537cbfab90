package dev.octet.cpu.ops;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class OptimizerTest {
    @Test
    void adamWFirstStepByHand() {
        // t=1, m=v=0, g=0.5: m=0.05, v=0.00025, m̂=0.5, v̂=0.25, update=0.5/(0.5+1e-8)≈1
        // p = 1 − 0.01·(1 + 0.1·1) = 0.989
        float[] p = {1f}, g = {0.5f}, m = {0f}, v = {0f};
        AdamW.step(p, g, m, v, 1, 0.01, 0.9, 0.999, 1e-8, 0.1);
        assertEquals(0.05f, m[0], 1e-8f); // float arithmetic: ~1e-7 relative
        assertEquals(0.00025f, v[0], 1e-10f);
        assertEquals(0.989f, p[0], 1e-7f);
    }

    @Test
    void adamWLaterStepWithStateByHand() {
        // t=3, p=−2, g=−1, m=0.1, v=0.02, lr=0.01, wd=0.1, β=(0.9, 0.999), eps=1e-8:
        // m = 0.09 − 0.1 = −0.01;  v = 0.01998 + 0.001 = 0.02098
        // m̂ = −0.01/(1 − 0.9³) = −0.01/0.271;  v̂ = 0.02098/(1 − 0.999³) = 0.02098/0.002997001
        // p = −2 − 0.01·(m̂/(√v̂ + 1e-8) + 0.1·(−2))
        float[] p = {-2f}, g = {-1f}, m = {0.1f}, v = {0.02f};
        AdamW.step(p, g, m, v, 3, 0.01, 0.9, 0.999, 1e-8, 0.1);
        double mHat = -0.01 / 0.271, vHat = 0.02098 / 0.002997001;
        double expected = -2 - 0.01 * (mHat / (Math.sqrt(vHat) + 1e-8) + 0.1 * -2);
        assertEquals(-0.01f, m[0], 1e-8f);
        assertEquals(0.02098f, v[0], 1e-8f);
        assertEquals(expected, p[0], 1e-6);
    }

    @Test
    void adamWWithoutDecayOrGradientLeavesParameterAlone() {
        float[] p = {3f}, g = {0f}, m = {0f}, v = {0f};
        AdamW.step(p, g, m, v, 1, 0.01, 0.9, 0.999, 1e-8, 0.0);
        assertEquals(3f, p[0]);
    }

    @Test
    void clippingScalesByGlobalNormOverAllArrays() {
        float[] a = {3f}, b = {0f, 4f};
        assertEquals(5.0, GradientClipping.globalNorm(a, b), 1e-12);
        assertEquals(5.0, GradientClipping.clip(1.0, a, b), 1e-12);
        assertArrayEquals(new float[] {0.6f}, a, 1e-7f);
        assertArrayEquals(new float[] {0f, 0.8f}, b, 1e-7f);
        assertEquals(1.0, GradientClipping.globalNorm(a, b), 1e-6);
    }

    @Test
    void clippingBelowMaxNormOrAtZeroLeavesGradientsAlone() {
        double[] a = {3, 4};
        assertEquals(5.0, GradientClipping.clip(10.0, a));
        assertArrayEquals(new double[] {3, 4}, a);
        double[] z = {0, 0};
        assertEquals(0.0, GradientClipping.clip(1.0, z));
        assertArrayEquals(new double[] {0, 0}, z);
    }
}
