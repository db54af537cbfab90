package dev.octet.generated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.step.ArenaArg;
import dev.octet.compiler.step.ParameterHandle;
import dev.octet.compiler.step.StepRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The generated step classes issue exactly the launches of their plan.json, in order, with the same
 * geometry and arena offsets; their typed handles agree with the plan's buffers; every kernel they launch
 * has its source beside the plan.
 */
class GeneratedStepsTest {
    record Recorded(String kernel, LaunchGeometry geometry, List<ArenaArg> args) {}

    static List<String> classes() {
        return GeneratedSteps.CLASSES;
    }

    @Test
    void everyExampleModelAndRecipeWasGenerated() {
        assertTrue(GeneratedSteps.CLASSES.contains("TinyInfir2Step"), GeneratedSteps.CLASSES::toString);
        assertTrue(GeneratedSteps.CLASSES.size() >= 16, "6 models x 4 recipes, less the combinations a recipe or the kernel templates refuse: "
                + GeneratedSteps.CLASSES);
    }

    @Test
    void typedHandlesNameTheTinyModelsParameters() {
        assertEquals("embedding.weight", TinyInfir2Step.EMBEDDING_WEIGHT.name());
        assertEquals(List.of(4096, 128), TinyInfir2Step.EMBEDDING_WEIGHT.master().shape());
        assertEquals("bf16", TinyInfir2Step.EMBEDDING_WEIGHT.shadow().orElseThrow().dtype());
        // A projection's weight reaches only FP8 GEMMs: its block quantizations read the master, no working copy.
        assertTrue(TinyInfir2Step.LAYERS_0_ATTENTION_Q_WEIGHT.shadow().isEmpty());
        assertTrue(TinyBf16Step.LAYERS_0_ATTENTION_Q_WEIGHT.shadow().isPresent());
        assertEquals("f32", TinyInfir2Step.LOSS.dtype());
        assertEquals(512, TinyInfir2Step.TOKENS.shape().getFirst());
    }

    @ParameterizedTest
    @MethodSource("classes")
    void launchesAndBuffersMatchThePlan(String simpleName) throws Exception {
        Class<?> cls = Class.forName("dev.octet.generated." + simpleName);
        JsonObject plan = JsonParser.parseString(resource("steps/" + simpleName + "/plan.json")).getAsJsonObject();
        List<Recorded> recorded = new ArrayList<>();
        int[] microBatches = {0};
        StepRuntime rt = new StepRuntime() {
            @Override
            public void launch(String kernel, LaunchGeometry geometry, ArenaArg... args) {
                recorded.add(new Recorded(kernel, geometry, List.of(args)));
            }

            @Override
            public void beginMicroBatch(int index) {
                microBatches[0]++;
            }
        };
        cls.getMethod("step", StepRuntime.class).invoke(null, rt);
        int accumulation = plan.get("accumulation").getAsInt();
        assertEquals(accumulation, microBatches[0]);
        JsonArray launches = plan.getAsJsonArray("launches");
        List<JsonObject> expected = new ArrayList<>();
        int optimizerFrom = plan.getAsJsonObject("phases").getAsJsonArray("optimizer").get(0).getAsInt();
        for (int mb = 0; mb < accumulation; mb++) {
            for (int i = 0; i < optimizerFrom; i++) {
                expected.add(launches.get(i).getAsJsonObject());
            }
        }
        for (int i = optimizerFrom; i < launches.size(); i++) {
            expected.add(launches.get(i).getAsJsonObject());
        }
        assertEquals(expected.size(), recorded.size(), "launch count");
        for (int i = 0; i < expected.size(); i++) {
            JsonObject e = expected.get(i);
            Recorded r = recorded.get(i);
            assertEquals(e.get("kernel").getAsString(), r.kernel(), "launch " + i);
            assertEquals(e.getAsJsonArray("grid").get(0).getAsInt(), r.geometry().gridX(), "grid of launch " + i);
            assertEquals(e.get("shared_bytes").getAsInt(), r.geometry().sharedBytes(), "shared memory of launch " + i);
            JsonArray args = e.getAsJsonArray("args");
            assertEquals(args.size(), r.args().size());
            for (int a = 0; a < args.size(); a++) {
                JsonObject arg = args.get(a).getAsJsonObject();
                if (arg.has("offset")) {
                    assertEquals(new ArenaArg.Offset(arg.get("offset").getAsLong()), r.args().get(a), "argument " + a + " of launch " + i);
                }
            }
        }
        Map<String, Long> offsets = new HashMap<>();
        for (JsonElement b : plan.getAsJsonArray("buffers")) {
            offsets.put(b.getAsJsonObject().get("name").getAsString(), b.getAsJsonObject().get("offset").getAsLong());
        }
        @SuppressWarnings("unchecked")
        List<ParameterHandle> params = (List<ParameterHandle>) cls.getField("PARAMETERS").get(null);
        assertFalse(params.isEmpty());
        for (ParameterHandle p : params) {
            assertEquals(offsets.get(p.master().name()), p.master().offset(), p.name());
            assertEquals(offsets.get(p.gradient().name()), p.gradient().offset(), p.name());
        }
        @SuppressWarnings("unchecked")
        List<String> kernels = (List<String>) cls.getField("KERNELS").get(null);
        for (String k : kernels) {
            assertTrue(resource("steps/" + simpleName + "/kernels/" + k + ".cu").contains("extern \"C\" __global__"), k);
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = GeneratedStepsTest.class.getClassLoader().getResourceAsStream(name)) {
            assertNotNull(in, "no resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
