package dev.octet.gpu.exec;

import dev.octet.compiler.ir.Node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.Parameter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.data.Batch;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.gpu.kernels.GpuSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Two ways of running one step that must be the same computation, bit for bit: replaying the captured graphs and
 * launching each kernel; and, under FP8, wgrad operands recomputed from the activations' inputs (the recipe's
 * {@code recompute}) and quantized from the stored activations.
 */
@GpuKernelTest
class GraphReplayGpuTest {
    private static final int STEPS = 3;

    @Test
    void threeStepsFromGraphsEqualThreeEagerStepsBitForBit() {
        TinyRun run = TinyRun.of("infir2");
        List<Batch> batches = run.batches(STEPS);
        GpuSession session = GpuSession.get();
        try (DeviceStep eager = DeviceStep.load(session.context(), run.plan(), session.cache());
             DeviceStep graphs = DeviceStep.load(session.context(), run.plan(), session.cache())) {
            graphs.captureGraphs();
            assertTrue(graphs.replaysGraphs());
            List<Float> eagerLosses = train(eager, run, batches);
            List<Float> graphLosses = train(graphs, run, batches);
            System.out.println("tiny/infir2 losses, eager " + eagerLosses + ", graphs " + graphLosses);
            assertEquals(eagerLosses, graphLosses);
            int compared = 0;
            for (Parameter p : eager.parameters()) {
                assertArrayEquals(eager.readF32(p.master()), graphs.readF32(p.master()), p.name());
                p.shadow().ifPresent(s -> assertArrayEquals(eager.readBf16(s), graphs.readBf16(s), s.name()));
                assertArrayEquals(eager.readF32(p.m()), graphs.readF32(p.m()), p.m().name());
                compared++;
            }
            System.out.println("after " + STEPS + " steps: " + compared + " parameters, their working copies and "
                    + "moments equal bit for bit (bound: exact)");
        }
    }

    @Test
    void recomputedWgradOperandsTrainBitForBitAsStoredOnes() {
        TinyRun run = TinyRun.of("infir2");
        TinyRun recomputing = run.recomputing(Set.of(Recompute.NORM, Recompute.ACTIVATION));
        assertTrue(recomputing.plan().memory().arenaBytes() < run.plan().memory().arenaBytes());
        List<Batch> batches = run.batches(STEPS);
        GpuSession session = GpuSession.get();
        try (DeviceStep stored = DeviceStep.load(session.context(), run.plan(), session.cache());
             DeviceStep recomputed = DeviceStep.load(session.context(), recomputing.plan(), session.cache())) {
            stored.captureGraphs();
            recomputed.captureGraphs();
            List<Float> storedLosses = train(stored, run, batches);
            List<Float> recomputedLosses = train(recomputed, recomputing, batches);
            System.out.println("tiny/infir2 losses, stored " + storedLosses + ", recomputed " + recomputedLosses);
            assertEquals(storedLosses, recomputedLosses);
            for (Parameter p : stored.parameters()) {
                assertArrayEquals(stored.readF32(p.master()), recomputed.readF32(p.master()), p.name());
            }
        }
    }

