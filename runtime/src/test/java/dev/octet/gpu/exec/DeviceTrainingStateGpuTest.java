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
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.gpu.kernels.GpuSession;
import dev.octet.numerics.Bf16;
import dev.octet.numerics.InitialWeights;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training state on the device without a host copy: weights initialised on the device equal the CPU's
 * initialisation for the same seed, at GPT-2 124M's real shapes, and state streamed to a file and back is
 * unchanged bit for bit.
 */
@GpuKernelTest
class DeviceTrainingStateGpuTest {
    private static final Program GPT2 = ExampleModels.load("gpt2-124m.octet", "infir2");
    private static final ModelSpec MODEL = GPT2.model("gpt2_124m").orElseThrow();

    private static StepPlan gpt2Plan() {
        RecipeSpec recipe = GPT2.recipe("infir2").orElseThrow();
        return Lowering.compile(CompileTarget.of(MODEL, recipe, Optional.empty(), 1, 256), Lowering.QUIET);
    }

    @Test
    void weightsInitialisedOnTheDeviceEqualTheCpuInitialisation() {
        ModelSpec model = MODEL;
        StepPlan plan = gpt2Plan();
        GpuSession session = GpuSession.get();
        long seed = 0x5eed_0000_0000_0007L;  // both halves of the seed reach the device
        ParameterStore cpu = ParameterStore.initialize(model, seed);
        try (DeviceStep step = DeviceStep.load(session.context(), plan, session.cache())) {
            long start = System.nanoTime();
            step.initialize(seed, InitialWeights.of(model));
            double seconds = (System.nanoTime() - start) / 1e9;
            long elements = 0, differ = 0;
            for (Parameter param : step.parameters()) {
                float[] expected = cpu.get(param.name()).master();
                float[] master = step.readF32(param.master());
                // A working copy where the step keeps one (WeightsFromMasters drops those only quantizations read).
                short[] shadow = param.shadow().map(step::readBf16).orElse(null);
                for (int i = 0; i < expected.length; i++) {
                    int ulps = Math.abs(Float.floatToRawIntBits(expected[i]) - Float.floatToRawIntBits(master[i]));
                    assertTrue(ulps <= 1, param.name() + "[" + i + "]: device " + master[i] + ", CPU " + expected[i]);
                    differ += ulps;
                    if (shadow != null) {
                        assertEquals(Bf16.encode(master[i]), shadow[i], param.name() + ".bf16[" + i + "]");
                    }
                }
                float[] zeros = new float[expected.length];
                assertArrayEquals(zeros, step.readF32(param.m()), param.m().name());
                assertArrayEquals(zeros, step.readF32(param.v()), param.v().name());
                elements += expected.length;
            }
            System.out.printf(Locale.ROOT, "gpt2_124m: %,d weights initialised on the device in %.3f s; %d differ from the "
                    + "CPU's by one float ulp (bound: one ulp, at most 1 in 10^6)%n", elements, seconds, differ);
            assertTrue(differ <= elements / 1_000_000, differ + " of " + elements + " weights differ by an ulp");
        }
    }

    /** GPT-2's token embedding (154 MB) streams in several chunks of the 64 MiB staging buffer. */
    @Test
    void stateStreamedToAFileAndBackIsUnchanged(@TempDir Path dir) throws IOException {
        StepPlan plan = gpt2Plan();
        GpuSession session = GpuSession.get();
        Path file = dir.resolve("state.safetensors");
        try (DeviceStep from = DeviceStep.load(session.context(), plan, session.cache());
             DeviceStep to = DeviceStep.load(session.context(), plan, session.cache())) {
            from.initialize(11, InitialWeights.of(MODEL));
            // Moments that are not zero, so that a part written into another's place would show.
            for (Parameter param : from.parameters()) {
                float[] m = from.readF32(param.master());
                for (int i = 0; i < m.length; i++) {
                    m[i] = m[i] * 0.5f + i;
                }
                from.writeF32(param.m(), m);
            }
            SequencedMap<String, TensorSource> tensors = new LinkedHashMap<>();
            for (Parameter param : from.parameters()) {
                List<Long> shape = List.of(param.master().type().elements());
                tensors.put(TensorNames.master(param.name()), from.f32Tensor(param.master(), shape));
                tensors.put(TensorNames.adamM(param.name()), from.f32Tensor(param.m(), shape));
            }
            try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                SafetensorsWriter.write(out, java.util.Map.of(), tensors);
            }
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                for (Parameter param : to.parameters()) {
                    to.loadF32(param.master(), f.segment(TensorNames.master(param.name())));
                    to.loadF32(param.m(), f.segment(TensorNames.adamM(param.name())));
                }
            }
            to.refreshWorkingCopies();
            for (Parameter param : from.parameters()) {
                assertArrayEquals(from.readF32(param.master()), to.readF32(param.master()), param.name());
                param.shadow().ifPresent(s -> assertArrayEquals(from.readBf16(s), to.readBf16(s), s.name()));
                assertArrayEquals(from.readF32(param.m()), to.readF32(param.m()), param.m().name());
            }
        }
    }
}
