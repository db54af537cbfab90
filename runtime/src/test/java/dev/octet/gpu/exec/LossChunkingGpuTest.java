package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.cuda.loss.CrossEntropyFused;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.plan.CompileSummary;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.data.Batch;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.gpu.kernels.GpuSession;
import dev.octet.numerics.Bf16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The LM head's loss over chunks of tokens on the device: against the same step with the loss in one chunk
 * (every row is computed alike, so the loss and gradients agree but for the FP32 summation of the head's
 * gradient over chunks), and at Qwen2.5-1.5B's real shape, 2 × 8192 tokens and a 151,936-token vocabulary, whose
 * whole logits the device never holds.
 */
@GpuKernelTest
class LossChunkingGpuTest {
    /**
     * The tiny model (BF16) with one target in seven masked: 512 tokens in one chunk, then in chunks of at most 120
     * (four of 104 and a last one of 96), from the same weights and batch.
     */
    @Test
    void chunksOfAtMost120TokensAgreeWithOneChunk() {
        TinyRun whole = TinyRun.of("bf16");
        TinyRun chunked = TinyRun.of("bf16", 120);
        assertEquals(5, head(chunked.plan()).chunks());
        assertEquals(1, head(whole.plan()).chunks());
        assertAgree("tiny/bf16, one chunk against chunks of 104", whole, chunked);
    }

    /**
     * An odd vocabulary (4,093 ids): the chunks' logits lie in rows padded to 4,096 elements, which the head's three
     * GEMMs read and write by TMA on the wgmma template; the loss over the whole logits (no workspace: unpadded,
     * the head's GEMMs on mma.sync) is what they must agree with.
     */
    @Test
    void paddedLogitsRowsOfAnOddVocabularyAgreeWithTheWholeLogits() {
        TinyRun whole = TinyRun.withVocabulary("bf16", 4093, OptionalLong.of(0));
        TinyRun chunked = TinyRun.withVocabulary("bf16", 4093, OptionalLong.of(2L * 120 * 4096));
        assertEquals(4096, head(chunked.plan()).logitsPitch());
        assertEquals(5, head(chunked.plan()).chunks());
        assertTrue(whole.plan().kernels().launches().stream().noneMatch(l -> l.spec() instanceof CrossEntropyFused ce && ce.pitch() != ce.vocab()));
        // The head's wgrad (M = the vocabulary) on the wgmma template, reading logits rows 4,096 apart, whatever the chunks.
        assertTrue(chunked.plan().kernels().launches().stream().map(l -> l.spec().kernelName())
                        .anyMatch(n -> n.startsWith("bf16_wgmma_m4093_n128_k") && n.contains("_a_mn_b_mn_f32_acc_lda4096")),
                "the head's wgrad reads the padded logits by TMA");
        assertAgree("tiny/bf16 vocab 4093, whole logits against padded chunks of 104", whole, chunked);
    }

    /** The same batch (one target in seven masked) through both plans: the same loss and gradients. */
    private static void assertAgree(String what, TinyRun reference, TinyRun run) {
        Batch b = reference.batches(1).getFirst();
        float[] mask = b.lossMask().clone();
        for (int i = 0; i < mask.length; i += 7) {
            mask[i] = 0f;
        }
        Batch batch = new Batch(b.batchSize(), b.sequenceLength(), b.inputs(), b.targets(), b.documentIds(), mask);
        Result a = runOnce(reference, batch);
        Result c = runOnce(run, batch);
        double lossError = GpuComparisons.relative(c.loss, a.loss);
        System.out.printf(Locale.ROOT, "%s: loss %.7f against %.7f (rel %.2e)%n", what, c.loss, a.loss, lossError);
        assertTrue(lossError <= 1e-6, "loss " + lossError);
        for (int i = 0; i < a.grads.size(); i++) {
            double err = GpuComparisons.relativeL2(c.grads.get(i), a.grads.get(i));
            System.out.printf(Locale.ROOT, "  grad %-32s rel L2 %.3e%n", a.names.get(i), err);
            // The head's (tied) gradient is summed in FP32 over five chunks instead of one GEMM's K loop.
            assertTrue(err <= 1e-4, a.names.get(i) + ": " + err);
        }
    }

    private record Result(float loss, List<String> names, List<float[]> grads) {}

    private static Result runOnce(TinyRun run, Batch batch) {
        GpuSession session = GpuSession.get();
        try (DeviceStep step = DeviceStep.load(session.context(), run.plan(), session.cache())) {
            step.upload(ParameterStore.initialize(run.model(), run.spec().seed()));
            MicroBatchInputs in = MicroBatchInputs.of(RandomBatches.copy(batch));
            step.beginStep(StepScalars.of(1e-3, 0.9, 0.95, 1), MicroBatchInputs.lossWeight(List.of(in)));
            step.runMicroBatch(in);
            float loss = step.lossSoFar();
            List<String> names = new ArrayList<>();
            List<float[]> grads = new ArrayList<>();
            for (Parameter p : step.parameters()) {
                names.add(p.name());
                grads.add(step.readF32(p.gradient()));
            }
            return new Result(loss, names, grads);
        }
    }