    /**
     * Two micro-batches a step: the plan compiled for them quantizes each weight once, after the update
     * (WeightsQuantizedPerStep); the plan compiled for one micro-batch, driven with two, quantizes the weights in
     * both. The same bits, graphs replayed, the first step's codes written by upload.
     */
    @Test
    void weightsQuantizedOncePerStepTrainBitForBitAsPerMicroBatch() {
        TinyRun one = TinyRun.of("infir2");
        TinyRun two = one.withMicroBatches(2);
        assertTrue(two.plan().kernels().fused().graph().nodes().stream().anyMatch(Node::writesWeightCodes));
        assertTrue(one.plan().kernels().fused().graph().nodes().stream().noneMatch(Node::writesWeightCodes));
        List<Batch> batches = one.batches(2 * STEPS);
        GpuSession session = GpuSession.get();
        try (DeviceStep perStep = DeviceStep.load(session.context(), two.plan(), session.cache());
             DeviceStep perMicroBatch = DeviceStep.load(session.context(), one.plan(), session.cache())) {
            perStep.captureGraphs();
            perMicroBatch.captureGraphs();
            List<Float> onceLosses = train(perStep, two, batches, 2);
            List<Float> everyLosses = train(perMicroBatch, one, batches, 2);
            System.out.println("tiny/infir2, 2 micro-batches a step: losses with weights quantized once a step "
                    + onceLosses + ", in every micro-batch " + everyLosses);
            assertEquals(everyLosses, onceLosses);
            for (Parameter p : perStep.parameters()) {
                assertArrayEquals(perMicroBatch.readF32(p.master()), perStep.readF32(p.master()), p.name());
                assertArrayEquals(perMicroBatch.readF32(p.m()), perStep.readF32(p.m()), p.m().name());
            }
        }
    }

    /**
     * {@code octet bench --profile}'s timed step: every launch timed inside a CUDA graph (the capture with its event
     * nodes works), every time positive, and the step it ran is the step itself (the same weights as a normal step).
     */
    @Test
    void aStepTimedLaunchByLaunchRunsInsideAGraphAndIsTheStepItself() {
        TinyRun run = TinyRun.of("infir2");
        List<Batch> batches = run.batches(1);
        GpuSession session = GpuSession.get();
        try (DeviceStep timed = DeviceStep.load(session.context(), run.plan(), session.cache());
             DeviceStep plain = DeviceStep.load(session.context(), run.plan(), session.cache())) {
            plain.captureGraphs();
            train(plain, run, batches);
            timed.upload(ParameterStore.initialize(run.model(), run.spec().seed()));
            TrainingSpec.AdamW opt = run.spec().optimizer();
            List<MicroBatchInputs> in = batches.stream().map(MicroBatchInputs::of).toList();
            DeviceStep.LaunchTimes times = timed.timeLaunches(StepScalars.of(opt.lr(), opt.beta1(), opt.beta2(), 1),
                    MicroBatchInputs.lossWeight(in), in);
            System.out.println("tiny/infir2 step timed by " + times.method() + ": "
                    + java.util.Arrays.stream(times.millis()).sum() + " ms over " + times.millis().length + " launches");
            assertTrue(times.method().startsWith("one CUDA graph"), times.method());
            assertEquals(run.plan().kernels().launches().size(), times.millis().length);
            for (double ms : times.millis()) {
                assertTrue(ms > 0 && Double.isFinite(ms), "every launch takes some time: " + ms);
            }
            for (Parameter p : plain.parameters()) {
                assertArrayEquals(plain.readF32(p.master()), timed.readF32(p.master()), p.name());
            }
        }
    }

    private static List<Float> train(DeviceStep step, TinyRun run, List<Batch> batches) {
        return train(step, run, batches, 1);
    }

    /** Steps of {@code perStep} micro-batches each, over {@code batches} in order. */
    private static List<Float> train(DeviceStep step, TinyRun run, List<Batch> batches, int perStep) {
        step.upload(ParameterStore.initialize(run.model(), run.spec().seed()));
        TrainingSpec.AdamW opt = run.spec().optimizer();
        List<Float> losses = new ArrayList<>();
        for (int t = 1; t <= batches.size() / perStep; t++) {
            List<MicroBatchInputs> in = batches.subList((t - 1) * perStep, t * perStep).stream().map(MicroBatchInputs::of).toList();
            step.beginStep(StepScalars.of(opt.lr(), opt.beta1(), opt.beta2(), t), MicroBatchInputs.lossWeight(in));
            in.forEach(step::runMicroBatch);
            step.runOptimizer();
            losses.add(step.finishStep().loss());
        }
        return losses;
    }
}
