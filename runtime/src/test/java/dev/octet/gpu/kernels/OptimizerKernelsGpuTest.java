package dev.octet.gpu.kernels;

import dev.octet.compiler.cuda.optim.AdamWHyperparameters;
import dev.octet.compiler.cuda.optim.AdamWScalarSlot;
import dev.octet.compiler.cuda.MultiTensorKernel;
import dev.octet.compiler.cuda.optim.AdamWStep;
import dev.octet.compiler.cuda.optim.GradNormFinalize;
import dev.octet.compiler.cuda.optim.GradNormPlan;
import dev.octet.compiler.cuda.optim.GradSquareSum;
import dev.octet.compiler.ir.DType;
import dev.octet.cpu.ops.AdamW;
import dev.octet.cpu.ops.GradientClipping;
import dev.octet.numerics.Bf16;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

/**
 * Gradient norm, clip factor and AdamW against {@code GradientClipping} and {@code AdamW}. AdamW is bit for
 * bit: the kernel performs the oracle's float operations in the oracle's order with explicit rounding, and is
 * given gradients scaled exactly as it scales them. The norm's partials are rounded to FP32 before the double
 * sum, so it is within a few FP32 ulps of the oracle's all-double sum.
 */
@GpuKernelTest
class OptimizerKernelsGpuTest {
    private static final double NORM_BOUND = 1e-6;

    /** Sizes of the tiny model's parameters (embedding, q, kv, o, ffn up/gate/down, norm) and a ragged one. */
    private static final List<Integer> GRADIENT_SIZES = List.of(4096 * 128, 256 * 128, 128 * 128, 128 * 256,
            384 * 128, 128 * 384, 128, 100_003);

