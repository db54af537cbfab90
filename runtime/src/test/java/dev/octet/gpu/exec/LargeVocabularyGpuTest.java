package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.checkpoint.SafetensorsWriter;
import dev.octet.checkpoint.TensorNames;
import dev.octet.checkpoint.TensorSource;
import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.Batch;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.gpu.kernels.GpuSession;
import dev.octet.numerics.InitialWeights;
import dev.octet.testing.ModelSources;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qwen's vocabulary (151,936) at Qwen's token count (2 × 8192 per micro-batch), on a small body so that the CPU
 * oracle can follow: the loss of a 512-token chunk against the oracle's, three whole steps with the loss in
 * chunks, and a resume after the first from state streamed to a file that ends bit for bit where the
 * uninterrupted run ends.
 */
@GpuKernelTest
class LargeVocabularyGpuTest {
    private static final int VOCAB = 151_936;
    private static final String SOURCE = ModelSources.llama("big_vocab", VOCAB, 128, 256, 2, 2, 64, 2, 8192)
            + ModelSources.INFIR2;

    @Test
    void aChunkAgreesWithTheOracleAndThreeStepsResumeBitForBit(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("big.octet"), SOURCE);
        Diagnostics d = new Diagnostics();
        Program p = ProgramLoader.load(List.of(dir.resolve("big.octet")), d);
        assertTrue(!d.hasErrors(), DiagnosticPrinter.render(d));
        ModelSpec model = p.model("big_vocab").orElseThrow();
        RecipeSpec recipe = p.recipe("infir2").orElseThrow();
        long seed = 3;
        GpuSession session = GpuSession.get();

        // A chunk: one sequence of 512 tokens, its loss on the device and in the oracle (same seed, same weights).
        Batch chunk = RandomBatches.of(VOCAB, 1, 512, 5);
        StepPlan small = Lowering.compile(CompileTarget.of(model, recipe, Optional.empty(), 1, 512), Lowering.QUIET);
        float gpuChunk;
        try (DeviceStep step = DeviceStep.load(session.context(), small, session.cache())) {
            step.initialize(seed, InitialWeights.of(model));
            gpuChunk = step.loss(MicroBatchInputs.of(RandomBatches.copy(chunk)));
        }
        ParameterStore cpu = ParameterStore.initialize(model, seed);
        cpu.refreshWorking(Rounding.GPU);
        double cpuChunk = new GraphInterpreter(model, cpu, new RecipeLinearPolicy(recipe, model.config().layers()),
                Rounding.GPU).loss(TokenBatch.of(RandomBatches.copy(chunk)));
        double chunkError = Math.abs(gpuChunk - cpuChunk) / Math.abs(cpuChunk);
        System.out.printf(Locale.ROOT, "vocab %d, 512 tokens: loss GPU %.6f, CPU %.6f (rel %.2e, bound 1e-3)%n", VOCAB,
                gpuChunk, cpuChunk, chunkError);
        assertTrue(chunkError <= 1e-3, "chunk loss " + chunkError);

        // Three steps of 2 x 8192 tokens, then the same from the state after the first, streamed to a file and back.
        StepPlan plan = Lowering.compile(CompileTarget.of(model, recipe, Optional.empty(), 2, 8192), Lowering.QUIET);
        List<Batch> batches = List.of(RandomBatches.of(VOCAB, 2, 8192, 11), RandomBatches.of(VOCAB, 2, 8192, 12),
                RandomBatches.of(VOCAB, 2, 8192, 13));
        Path state = dir.resolve("after-step-1.safetensors");
        List<Float> whole = new ArrayList<>();
        Map<String, float[]> wholeMasters = new LinkedHashMap<>();
        try (DeviceStep step = DeviceStep.load(session.context(), plan, session.cache())) {
            step.initialize(seed, InitialWeights.of(model));
            for (int t = 1; t <= 3; t++) {
                whole.add(step(step, batches.get(t - 1), t));
                if (t == 1) {
                    save(step, state);
                }
            }
            for (Parameter param : step.parameters()) {
                wholeMasters.put(param.name(), step.readF32(param.master()));
            }
        }
        List<Float> resumed = new ArrayList<>();
        try (DeviceStep step = DeviceStep.load(session.context(), plan, session.cache());
             SafetensorsFile f = SafetensorsFile.open(state)) {
            for (Parameter param : step.parameters()) {
                step.loadF32(param.master(), f.segment(TensorNames.master(param.name())));
                step.loadF32(param.m(), f.segment(TensorNames.adamM(param.name())));
                step.loadF32(param.v(), f.segment(TensorNames.adamV(param.name())));
            }
            step.refreshWorkingCopies();
            for (int t = 2; t <= 3; t++) {
                resumed.add(step(step, batches.get(t - 1), t));
            }
            for (Parameter param : step.parameters()) {
                assertArrayEquals(wholeMasters.get(param.name()), step.readF32(param.master()), param.name());
            }
        }
        System.out.printf(Locale.ROOT, "vocab %d, 2 x 8192 tokens: losses %s (ln V = %.4f); resumed after step 1: %s%n",
                VOCAB, whole, Math.log(VOCAB), resumed);
        for (float loss : whole) {
            assertTrue(Float.isFinite(loss) && Math.abs(loss - Math.log(VOCAB)) < 1.5, "loss " + loss);
        }
        assertEquals(whole.subList(1, 3), resumed, "the resumed steps' losses");
    }

    private static float step(DeviceStep step, Batch batch, int t) {
        MicroBatchInputs in = MicroBatchInputs.of(RandomBatches.copy(batch));
        step.beginStep(StepScalars.of(1e-3, 0.9, 0.95, t), MicroBatchInputs.lossWeight(List.of(in)));
        step.runMicroBatch(in);
        step.runOptimizer();
        return step.finishStep().loss();
    }

    /** Masters and both moments, streamed from the device as a checkpoint is. */
    private static void save(DeviceStep step, Path file) throws IOException {
        SequencedMap<String, TensorSource> tensors = new LinkedHashMap<>();
        for (Parameter param : step.parameters()) {
            List<Long> shape = List.of(param.master().type().elements());
            tensors.put(TensorNames.master(param.name()), step.f32Tensor(param.master(), shape));
            tensors.put(TensorNames.adamM(param.name()), step.f32Tensor(param.m(), shape));
            tensors.put(TensorNames.adamV(param.name()), step.f32Tensor(param.v(), shape));
        }
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            SafetensorsWriter.write(out, Map.of(), tensors);
        }
    }
}
