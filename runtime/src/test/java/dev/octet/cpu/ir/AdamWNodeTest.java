package dev.octet.cpu.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.octet.compiler.cuda.optim.AdamWScalarSlot;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.TensorType;
import dev.octet.compiler.ir.Value;
import dev.octet.cpu.ops.AdamW;
import dev.octet.numerics.Bf16;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The IR's AdamW node is the reference AdamW, bit for bit, given the same gradient and clip factor. */
class AdamWNodeTest {
    @ParameterizedTest
    @ValueSource(floats = {1f, 0.37f})
    void matchesTheReferenceUpdate(float clip) {
        int n = 300, t = 3;
        double lr = 2e-3, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, wd = 0.1;
        SplittableRandom r = new SplittableRandom(4);
        float[] p = new float[n], g = new float[n], m = new float[n], v = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = (float) (r.nextDouble() - 0.5);
            g[i] = (float) ((r.nextDouble() - 0.5) * 1e-2);
            m[i] = (float) ((r.nextDouble() - 0.5) * 1e-3);
            v[i] = (float) (r.nextDouble() * 1e-5);
        }
        Value param = value(0, "w", DType.F32, Storage.PARAMETER, n);
        Value grad = value(1, "grad.w", DType.F32, Storage.GRADIENT, n);
        Value mv = value(2, "adam_m.w", DType.F32, Storage.OPTIMIZER_STATE, n);
        Value vv = value(3, "adam_v.w", DType.F32, Storage.OPTIMIZER_STATE, n);
        Value scalars = value(4, "step_scalars", DType.F32, Storage.INPUT, AdamWScalarSlot.count());
        Value shadow = value(6, "w.bf16", DType.BF16, Storage.SHADOW, n);
        ValueBuffers buffers = new ValueBuffers();
        buffers.put(param, doubles(p));
        buffers.put(grad, doubles(g));
        buffers.put(mv, doubles(m));
        buffers.put(vv, doubles(v));
        double[] s = new double[AdamWScalarSlot.count()];
        s[AdamWScalarSlot.LEARNING_RATE.index()] = (float) lr;
        s[AdamWScalarSlot.BIAS_CORRECTION1.index()] = AdamW.biasCorrection(beta1, t);
        s[AdamWScalarSlot.BIAS_CORRECTION2.index()] = AdamW.biasCorrection(beta2, t);
        s[AdamWScalarSlot.CLIP_FACTOR.index()] = clip;
        buffers.put(scalars, s);
        new NodeExecutor().execute(new Node(0, new Operator.AdamWUpdate("w", n, beta1, beta2, eps, wd, true),
                List.of(param, grad, mv, vv, scalars), List.of(param, mv, vv, grad, shadow), Phase.OPTIMIZER), buffers);

        float[] clipped = new float[n];
        for (int i = 0; i < n; i++) {
            clipped[i] = g[i] * clip;
        }
        AdamW.step(p, clipped, m, v, t, lr, beta1, beta2, eps, wd);
        double[] bf16 = new double[n];
        for (int i = 0; i < n; i++) {
            bf16[i] = Bf16.round(p[i]);
        }
        assertArrayEquals(doubles(p), buffers.get(param));
        assertArrayEquals(doubles(m), buffers.get(mv));
        assertArrayEquals(doubles(v), buffers.get(vv));
        assertArrayEquals(new double[n], buffers.get(grad));
        assertArrayEquals(bf16, buffers.get(shadow));
    }

    @Test
    void aNonFiniteGradientNormOrLossSetsTheSkipSlotAndAdamWChangesNothing() {
        int n = 8;
        Value param = value(0, "w", DType.F32, Storage.PARAMETER, n);
        Value grad = value(1, "grad.w", DType.F32, Storage.GRADIENT, n);
        Value mv = value(2, "adam_m.w", DType.F32, Storage.OPTIMIZER_STATE, n);
        Value vv = value(3, "adam_v.w", DType.F32, Storage.OPTIMIZER_STATE, n);
        Value scalars = value(4, "step_scalars", DType.F32, Storage.INPUT, AdamWScalarSlot.count());
        Value norm = value(5, "grad_norm", DType.F32, Storage.OUTPUT, 1);
        Value shadow = value(6, "w.bf16", DType.BF16, Storage.SHADOW, n);
        Value loss = value(7, "loss", DType.F32, Storage.OUTPUT, 1);
        double[] p = {0.5, -0.25, 0.125, 1, -1, 2, -2, 0.75};
        double[] g = {1e-3, 2e-3, Double.NaN, 0, 0, 0, 0, 1e-3};
        ValueBuffers buffers = new ValueBuffers();
        buffers.put(param, p);
        buffers.put(grad, g);
        buffers.put(mv, new double[n]);
        buffers.put(vv, new double[n]);
        double[] s = new double[AdamWScalarSlot.count()];
        s[AdamWScalarSlot.LEARNING_RATE.index()] = 1e-2;
        s[AdamWScalarSlot.BIAS_CORRECTION1.index()] = 0.1;
        s[AdamWScalarSlot.BIAS_CORRECTION2.index()] = 0.05;
        buffers.put(scalars, s);
        buffers.put(loss, new double[] {2.5});
        NodeExecutor executor = new NodeExecutor();
        executor.execute(new Node(0, new Operator.GradientNorm(1.0, 1), List.of(grad, loss), List.of(norm, scalars),
                Phase.OPTIMIZER), buffers);
        assertEquals(1.0, buffers.get(scalars)[AdamWScalarSlot.SKIP.index()]);
        executor.execute(new Node(1, new Operator.AdamWUpdate("w", n, 0.9, 0.95, 1e-8, 0.1, true),
                List.of(param, grad, mv, vv, scalars), List.of(param, mv, vv, grad, shadow), Phase.OPTIMIZER), buffers);
        assertArrayEquals(p, buffers.get(param));
        assertArrayEquals(new double[n], buffers.get(mv));
        assertArrayEquals(new double[n], buffers.get(vv));
        assertTrue(Double.isNaN(buffers.get(grad)[2]), "the gradient stays for the host to name");
        assertArrayEquals(p, buffers.get(shadow), "these weights are exact in BF16");

        buffers.put(grad, new double[] {3, 4, 0, 0, 0, 0, 0, 0});
        executor.execute(new Node(2, new Operator.GradientNorm(1.0, 1), List.of(grad, loss), List.of(norm, scalars),
                Phase.OPTIMIZER), buffers);
        assertEquals(0.0, buffers.get(scalars)[AdamWScalarSlot.SKIP.index()]);
        assertEquals(5.0, buffers.get(norm)[0]);
        assertEquals(0.2, buffers.get(scalars)[AdamWScalarSlot.CLIP_FACTOR.index()], 1e-7);

        // A non-finite loss with finite gradients skips the update too: the device decides, the host reads it after.
        buffers.put(loss, new double[] {Double.POSITIVE_INFINITY});
        executor.execute(new Node(3, new Operator.GradientNorm(1.0, 1), List.of(grad, loss), List.of(norm, scalars),
                Phase.OPTIMIZER), buffers);
        assertEquals(1.0, buffers.get(scalars)[AdamWScalarSlot.SKIP.index()]);
        assertEquals(5.0, buffers.get(norm)[0]);
    }

    private static Value value(int id, String name, DType dtype, Storage storage, int n) {
        return new Value(id, name, TensorType.of(dtype, n), storage);
    }

    private static double[] doubles(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
