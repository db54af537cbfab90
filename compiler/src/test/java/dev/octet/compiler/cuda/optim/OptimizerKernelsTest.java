package dev.octet.compiler.cuda.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.ModelShapes;
import dev.octet.compiler.cuda.Nvcc;
import dev.octet.compiler.ir.DType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class OptimizerKernelsTest {

    /** Gradient buffers of one transformer layer plus embeddings: the sizes a plan sees. */
    static List<Integer> gradientSizes(ModelShapes s) {
        int d = s.dModel(), f = s.dFf();
        return List.of(s.vocab() * d, 3 * d * d, d * d, f * d, d * f, d, d);
    }

    static Stream<CudaKernel> kernels() {
        Map<String, CudaKernel> kernels = new LinkedHashMap<>();
        AdamWHyperparameters hyper = AdamWHyperparameters.llmDefaults();
        for (ModelShapes s : ModelShapes.all()) {
            GradNormPlan plan = new GradNormPlan(gradientSizes(s), 1.0);
            plan.squareSums().forEach(k -> kernels.putIfAbsent(k.kernelName(), k.emit()));
            kernels.putIfAbsent(plan.finalizer().kernelName(), plan.finalizer().emit());
            int weights = s.dFf() * s.dModel();
            for (AdamWStep step : List.of(
                    new AdamWStep(weights, hyper, true, DType.F32, false),
                    new AdamWStep(weights, hyper, true, DType.BF16, true),
                    new AdamWStep(s.dModel(), hyper, false, DType.F32, false),
                    new AdamWStep(s.vocab() * s.dModel(), hyper, false, DType.F32, true))) {
                kernels.putIfAbsent(step.kernelName(), step.emit());
            }
        }
        return kernels.values().stream();
    }

    @TestFactory
    Stream<DynamicTest> everyKernelCompilesWithoutSpills() {
        return kernels().map(k -> DynamicTest.dynamicTest(k.name(), () -> {
            Nvcc.Usage usage = Nvcc.compileWithoutSpills(k);
            System.out.println(k.name() + ": " + usage.registers() + " registers, no spills");
        }));
    }

    @Test
    void slotRangesFollowTheBufferOrderWithoutGaps() {
        GradNormPlan plan = new GradNormPlan(List.of(1_000_000, 10, 5_000), 1.0);
        List<GradSquareSum> sums = plan.squareSums();
        assertEquals(0, plan.firstSlot(0));
        assertEquals(sums.get(0).partialCount(), plan.firstSlot(1));
        assertEquals(sums.get(0).partialCount() + sums.get(1).partialCount(), plan.firstSlot(2));
        assertEquals(plan.firstSlot(3), plan.partialCount());
        assertEquals(plan.partialCount(), plan.finalizer().partialCount());
        assertEquals(sums.get(0).partialCount(), sums.get(0).emit().launch().gridX());
    }

    @Test
    void adamWReadsItsStepValuesFromDeviceMemory() {
        CudaKernel k = new AdamWStep(1000, AdamWHyperparameters.llmDefaults(), true, DType.F32, true).emit();
        assertEquals(List.of("param", "grad", "m", "v", "scalars", "param_bf16"),
                k.params().stream().map(KernelParam::name).toList());
        assertTrue(k.params().stream().allMatch(p -> p.kind() == KernelParam.Kind.BUFFER));
        // The constants are AdamW.java's floats: 1 - beta formed in double, then rounded.
        assertTrue(k.source().contains(Float.toHexString((float) (1 - 0.95)) + "f"), k.source());
        assertTrue(k.source().contains("WEIGHT_DECAY = " + Float.toHexString(0.1f) + "f"));
        String noDecay = new AdamWStep(1000, AdamWHyperparameters.llmDefaults(), false, DType.F32, false).emit().source();
        assertTrue(noDecay.contains("WEIGHT_DECAY = 0.0f"));
    }

    @Test
    void hostScalarsAreTheOraclesFloats() {
        AdamWHyperparameters hyper = new AdamWHyperparameters(0.9, 0.999, 1e-8, 0.01);
        float[] slots = hyper.scalarsForStep(3, 3e-4, 0.5f);
        assertArrayEquals(new float[] {(float) 3e-4, (float) (1 - Math.pow(0.9, 3)), (float) (1 - Math.pow(0.999, 3)), 0.5f, 0f},
                slots);
        assertEquals(AdamWScalarSlot.count(), slots.length);
    }

    @Test
    void sourcesAreDeterministic() {
        AdamWStep step = new AdamWStep(4096, AdamWHyperparameters.llmDefaults(), true, DType.BF16, true);
        assertEquals(step.emit(), step.emit());
        assertEquals(new GradNormFinalize(100, 1.0).emit(), new GradNormFinalize(100, 1.0).emit());
    }

    @Test
    void badSpecsAreRefusedWithTheReason() {
        AdamWHyperparameters hyper = AdamWHyperparameters.llmDefaults();
        assertMessage("moments are f32 or bf16", () -> new AdamWStep(10, hyper, true, DType.E4M3, false));
        assertMessage("over 0 elements", () -> new AdamWStep(0, hyper, true, DType.F32, false));
        assertMessage("betas must lie in [0, 1)", () -> new AdamWHyperparameters(1.0, 0.95, 1e-8, 0.1));
        assertMessage("eps must be positive", () -> new AdamWHyperparameters(0.9, 0.95, 0, 0.1));
        assertMessage("weight decay must be non-negative", () -> new AdamWHyperparameters(0.9, 0.95, 1e-8, -1));
        assertMessage("1-based", () -> hyper.scalarsForStep(0, 1e-3, 1f));
        assertMessage("max gradient norm must be positive", () -> new GradNormFinalize(10, 0));
        assertMessage("at least one gradient buffer", () -> new GradNormPlan(List.of(), 1.0));
        assertMessage("gradient buffer of 0 elements", () -> new GradSquareSum(0));
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable construct) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct);
        assertTrue(e.getMessage().contains(expected), () -> "message '" + e.getMessage() + "' lacks '" + expected + "'");
    }
}