    /**
     * Qwen2.5-1.5B at 2 × 8192 tokens compiles, loads and runs a whole step (forward, backward, AdamW): loss near
     * ln(151936) at initialisation, finite gradients. Run twice, with chunks of 5,504 tokens (the default 2 GiB
     * workspace, 3 chunks, the last 5,376) and of 768 (256 MiB, 22 chunks, the last 256): the two losses agree
     * as every token's loss is computed alike.
     */
    @Test
    void qwenAtTwoSequencesOf8192TokensRunsInChunks() {
        Program p = ExampleModels.load("qwen2.5-1.5b.octet", "infir2");
        ModelSpec model = p.model("qwen2_5_1_5b").orElseThrow();
        RecipeSpec recipe = p.recipe("infir2").orElseThrow();
        int seq = 8192;
        CompileTarget target = CompileTarget.of(model, recipe, Optional.empty(), 2, seq);
        Batch batch = RandomBatches.of(model.config().vocab(), 2, seq, 8192);
        float[] losses = new float[2];
        long[] workspaces = {target.lossWorkspaceBytes(), 256L << 20};
        for (int i = 0; i < workspaces.length; i++) {
            StepPlan plan = Lowering.compile(target.withLossWorkspace(workspaces[i]), Lowering.QUIET);
            System.out.print(CompileSummary.of(plan));
            GpuSession session = GpuSession.get();
            try (DeviceStep step = DeviceStep.load(session.context(), plan, session.cache())) {
                System.out.println("qwen 2x8192: " + step.summary());
                writeInitialWeights(step);
                MicroBatchInputs in = MicroBatchInputs.of(RandomBatches.copy(batch));
                long start = System.nanoTime();
                step.beginStep(StepScalars.of(1e-5, 0.9, 0.95, 1), MicroBatchInputs.lossWeight(List.of(in)));
                step.runMicroBatch(in);
                step.runOptimizer();
                DeviceStep.StepResult result = step.finishStep();
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(Locale.ROOT, "qwen 2x8192, %d chunks of %d: loss %.5f (ln V = %.5f), grad norm %.4f,"
                                + " step %.2f s (eager, first)%n", head(plan).chunks(), head(plan).chunk(), result.loss(),
                        Math.log(model.config().vocab()), result.gradNorm(), seconds);
                assertTrue(Float.isFinite(result.loss()) && Float.isFinite(result.gradNorm()) && result.gradNorm() > 0,
                        "loss " + result.loss() + ", grad norm " + result.gradNorm());
                // Logits of std ~0.8 at this initialisation: the loss is ln V plus about half their variance.
                assertTrue(Math.abs(result.loss() - Math.log(model.config().vocab())) < 1.5, "loss " + result.loss());
                losses[i] = result.loss();
            }
        }
        double err = GpuComparisons.relative(losses[1], losses[0]);
        System.out.printf(Locale.ROOT, "qwen 2x8192: loss with chunks of 5504 %.6f, of 768 %.6f (rel %.2e)%n", losses[0],
                losses[1], err);
        assertTrue(err < 1e-5, "losses differ by " + err);
    }

    /**
     * Host memory would not hold a ParameterStore of 1.5B parameters (FP64 working copies and gradients), so each
     * parameter is drawn and written on its own: norms 1, biases 0, the rest uniform with std 0.02; the same
     * values every call (seeded by parameter).
     */
    private static void writeInitialWeights(DeviceStep step) {
        int index = 0;
        for (Parameter p : step.parameters()) {
            int n = Math.toIntExact(p.master().type().elements());
            float[] master = new float[n];
            if (p.name().contains("norm")) {
                Arrays.fill(master, 1f);
            } else if (!p.name().endsWith(".bias")) {
                SplittableRandom r = new SplittableRandom(1000 + index);
                float a = (float) (0.02 * Math.sqrt(3));
                for (int i = 0; i < n; i++) {
                    master[i] = (float) r.nextDouble(-a, a);
                }
            }
            step.writeF32(p.master(), master);
            if (p.shadow().isPresent()) {
                ByteBuffer shadow = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
                for (float x : master) {
                    shadow.putShort(Bf16.encode(x));
                }
                step.writeBytes(p.shadow().get(), shadow.array());
            }
            index++;
        }
    }

    private static Operator.LmHeadCrossEntropy head(StepPlan plan) {
        return plan.kernels().fused().graph().nodes().stream().map(n -> n.op())
                .filter(op -> op instanceof Operator.LmHeadCrossEntropy).map(op -> (Operator.LmHeadCrossEntropy) op)
                .findFirst().orElseThrow();
    }
}
