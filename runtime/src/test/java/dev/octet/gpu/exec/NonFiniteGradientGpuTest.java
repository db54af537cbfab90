package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.Parameter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.data.Batch;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.gpu.kernels.GpuSession;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A gradient holding NaN with a finite loss: the device's gradient-norm kernel sets the skip flag, every AdamW
 * kernel leaves weights, moments and gradients untouched (the graphs replay as usual), the NaN is still there
 * for the host to name, and after the gradients are discarded the next step trains normally.
 */
@GpuKernelTest
class NonFiniteGradientGpuTest {
    @Test
    void aNanGradientSkipsTheUpdateOnTheDevice() {
        TinyRun run = TinyRun.of("infir2");
        GpuSession session = GpuSession.get();
        TrainingSpec.AdamW opt = run.spec().optimizer();
        List<Batch> batches = run.batches(2);
        try (DeviceStep step = DeviceStep.load(session.context(), run.plan(), session.cache())) {
            step.upload(ParameterStore.initialize(run.model(), run.spec().seed()));
            step.captureGraphs();
            Parameter victim = step.parameters().get(3);
            List<float[]> mastersBefore = step.parameters().stream().map(p -> step.readF32(p.master())).toList();
            List<float[]> momentsBefore = step.parameters().stream().map(p -> step.readF32(p.m())).toList();

            MicroBatchInputs first = MicroBatchInputs.of(batches.get(0));
            step.beginStep(StepScalars.of(opt.lr(), opt.beta1(), opt.beta2(), 1), MicroBatchInputs.lossWeight(List.of(first)));
            step.runMicroBatch(first);
            assertTrue(Float.isFinite(step.lossSoFar()));
            float[] poisoned = step.readF32(victim.gradient());
            poisoned[poisoned.length / 2] = Float.NaN;
            step.writeF32(victim.gradient(), poisoned);
            step.runOptimizer();
            DeviceStep.StepResult skipped = step.finishStep();

            assertTrue(Float.isNaN(skipped.gradNorm()), "norm " + skipped.gradNorm());
            for (int i = 0; i < mastersBefore.size(); i++) {
                Parameter p = step.parameters().get(i);
                assertArrayEquals(mastersBefore.get(i), step.readF32(p.master()), p.name() + " master untouched");
                assertArrayEquals(momentsBefore.get(i), step.readF32(p.m()), p.name() + " moment untouched");
            }
            assertTrue(Float.isNaN(step.readF32(victim.gradient())[poisoned.length / 2]), "the NaN is kept for the host");

            step.discardGradients();
            MicroBatchInputs second = MicroBatchInputs.of(batches.get(1));
            step.beginStep(StepScalars.of(opt.lr(), opt.beta1(), opt.beta2(), 1), MicroBatchInputs.lossWeight(List.of(second)));
            step.runMicroBatch(second);
            step.runOptimizer();
            DeviceStep.StepResult applied = step.finishStep();
            assertTrue(Float.isFinite(applied.gradNorm()) && applied.gradNorm() > 0, "norm " + applied.gradNorm());
            assertFalse(java.util.Arrays.equals(mastersBefore.get(3), step.readF32(victim.master())), "the next step updates");
            assertEquals(0f, step.readF32(victim.gradient())[0], "gradients zeroed by the applied step");
        }
    }
}