    @ParameterizedTest(name = "max norm {0}")
    @CsvSource({"0.05", "1000"}) // clipping, and a norm far below the limit (factor exactly 1)
    void gradientNormAndClipFactorMatchTheOracle(double maxNorm) {
        RandomTensors random = new RandomTensors(31);
        GradNormPlan plan = new GradNormPlan(GRADIENT_SIZES, maxNorm);
        List<float[]> grads = new ArrayList<>();
        for (int n : GRADIENT_SIZES) {
            grads.add(random.gradients(n));
        }
        GradNormFinalize finalizer = plan.finalizer();
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.output("partials", DType.F32, plan.partialCount())
                    .input("loss", HostArray.f32(new float[] {2.5f}))  // the step's summed loss, finite
                    .output("grad_norm", DType.F32, 1)
                    .output("clip_factor", DType.F32, 1)
                    .output("skip", DType.F32, 1);
            for (int i = 0; i < grads.size(); i++) {
                ws.input("grad" + i, HostArray.f32(grads.get(i)));
            }
            float[] firstNorm = null;
            for (int run = 0; run < 3; run++) {
                ws.poison("partials").poison("grad_norm").poison("clip_factor").poison("skip");
                List<GradSquareSum> sums = plan.squareSums();
                for (int i = 0; i < sums.size(); i++) {
                    ws.launch(sums.get(i).emit(), DeviceWorkspace.Binding.buffer("grad", "grad" + i),
                            DeviceWorkspace.Binding.buffer("partials", "partials", plan.firstSlot(i)));
                }
                ws.launch(finalizer.emit());
                if (firstNorm == null) {
                    firstNorm = ws.f32("grad_norm");
                    double norm = GradientClipping.globalNorm(grads.toArray(float[][]::new));
                    Accuracy.relative(finalizer.kernelName() + " norm", firstNorm[0], norm, NORM_BOUND);
                    Accuracy.relative(finalizer.kernelName() + " clip factor (max norm " + maxNorm + ")",
                            ws.f32("clip_factor")[0], GradientClipping.scale(maxNorm, norm), NORM_BOUND);
                    Accuracy.bitExact(finalizer.kernelName() + " skip flag of a finite norm", ws.f32("skip"), new float[] {0f});
                } else {
                    Accuracy.bitExact(finalizer.kernelName() + " norm, run " + (run + 1), ws.f32("grad_norm"), firstNorm);
                }
            }
        }
    }

    /** The square sums of all buffers in one launch write the partials each buffer's own launch writes, bit for bit. */
    @Test
    void batchedSquareSumsWriteEachBuffersOwnPartials() {
        RandomTensors random = new RandomTensors(34);
        GradNormPlan plan = new GradNormPlan(GRADIENT_SIZES, 1.0);
        List<GradSquareSum> sums = plan.squareSums();
        var batched = sums.getFirst().batch(sums);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.output("single", DType.F32, plan.partialCount()).output("batched", DType.F32, plan.partialCount());
            List<DeviceWorkspace.Binding> bindings = new ArrayList<>();
            for (int i = 0; i < sums.size(); i++) {
                ws.input("grad" + i, HostArray.f32(random.gradients(GRADIENT_SIZES.get(i))));
                ws.launch(sums.get(i).emit(), DeviceWorkspace.Binding.buffer("grad", "grad" + i),
                        DeviceWorkspace.Binding.buffer("partials", "single", plan.firstSlot(i)));
                bindings.add(DeviceWorkspace.Binding.buffer(MultiTensorKernel.memberParam("grad", i), "grad" + i));
                bindings.add(DeviceWorkspace.Binding.buffer(MultiTensorKernel.memberParam("partials", i), "batched",
                        plan.firstSlot(i)));
            }
            ws.poison("batched");
            ws.launch(batched.emit(), bindings.toArray(DeviceWorkspace.Binding[]::new));
            Accuracy.bitExact(batched.kernelName() + " partials", ws.f32("batched"), ws.f32("single"));
        }
    }

    /**
     * AdamW over buffers of ragged sizes (a tail of 3, buffers shorter than a block, the tiny model's embedding) in one
     * launch: every buffer exactly as the oracle updates it, its gradient zeroed, its BF16 copy written.
     */
    @ParameterizedTest(name = "moments {0}, bf16 shadow {1}")
    @CsvSource({"F32, true", "BF16, false"})
    void batchedAdamWIsBitExactForEveryBuffer(DType momentType, boolean bf16Shadow) {
        List<Integer> sizes = List.of(100_003, 768, 5, 524_288, 3, 1024);
        AdamWHyperparameters hyper = AdamWHyperparameters.llmDefaults();
        List<AdamWStep> members = sizes.stream().map(n -> new AdamWStep(n, hyper, true, momentType, bf16Shadow)).toList();
        var batched = members.getFirst().batch(members);
        int t = 4;
        double lr = 2e-4;
        float[] scalars = hyper.scalarsForStep(t, lr, 0.6f);
        RandomTensors random = new RandomTensors(35);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("scalars", HostArray.f32(scalars));
            List<float[][]> inputs = new ArrayList<>();
            for (int i = 0; i < sizes.size(); i++) {
                int n = sizes.get(i);
                float[][] pgmv = moments(random, n, momentType);
                inputs.add(pgmv);
                ws.input(MultiTensorKernel.memberParam("param", i), HostArray.f32(pgmv[0]))
                        .input(MultiTensorKernel.memberParam("grad", i), HostArray.f32(pgmv[1]))
                        .input(MultiTensorKernel.memberParam("m", i), momentType == DType.BF16 ? HostArray.bf16(pgmv[2]) : HostArray.f32(pgmv[2]))
                        .input(MultiTensorKernel.memberParam("v", i), momentType == DType.BF16 ? HostArray.bf16(pgmv[3]) : HostArray.f32(pgmv[3]));
                if (bf16Shadow) {
                    ws.output(MultiTensorKernel.memberParam("param_bf16", i), DType.BF16, n);
                }
            }
            ws.launch(batched.emit());
            for (int i = 0; i < sizes.size(); i++) {
                float[][] want = oracle(inputs.get(i), scalars, t, lr, hyper, true);
                String name = batched.kernelName() + " buffer " + i + " (" + sizes.get(i) + " elements)";
                Accuracy.bitExact(name + " param", ws.f32(MultiTensorKernel.memberParam("param", i)), want[0]);
                Accuracy.bitExact(name + " grad zeroed", ws.f32(MultiTensorKernel.memberParam("grad", i)), new float[sizes.get(i)]);
                if (momentType == DType.BF16) {
                    Accuracy.bitExact(name + " m", ws.bf16Bits(MultiTensorKernel.memberParam("m", i)), bf16Bits(want[2]));
                    Accuracy.bitExact(name + " v", ws.bf16Bits(MultiTensorKernel.memberParam("v", i)), bf16Bits(want[3]));
                } else {
                    Accuracy.bitExact(name + " m", ws.f32(MultiTensorKernel.memberParam("m", i)), want[2]);
                    Accuracy.bitExact(name + " v", ws.f32(MultiTensorKernel.memberParam("v", i)), want[3]);
                }
                if (bf16Shadow) {
                    Accuracy.bitExact(name + " bf16 shadow", ws.bf16Bits(MultiTensorKernel.memberParam("param_bf16", i)),
                            bf16Bits(want[0]));
                }
            }
        }
    }

    /** Weights, gradients and moments as after a few steps (v non-negative), moments rounded to BF16 where stored so. */
    private static float[][] moments(RandomTensors random, int n, DType momentType) {
        float[] param = random.weights(n), grad = random.gradients(n), m = random.gradients(n), v = random.gradients(n);
        for (int i = 0; i < n; i++) {
            v[i] = v[i] * v[i];
        }
        if (momentType == DType.BF16) {
            m = roundToBf16(m);
            v = roundToBf16(v);
        }
        return new float[][] {param, grad, m, v};
    }

    /** The oracle's param, grad (unchanged), m and v after one step, the gradient scaled as the kernel scales it. */
    private static float[][] oracle(float[][] pgmv, float[] scalars, int t, double lr, AdamWHyperparameters hyper, boolean decay) {
        float clipFactor = scalars[AdamWScalarSlot.CLIP_FACTOR.index()];
        float[] scaled = new float[pgmv[1].length];
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] = pgmv[1][i] * clipFactor;
        }
        float[] param = pgmv[0].clone(), m = pgmv[2].clone(), v = pgmv[3].clone();
        AdamW.step(param, scaled, m, v, t, lr, hyper.beta1(), hyper.beta2(), hyper.eps(), decay ? hyper.weightDecay() : 0.0);
        return new float[][] {param, pgmv[1], m, v};
    }

    @ParameterizedTest(name = "{0} elements, moments {1}, decay {2}, bf16 shadow {3}, clip {4}")
    @CsvSource({
            "100003, F32, true, false, 1.0",
            "100003, F32, false, true, 0.37",
            "16384, BF16, true, true, 1.0",
            "524288, F32, true, true, 0.8"}) // the tiny model's embedding [4096, 128]
    void adamWIsBitExact(int elements, DType momentType, boolean decay, boolean bf16Shadow, float clip) {
        AdamWHyperparameters hyper = AdamWHyperparameters.llmDefaults();
        AdamWStep spec = new AdamWStep(elements, hyper, decay, momentType, bf16Shadow);
        int t = 7;
        double lr = 3e-4;
        RandomTensors random = new RandomTensors(32);
        float[] param = random.weights(elements);
        float[] grad = random.gradients(elements);
        // Moments as after a few steps: m ~ gradients, v ~ squared gradients (non-negative).
        float[] m = random.gradients(elements);
        float[] v = random.gradients(elements);
        for (int i = 0; i < elements; i++) {
            v[i] = v[i] * v[i];
        }
        if (momentType == DType.BF16) {
            m = roundToBf16(m);
            v = roundToBf16(v);
        }
        float[] scalars = hyper.scalarsForStep(t, lr, clip);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("param", HostArray.f32(param))
                    .input("grad", HostArray.f32(grad))
                    .input("m", momentType == DType.BF16 ? HostArray.bf16(m) : HostArray.f32(m))
                    .input("v", momentType == DType.BF16 ? HostArray.bf16(v) : HostArray.f32(v))
                    .input("scalars", HostArray.f32(scalars));
            if (bf16Shadow) {
                ws.output("param_bf16", DType.BF16, elements);
            }
            ws.launch(spec.emit());

            // The oracle, given the gradient scaled as the kernel scales it: one float product with the factor.
            float clipFactor = scalars[AdamWScalarSlot.CLIP_FACTOR.index()];
            float[] scaled = new float[elements];
            for (int i = 0; i < elements; i++) {
                scaled[i] = grad[i] * clipFactor;
            }
            float[] wantParam = param.clone(), wantM = m.clone(), wantV = v.clone();
            AdamW.step(wantParam, scaled, wantM, wantV, t, lr, hyper.beta1(), hyper.beta2(), hyper.eps(),
                    decay ? hyper.weightDecay() : 0.0);
            String name = spec.kernelName();
            Accuracy.bitExact(name + " param", ws.f32("param"), wantParam);
            if (momentType == DType.BF16) {
                Accuracy.bitExact(name + " m", ws.bf16Bits("m"), bf16Bits(wantM));
                Accuracy.bitExact(name + " v", ws.bf16Bits("v"), bf16Bits(wantV));
            } else {
                Accuracy.bitExact(name + " m", ws.f32("m"), wantM);
                Accuracy.bitExact(name + " v", ws.f32("v"), wantV);
            }
            Accuracy.bitExact(name + " grad zeroed", ws.f32("grad"), new float[elements]);
            if (bf16Shadow) {
                Accuracy.bitExact(name + " bf16 shadow", ws.bf16Bits("param_bf16"), bf16Bits(wantParam));
            }
        }
    }

    /** A non-finite gradient (so a non-finite norm) or a non-finite loss: the step is skipped on the device. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"a NaN gradient, 2.5, true", "an infinite loss, Infinity, false", "a NaN loss, NaN, false"})
    void aNonFiniteNormOrLossSetsSkipAndAdamWThenWritesNothing(String cause, float loss, boolean nanGradient) {
        int elements = 1000;
        GradNormPlan plan = new GradNormPlan(List.of(elements), 1.0);
        RandomTensors random = new RandomTensors(33);
        float[] grad = random.gradients(elements);
        if (nanGradient) {
            grad[517] = Float.NaN;
        }
        float[] param = random.weights(elements);
        float[] m = random.gradients(elements);
        float[] v = random.gradients(elements);
        for (int i = 0; i < elements; i++) {
            v[i] = v[i] * v[i];
        }
        AdamWHyperparameters hyper = new AdamWHyperparameters(0.9, 0.95, 1e-8, 0.1);
        float[] scalars = hyper.scalarsForStep(3, 1e-3, 1f);
        AdamWStep adamw = new AdamWStep(elements, hyper, true, DType.F32, true);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("grad", HostArray.f32(grad)).output("partials", DType.F32, plan.partialCount())
                    .input("loss", HostArray.f32(new float[] {loss}))
                    .output("grad_norm", DType.F32, 1)
                    .input("param", HostArray.f32(param)).input("m", HostArray.f32(m)).input("v", HostArray.f32(v))
                    .input("scalars", HostArray.f32(scalars)).input("param_bf16", HostArray.bf16(param))
                    .launch(plan.squareSums().getFirst().emit())
                    .launch(plan.finalizer().emit(),
                            DeviceWorkspace.Binding.buffer("clip_factor", "scalars", AdamWScalarSlot.CLIP_FACTOR.index()),
                            DeviceWorkspace.Binding.buffer("skip", "scalars", AdamWScalarSlot.SKIP.index()))
                    .launch(adamw.emit());
            String name = adamw.kernelName() + " after " + cause;
            Accuracy.bitExact(name + ": skip slot", new float[] {ws.f32("scalars")[AdamWScalarSlot.SKIP.index()]},
                    new float[] {1f});
            Accuracy.bitExact(name + ": param", ws.f32("param"), param);
            Accuracy.bitExact(name + ": m", ws.f32("m"), m);
            Accuracy.bitExact(name + ": v", ws.f32("v"), v);
            Accuracy.bitExact(name + ": grad kept", ws.f32("grad"), grad);
            Accuracy.bitExact(name + ": bf16 shadow", ws.bf16Bits("param_bf16"), bf16Bits(roundToBf16(param)));
        }
    }

    private static float[] roundToBf16(float[] x) {
        float[] r = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = Bf16.round(x[i]);
        }
        return r;
    }

    private static short[] bf16Bits(float[] x) {
        short[] bits = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            bits[i] = Bf16.encode(x[i]);
        }
        return bits;
    }
}
